#!/usr/bin/env bash
# Creates .venv with the pinned requirements (FILE: requirements.txt or requirements-test.txt), once per content.
set -euo pipefail
cd "$(dirname "$0")/../.."
req=${1:-requirements-test.txt}
stamp=.venv/.installed-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)
[ -x .venv/bin/python ] || python3 -m venv .venv
if [ ! -e "$stamp" ]; then
  .venv/bin/pip install -q --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/pip install -q -r "$req" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" || true
  .venv/bin/python -c 'import ansible, docker' && touch "$stamp"
fi
test -e "$stamp"
