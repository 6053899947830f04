#!/usr/bin/env bash
# Runs one Molecule scenario step by step: check on a fresh host, converge, idempotence, check --diff on the
# converged host (must change nothing), side effect, verify. The target is destroyed at the end, pass or fail.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
scenario=${1:-default}
export PATH=$root/.venv/bin:$PATH
export ERPSTACK_CACHE=$root/.cache
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
cd "$root"
deb=$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")
# Scenarios run side by side (make test's lanes) and mount this file: replace it only when it differs, atomically
if ! cmp -s "$deb" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"; then
  cp -f "$deb" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb.$$" &&
    mv -f "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb.$$" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"
fi
log=$root/tests/output/molecule-$scenario
mkdir -p "$log"
targets=("erpstack-$scenario" "erpstack-$scenario-dr")
# the swarm scenario's three nodes, which run three systemd instances side by side: raise the host's inotify instance
# limit (128 by default) as setup-host.sh does, for a host set up before it did
if [ "$scenario" = swarm ]; then
  targets=(erpstack-swarm-1 erpstack-swarm-2 erpstack-swarm-3)
  if [ "$(sysctl -n fs.inotify.max_user_instances 2>/dev/null || echo 0)" -lt 1024 ]; then
    sysctl -q -w fs.inotify.max_user_instances=1024 || true
  fi
fi
# Molecule's destroy removes the targets but not their anonymous volumes (each target's /var/lib/docker, gigabytes of
# images and bench data): the targets go first with their volumes, then destroy removes the rest (networks, cleanup)
teardown() {
  # the collection's own units' journals (backups, drills, binary logs, firewall) outlive the targets, for a failure
  for t in "${targets[@]}"; do
    docker exec "$t" journalctl -u 'erpstack-*' --no-pager -o short-iso >"$log/journal-$t.log" 2>/dev/null || rm -f "$log/journal-$t.log"
  done
  docker rm -f -v "${targets[@]}" >/dev/null 2>&1 || true
  molecule destroy -s "$scenario" >"$log/destroy.log" 2>&1 || true
}
trap teardown EXIT
step() {  # name, then the molecule arguments
  local name=$1 start=$SECONDS; shift
  if molecule "$@" >"$log/$name.log" 2>&1; then
    printf '  %-22s ok     %4d s\n' "$name" $((SECONDS - start))
  else
    printf '  %-22s FAILED %4d s (log: %s)\n' "$name" $((SECONDS - start)) "$log/$name.log"
    tail -n 80 "$log/$name.log"
    return 1
  fi
}
check_converged() {  # check --diff on the converged host must change nothing
  step check-converged converge -s "$scenario" -- --check --diff
  clean_output check-converged
  if ! recap_unchanged "$log/check-converged.log"; then
    echo "  check --diff on the converged host reported changes:"; grep -E 'changed:|^\S+\s+: ok=' "$log/check-converged.log" | head -40
    exit 1
  fi
}
clean_output() {  # $1 step: a clean run prints no error (no [ERROR] or fatal: line, nothing rescued), or it hides one
  local bad
  bad=$(grep -nE '^\[ERROR\]|^fatal: \[|rescued=[1-9]' "$log/$1.log" | head -n 10 || true)
  if [ -n "$bad" ]; then echo "  $1 printed errors (a clean run prints none):"; echo "$bad"; exit 1; fi
}
recap_unchanged() {  # the play recap of $1 reports no change and no failure
  grep -E '^\S+\s+: ok=' "$1" | tee -a "$1.recap" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(changed|failed|unreachable)=/ && $i !~ /=0$/) bad = 1 } END { exit bad }'
}
# A target left by an interrupted run (of this or another checkout) would make the "fresh" host a converged one.
docker rm -f -v "${targets[@]}" >/dev/null 2>&1 || true
# A scenario that tells a story (backup_restore across two targets, monitoring's alert round trip) checks the roles'
# idempotence; the check-mode runs are left to default and tls_multisite, which cover the other roles, except the
# converged check of monitoring and swarm, whose roles no other scenario applies (make test stays within its budget).
story=false
case $scenario in backup_restore|monitoring|upgrade|swarm|faults) story=true ;; esac
step destroy-before destroy -s "$scenario"
step syntax syntax -s "$scenario"
step create create -s "$scenario"
step prepare prepare -s "$scenario"
# (`molecule check` would run a whole create/converge/check sequence: converge --check is the check on a fresh host)
if ! $story; then step check-fresh converge -s "$scenario" -- --check; clean_output check-fresh; fi
# The first converge runs at -vvv while the target's process list is sampled; no secret may show in either.
# (the swarm scenario's secret files and bench commands are on its first manager)
target=erpstack-$scenario
if [ "$scenario" = swarm ]; then target=erpstack-swarm-1; fi
docker exec -d "$target" sh -c 'rm -f /tmp/ps.stop; : > /tmp/ps.log; while [ ! -e /tmp/ps.stop ]; do
  ps -eo args= >> /tmp/ps.log; echo --- >> /tmp/ps.log; sleep 0.1; done'
step converge converge -s "$scenario" -- -vvv
clean_output converge
docker exec "$target" touch /tmp/ps.stop
if ! python3 "$root/tests/harness/leak_check.py" "$target" /tmp/ps.log "$log/converge.log"; then exit 1; fi
step idempotence idempotence -s "$scenario"
clean_output idempotence
if $story; then
  if [ "$scenario" = monitoring ] || [ "$scenario" = swarm ]; then check_converged; fi
  if [ "$scenario" = upgrade ]; then
    # the upgrades run at -vvv while the process list is sampled; the rollback's bench restore reads a password
    docker exec -d "$target" sh -c 'rm -f /tmp/ps.stop; : > /tmp/ps.log; while [ ! -e /tmp/ps.stop ]; do
      ps -eo args= >> /tmp/ps.log; echo --- >> /tmp/ps.log; sleep 0.1; done'
    step side-effect side-effect -s "$scenario"
    docker exec "$target" touch /tmp/ps.stop
    LEAK_CHECK_EXPECT=restore python3 "$root/tests/harness/leak_check.py" "$target" /tmp/ps.log "$log"/upgrade-*.log || exit 1
  elif [ -e "molecule/$scenario/side_effect.yml" ]; then step side-effect side-effect -s "$scenario"; fi
  step verify verify -s "$scenario"
  exit 0
fi
check_converged
step side-effect side-effect -s "$scenario"
step converge-again converge -s "$scenario"
clean_output converge-again
if ! recap_unchanged "$log/converge-again.log"; then
  echo "  a converge after the side effect (secret rotation) reported changes:"; grep -E 'changed:|^\S+\s+: ok=' "$log/converge-again.log" | head -40
  exit 1
fi
step verify verify -s "$scenario"
# The default scenario's target, converged and verified, then runs the AWX job templates the way AWX runs them
# (ansible-runner in the execution environment), with the leak check over their job events
if [ "$scenario" = default ]; then
  start=$SECONDS
  if python3 "$root/tests/harness/awx_jobs.py" "$scenario" "$target" "$log/awx" >"$log/awx-jobs.log" 2>&1; then
    printf '  %-22s ok     %4d s\n' awx-jobs $((SECONDS - start)); grep -E '^  [a-z]' "$log/awx-jobs.log"
  else
    printf '  %-22s FAILED %4d s (log: %s)\n' awx-jobs $((SECONDS - start)) "$log/awx-jobs.log"; tail -n 80 "$log/awx-jobs.log"
    exit 1
  fi
fi
