#!/usr/bin/env bash
# sysbench OLTP throughput of the MariaDB test image, "stock" (no drop-in) against "tuned" (the drop-in CNF_FILE,
# mounted as /etc/mysql/mariadb.conf.d/99-erpstack.cnf like the role does), in containers with the SAME memory and
# CPU limits.
# Not a test: it prints figures (median tps over ROUNDS, median of the per-round ratios tuned/stock), it judges none.
#
# usage: benchmarks/mariadb_tuning.sh [CNF_FILE]     (default: the drop-in the erpnext role renders for a db
#        limited to MEM, from benchmarks/render_cnf.py)
# env:   MEM=2g CPUS=<nproc> ROUNDS=2 TIME=60 WARMUP=10 TABLES=8 RAND_TYPE=uniform WORKLOADS="oltp_read_write oltp_write_only"
#        SCENARIOS="main sizing"
#        main:   DATA_MB=900 (> the stock 128 MB buffer pool, < the tuned one) or TABLE_SIZE=rows, THREADS=16
#        sizing: DATA2_MB=512 (4x the stock pool, still fits the tuned one) or TABLE_SIZE2=rows, THREADS2=96 (the tuned max_connections, 100, less a few)
#
# Method: each scenario's data set is prepared ONCE (sysbench prepare under the stock config) into a pristine volume.
# Every measured run starts from a fresh copy of it (the server is stopped while copying), so both configs see the
# same bytes and no run sees another run's writes. Configs alternate (stock, tuned, stock, tuned, ...). Each run:
# restore copy, start server, WARMUP seconds of oltp_point_select (not counted), TIME seconds of the workload.
# The host's page cache cannot be flushed here (no privileges): see the note printed under the table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchmarks/lib.sh
. "$root/benchmarks/lib.sh"
MEM=${MEM:-2g} CPUS=${CPUS:-$(nproc)} ROUNDS=${ROUNDS:-2} TIME=${TIME:-60} WARMUP=${WARMUP:-10} TABLES=${TABLES:-8}
RAND_TYPE=${RAND_TYPE:-uniform} WORKLOADS=${WORKLOADS:-oltp_read_write oltp_write_only} SCENARIOS=${SCENARIOS:-main sizing}
THREADS=${THREADS:-16} THREADS2=${THREADS2:-96} DATA_MB=${DATA_MB:-900} DATA2_MB=${DATA2_MB:-512}
# InnoDB bytes per sysbench row (clustered + secondary index k, measured on MariaDB 10.11): sizes the tables from *_MB.
ROW_BYTES=${ROW_BYTES:-246}
TABLE_SIZE=${TABLE_SIZE:-$((DATA_MB * 1048576 / TABLES / ROW_BYTES))}
TABLE_SIZE2=${TABLE_SIZE2:-$((DATA2_MB * 1048576 / TABLES / ROW_BYTES))}
DB_IMAGE=${DB_IMAGE:-erpstack-test/mariadb:10.11} SB_IMAGE=${SB_IMAGE:-erpstack-test/sysbench:1.0}

id=erpbench-$$
net=$id-net db=$id-db work=$id-work pw=bench-$$
out=$root/benchmarks/results/mariadb_tuning-$(date +%Y%m%dT%H%M%S)
mkdir -p "$out"
cnf_given=${1:-}
if [ -n "$cnf_given" ]; then
  [ -r "$1" ] || { echo "mariadb_tuning.sh: cannot read $1" >&2; exit 2; }
  cnf=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  cnf=$out/erpstack.cnf
  "$root/.venv/bin/python" "$root/benchmarks/render_cnf.py" "$MEM" > "$cnf"
fi
cleanup_on_exit "$id" "$net"

require_images mariadb_tuning.sh "$DB_IMAGE" "$SB_IMAGE"

t0=$SECONDS
phase() { printf '[%5d s] %s\n' "$((SECONDS - t0))" "$*" | tee -a "$out/phases.log" >&2; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2];
  else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2}'; }

docker network create "$net" >/dev/null

start_db() {  # volume, config (stock|tuned); waits until InnoDB answers
  local vol=$1 cfg=$2 start=$SECONDS args=()
  [ "$cfg" = stock ] || args=(-v "$cnf:/etc/mysql/mariadb.conf.d/99-erpstack.cnf:ro")
  docker run -d --name "$db" --network "$net" --network-alias db --memory "$MEM" --memory-swap "$MEM" --cpus "$CPUS" \
    -e MARIADB_ROOT_PASSWORD="$pw" -v "$vol:/var/lib/mysql" "${args[@]}" "$DB_IMAGE" >/dev/null
  for _ in $(seq 600); do
    [ "$(docker inspect -f '{{.State.Running}}' "$db")" = true ] || break
    # TCP from the network: the entrypoint's first-start init server listens on the socket only, so this waits it out.
    if docker exec "$db" mariadb -h 127.0.0.1 -uroot -p"$pw" -N -e \
      "SELECT 1 FROM information_schema.ENGINES WHERE engine='InnoDB' AND support IN ('YES','DEFAULT')" 2>/dev/null | grep -q 1; then
      echo "$((SECONDS - start))"; return 0
    fi
    sleep 0.5
  done
  docker logs --tail 30 "$db" >&2; echo "mariadb_tuning.sh: $cfg server did not start" >&2; return 1
}

stop_db() {  # clean shutdown (pristine volume) or just kill (work copy, thrown away); reports an OOM kill
  local how=$1 oom
  [ "$how" = clean ] && docker stop -t 300 "$db" >/dev/null
  oom=$(docker inspect -f '{{.State.OOMKilled}}' "$db")
  docker rm -f "$db" >/dev/null
  [ "$oom" = false ] || { echo "mariadb_tuning.sh: the server was OOM-killed (MEM=$MEM too small for the config?)" >&2; return 1; }
}

sql() { docker exec "$db" mariadb -uroot -p"$pw" -N -B -e "$1"; }

sb_args() {  # threads table_size
  echo "--db-driver=mysql --mysql-host=db --mysql-user=root --mysql-db=sbtest --tables=$TABLES --table-size=$2 --threads=$1" \
    "--rand-type=$RAND_TYPE"
}

sysbench_run() {  # container name suffix, sysbench args...
  local name=$id-$1; shift
  docker run --rm --name "$name" --network "$net" "$SB_IMAGE" "$@" --mysql-password="$pw"
}

copy_volume() {  # from, to (server stopped)
  docker run --rm --name "$id-copy" -v "$1:/from:ro" -v "$2:/to" --entrypoint sh "$DB_IMAGE" \
    -c 'find /to -mindepth 1 -delete && cp -a /from/. /to/ && sync'
}

declare -A size_of rows_of threads_of vars_of tps_of ratio_of
for sc in $SCENARIOS; do
  case $sc in
    main) rows_of[$sc]=$TABLE_SIZE threads_of[$sc]=$THREADS ;;
    sizing) rows_of[$sc]=$TABLE_SIZE2 threads_of[$sc]=$THREADS2 ;;
    *) echo "mariadb_tuning.sh: unknown scenario $sc (main, sizing)" >&2; exit 2 ;;
  esac
  pristine=$id-$sc-pristine
  phase "$sc: preparing $TABLES tables x ${rows_of[$sc]} rows into volume $pristine (stock config)"
  docker volume create "$pristine" >/dev/null
  s=$(start_db "$pristine" stock)
  phase "$sc: server initialised and up in $s s"
  sql 'CREATE DATABASE sbtest'
  start=$SECONDS
  # shellcheck disable=SC2046
  sysbench_run prep oltp_read_write $(sb_args "$TABLES" "${rows_of[$sc]}") prepare >"$out/$sc-prepare.log"
  sql "ANALYZE TABLE $(seq -s, -f 'sbtest.sbtest%g' "$TABLES")" >/dev/null  # fresh statistics for the size below
  size_of[$sc]=$(sql "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.TABLES WHERE table_schema = 'sbtest'")
  disk=$(docker exec "$db" du -sm /var/lib/mysql/sbtest | cut -f1)
  phase "$sc: sysbench prepare took $((SECONDS - start)) s, data set ${size_of[$sc]} MB (data + indexes), $disk MB of .ibd files"
  start=$SECONDS
  stop_db clean
  phase "$sc: clean shutdown took $((SECONDS - start)) s"
done

docker volume create "$work" >/dev/null
for sc in $SCENARIOS; do
  for r in $(seq "$ROUNDS"); do
    for wl in $WORKLOADS; do
      for cfg in stock tuned; do
        start=$SECONDS
        copy_volume "$id-$sc-pristine" "$work"
        cp_s=$((SECONDS - start))
        s=$(start_db "$work" "$cfg")
        if [ -z "${vars_of[$cfg]:-}" ]; then
          vars_of[$cfg]=$(sql "SELECT CONCAT(LOWER(variable_name), '=', variable_value) FROM information_schema.GLOBAL_VARIABLES WHERE variable_name IN
            ('innodb_buffer_pool_size', 'innodb_log_file_size', 'innodb_flush_method', 'innodb_io_capacity', 'max_connections',
             'tmp_table_size', 'max_heap_table_size', 'character_set_server', 'collation_server') ORDER BY 1" | tr '\n' ' ')
          phase "effective $cfg settings: ${vars_of[$cfg]}"
        fi
        if [ "$WARMUP" -gt 0 ]; then
          # shellcheck disable=SC2046
          sysbench_run warm oltp_point_select $(sb_args "${threads_of[$sc]}" "${rows_of[$sc]}") --time="$WARMUP" run >/dev/null
        fi
        log=$out/$sc-$wl-$cfg-$r.log
        # shellcheck disable=SC2046
        sysbench_run run "$wl" $(sb_args "${threads_of[$sc]}" "${rows_of[$sc]}") --time="$TIME" run >"$log"
        tps=$(sed -n 's/^ *transactions: *[0-9]* *(\([0-9.]*\) per sec.)/\1/p' "$log")
        [ -n "$tps" ] || { cat "$log" >&2; echo "mariadb_tuning.sh: no tps in $log" >&2; exit 1; }
        stop_db kill
        tps_of[$sc/$wl/$cfg]="${tps_of[$sc/$wl/$cfg]:-} $tps"
        # a round's ratio pairs runs made minutes apart, which cancels slow drifts of the machine between rounds
        if [ "$cfg" = stock ]; then stock_tps=$tps; else
          ratio_of[$sc/$wl]="${ratio_of[$sc/$wl]:-} $(awk "BEGIN { printf \"%.3f\", $tps / $stock_tps }")"; fi
        phase "$sc round $r $wl $cfg: $tps tps (restore ${cp_s} s, startup ${s} s, warm-up ${WARMUP} s, run ${TIME} s)"
      done
    done
  done
done

flush_method=$(sed -n 's/.*innodb_flush_method=\([^ ]*\).*/\1/p' <<<"${vars_of[stock]}")
env_line="MEM=$MEM CPUS=$CPUS ROUNDS=$ROUNDS TIME=$TIME WARMUP=$WARMUP TABLES=$TABLES RAND_TYPE=$RAND_TYPE"
{
  echo
  echo "MariaDB stock vs tuned ($(basename "$cnf")), $DB_IMAGE, container --memory $MEM --cpus $CPUS, sysbench 1.0.20, $ROUNDS round(s)"
  printf '%-7s %-16s %8s %8s %10s %10s %7s  %s\n' scenario workload data_MB threads stock_tps tuned_tps ratio \
    "per round: stock | tuned | ratio"
  for sc in $SCENARIOS; do
    for wl in $WORKLOADS; do
      st=$(median <<<"${tps_of[$sc/$wl/stock]}") tu=$(median <<<"${tps_of[$sc/$wl/tuned]}")
      printf '%-7s %-16s %8s %8s %10.2f %10.2f %7.2f  %s |%s |%s\n' "$sc" "$wl" "${size_of[$sc]}" "${threads_of[$sc]}" "$st" "$tu" \
        "$(median <<<"${ratio_of[$sc/$wl]}")" "${tps_of[$sc/$wl/stock]# }" "${tps_of[$sc/$wl/tuned]}" "${ratio_of[$sc/$wl]}"
    done
  done
  echo "(tps: median over rounds; ratio: median over rounds of tuned/stock, each round's tuned run against its stock run)"
  echo
  echo "Reproduce one row (from the repository root):"
  for sc in $SCENARIOS; do
    if [ "$sc" = main ]; then sz="THREADS=$THREADS TABLE_SIZE=$TABLE_SIZE"; else sz="THREADS2=$THREADS2 TABLE_SIZE2=$TABLE_SIZE2"; fi
    for wl in $WORKLOADS; do
      echo "  SCENARIOS=$sc WORKLOADS=$wl $env_line $sz benchmarks/mariadb_tuning.sh $cnf_given"
    done
  done
  echo "  which runs, per config: sysbench <workload> $(sb_args "<threads>" "<table_size>") --time=$TIME --mysql-password=... run"
  echo
  echo "Effective settings: stock: ${vars_of[stock]}"
  echo "                    tuned: ${vars_of[tuned]}"
  echo "Caveat: the host's page cache is not flushed between runs (no privileges). Stock uses innodb_flush_method=$flush_method:"
  if [ "$flush_method" = O_DIRECT ]; then
    echo "  its buffer-pool misses bypass this kernel's page cache and read the disk, which may itself be cached below us (a VM host)."
    echo "  Any such cache helps the stock config, which misses far more often; on a cold disk the gap would be wider."
  else
    echo "  its buffer-pool misses are served from the page cache (the data set fits in RAM), which helps the stock config."
  fi
} | tee "$out/table.txt"
phase "done; raw sysbench logs in ${out#"$root"/}"
