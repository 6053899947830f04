#!/usr/bin/env bash
# Redis Sentinel test of the ERPNext stand-in image, against real Redis: a password-protected primary, its replica and
# three password-protected sentinels (`redis-server sentinel.conf --sentinel`) on a private network, and a
# `bench worker` whose common_site_config.json enables `redis_queue_sentinel_enabled` (its `redis_queue` URL points
# nowhere). Checks that the worker finds the master through the sentinels, that after the primary stops and the
# sentinels promote the replica the worker registers again (`rq:worker:*`) on the new master and takes a job pushed
# there; also the scheduler, the cache (`redis_cache_sentinel_enabled`), `pending_jobs` and the start-up failures.
# Everything it starts is removed on exit, also on failure.
#
#   tests/images/erpnext-standin/sentinel-test.sh [IMAGE]     (default erpstack-test/erpnext:v16.32.3)
#
# Secrets travel in files under a private temporary directory or on standard input, never on a command line.
set -Eeuo pipefail

IMAGE=${1:-erpstack-test/erpnext:v16.32.3}
REDIS_IMAGE=${REDIS_IMAGE:-erpstack-test/redis:7.0}

P="standin-sentinel-$$-"
NET="${P}net"
BENCH=/home/frappe/frappe-bench
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
    for c in "${started[@]}"; do
      echo "----- docker logs $c (tail) -----" >&2
      docker logs --tail 30 "$c" >&2 2>&1 || true
    done
  fi
  for c in "${started[@]}"; do docker rm -fv "$c" >/dev/null 2>&1 || true; done
  docker network rm "$NET" >/dev/null 2>&1 || true
  rm -rf "$tmp"
  if [[ $rc -eq 0 ]]; then log "sentinel test passed: $checks checks"; else log "sentinel test FAILED (rc=$rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'log "error on line $LINENO: $BASH_COMMAND" >&2' ERR

secret() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }
# redis-cli in a Redis container; the password goes through stdin into REDISCLI_AUTH, not onto a command line.
rcli() { # rcli CONTAINER PASSWORD ARGS...
  local c=$1 pw=$2
  shift 2
  printf '%s\n' "$pw" | docker exec -i "$c" bash -c 'IFS= read -r REDISCLI_AUTH; export REDISCLI_AUTH; exec redis-cli "$@"' redis-cli "$@"
}
node() { rcli "${P}$1" "$MASTER_PW" "${@:2}"; }                  # node primary|replica ARGS...
sentinel() { rcli "${P}$1" "$SENTINEL_PW" -p 26379 "${@:2}"; }    # sentinel sentinel-1 ARGS...
container_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }
wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2 i
  shift 2
  for ((i = 0; i < limit * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  fail "timed out after ${limit}s waiting for $what"
}
run_bg() { # run_bg NAME DOCKER-RUN-ARGS...
  local name=$1
  shift
  started+=("$name")
  docker run -d --name "$name" --hostname "$name" --network "$NET" "$@" >/dev/null
}

docker image inspect "$IMAGE" >/dev/null 2>&1 || fail "image $IMAGE not found: build it first (see README.md)"
docker image inspect "$REDIS_IMAGE" >/dev/null 2>&1 || fail "image $REDIS_IMAGE not found: tests/harness/images.sh redis"

MASTER_PW="$(secret)@:/%+"
SENTINEL_PW="$(secret)@:/%+"
WRONG_PW=$(secret)
SENTINELS=("${P}sentinel-1" "${P}sentinel-2" "${P}sentinel-3")

# Primary and replica share the password (either may be the master) and authenticate to each other (masterauth).
printf 'bind 0.0.0.0\nrequirepass "%s"\nmasterauth "%s"\n' "$MASTER_PW" "$MASTER_PW" >"$tmp/primary.conf"
printf 'replicaof %s 6379\n' "${P}primary" | cat "$tmp/primary.conf" - >"$tmp/replica.conf"
{
  printf 'port 26379\nsentinel resolve-hostnames yes\n'
  printf 'sentinel monitor queue %s 6379 2\n' "${P}primary"
  printf 'sentinel auth-pass queue "%s"\n' "$MASTER_PW"
  printf 'sentinel down-after-milliseconds queue 2000\nsentinel failover-timeout queue 10000\n'
  printf 'requirepass "%s"\n' "$SENTINEL_PW"
} >"$tmp/sentinel.conf"
# The worker's common config: Sentinel for the queue and the cache; redis_queue/redis_cache point nowhere, so only
# the sentinels can lead the stand-in to Redis. The passwords reach jq on standard input.
# shellcheck disable=SC2016 # jq variables
jq -Rn --arg prefix "$P" '[inputs] as [$master, $sentinel] | ([range(1; 4) | "\($prefix)sentinel-\(.):26379"]) as $nodes | {
  redis_queue: "redis://\($prefix)nowhere:6379", redis_cache: "redis://\($prefix)nowhere:6379", socketio_port: 9000,
  redis_queue_sentinel_enabled: 1, redis_queue_sentinels: $nodes, redis_queue_master_service: "queue",
  redis_queue_master_password: $master, redis_queue_sentinel_password: $sentinel,
  redis_cache_sentinel_enabled: 1, redis_cache_sentinels: $nodes, redis_cache_master_service: "queue",
  redis_cache_master_password: $master, redis_cache_sentinel_password: $sentinel}' \
  <<<"$MASTER_PW"$'\n'"$SENTINEL_PW" >"$tmp/common_site_config.json"
# bad_conf NAME JQ-FILTER: a variant of the common config
bad_conf() { jq "$2" "$tmp/common_site_config.json" >"$tmp/$1.json"; }
bad_conf wrong-sentinel-pw ".redis_queue_sentinel_password = \"$WRONG_PW\""
bad_conf wrong-master-pw ".redis_queue_master_password = \"$WRONG_PW\""
# Read by the servers' own users inside their containers; $tmp itself is private.
chmod 0644 "$tmp"/*.conf "$tmp"/*.json
docker network create "$NET" >/dev/null

# ----------------------------------------------------------------------------------------------------------
log "starting the primary, the replica and three sentinels (redis-server --sentinel)"
for r in primary replica; do
  run_bg "${P}$r" -v "$tmp/$r.conf:/etc/redis/$r.conf:ro" "$REDIS_IMAGE" redis-server "/etc/redis/$r.conf"
done
replica_up() { [[ "$(node replica INFO replication)" == *master_link_status:up* ]]; }
wait_for 30 "the replica's link to the primary" replica_up
# Sentinel rewrites its configuration file: each gets a writable copy in /data (the entrypoint hands it to redis).
for s in "${SENTINELS[@]}"; do
  run_bg "$s" -v "$tmp/sentinel.conf:/etc/redis/sentinel.conf:ro" --entrypoint bash "$REDIS_IMAGE" -c \
    'install -m 0600 /etc/redis/sentinel.conf /data/sentinel.conf && exec docker-entrypoint.sh redis-server /data/sentinel.conf --sentinel'
done
sentinels_ready() {
  local s out
  for s in "${SENTINELS[@]}"; do
    out=$(sentinel "${s#"$P"}" SENTINEL MASTER queue) || return 1
    [[ "$(sed -n '/^num-other-sentinels$/{n;p}' <<<"$out")" == 2 && "$(sed -n '/^num-slaves$/{n;p}' <<<"$out")" == 1 ]] || return 1
  done
}
wait_for 40 "the sentinels to see each other and the replica" sentinels_ready
[[ "$(docker exec "${SENTINELS[0]}" redis-cli -p 26379 PING 2>&1)" == NOAUTH* ]] || fail "a sentinel answers without a password"
primary_ip=$(container_ip "${P}primary")
replica_ip=$(container_ip "${P}replica")
[[ "$(sentinel sentinel-1 SENTINEL GET-MASTER-ADDR-BY-NAME queue | head -n1)" == "$primary_ip" ]] || fail "master is not the primary"
ok "primary ($primary_ip), replica ($replica_ip) and three sentinels (requirepass, auth-pass, resolve-hostnames) run"

# ----------------------------------------------------------------------------------------------------------
log "worker and scheduler through the sentinels"
CONF=(-v "$tmp/common_site_config.json:$BENCH/sites/common_site_config.json:ro")
run_bg "${P}queue-short" "${CONF[@]}" "$IMAGE" bench worker --queue short,default
worker_on() { # worker_on NODE: the worker's named connection and its registration are on NODE
  local clients
  clients=$(node "$1" CLIENT LIST) && grep -qE 'name=rq:worker:' <<<"$clients" &&
    [[ "$(node "$1" SCARD rq:workers)" -ge 1 ]]
}
wait_for 30 "the worker to register on the primary" worker_on primary
worker_key=$(node primary SRANDMEMBER rq:workers)
[[ "$(node primary HGET "$worker_key" queues)" == short,default ]] || fail "worker hash: $(node primary HGETALL "$worker_key")"
node primary RPUSH rq:queue:short '{"site": "sentinel.localhost", "method": "standin.before_failover"}' >/dev/null
job_done() { [[ "$(node "$1" HGET "$worker_key" successful_job_count)" -ge "$2" ]]; }
wait_for 10 "the job on the primary" job_done primary 1
logs=$(docker logs "${P}queue-short" 2>&1)
grep -qF "Connecting to Redis Sentinel master 'queue' via ${P}sentinel-1:26379,${P}sentinel-2:26379,${P}sentinel-3:26379" \
  <<<"$logs" || fail "the worker does not log the sentinels it uses: $logs"
ok "worker found the master through the sentinels, registered $worker_key on the primary and took a job"

run_bg "${P}scheduler" "${CONF[@]}" "$IMAGE" bench schedule
scheduler_started() { docker logs "${P}scheduler" 2>&1 | grep -q 'Scheduler started'; }
wait_for 20 "the scheduler" scheduler_started
sched_ip=$(container_ip "${P}scheduler")
clients=$(node primary CLIENT LIST)
grep -qE "addr=${sched_ip//./\\.}:" <<<"$clients" || fail "the scheduler has no connection to the primary: $clients"
ok "scheduler connected (PING) to the master through the sentinels"

# The cache (frappe.cache = setup_cache) and ready-for-migration's pending_jobs, called in a stand-in container; a job
# of the site waits in rq:queue:long, which the worker does not listen on.
node primary SADD rq:queues rq:queue:long >/dev/null
node primary RPUSH rq:queue:long '{"site": "sentinel.localhost", "method": "standin.pending"}' >/dev/null
# shellcheck disable=SC2016 # container-side Python
out=$(docker exec -w "$BENCH/sites" "${P}queue-short" "$BENCH/env/bin/python" -c '
import json
from frappe import conf
from frappe.utils.redis_wrapper import SiteCache, pending_jobs
c = dict(conf.get_common_config(), db_name="_sentineltest")
SiteCache(c).hset("session", "sid1", "cached")
print(SiteCache(c).hget("session", "sid1").decode(), pending_jobs(c, "sentinel.localhost"))')
[[ "$out" == "cached True" && "$(node primary HGET '_sentineltest|session' sid1)" == cached ]] ||
  fail "cache through the sentinels: $out"
ok "the cache (setup_cache) wrote _sentineltest|session on the master; pending_jobs found the site's queued job"

# ----------------------------------------------------------------------------------------------------------
log "failover: stopping the primary"
t0=$SECONDS
docker stop -t 2 "${P}primary" >/dev/null
promoted() { [[ "$(sentinel sentinel-2 SENTINEL GET-MASTER-ADDR-BY-NAME queue | head -n1)" == "$replica_ip" ]]; }
wait_for 30 "the sentinels to promote the replica" promoted
t_promoted=$((SECONDS - t0))
[[ "$(node replica ROLE | head -n1)" == master ]] || fail "the replica is not master after the failover"
wait_for 45 "the worker to register on the promoted replica" worker_on replica
t_registered=$((SECONDS - t0))
[[ "$(node replica SISMEMBER rq:workers "$worker_key")" == 1 && "$(node replica TTL "$worker_key")" -gt 0 ]] ||
  fail "$worker_key not registered on the new master: $(node replica HGETALL "$worker_key")"
ok "sentinels promoted the replica ${t_promoted}s after the stop; worker $worker_key registered there after ${t_registered}s"

node replica RPUSH rq:queue:default '{"site": "sentinel.localhost", "method": "standin.after_failover"}' >/dev/null
wait_for 10 "the job on the new master" job_done replica 2
[[ "$(node replica LLEN rq:queue:default)" == 0 ]] || fail "the job is still queued on the new master"
logs=$(docker logs "${P}queue-short" 2>&1)
grep -q "default: sentinel.localhost standin.after_failover" <<<"$logs" || fail "the worker did not log the job: $logs"
grep -q "Reconnected to Redis as $worker_key" <<<"$logs" || fail "no reconnection in the worker's log: $logs"
ok "the worker took the job pushed to the new master"

[[ "$(docker inspect -f '{{.State.Running}}' "${P}scheduler")" == true ]] || fail "the scheduler died in the failover"

# ----------------------------------------------------------------------------------------------------------
log "start-up failures"
bad_run() { # bad_run CONF-FILE COMMAND...: exit code and output of COMMAND in a throwaway container
  local conf=$1
  shift
  bad_rc=0
  bad_out=$(timeout 60 docker run --rm --network "$NET" -v "$tmp/$conf.json:$BENCH/sites/common_site_config.json:ro" \
    "$IMAGE" "$@" 2>&1) || bad_rc=$?
}
bad_run wrong-sentinel-pw bench worker --queue short
{ [[ $bad_rc -eq 1 ]] && grep -q "^redis.sentinel.MasterNotFoundError: No master found for 'queue'" <<<"$bad_out"; } ||
  fail "worker with a wrong sentinel password: exit $bad_rc: $bad_out"
bad_run wrong-master-pw bench worker --queue short
{ [[ $bad_rc -eq 1 ]] && grep -q '^redis.exceptions.AuthenticationError: ' <<<"$bad_out"; } ||
  fail "worker with a wrong master password: exit $bad_rc: $bad_out"
bad_run wrong-master-pw bench schedule
{ [[ $bad_rc -eq 1 ]] && grep -q '^redis.exceptions.AuthenticationError: ' <<<"$bad_out"; } ||
  fail "scheduler with a wrong master password: exit $bad_rc: $bad_out"
ok "a wrong sentinel password (MasterNotFoundError) or master password (AuthenticationError) stops worker and scheduler at start (exit 1)"

for c in "${P}queue-short" "${P}scheduler" "${SENTINELS[@]}" "${P}replica"; do
  all=$(docker logs "$c" 2>&1; docker inspect -f '{{json .Config.Env}} {{json .Config.Cmd}} {{json .Args}}' "$c")
  grep -qF -e "$MASTER_PW" -e "$SENTINEL_PW" <<<"$all" && fail "a password is visible in the logs or inspect of $c"
done
grep -qF -e "$WRONG_PW" <<<"$bad_out" && fail "a password is in an error message"
procs=$(ps -eo args)
grep -qF -e "$MASTER_PW" -e "$SENTINEL_PW" <<<"$procs" && fail "a password is on a command line on the host"
ok "no password in logs, error messages, docker inspect or host command lines"
printf '%s\n' "----- worker log -----" "$(docker logs "${P}queue-short" 2>&1)"
