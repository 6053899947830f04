#!/usr/bin/env bash
# Converge timings on a fresh Molecule target (not a test: it prints figures, it does not pass or fail on them).
#   fresh converge  - Docker installed, images loaded, bench started, two sites created
#   no-op converge  - the same playbook again (must report changed=0)
#   --check --diff  - check mode on the converged host (must report changed=0)
# Each figure is printed with its ratio to the fresh converge, the baseline of this run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/.venv/bin:$PATH ERPSTACK_CACHE=$root/.cache ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
cd "$root"
"$root/tests/harness/images.sh" >/dev/null
cp -f "$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"
out=$root/benchmarks/results
mkdir -p "$out"
trap 'molecule destroy -s default >/dev/null 2>&1 || true' EXIT
molecule destroy -s default >/dev/null 2>&1 || true
molecule create -s default >/dev/null 2>&1
timed() {  # label, log file, molecule args...
  local label=$1 log=$2 start end; shift 2
  start=$(date +%s.%N)
  molecule "$@" >"$log" 2>&1
  end=$(date +%s.%N)
  echo "$label $(awk "BEGIN { print $end - $start }") $(grep -oE 'changed=[0-9]+' "$log" | tail -n1)"
}
fresh=$(timed fresh "$out/fresh.log" converge -s default)
noop=$(timed no-op "$out/noop.log" converge -s default)
check=$(timed check "$out/check.log" converge -s default -- --check --diff)
base=$(echo "$fresh" | awk '{print $2}')
printf '%-16s %10s %8s %s\n' run seconds ratio changes
for line in "$fresh" "$noop" "$check"; do
  read -r label seconds changes <<<"$line"
  printf '%-16s %10.1f %8.2f %s\n' "$label" "$seconds" "$(awk "BEGIN { print $seconds / $base }")" "$changes"
done | tee "$out/converge.txt"
