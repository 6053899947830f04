#!/usr/bin/env bash
# Converge timings on a fresh Molecule target (not a test: it prints figures, it does not pass or fail on them).
#   fresh converge  - Docker installed, images loaded, bench started, two sites created
#   no-op converge  - the same playbook again (must report changed=0)
#   --check --diff  - check mode on the converged host (must report changed=0)
# Each figure is printed with its ratio to the fresh converge, the baseline of the same run, against the bounds of
# issue 14 (no-op and check: at most 30 s and 0.25 of the fresh converge). The no-op and check runs are profiled
# (ansible.posix.profile_tasks): their 15 slowest tasks are printed.
#   benchmarks/converge.sh [REVISION]   with a revision (e.g. a commit before a change): the same three runs on a
#                                       worktree of it first, then on this tree, side by side.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/.venv/bin:$PATH ERPSTACK_CACHE=$root/.cache ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
baseline=${1:-}
out=$root/benchmarks/results
mkdir -p "$out"
"$root/tests/harness/images.sh" >/dev/null
cp -f "$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"

timed() {  # label, log file, molecule args...
  local label=$1 log=$2 start end; shift 2
  start=$(date +%s.%N)
  molecule "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "benchmark: $label failed, log: $log" >&2; exit 1; }
  end=$(date +%s.%N)
  # the target's recap line (the last one is the controller's, always changed=0)
  echo "$label $(awk "BEGIN { print $end - $start }") $(grep -E '^erpstack-default\s+: ok=' "$log" | grep -oE 'changed=[0-9]+' | tail -n1)"
}

run_at() {  # tree, name: the three runs on the Molecule scenario of that tree
  local tree=$1 name=$2 fresh noop check
  (
    cd "$tree"
    # the project's own cache of images and packages, whatever tree runs
    [ "$tree" = "$root" ] || ln -sfn "$root/.cache" "$tree/.cache"
    trap 'molecule destroy -s default >/dev/null 2>&1 || true' EXIT
    molecule destroy -s default >/dev/null 2>&1 || true
    molecule create -s default >/dev/null 2>&1
    fresh=$(timed fresh "$out/$name-fresh.log" converge -s default)
    export ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_TASK_OUTPUT_LIMIT=15
    noop=$(timed no-op "$out/$name-noop.log" converge -s default)
    check=$(timed check "$out/$name-check.log" converge -s default -- --check --diff)
    printf '%s\n%s\n%s\n' "$fresh" "$noop" "$check" >"$out/$name.txt"
  )
}

table() {  # name
  local base
  base=$(awk 'NR == 1 {print $2}' "$out/$1.txt")
  while read -r label seconds changes; do
    printf '%-8s %10.1f %8.2f %s\n' "$label" "$seconds" "$(awk "BEGIN { print $seconds / $base }")" "$changes"
  done <"$out/$1.txt"
}

if [ -n "$baseline" ]; then
  tree=$(mktemp -d /tmp/erpstack-baseline.XXXXXX)
  git -C "$root" worktree add --detach "$tree" "$baseline" >/dev/null
  trap 'git -C "$root" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
  ln -sfn "$root/.venv" "$tree/.venv"
  run_at "$tree" baseline
fi
run_at "$root" current

{
  if [ -n "$baseline" ]; then
    echo "baseline ($baseline):"
    printf '%-8s %10s %8s %s\n' run seconds ratio changes
    table baseline
    echo
    echo "current ($(git -C "$root" rev-parse --short HEAD)):"
  fi
  printf '%-8s %10s %8s %s\n' run seconds ratio changes
  table current
  echo
  echo "bounds (issue 14): no-op and check at most 30 s and at most 0.25 of the fresh converge"
  for name in ${baseline:+baseline} current; do
    for run in noop check; do
      echo
      echo "$name $run: the 15 slowest tasks (profile_tasks)"
      sed -n '/^=\{20,\}/,$p' "$out/$name-$run.log" | grep -E ' -+ [0-9.]+s$' | head -n 15
    done
  done
} | tee "$out/converge.txt"
