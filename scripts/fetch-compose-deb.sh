#!/usr/bin/env bash
# Downloads Debian trixie's docker-compose (Compose v2, built by Debian from source) into OUTDIR, through a private
# apt list pointed at the mirror this machine already uses; the host's apt configuration is left untouched.
set -euo pipefail
out=${1:?usage: fetch-compose-deb.sh OUTDIR}
mkdir -p "$out"
found=$(find "$out" -maxdepth 1 -name 'docker-compose_*.deb' | sort | head -n1)
if [ -n "$found" ]; then echo "$found"; exit 0; fi
mirror=$("$(dirname "$0")/apt-mirror.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$work/sources.list"
opts=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update >/dev/null
(cd "$out" && apt-get "${opts[@]}" download docker-compose >/dev/null)
find "$out" -maxdepth 1 -name 'docker-compose_*.deb' | sort | head -n1
