#!/usr/bin/env bash
# Prints the Debian mirror this machine's own apt configuration uses (never hard-coded in the repo).
set -uo pipefail
files=$(ls /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null)
# shellcheck disable=SC2086
mirror=$(cat $files 2>/dev/null | awk '
  /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }
  /^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }')
[ -n "$mirror" ] || { echo "apt-mirror.sh: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
echo "${mirror%/}"
