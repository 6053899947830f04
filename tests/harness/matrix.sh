#!/usr/bin/env bash
# ansible-test sanity and units on the oldest and the newest ansible-core that meta/runtime.yml supports, each in its
# own virtual environment (tests/matrix/*.txt), then the role checks that run real playbooks, with that core. The newest needs Python 3.12 or newer (ansible-core 2.20 and later
# require it): the first such interpreter found on PATH or under pyenv is used.
# usage: matrix.sh [oldest|newest ...]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=$root/tests/output/matrix
mkdir -p "$out"

# The role checks that run ansible-playbook (tests/role_checks/_preflight.py's ERPSTACK_ANSIBLE_BIN chooses its core)
PLAYBOOK_CHECKS=(tests/role_checks/test_docker_preflight.py tests/role_checks/test_erpnext_preflight.py
                 tests/role_checks/test_traefik_preflight.py tests/role_checks/test_backup_preflight.py
                 tests/role_checks/test_monitoring_preflight.py tests/role_checks/test_playbook_entry.py
                 tests/role_checks/test_inventories.py tests/role_checks/test_show_secret.py
                 tests/role_checks/test_restore_playbooks.py tests/role_checks/test_role_alone.py
                 tests/role_checks/test_managed_files_action.py tests/role_checks/test_first_play.py
                 tests/role_checks/test_upgrade_first_play.py)

python_at_least() {  # $1 minor version of Python 3: prints the first interpreter that is at least 3.$1
  local p
  for p in python3 python3.14 python3.13 python3.12 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 \
           /usr/local/bin/python3.1[2-9] /usr/bin/python3.1[2-9]; do
    [ -x "$(command -v "$p" 2>/dev/null)" ] || continue
    if "$p" -c "import sys; sys.exit(sys.version_info < (3, $1))" 2>/dev/null; then command -v "$p"; return 0; fi
  done
  return 1
}

run_one() {  # $1 oldest|newest
  local name=$1 python version core dest venv=$root/.cache/venv-$1
  case $name in
    oldest) python=$(python_at_least 10 || true) ;;
    newest) python=$(python_at_least 12 || true) ;;
    *) echo "matrix.sh: unknown entry '$name' (oldest or newest)" >&2; return 1 ;;
  esac
  [ -n "$python" ] || { echo "matrix.sh: no Python interpreter for the $name ansible-core (newest needs 3.12+)" >&2; return 1; }
  tests/harness/venv.sh "tests/matrix/$name.txt" "$venv" "$python" >/dev/null
  version=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  core=$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')
  dest=$(tests/harness/collection-copy.sh)
  "$root/tests/harness/ansible-test-prep.sh" "$venv/bin/python" "$version" >/dev/null
  # ansible-test looks for pythonX.Y on PATH; the venv's bin has it
  (cd "$dest" &&
    PATH=$venv/bin:$(dirname "$python"):$PATH ansible-test sanity --venv --python "$version" --color no &&
    PATH=$venv/bin:$(dirname "$python"):$PATH ansible-test units --venv --requirements --python "$version" --color no) \
    >"$out/$name.log" 2>&1 || { tail -n 60 "$out/$name.log"; echo "matrix: $name (ansible-core $core, Python $version) FAILED, log: $out/$name.log"; return 1; }
  # The roles' checks and the playbooks' entry as real ansible-playbook runs of this ansible-core, with the
  # dependencies' collections at their tested versions (those of the test venv's `ansible` package)
  ERPSTACK_ANSIBLE_BIN=$venv/bin ERPSTACK_EXTRA_COLLECTIONS=$("$root/.venv/bin/python" -c \
      'import ansible_collections, os; print(os.path.dirname(list(ansible_collections.__path__)[0]))') \
    PYTHONPATH=$root/collections "$root/.venv/bin/pytest" -q -p no:cacheprovider "${PLAYBOOK_CHECKS[@]}" \
    >"$out/$name-playbooks.log" 2>&1 || { tail -n 60 "$out/$name-playbooks.log"; echo "matrix: $name (ansible-core $core) playbook checks FAILED, log: $out/$name-playbooks.log"; return 1; }
  echo "matrix: $name ansible-core $core on Python $version: sanity, units ($(grep -Eo '[0-9]+ passed' "$out/$name.log" | tail -n1)) and playbook checks ($(grep -Eo '[0-9]+ passed' "$out/$name-playbooks.log" | tail -n1)) passed"
}

rc=0
for entry in "${@:-oldest newest}"; do
  for name in $entry; do run_one "$name" || rc=1; done
done
exit $rc
