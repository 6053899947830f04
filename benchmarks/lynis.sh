#!/usr/bin/env bash
# Lynis (Debian's package) on a converged target, with the collection's hardening switched off ("baseline": no host
# firewall, the daemon's icc, userland proxy and no-new-privileges back to Docker's defaults, every bench container
# with Docker's default capabilities, a writable root and no pids limit) and then on (the defaults). Prints the
# hardening index of both side by side, their ratio, and Lynis's Docker section (CONT-*) of each.
# Not a test: it prints figures, it judges none.
#
# usage: benchmarks/lynis.sh            (the faults scenario's target: one bench, one site; ~8 minutes)
# env:   SCENARIO=faults
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
SCENARIO=${SCENARIO:-faults}
target=erpstack-$SCENARIO
out=$root/benchmarks/results/lynis
mkdir -p "$out"
export PATH=$root/.venv/bin:$PATH ERPSTACK_CACHE=$root/.cache ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
cd "$root"
cp -f "$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"
teardown() { docker rm -f -v "$target" >/dev/null 2>&1 || true; molecule destroy -s "$SCENARIO" >/dev/null 2>&1 || true; }
trap teardown EXIT
off=$out/hardening-off.yml
{
  echo "---"
  echo "docker_firewall_enabled: false"
  echo "docker_daemon_options_extension: {icc: true, userland-proxy: true, no-new-privileges: false}"
  echo "erpnext_container_hardening:"
  for s in db redis-cache redis-queue configurator backend frontend websocket queue-short queue-long scheduler; do
    echo "  $s: {no_new_privileges: false, drop_capabilities: false, read_only: false, pids_limit: 0}"
  done
} >"$off"

audit() {  # $1 label: install Lynis once, run the audit, keep its log and report
  docker exec "$target" sh -c 'command -v lynis >/dev/null || { apt-get -qq update && \
    DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends lynis; } >/dev/null'
  docker exec "$target" lynis audit system --quick --no-colors >"$out/$1.log" 2>&1 || true
  docker exec "$target" cat /var/log/lynis-report.dat >"$out/$1.dat"
}
index() { sed -n 's/^hardening_index=//p' "$out/$1.dat"; }
docker_section() { awk '/^\[\+\] Containers/{on=1; next} /^\[\+\]/{on=0} on && NF' "$out/$1.log"; }

teardown
molecule create -s "$SCENARIO" >"$out/create.log" 2>&1
molecule converge -s "$SCENARIO" -- -e "@$off" >"$out/converge-off.log" 2>&1
audit baseline
molecule converge -s "$SCENARIO" >"$out/converge-on.log" 2>&1
audit hardened

before=$(index baseline) after=$(index hardened)
printf '\n%-28s %10s %10s %8s\n' "Lynis $(docker exec "$target" lynis show version)" baseline hardened ratio
printf '%-28s %10s %10s %8s\n' "hardening index" "$before" "$after" \
  "$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a / b }')"
for key in warning suggestion; do
  printf '%-28s %10s %10s\n' "${key}s" "$(grep -c "^$key\[\]=" "$out/baseline.dat" || true)" \
    "$(grep -c "^$key\[\]=" "$out/hardened.dat" || true)"
done
for label in baseline hardened; do
  echo; echo "Docker section, $label:"; docker_section "$label" | sed 's/^/  /'
  echo "  findings: $(grep -E '^(warning|suggestion)\[\]=CONT-' "$out/$label.dat" | cut -d'|' -f1,2 | tr '\n' ' ')"
done
echo; echo "logs and reports: $out"
