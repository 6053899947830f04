#!/bin/sh
# HAProxy in front of Redis servers of which one is the primary: renders the configuration from the Redis password in
# a secret file into a private tmpfs and runs HAProxy on it. The health check authenticates with a RESP-framed AUTH
# (hex, so that no password character needs escaping), asks INFO replication and keeps only the server whose role is
# master; sessions to a server marked down are shut, so clients reconnect to the new primary. State changes of the
# servers are logged on stderr; the password never is.
#   REDIS_SERVERS        host:port of each Redis server (DNS names, re-resolved through Docker's DNS), space-separated
#   REDIS_PASSWORD_FILE  the secret (default /run/secrets/redis_password)
#   /run/haproxy         must be a tmpfs writable by the haproxy user (Docker's default tmpfs mode 1777 is)
set -eu
secret=${REDIS_PASSWORD_FILE:-/run/secrets/redis_password}
dir=/run/haproxy
umask 077
[ -n "${REDIS_SERVERS:-}" ] || { echo "haproxy: REDIS_SERVERS is empty" >&2; exit 1; }
[ -r "$secret" ] || { echo "haproxy: cannot read $secret" >&2; exit 1; }
[ "$(stat -f -c %T "$dir" 2>/dev/null)" = tmpfs ] ||
  { echo "haproxy: $dir is not a tmpfs (the configuration holds the password)" >&2; exit 1; }
pw=$(cat "$secret")
len=$(printf %s "$pw" | wc -c | tr -d ' ')
# shellcheck disable=SC2016 # RESP's "$" length markers, not expansions
auth=$(printf '*2\r\n$4\r\nAUTH\r\n$%s\r\n%s\r\n' "$len" "$pw" | od -An -v -tx1 | tr -d ' \n')
unset pw len
{
  cat <<CFG
global
    maxconn 4096

defaults
    mode tcp
    timeout connect 3s
    # RQ workers block in BLPOP and the realtime server holds a SUBSCRIBE connection: long idle sessions are normal
    timeout client 24h
    timeout server 24h
    timeout check 2s

resolvers docker
    nameserver dns 127.0.0.11:53
    hold valid 1s

frontend redis
    bind :6379
    default_backend redis_primary

backend redis_primary
    option tcp-check
    tcp-check connect
    tcp-check send-binary $auth
    tcp-check expect string +OK
    tcp-check send info\ replication\r\n
    # min-recv: a reply without role:master (a replica's) fails at once instead of waiting for the check timeout
    tcp-check expect min-recv 40 string role:master
    tcp-check send QUIT\r\n
    tcp-check expect string +OK
CFG
  i=0
  for server in $REDIS_SERVERS; do
    i=$((i + 1))
    echo "    server redis-$i $server check inter 1s fall 2 rise 2 resolvers docker init-addr none on-marked-down shutdown-sessions"
  done
} >"$dir/haproxy.cfg"
unset auth
exec haproxy -W -db -f "$dir/haproxy.cfg"
