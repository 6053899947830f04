#!/usr/bin/env bash
# `make deploy`: ERPNext on this machine (inventories/local). Extra arguments go to ansible-playbook.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "make deploy: run it as root: it installs Docker and configures this machine (/opt/erpstack, ports 80 and 443)" >&2
  exit 1
fi
tests/harness/venv.sh requirements.txt
# Debian 12 has no Compose v2 package: fetch Debian 13's (built by Debian from source, depends only on libc6)
mkdir -p .cache/debs
if grep -qx 'VERSION_CODENAME=bookworm' /etc/os-release; then
  cp -f "$(scripts/fetch-compose-deb.sh .cache/debs)" .cache/debs/docker-compose-plugin.deb
fi
exec .venv/bin/ansible-playbook site.yml -i inventories/local "$@"
