#!/usr/bin/env bash
# `make test`: every stage, timed. Stops at the first failing stage and prints the timing table either way.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 1
export PATH=$root/.venv/bin:$PATH PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
declare -a names=() times=() results=()
passed=0 failed=0
summary() {
  echo; echo "stage timings:"
  for i in "${!names[@]}"; do printf '  %-34s %-7s %5d s\n' "${names[$i]}" "${results[$i]}" "${times[$i]}"; done
  echo "stages: $passed passed, $failed failed"
}
stage() {
  local name=$1 start=$SECONDS; shift
  echo; echo "=== stage $name"
  if "$@"; then results+=(ok); passed=$((passed + 1)); else results+=(FAILED); failed=$((failed + 1)); fi
  names+=("$name"); times+=($((SECONDS - start)))
  if [ "${results[-1]}" = FAILED ]; then summary; exit 1; fi
}
lint() { yamllint -s . && ansible-lint --profile production; }
sanity() {
  local dest
  dest=$("$root/tests/harness/collection-copy.sh")
  "$root/tests/harness/ansible-test-prep.sh" "$root/.venv/bin/python" >/dev/null
  (cd "$dest" && ansible-test sanity --venv --python 3.11 --color no)
}
units() {  # ansible-test's units after its sanity (they share its virtual environments), in one job
  local dest
  dest=$("$root/tests/harness/collection-copy.sh")
  (cd "$dest" && ansible-test units --venv --requirements --python 3.11 --color no)
}
pytests() {  # unit tests, role checks (some run the real promtool, amtool and docker compose) and the alert rules' tests
  # two workers, each taking whole test files (a file's module fixtures, such as the first play's one playbook run of
  # every case, run once): the job outlasts lint and ansible-test, and then has both cores to itself
  PYTHONPATH=$root/collections pytest -q -p no:cacheprovider -n 2 --dist loadfile tests/unit tests/role_checks &&
    tests/promtool/run.sh
}
checks() {  # the static checks as three parallel jobs (2 cores); each job's output goes to its own log
  local out=$root/tests/output/checks job rc=0 start=$SECONDS
  mkdir -p "$out"
  declare -A pids
  (lint) >"$out/lint.log" 2>&1 & pids[lint]=$!
  (sanity && units) >"$out/ansible-test.log" 2>&1 & pids[ansible-test]=$!
  (pytests) >"$out/pytest.log" 2>&1 & pids[pytest]=$!
  for job in lint ansible-test pytest; do
    if wait "${pids[$job]}"; then
      printf '  %-14s ok     %4d s  %s\n' "$job" $((SECONDS - start)) "$(grep -E 'passed|Passed|OK:' "$out/$job.log" | tail -n 1)"
    else
      rc=1; printf '  %-14s FAILED %4d s (log: %s)\n' "$job" $((SECONDS - start)) "$out/$job.log"; tail -n 60 "$out/$job.log"
    fi
  done
  return $rc
}
built_collection() {  # the collection as users get it: built, installed offline, its playbooks and docs load
  local tmp
  tmp=$(mktemp -d)
  ansible-galaxy collection build --output-path "$tmp" . >/dev/null &&
    (cd "$tmp" && env -u ANSIBLE_CONFIG ansible-galaxy collection install --offline --no-deps -p "$tmp/cols" \
      "$tmp"/erpstack-erpnext-*.tar.gz >/dev/null) &&
    for playbook in site rotate_secrets show_secret; do
      (cd "$tmp" && ANSIBLE_COLLECTIONS_PATH=$tmp/cols ansible-playbook --syntax-check -i localhost, \
        "erpstack.erpnext.$playbook" >/dev/null) || return 1
    done &&
    for module in bench_site stack_secret; do
      (cd "$tmp" && ANSIBLE_COLLECTIONS_PATH=$tmp/cols ansible-doc -t module "erpstack.erpnext.$module" >/dev/null) || return 1
    done &&
    echo "built $(basename "$tmp"/erpstack-erpnext-*.tar.gz), installed offline, playbooks and module docs load"
}
# The long stages run as three lanes at once: a Molecule scenario waits on its target much of the time (containers
# starting, health checks), so two cores do the lanes' work in far less than their sum. Each lane runs its stages one
# after the other and stops at its first failure; each stage's output goes to its own log, printed when it fails.
lane() {  # lane name, then stage specs "name=command"
  local lane_name=$1 spec name start out=$root/tests/output/lanes; shift
  for spec in "$@"; do
    name=${spec%%=*}; start=$SECONDS
    if eval "${spec#*=}" >"$out/$name.log" 2>&1; then
      echo "$name ok $((SECONDS - start))" >>"$out/$lane_name.times"
    else
      echo "$name FAILED $((SECONDS - start))" >>"$out/$lane_name.times"; return 1
    fi
  done
}
lanes() {  # "lane name:spec,spec,..." per lane
  local out=$root/tests/output/lanes arg lane_name rc=0 name result seconds
  local -a specs
  declare -A pids
  rm -rf "$out"; mkdir -p "$out"
  for arg in "$@"; do
    lane_name=${arg%%:*}
    IFS=, read -r -a specs <<<"${arg#*:}"
    lane "$lane_name" "${specs[@]}" & pids[$lane_name]=$!
  done
  for lane_name in "${!pids[@]}"; do wait "${pids[$lane_name]}" || rc=1; done
  for arg in "$@"; do
    lane_name=${arg%%:*}
    while read -r name result seconds; do
      printf '  %-24s %-7s %5d s  (%s)\n' "$name" "$result" "$seconds" "$lane_name"
      names+=("$name ($lane_name)"); results+=("$result"); times+=("$seconds")
      if [ "$result" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "--- $name (log: $out/$name.log)"; tail -n 80 "$out/$name.log"; fi
    done <"$out/$lane_name.times"
  done
  return $rc
}
stage host tests/harness/setup-host.sh
stage venv tests/harness/venv.sh requirements-test.txt
# the images first: some checks run the real binaries of the test images (promtool, amtool, blackbox_exporter)
stage images tests/harness/images.sh
stage checks checks
stage build built_collection
# matrix: ansible-test sanity and units on the oldest and the newest supported ansible-core (meta/runtime.yml);
# bare-deploy: the README's `./make deploy` on a bare Debian 12 server with only python3, up to the image pull
stage lanes lanes \
  "lane-1:matrix=tests/harness/matrix.sh,molecule-backup_restore=tests/harness/molecule.sh backup_restore" \
  "lane-2:molecule-default=tests/harness/molecule.sh default,molecule-monitoring=tests/harness/molecule.sh monitoring,molecule-development=tests/harness/molecule.sh development,bare-deploy=tests/harness/bare-deploy.sh bookworm" \
  "lane-3:molecule-tls_multisite=tests/harness/molecule.sh tls_multisite,molecule-upgrade=tests/harness/molecule.sh upgrade,molecule-faults=tests/harness/molecule.sh faults"
# The swarm scenario runs alone, after the lanes: its three nodes each run a Docker engine and a share of a stack of
# some thirty containers, and beside the lanes it drove the load average above 40 on the two cores and took three
# times as long as alone (3500 s against 1050), stretching every lane with it; alone it is the shorter total.
stage molecule-swarm tests/harness/molecule.sh swarm
summary
