#!/usr/bin/env bash
# Test of the HAProxy image with redis-primary-start.sh against real Redis: a password-protected primary and its
# replica on a private network, HAProxy started with `sh -c "<redis-primary-start.sh>"` (the password in a secret file,
# the configuration in a tmpfs). Checks that writes through the proxy reach the primary and, after the roles are
# swapped (REPLICAOF NO ONE on the replica, REPLICAOF replica 6379 on the old primary), the new primary, and how long
# that takes. Everything it starts is removed on exit.
#
#   tests/images/haproxy/test-redis-primary.sh [HAPROXY_IMAGE]   (default erpstack-test/haproxy:2.6)
set -Eeuo pipefail

IMAGE=${1:-erpstack-test/haproxy:2.6}
REDIS_IMAGE=${REDIS_IMAGE:-erpstack-test/redis:7.0}
here=$(cd "$(dirname "$0")" && pwd)
P="haproxy-redis-$$-"
NET="${P}net"
started=()
tmp=$(mktemp -d)
started_at=$SECONDS
checks=0

log() { printf '%s [%3ss] %s\n' "$(date +%T)" "$((SECONDS - started_at))" "$*"; }
ok() { checks=$((checks + 1)); log "ok: $*"; }
fail() { log "FAIL: $*" >&2; exit 1; }
cleanup() {
  local rc=$? c
  trap - EXIT ERR
  if [[ $rc -ne 0 ]]; then
    for c in "${started[@]}"; do echo "----- docker logs $c (tail) -----" >&2; docker logs --tail 30 "$c" >&2 2>&1 || true; done
  fi
  for c in "${started[@]}"; do docker rm -fv "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  if [[ $rc -eq 0 ]]; then log "haproxy test passed: $checks checks"; else log "haproxy test FAILED (rc=$rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "error on line $LINENO: $BASH_COMMAND" >&2' ERR

run_bg() { local name=$1; shift; started+=("$name"); docker run -d --name "$name" --network "$NET" "$@" >/dev/null; }
# redis-cli run in the replica's container against HOST; the password travels on stdin into REDISCLI_AUTH.
rcli() { # rcli HOST ARGS...
  local host=$1
  shift
  printf '%s\n' "$PW" | docker exec -i "${P}replica" bash -c \
    'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; exec redis-cli -h "$@"' redis-cli "$host" "$@"
}
proxy() { rcli "${P}haproxy" "$@"; }
run_id() { rcli "$1" INFO server | tr -d '\r' | sed -n 's/^run_id://p'; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out after ${limit}s waiting for $what"
}
# a write through the proxy lands on the node with run id $1 (a replica would answer READONLY)
write_reaches() { [[ "$(proxy SET haproxy-test "$2")" == OK && "$(proxy INFO server | tr -d '\r' | sed -n 's/^run_id://p')" == "$1" ]]; }

for i in "$IMAGE" "$REDIS_IMAGE"; do docker image inspect "$i" >/dev/null 2>&1 || fail "image $i not found"; done
PW="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20) \"q\" @:/%+\\ end" # spaces, quotes, backslash
printf '%s' "$PW" >"$tmp/redis_password"
pw_conf=${PW//\\/\\\\}
pw_conf=${pw_conf//\"/\\\"}
printf 'bind 0.0.0.0\nrequirepass "%s"\nmasterauth "%s"\n' "$pw_conf" "$pw_conf" >"$tmp/primary.conf"
printf 'replicaof %s 6379\n' "${P}primary" | cat "$tmp/primary.conf" - >"$tmp/replica.conf"
chmod 0644 "$tmp"/*   # read by redis (uid 999) and haproxy (uid 99) in their containers; $tmp itself is private
docker network create "$NET" >/dev/null

log "the start script refuses a configuration directory that is not a tmpfs"
rc=0
out=$(docker run --rm -v "$tmp/redis_password:/run/secrets/redis_password:ro" -e REDIS_SERVERS=x:6379 "$IMAGE" \
  sh -c "$(cat "$here/redis-primary-start.sh")" 2>&1) || rc=$?
[[ $rc -eq 1 && "$out" == "haproxy: /run/haproxy is not a tmpfs (the configuration holds the password)" ]] ||
  fail "without a tmpfs: exit $rc: $out"
ok "without a tmpfs on /run/haproxy the start script exits 1 before reading the secret"

log "primary, replica, HAProxy"
for r in primary replica; do
  run_bg "${P}$r" -v "$tmp/$r.conf:/etc/redis/$r.conf:ro" "$REDIS_IMAGE" redis-server "/etc/redis/$r.conf"
done
replica_up() { [[ "$(rcli "${P}replica" INFO replication)" == *master_link_status:up* ]]; }
wait_for 30 "the replica's link to the primary" replica_up
primary_id=$(run_id "${P}primary")
replica_id=$(run_id "${P}replica")
t0=$SECONDS
run_bg "${P}haproxy" --tmpfs /run/haproxy -v "$tmp/redis_password:/run/secrets/redis_password:ro" \
  -e REDIS_SERVERS="${P}primary:6379 ${P}replica:6379" "$IMAGE" sh -c "$(cat "$here/redis-primary-start.sh")"
wait_for 15 "a write through HAProxy" write_reaches "$primary_id" first
log "first write through HAProxy after $((SECONDS - t0))s"
[[ "$(rcli "${P}primary" GET haproxy-test)" == first ]] || fail "the write did not reach the primary"
ok "writes through HAProxy reach the primary (run_id $primary_id)"

cfg=$(docker exec "${P}haproxy" sh -c 'stat -c "%U %a" /run/haproxy/haproxy.cfg; stat -f -c %T /run/haproxy')
[[ "$cfg" == $'haproxy 600\ntmpfs' ]] || fail "configuration file: $cfg"
docker exec "${P}haproxy" haproxy -c -q -f /run/haproxy/haproxy.cfg || fail "haproxy -c rejects the rendered configuration"
ok "the configuration is a 0600 file of haproxy on a tmpfs and passes haproxy -c"

# A long-lived session through the proxy (as a subscriber's): it must be shut when its server is marked down.
printf '%s\n' "$PW" | docker exec -i "${P}replica" bash -c 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH
  redis-cli -h "$1" SUBSCRIBE events >/dev/null 2>&1; echo "$?" >/tmp/subscriber.rc' sub "${P}haproxy" &
subscribed() { [[ "$(rcli "${P}primary" PUBSUB NUMSUB events | tail -n1)" == 1 ]]; }
wait_for 10 "a subscriber through HAProxy" subscribed

log "swapping roles: REPLICAOF NO ONE on the replica, REPLICAOF replica 6379 on the old primary"
t0=$(date +%s.%N)
rcli "${P}replica" REPLICAOF NO ONE >/dev/null
rcli "${P}primary" REPLICAOF "${P}replica" 6379 >/dev/null
n=0
until write_reaches "$replica_id" "second-$n" 2>/dev/null; do
  n=$((n + 1))
  (( $(date +%s) - ${t0%.*} < 15 )) || fail "writes through HAProxy did not reach the new primary within 15 s"
  sleep 0.1
done
t_switch=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[[ "$(rcli "${P}replica" GET haproxy-test)" == "second-$n" ]] || fail "the write did not reach the new primary"
ok "writes through HAProxy reach the new primary (run_id $replica_id) ${t_switch}s after the swap ($n attempts refused before)"

wait_for 10 "the subscriber's session to be shut" docker exec "${P}replica" test -s /tmp/subscriber.rc
wait
ok "the session open through HAProxy to the old primary was shut when it was marked down (on-marked-down shutdown-sessions)"

logs=$(docker logs "${P}haproxy" 2>&1)
grep -q 'Server redis_primary/redis-1 is DOWN' <<<"$logs" || fail "no DOWN of the old primary in HAProxy's log: $logs"
all=$(docker logs "${P}haproxy" 2>&1; docker inspect "${P}haproxy"; ps -eo args)
grep -qF -e "$PW" -e "${PW%% *}" <<<"$all" && fail "the password is visible in HAProxy's log, docker inspect or ps"
ok "HAProxy logged the old primary DOWN; the password is in no log, docker inspect or process argument"
printf '%s\n' "----- HAProxy log -----" "$logs"
