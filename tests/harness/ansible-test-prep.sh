#!/usr/bin/env bash
# ansible-test bootstraps pip in its venvs with a get-pip script it downloads from a host this machine cannot reach.
# It looks in its cache first: put there a small script that installs pip from the matching wheel of the package index.
# usage: ansible-test-prep.sh PYTHON [VERSION]   (the venv's python, which has ansible-test installed; the Python
# version ansible-test will test with, default 3.11)
set -euo pipefail
py=${1:?usage: ansible-test-prep.sh PYTHON [VERSION]}
pyversion=${2:-3.11}
version=$("$py" - "$pyversion" <<'PY'
import sys
from ansible_test._internal.python_requirements import get_venv_packages
class P:  # only .version is read
    version = sys.argv[1]
print(get_venv_packages(P())["pip"])
PY
)
cache=$HOME/.ansible/test/cache
script=$cache/get_pip_${version//./_}.py
mkdir -p "$cache"
wheel=$(ls "$cache"/pip-"$version"-py3-none-any.whl 2>/dev/null || true)
if [ -z "$wheel" ]; then
  "$py" -m pip download -q --no-deps --only-binary=:all: -d "$cache" "pip==$version"
  wheel=$(ls "$cache"/pip-"$version"-py3-none-any.whl)
fi
cat >"$script" <<PY
# Written by tests/harness/ansible-test-prep.sh: installs pip $version from its wheel, as get-pip.py would.
import sys
sys.path.insert(0, "$wheel")
from pip._internal.cli.main import main  # noqa: E402
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install"] + args))
PY
echo "$script"
