#!/usr/bin/env bash
# The official image's healthcheck.sh subset: --connect and --innodb_initialized, as the healthcheck user.
set -eo pipefail
cnf=/var/lib/mysql/.my-healthcheck.cnf
[ -r "$cnf" ] || exit 1
for arg in "$@"; do
  case "$arg" in
    --connect) mariadb --defaults-extra-file="$cnf" -h localhost --protocol=socket -e 'SELECT 1' >/dev/null ;;
    --innodb_initialized)
      [ "$(mariadb --defaults-extra-file="$cnf" -h localhost --protocol=socket -N -B -e \
        "SELECT 1 FROM information_schema.ENGINES WHERE engine='innodb' AND support IN ('YES','DEFAULT','ENABLED')")" = 1 ] ;;
    --su-mysql|--defaults-file=*|--no-defaults) ;;
    *) echo "healthcheck.sh: unsupported option $arg" >&2; exit 2 ;;
  esac
done
