#!/usr/bin/env bash
# Prepares this machine (Debian, root, no systemd) to run the tests: every host tool the tests call, each checked
# before use and installed from Debian when missing (a tool once installed by hand must not hide a missing step),
# the Compose v2 plugin from Debian trixie's package file, dockerd started in the background, and the kernel limits
# several systemd targets need. Idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${ERPSTACK_CACHE:-$root/.cache}

# command the tests run on the host -> the Debian package that provides it
declare -A tool_package=(
  [dockerd]=docker.io [debootstrap]=debootstrap [ip]=iproute2 [git]=git [make]=make [jq]=jq [file]=file
  [curl]=curl [tar]=tar [gzip]=gzip [sha256sum]=coreutils [xargs]=findutils [awk]=mawk [ps]=procps
  [sysctl]=procps [update-ca-certificates]=ca-certificates [gpgv]=gpgv
  # ansible-test sanity skips its shellcheck test, without failing, where shellcheck is missing
  [shellcheck]=shellcheck
)
missing=()
for tool in "${!tool_package[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${tool_package[$tool]}")
done
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Compose v2 plugin: the role checks call `docker compose config` on this host, as the roles do on targets.
# Debian's docker.io 20.10 has none; trixie's docker-compose package (Compose v2, built by Debian) provides it.
if ! docker compose version >/dev/null 2>&1; then
  deb=$("$root/scripts/fetch-compose-deb.sh" "$cache/debs")
  echo "installing the Compose v2 plugin from $(basename "$deb")"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
  docker compose version >/dev/null 2>&1 || { echo "setup-host.sh: 'docker compose' still missing after installing $deb" >&2; exit 1; }
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd"
  nohup dockerd >/var/log/erpstack-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -n 30 /var/log/erpstack-dockerd.log >&2; echo "dockerd did not start" >&2; exit 1; }
fi
current=$(sysctl -n fs.inotify.max_user_instances 2>/dev/null || echo 0)
if [ "$current" -lt 1024 ]; then sysctl -q -w fs.inotify.max_user_instances=1024 || true; fi
docker version --format 'docker engine {{.Server.Version}}, client {{.Client.Version}}'
docker compose version
