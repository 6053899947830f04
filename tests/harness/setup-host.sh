#!/usr/bin/env bash
# Prepares this machine (Debian, root, no systemd) to run the tests: Docker engine from Debian, debootstrap,
# dockerd started in the background, and the kernel limits several systemd targets need. Idempotent.
set -euo pipefail
missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v ip >/dev/null || missing+=(iproute2)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  nohup dockerd >/var/log/erpstack-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 30 /var/log/erpstack-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
current=$(sysctl -n fs.inotify.max_user_instances 2>/dev/null || echo 0)
if [ "$current" -lt 1024 ]; then sysctl -q -w fs.inotify.max_user_instances=1024 || true; fi
docker version --format 'docker engine {{.Server.Version}}'
