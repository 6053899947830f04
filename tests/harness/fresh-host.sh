#!/usr/bin/env bash
# Proves `make test` the way CI meets it on a fresh machine: a clean clone of HEAD, run with everything this user
# may have installed by hand hidden. A fresh HOME hides ~/.ansible (collections, ansible-test's caches), ~/.docker
# (CLI plugins such as a hand-copied docker-compose), ~/.cache/pip and ~/.local; DOCKER_CONFIG points at an empty
# folder. With --purge, the host packages `make test` installs are removed first (the Compose v2 plugin, jq, shellcheck,
# debootstrap), so its host stage must install them again; dockerd and docker.io are kept (a running daemon cannot
# be removed under the test's feet).
# usage: tests/harness/fresh-host.sh [--purge] [make target, default: test]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
purge=false
if [ "${1:-}" = --purge ]; then purge=true; shift; fi
target=${1:-test}
work=$(mktemp -d /tmp/erpstack-fresh.XXXXXX)
git clone -q "$root" "$work/erpstack"
mkdir -p "$work/home" "$work/docker-config"
if $purge; then
  echo "fresh-host: removing the host packages make test installs"
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq docker-compose jq debootstrap shellcheck >/dev/null 2>&1 || true
  rm -f /usr/local/lib/docker/cli-plugins/docker-compose /usr/libexec/docker/cli-plugins/docker-compose
fi
for tool in "docker compose version" "jq --version"; do
  if DOCKER_CONFIG=$work/docker-config $tool >/dev/null 2>&1; then echo "fresh-host: present before the run: ${tool%% *}"; fi
done
echo "fresh-host: make $target in $work/erpstack (HOME=$work/home, DOCKER_CONFIG=$work/docker-config)"
cd "$work/erpstack"
status=0
HOME=$work/home DOCKER_CONFIG=$work/docker-config PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv} CI=true \
  make "$target" </dev/null || status=$?
echo "fresh-host: make $target exited $status (clone kept in $work/erpstack)"
exit $status
