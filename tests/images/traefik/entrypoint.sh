#!/usr/bin/env bash
# Same rule as the official traefik image's entrypoint: options (`--configFile=...`) and Traefik subcommands
# (`version`, `healthcheck --ping`) are run through `traefik`; anything that is an executable is run as is.
set -euo pipefail
if [ $# -eq 0 ] || [ "${1#-}" != "$1" ] || ! command -v "$1" >/dev/null 2>&1; then
  set -- traefik "$@"
fi
exec "$@"
