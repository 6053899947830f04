#!/usr/bin/env bash
# The subset of the official mariadb image's entrypoint that deployments rely on. Secrets are read from files and
# fed to the client on standard input, never on a command line.
set -eo pipefail
log() { echo "$(date -u +%FT%TZ) [Entrypoint]: $*"; }
file_env() {
  local var=$1 file_var="${1}_FILE" def=${2:-}
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then log "both $var and $file_var are set"; exit 1; fi
  local val=$def
  if [ -n "${!var:-}" ]; then val=${!var}; elif [ -n "${!file_var:-}" ]; then val=$(<"${!file_var}"); fi
  export "$var"="$val"; unset "$file_var"
}
sql_escape() { sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/\\\\'/g" <<<"$1"; }
if [ "${1:0:1}" = '-' ]; then set -- mariadbd "$@"; fi
if [ "$1" != mariadbd ] && [ "$1" != mysqld ]; then exec "$@"; fi
if [ "$(id -u)" = 0 ]; then
  mkdir -p /var/lib/mysql /run/mysqld
  find /var/lib/mysql /run/mysqld \! -user mysql -exec chown mysql:mysql '{}' +
  exec setpriv --reuid=mysql --regid=mysql --init-groups "${BASH_SOURCE[0]}" "$@"
fi
file_env MARIADB_ROOT_PASSWORD
file_env MARIADB_PASSWORD
: "${MARIADB_ROOT_HOST:=%}"
DATADIR=/var/lib/mysql SOCKET=/run/mysqld/mysqld.sock
if [ ! -d "$DATADIR/mysql" ]; then
  if [ -z "$MARIADB_ROOT_PASSWORD" ] && [ -z "${MARIADB_ALLOW_EMPTY_ROOT_PASSWORD:-}" ]; then
    log "Database is uninitialized and MARIADB_ROOT_PASSWORD(_FILE) is not set"; exit 1
  fi
  log "Initializing database files"
  mariadb-install-db --datadir="$DATADIR" --skip-test-db --auth-root-authentication-method=normal \
    --skip-name-resolve --default-time-zone=SYSTEM >/dev/null
  "$@" --skip-networking --default-time-zone=SYSTEM --socket="$SOCKET" --wsrep_on=OFF &
  pid=$!
  for _ in $(seq 60); do mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET" -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
  hc_pw=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  root_pw=$(sql_escape "$MARIADB_ROOT_PASSWORD")
  {
    echo "SET @@SESSION.SQL_LOG_BIN=0;"
    echo "DELETE FROM mysql.user WHERE user NOT IN ('mysql.sys', 'mariadb.sys', 'root') OR host NOT IN ('localhost');"
    echo "SET PASSWORD FOR 'root'@'localhost' = PASSWORD('$root_pw');"
    if [ "$MARIADB_ROOT_HOST" != localhost ]; then
      echo "CREATE USER 'root'@'$MARIADB_ROOT_HOST' IDENTIFIED BY '$root_pw';"
      echo "GRANT ALL ON *.* TO 'root'@'$MARIADB_ROOT_HOST' WITH GRANT OPTION;"
    fi
    echo "CREATE USER 'healthcheck'@'localhost' IDENTIFIED BY '$hc_pw';"
    echo "CREATE USER 'healthcheck'@'127.0.0.1' IDENTIFIED BY '$hc_pw';"
    echo "CREATE USER 'healthcheck'@'::1' IDENTIFIED BY '$hc_pw';"
    echo "GRANT USAGE ON *.* TO 'healthcheck'@'localhost', 'healthcheck'@'127.0.0.1', 'healthcheck'@'::1';"
    if [ -n "${MARIADB_DATABASE:-}" ]; then echo "CREATE DATABASE IF NOT EXISTS \`$MARIADB_DATABASE\`;"; fi
    if [ -n "${MARIADB_USER:-}" ] && [ -n "$MARIADB_PASSWORD" ]; then
      echo "CREATE USER '$MARIADB_USER'@'%' IDENTIFIED BY '$(sql_escape "$MARIADB_PASSWORD")';"
      [ -n "${MARIADB_DATABASE:-}" ] && echo "GRANT ALL ON \`$MARIADB_DATABASE\`.* TO '$MARIADB_USER'@'%';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --protocol=socket -uroot -hlocalhost --socket="$SOCKET"
  printf '[mariadb-client]\nport=3306\nsocket=%s\nuser=healthcheck\npassword=%s\n' "$SOCKET" "$hc_pw" >"$DATADIR/.my-healthcheck.cnf"
  chmod 0600 "$DATADIR/.my-healthcheck.cnf"
  printf '[client]\nuser=root\npassword=%s\nsocket=%s\n' "$MARIADB_ROOT_PASSWORD" "$SOCKET" >/run/mysqld/.init-root.cnf
  chmod 0600 /run/mysqld/.init-root.cnf
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) log "running $f"; if [ -x "$f" ]; then "$f"; else . "$f"; fi ;;
      *.sql) log "running $f"; mariadb --defaults-extra-file=/run/mysqld/.init-root.cnf <"$f" ;;
      *.sql.gz) log "running $f"; gunzip -c "$f" | mariadb --defaults-extra-file=/run/mysqld/.init-root.cnf ;;
      *) ;;
    esac
  done
  rm -f /run/mysqld/.init-root.cnf
  unset MARIADB_ROOT_PASSWORD MARIADB_PASSWORD root_pw hc_pw
  kill "$pid"; wait "$pid" || true
  log "MariaDB init process done. Ready for start up."
elif [ -n "${MARIADB_AUTO_UPGRADE:-}" ]; then
  log "MARIADB_AUTO_UPGRADE set: mariadb-upgrade runs after start (as the official image does)"
fi
unset MARIADB_ROOT_PASSWORD MARIADB_PASSWORD
exec "$@"
