#!/usr/bin/env bash
# Enqueue rate of the Redis test image with AOF (`--appendonly yes --appendfsync everysec`, as redis-queue is deployed)
# against without persistence (`--appendonly no`), in containers with the SAME memory and CPU limits. RDB snapshots
# are off in both (`--save ''`) so the only difference is the AOF. Not a test: it prints figures, it does not judge them.
#
# usage: benchmarks/redis_aof.sh
# env:   MEM=1g CPUS=<nproc> ROUNDS=3 REQUESTS=500000 CLIENTS=16 SIZE=200 (payload bytes) WORKLOADS="lpush rq_enqueue"
#   lpush       redis-benchmark's LPUSH test, one list, SIZE-byte values
#   rq_enqueue  what an rq enqueue writes, in one round trip (EVAL): HSET rq:job:<id> data <SIZE bytes> status queued,
#               then RPUSH rq:queue:default <job key>
#
# Each run gets a new server on an empty volume (/data on the Docker host's disk, so the AOF really is written and
# fsync'd); configs alternate (aof, no-aof, aof, no-aof, ...). redis-benchmark runs in its own container on the same
# network. Redis's default AOF rewrite (at 64 MB, +100 %) stays on: it happens in production too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchmarks/lib.sh
. "$root/benchmarks/lib.sh"
MEM=${MEM:-1g} CPUS=${CPUS:-$(nproc)} ROUNDS=${ROUNDS:-3} REQUESTS=${REQUESTS:-500000} CLIENTS=${CLIENTS:-16} SIZE=${SIZE:-200}
WORKLOADS=${WORKLOADS:-lpush rq_enqueue} IMAGE=${IMAGE:-erpstack-test/redis:7.0}
aof_args=(--appendonly yes --appendfsync everysec --save '')
noaof_args=(--appendonly no --save '')

id=erpbench-$$
net=$id-net srv=$id-redis vol=$id-data
out=$root/benchmarks/results/redis_aof-$(date +%Y%m%dT%H%M%S)
mkdir -p "$out"
cleanup_on_exit "$id" "$net"
require_images redis_aof.sh "$IMAGE"

t0=$SECONDS
phase() { printf '[%5d s] %s\n' "$((SECONDS - t0))" "$*" | tee -a "$out/phases.log" >&2; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2];
  else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

payload=$(head -c "$SIZE" /dev/zero | tr '\0' x)
# shellcheck disable=SC2016  # Lua, not shell
enqueue_lua='redis.call("HSET", KEYS[1], "data", ARGV[1], "status", "queued"); return redis.call("RPUSH", KEYS[2], KEYS[1])'
bench_args() {  # workload -> redis-benchmark arguments (after the common ones)
  case $1 in
    lpush) echo "-t lpush -d $SIZE" ;;
    rq_enqueue) echo "-r 100000000 EVAL <lua: HSET job hash, RPUSH its key> 2 rq:job:__rand_int__ rq:queue:default <$SIZE-byte payload>" ;;
    *) echo "redis_aof.sh: unknown workload $1 (lpush, rq_enqueue)" >&2; return 2 ;;
  esac
}
for wl in $WORKLOADS; do bench_args "$wl" >/dev/null; done

docker network create "$net" >/dev/null
declare -A ops_of p99_of ratio_of
for r in $(seq "$ROUNDS"); do
  for wl in $WORKLOADS; do
    for cfg in aof no-aof; do
      start=$SECONDS
      if [ "$cfg" = aof ]; then args=("${aof_args[@]}"); else args=("${noaof_args[@]}"); fi
      docker volume create "$vol" >/dev/null
      docker run -d --name "$srv" --network "$net" --network-alias redis --memory "$MEM" --memory-swap "$MEM" --cpus "$CPUS" \
        -v "$vol:/data" "$IMAGE" redis-server "${args[@]}" >/dev/null
      for _ in $(seq 100); do docker exec "$srv" redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.2; done
      aof_on=$(docker exec "$srv" redis-cli info persistence | tr -d '\r' | sed -n 's/^aof_enabled://p')
      up=$((SECONDS - start))
      common=(--rm --name "$id-bench" --network "$net" --entrypoint redis-benchmark "$IMAGE" -h redis -n "$REQUESTS" -c "$CLIENTS" --csv)
      start=$SECONDS
      case $wl in
        lpush) docker run "${common[@]}" -t lpush -d "$SIZE" >"$out/$wl-$cfg-$r.csv" ;;
        rq_enqueue) docker run "${common[@]}" -r 100000000 EVAL "$enqueue_lua" 2 rq:job:__rand_int__ rq:queue:default "$payload" \
          >"$out/$wl-$cfg-$r.csv" ;;
      esac
      took=$((SECONDS - start))
      # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
      read -r ops p99 < <(tail -n1 "$out/$wl-$cfg-$r.csv" | awk -F'","' '{print $2, $7}')
      [[ $ops =~ ^[0-9.]+$ ]] || { cat "$out/$wl-$cfg-$r.csv" >&2; echo "redis_aof.sh: no ops/s for $wl $cfg" >&2; exit 1; }
      aof_mb=$(docker exec "$srv" du -sm /data | cut -f1)
      oom=$(docker inspect -f '{{.State.OOMKilled}}' "$srv")
      docker rm -f "$srv" >/dev/null && docker volume rm "$vol" >/dev/null
      [ "$oom" = false ] || { echo "redis_aof.sh: redis-server was OOM-killed (MEM=$MEM, REQUESTS=$REQUESTS)" >&2; exit 1; }
      ops_of[$wl/$cfg]="${ops_of[$wl/$cfg]:-} $ops" p99_of[$wl/$cfg]="${p99_of[$wl/$cfg]:-} $p99"
      # a round's ratio pairs two runs made seconds apart, which cancels slow drifts of the machine between rounds
      if [ "$cfg" = aof ]; then aof_ops=$ops; else
        ratio_of[$wl]="${ratio_of[$wl]:-} $(awk "BEGIN { printf \"%.3f\", $aof_ops / $ops }")"; fi
      phase "round $r $wl $cfg: $ops ops/s, p99 $p99 ms (aof_enabled=$aof_on, /data $aof_mb MB; startup $up s, run $took s)"
    done
  done
done

{
  echo
  echo "Redis enqueue rate, AOF everysec vs no persistence, $IMAGE, container --memory $MEM --cpus $CPUS, $ROUNDS round(s)"
  printf '%-11s %12s %12s %7s %9s %9s  %s\n' workload aof_ops/s noaof_ops/s ratio aof_p99 noaof_p99 "per round: aof | no-aof | ratio"
  for wl in $WORKLOADS; do
    a=$(median <<<"${ops_of[$wl/aof]}") n=$(median <<<"${ops_of[$wl/no-aof]}")
    printf '%-11s %12.0f %12.0f %7.3f %9s %9s  %s |%s |%s\n' "$wl" "$a" "$n" "$(median <<<"${ratio_of[$wl]}")" \
      "$(median <<<"${p99_of[$wl/aof]}")" "$(median <<<"${p99_of[$wl/no-aof]}")" "${ops_of[$wl/aof]# }" "${ops_of[$wl/no-aof]}" \
      "${ratio_of[$wl]}"
  done
  echo "(ops/s and p99 ms: median over rounds; ratio: median over rounds of with AOF / without, each round's pair of runs)"
  echo
  echo "Reproduce one row (from the repository root):"
  for wl in $WORKLOADS; do
    echo "  WORKLOADS=$wl MEM=$MEM CPUS=$CPUS ROUNDS=$ROUNDS REQUESTS=$REQUESTS CLIENTS=$CLIENTS SIZE=$SIZE benchmarks/redis_aof.sh"
    echo "    server: redis-server ${aof_args[*]:0:4} --save '' | redis-server ${noaof_args[*]:0:2} --save ''"
    echo "    client: redis-benchmark -h redis -n $REQUESTS -c $CLIENTS --csv $(bench_args "$wl")"
  done
} | tee "$out/table.txt"
phase "done; raw redis-benchmark output in ${out#"$root"/}"
