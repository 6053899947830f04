#!/bin/sh
# `make deploy` and `make test` on a bare Debian or Ubuntu server that has only Python 3: `./make deploy`,
# `./make test`. Installs (as root, with apt) what the make targets need to start, when it is missing, then runs make
# with the same arguments. POSIX sh: dash is all a minimal Debian has besides bash.
set -eu
cd "$(dirname "$0")"
need=""
command -v make >/dev/null 2>&1 || need="$need make"
command -v git >/dev/null 2>&1 || need="$need git"
command -v python3 >/dev/null 2>&1 || need="$need python3"
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need="$need python3-venv"
[ -s /etc/ssl/certs/ca-certificates.crt ] || need="$need ca-certificates"
if [ -n "$need" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "./make: run as root: it installs${need} (and make deploy configures this machine)" >&2
    exit 1
  fi
  command -v apt-get >/dev/null 2>&1 || { echo "./make: needs apt-get (Debian or Ubuntu) to install${need}" >&2; exit 1; }
  echo "./make: installing${need}"
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
exec make "$@"
