#!/usr/bin/env bash
# Throughput through Traefik with 1 and with 3 backend tasks of a bench on the three-node Swarm of the `swarm` Molecule
# scenario (the stand-in image: figures of the stack's plumbing, not of ERPNext), and failover times: a node's loss
# until every task runs again and the sites answer, and a Redis primary's loss until enqueueing works again through
# the Redis proxy. Not a test: it prints figures and judges none.
#   1. converge the scenario (bench alpha, backend scaled by `docker service scale` for each run);
#   2. wrk from the host, DURATION seconds at CONNECTIONS connections, against Traefik on the first node
#      (GET /api/method/ping of erp.example.test, after a 5 s warm-up), with 1 then 3 backend tasks;
#   3. stop erpstack-swarm-3 (a node of replicas): seconds until every task runs again and the site answers;
#   4. stop the container of the queue's Redis primary: seconds until RPUSH through redis-proxy succeeds.
# usage: benchmarks/swarm.sh        env: DURATION=30 CONNECTIONS=32
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/.venv/bin:$PATH ERPSTACK_CACHE=$root/.cache ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
DURATION=${DURATION:-30} CONNECTIONS=${CONNECTIONS:-32}
out=$root/benchmarks/results
mkdir -p "$out" "$root/tests/output/molecule-swarm"
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
"$root/tests/harness/images.sh" >/dev/null
cp -f "$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"
cd "$root"
trap 'docker rm -f -v erpstack-swarm-1 erpstack-swarm-2 erpstack-swarm-3 >/dev/null 2>&1;
      molecule destroy -s swarm >/dev/null 2>&1 || true' EXIT
molecule destroy -s swarm >/dev/null 2>&1 || true
echo "converge the three-node swarm (bench alpha) ..."
molecule create -s swarm >"$out/swarm-create.log" 2>&1
molecule converge -s swarm >"$out/swarm-converge.log" 2>&1 || { tail -n 40 "$out/swarm-converge.log"; exit 1; }

first=erpstack-swarm-1
site=erp.example.test
url=https://172.31.40.11/api/method/ping
on() { docker exec "$@"; }
running() {  # $1 service: tasks running (healthy), on nodes that are up
  on "$first" docker service ps "alpha_$1" --filter desired-state=running --format '{{.Node}} {{.CurrentState}}' |
    awk -v lost="${2:-none}" '$1 != lost && $2 == "Running"' | wc -l
}
ping_ok() { curl -sk --max-time 3 -H "Host: $site" "$url" 2>/dev/null | grep -q pong; }

declare -A rps p50 p99
for tasks in 1 3; do
  on "$first" docker service scale --detach alpha_backend="$tasks" >/dev/null
  for _ in $(seq 120); do [ "$(running backend)" = "$tasks" ] && break; sleep 1; done
  sleep 5  # Traefik's Swarm provider (2 s) and its health checks (2 s) see the tasks
  wrk -t2 -c"$CONNECTIONS" -d5s -H "Host: $site" "$url" >/dev/null 2>&1 || true
  result=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Host: $site" "$url")
  echo "$result" >"$out/swarm-wrk-$tasks.txt"
  rps[$tasks]=$(awk '/^Requests\/sec/ { print $2 }' <<<"$result")
  p50[$tasks]=$(awk '$1 == "50%" { print $2 }' <<<"$result")
  p99[$tasks]=$(awk '$1 == "99%" { print $2 }' <<<"$result")
done
on "$first" docker service scale --detach alpha_backend=3 >/dev/null

# a node of replicas lost
start=$(date +%s.%N)
docker stop erpstack-swarm-3 >/dev/null
node_back=""
for _ in $(seq 300); do
  if [ "$(running backend erpstack-swarm-3)" = 3 ] && [ "$(running websocket erpstack-swarm-3)" = 2 ] &&
     [ "$(running frontend erpstack-swarm-3)" = 2 ] && ping_ok; then
    node_back=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }'); break
  fi
  sleep 1
done
docker start erpstack-swarm-3 >/dev/null
# the next fault only once the node's Sentinel runs again: with two of three Sentinels lost there is no quorum
for _ in $(seq 180); do [ "$(running redis-sentinel)" = 3 ] && break; sleep 1; done
sleep 10

# the queue's Redis primary lost (its container: Swarm starts another, which rejoins as a replica)
primary=$(on "$first" docker ps -q --filter label=com.docker.swarm.service.name=alpha_redis-queue)
# the password goes to redis-cli on its standard input, from a private copy on the first node
on "$first" sh -c 'umask 077; { cat /opt/erpstack/alpha/secrets/redis_queue_password; echo; } > /tmp/queue.pw'
rpush() {
  on "$first" sh -c "docker run -i --rm --network alpha_bench $1 sh -c 'read -r p; REDISCLI_AUTH=\$p timeout 3 \
    redis-cli -h redis-proxy -p 6379 RPUSH rq:queue:erpstack-benchmark x' < /tmp/queue.pw" 2>/dev/null
}
image=172.31.40.11:5000/erpstack-test/redis:7.0
rpush "$image" >/dev/null
start=$(date +%s.%N)
on "$first" docker kill "$primary" >/dev/null
redis_back=""
for _ in $(seq 120); do
  if rpush "$image" | grep -qE '^[0-9]+$'; then
    redis_back=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'); break
  fi
  sleep 0.5
done

ratio=$(awk -v a="${rps[1]}" -v b="${rps[3]}" 'BEGIN { printf "%.2f", b / a }')
{
  echo "Swarm of 3 nodes, stand-in image, wrk -t2 -c$CONNECTIONS -d${DURATION}s through Traefik on one node"
  printf '%-16s %12s %10s %10s\n' "backend tasks" "requests/s" "p50" "p99"
  for tasks in 1 3; do printf '%-16s %12s %10s %10s\n' "$tasks" "${rps[$tasks]}" "${p50[$tasks]}" "${p99[$tasks]}"; done
  echo "ratio 3 tasks / 1 task: $ratio"
  echo "node of replicas lost -> every task running again and the site answering: ${node_back:-more than 300} s"
  echo "queue's Redis primary lost -> RPUSH through redis-proxy works again: ${redis_back:-more than 60} s"
} | tee "$out/swarm.txt"
