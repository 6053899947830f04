#!/usr/bin/env bash
# Creates a virtual environment with pinned requirements, once per content of the requirements files.
# usage: venv.sh REQUIREMENTS [DIR [PYTHON]]   (defaults: requirements-test.txt, .venv, python3)
# A half-made environment (an interrupted or failed earlier attempt: no pip, no stamp) is removed and made again.
# Where Python's venv module lacks ensurepip (Debian's python3 without python3-venv), root installs python3-venv.
set -euo pipefail
cd "$(dirname "$0")/../.."
req=${1:-requirements-test.txt}
dir=${2:-.venv}
python=${3:-python3}
command -v "$python" >/dev/null 2>&1 || { echo "venv.sh: $python not found; install Python 3 first" >&2; exit 1; }
# the stamp covers the file and the files it includes (-r)
mapfile -t includes < <(sed -n 's/^-r[[:space:]]*//p' "$req")
stamp=$dir/.installed-$(cd "$(dirname "$req")" && cat "${includes[@]}" "$(basename "$req")" | sha256sum | cut -c1-16)
[ -e "$stamp" ] && "$dir/bin/python" -c 'import ansible' 2>/dev/null && exit 0

if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  pkg=python3-venv
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "venv.sh: installing $pkg (Python's venv module has no ensurepip)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
  else
    echo "venv.sh: $python cannot create virtual environments (no ensurepip): install $pkg as root" >&2; exit 1
  fi
fi
if ! { [ -x "$dir/bin/python" ] && "$dir/bin/python" -m pip --version >/dev/null 2>&1; }; then
  [ -e "$dir" ] && echo "venv.sh: $dir is incomplete (no working pip): making it again"
  rm -rf "$dir"
  "$python" -m venv "$dir"
fi
"$dir/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
"$dir/bin/python" -m pip install -q -r "$req" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
"$dir/bin/python" -c 'import ansible, docker' 2>/dev/null || { echo "venv.sh: installing $req into $dir failed" >&2; exit 1; }
rm -f "$dir"/.installed-*
touch "$stamp"
echo "venv: $dir ($("$dir/bin/python" --version), $("$dir/bin/python" -c 'import ansible.release as r; print("ansible-core", r.__version__)'))"
