#!/usr/bin/env bash
# Builds the Debian base image every test image starts FROM, without a registry:
# debootstrap from the mirror this machine's own apt configuration names, then docker import.
set -euo pipefail
tag=${1:?usage: build.sh IMAGE:TAG}
suite=${SUITE:-bookworm}
mirror=$("$(dirname "$0")/../../../scripts/apt-mirror.sh")
[ -n "$mirror" ] || { echo "build.sh: no Debian mirror found in /etc/apt/sources.list*" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build.sh: debootstrap is not installed" >&2; exit 1; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$suite" "$root" "$mirror" >/dev/null
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$suite" "$mirror" "$suite" >"$root/etc/apt/sources.list"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' - "$tag" >/dev/null
echo "built $tag"
