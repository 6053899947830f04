#!/usr/bin/env bash
# Backup and restore of a MariaDB 10.11 database of BENCH_DB_GB GiB (InnoDB, Frappe-like tables): Frappe's native
# path (mariadb-dump | gzip, gunzip | mariadb) against the physical one (mariadb-backup), and the bytes a second
# backup adds to a restic repository after a realistic day, for three backup strategies.
# Not a test: it prints figures, it judges none (it exits 1 only if a restored copy differs from its source, because
# then the figures would mean nothing).
#
# usage: benchmarks/backup_restore.sh
# env:   BENCH_DB_GB=2 (.ibd bytes of the generated database, GiB, decimals allowed: 0.2 for a smoke run)
#        MEM=2g CPUS=<nproc> (limits of every measured server; its drop-in is the one the erpnext role renders for MEM)
#        DAY_NEW_PCT=1 (new rows in the "day", % of the rows) DAY_UPDATE_PCT=0.1 (rows updated, scattered at random)
#        GEN_MEM=6g GEN_CHUNK=400000 (generation server's memory, tabGL Entry rows per INSERT ... SELECT)
#        NAMES=hash (rows named by a 10-character hash, as Frappe's autoname "hash" does: new rows land all over the
#        primary key) or NAMES=series (names in insertion order, as a naming series or autoincrement: new rows append)
#
# Data: `tabGL Entry` (Frappe's columns and indexes: varchar, text, decimal(21,9), datetime(6), date) and
# `tabVersion` (Frappe's change log: indented JSON in a longtext), 4:1 in rows, named as NAMES says, generated with
# INSERT ... SELECT from the Sequence engine by a server with a large buffer pool, which is then shut down cleanly.
#
# A. Backup and restore times, one run, same source:
#    native  backup:  mariadb-dump --single-transaction --quick --lock-tables=false --routines DB | gzip  (Frappe's)
#            restore: gunzip -c | mariadb DB into an empty, already running server (its initialisation not counted)
#    fast    backup:  mariadb-backup --backup --target-dir=DIR (a plain directory)
#            restore: mariadb-backup --prepare, --copy-back into an empty volume, start a server on it until it answers
#    Each restored copy is compared with the source (row counts, sums, CHECKSUM TABLE).
# B. Offsite bytes: restic 0.14 (repository v2, compression auto) into local repositories, one per strategy. Day 0:
#    back up; then a day of changes (DAY_NEW_PCT % new rows, DAY_UPDATE_PCT % of the rows updated at random); day 1:
#    back up again. Figure: day 1's `data_added` (new deduplicated data, before restic's compression) as a fraction
#    of day 0's, and the same for the repository's growth on disk (after compression). Strategies: the gzipped dump;
#    a full mariadb-backup directory each day; a full on day 0 and `--incremental-basedir=<full>` on day 1. The
#    incremental chain is then restored (--prepare on the full, --prepare --incremental-dir) and compared with the
#    source after the day.
# C. Point in time: the source writes the role's binary log (row events, sync_binlog = 1). The day's binary logs go
#    to a fourth repository (a copy of the full one after day 0): the offsite bytes of a day of binary logs, alone and
#    over a week with a weekly full. The day-0 physical restore then replays them (mariadb-binlog | mariadb, on a
#    server that writes its own binary log as the bench's does) and is compared with the source after the day: the
#    replay speed, and its exactness.
# The host's page cache is not dropped (no privileges): see the note printed under the tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=benchmarks/lib.sh
. "$root/benchmarks/lib.sh"
BENCH_DB_GB=${BENCH_DB_GB:-2} MEM=${MEM:-2g} CPUS=${CPUS:-$(nproc)} DAY_NEW_PCT=${DAY_NEW_PCT:-1}
DAY_UPDATE_PCT=${DAY_UPDATE_PCT:-0.1} GEN_MEM=${GEN_MEM:-6g} GEN_CHUNK=${GEN_CHUNK:-400000} NAMES=${NAMES:-hash}
DB_IMAGE=${DB_IMAGE:-erpstack-test/mariadb:10.11} RESTIC_IMAGE=${RESTIC_IMAGE:-erpstack-test/restic:0.14}
db=_bench_backup
case $NAMES in hash|series) ;; *) echo "backup_restore.sh: NAMES=hash or NAMES=series" >&2; exit 2 ;; esac

id=bench-backup-$$
net=$id-net pw=bench-$$
out=$root/benchmarks/results/backup_restore-$(date +%Y%m%dT%H%M%S)
mkdir -p "$out"
cnf=$out/erpstack.cnf gen_cnf=$out/generate.cnf
"$root/.venv/bin/python" "$root/benchmarks/render_cnf.py" "$MEM" >"$cnf"
binlog_cnf=$out/binlog.cnf
"$root/.venv/bin/python" "$root/benchmarks/render_cnf.py" --binlog >"$binlog_cnf"
binlog_args=(-v "$binlog_cnf:/etc/mysql/mariadb.conf.d/99-zz-binlog.cnf:ro")
# generation only: everything in memory, no durability; the measured servers never see this file
printf '%s\n' '[mariadbd]' 'innodb_buffer_pool_size = 4G' 'innodb_log_file_size = 1G' 'innodb_flush_log_at_trx_commit = 0' \
  'innodb_doublewrite = 0' >"$gen_cnf"

cleanup_on_exit "$id" "$net"

require_images backup_restore.sh "$DB_IMAGE" "$RESTIC_IMAGE"
target=$(awk -v g="$BENCH_DB_GB" 'BEGIN { printf "%.0f", g * 1073741824 }')

t0=$SECONDS others_max=0 load_max=0
phase() {  # also the host's load and how many containers not ours run (concurrent Molecule runs skew the figures)
  local load others
  read -r load _ </proc/loadavg
  others=$(docker ps --format '{{.Names}}' | grep -vc "^$id-" || true)
  [ "$others" -le "$others_max" ] || others_max=$others
  load_max=$(awk -v a="$load" -v b="$load_max" 'BEGIN { print (a > b ? a : b) }')
  printf '[%5d s, load %5s, %d other containers] %s\n' "$((SECONDS - t0))" "$load" "$others" "$*" | tee -a "$out/phases.log" >&2
}
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }

docker network create "$net" >/dev/null

start_db() {  # name volume memory [extra docker run args...]: starts a server, waits until it answers over TCP, prints seconds
  local name=$1 vol=$2 mem=$3 start; shift 3
  start=$(now)
  docker run -d --name "$name" --network "$net" --memory "$mem" --memory-swap "$mem" --cpus "$CPUS" \
    -e MARIADB_ROOT_PASSWORD="$pw" -v "$vol:/var/lib/mysql" -v "$cnf:/etc/mysql/mariadb.conf.d/99-erpstack.cnf:ro" "$@" \
    "$DB_IMAGE" >/dev/null
  for _ in $(seq 3000); do
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
    # TCP: the entrypoint's first-start init server listens on the socket only, so this waits it out
    if docker exec "$name" mariadb -h 127.0.0.1 -uroot -p"$pw" -N -e \
      "SELECT 1 FROM information_schema.ENGINES WHERE engine='InnoDB' AND support IN ('YES','DEFAULT')" 2>/dev/null | grep -q 1; then
      since "$start"; echo; return 0
    fi
    sleep 0.2
  done
  docker logs --tail 30 "$name" >&2; echo "backup_restore.sh: server $name did not start" >&2; return 1
}

stop_db() {  # name: clean shutdown, reports an OOM kill
  local oom
  docker stop -t 600 "$1" >/dev/null
  oom=$(docker inspect -f '{{.State.OOMKilled}}' "$1")
  docker rm -f "$1" >/dev/null
  [ "$oom" = false ] || { echo "backup_restore.sh: $1 was OOM-killed" >&2; return 1; }
}

sql() { docker exec -i "$1" mariadb -uroot -p"$pw" -N -B "$db" "${@:2}"; }

# Every timed step ends with the files it wrote fsync'd (`sync FILE...`): buffered writes alone would time this host's
# page cache (24 GiB), not the disk.
run_timed() {  # log image script [docker run args...]: runs script (bash) in a throw-away container; prints the script's own seconds
  local log=$1 image=$2 script=$3; shift 3
  docker run --rm --name "$id-tool" --network "$net" "$@" --entrypoint bash "$image" -c \
    "set -euo pipefail; t=\$(date +%s%N); $script; echo \"elapsed_ms \$(( (\$(date +%s%N) - t) / 1000000 ))\"" >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; echo "backup_restore.sh: failed, see $log" >&2; return 1; }
  awk '/^elapsed_ms / { printf "%.1f\n", $2 / 1000 }' "$log"
}

du_b() {  # volume path-inside: bytes
  docker run --rm --name "$id-du" -v "$1:/v:ro" --entrypoint du "$DB_IMAGE" -sb "/v/$2" | cut -f1
}

fingerprint() {  # server: one line that two identical copies of the data share (rows, sums, CHECKSUM TABLE)
  sql "$1" <<'SQL' | tr '\t\n' ' ;'
SELECT 'gl', COUNT(*), SUM(debit), SUM(credit), SUM(is_cancelled), MAX(modified) FROM `tabGL Entry`;
SELECT 'version', COUNT(*), SUM(CRC32(data)), MAX(modified) FROM `tabVersion`;
CHECKSUM TABLE `tabGL Entry`, `tabVersion`;
SQL
}

name_expr() {  # sequence number, multiplier -> the row's name, 10 characters
  case $NAMES in
    hash) echo "LOWER(LPAD(HEX(($1) * $2 % 1099511627776), 10, '0'))" ;;  # a bijection of the number: odd multiplier mod 2^40
    series) echo "LPAD($1, 10, '0')" ;;  # in insertion order, as a naming series or autoincrement names them
  esac
}
gl_mult=2654435761 ver_mult=2246822519

gl_sql() {  # first last: INSERT ... SELECT of tabGL Entry rows number first..last
  cat <<SQL
INSERT INTO \`tabGL Entry\` (name, creation, modified, modified_by, owner, docstatus, idx, posting_date, transaction_date,
  account, party_type, party, cost_center, debit, credit, account_currency, debit_in_account_currency,
  credit_in_account_currency, against, against_voucher_type, against_voucher, voucher_type, voucher_no, remarks,
  is_opening, fiscal_year, company, is_cancelled)
SELECT $(name_expr n $gl_mult), ts, ts + INTERVAL h % 600 SECOND, usr, usr, 1, 0,
  DATE(ts), DATE(ts), acc, pt, party, 'Main - ESC', IF(n % 2 = 0, amt, 0), IF(n % 2 = 1, amt, 0), 'EUR',
  IF(n % 2 = 0, amt, 0), IF(n % 2 = 1, amt, 0), IFNULL(party, acc), vt, vno, vt, vno,
  CONCAT('Against ', vt, ' ', vno, IF(party IS NULL, '', CONCAT(' for ', party)), ', reference ', LEFT(MD5(n), 12)),
  'No', YEAR(ts), 'Example Systems Co', 0
FROM (SELECT n, ts, h, usr, acc, pt, amt, vt,
        IF(pt IS NULL, NULL, CONCAT(IF(pt = 'Customer', 'CUST-', 'SUPP-'), LPAD(h % 4000, 5, '0'))) AS party,
        CONCAT(ELT(1 + (n DIV 4) % 5, 'ACC-SINV-', 'ACC-PINV-', 'ACC-PAY-', 'ACC-JV-', 'MAT-STE-'), YEAR(ts), '-',
          LPAD(n DIV 4, 7, '0')) AS vno
      FROM (SELECT seq AS n, CRC32(seq) AS h,
              TIMESTAMP'2023-01-02 08:00:00' + INTERVAL seq * 37 SECOND + INTERVAL seq * 7919 % 1000000 MICROSECOND AS ts,
              ELT(1 + CRC32(seq) % 6, 'Administrator', 'accounts@example.com', 'sales@example.com', 'purchase@example.com',
                'stock@example.com', 'hr@example.com') AS usr,
              ELT(1 + seq % 12, 'Debtors - ESC', 'Creditors - ESC', 'Sales - ESC', 'Cost of Goods Sold - ESC',
                'Stock In Hand - ESC', 'Cash - ESC', 'Bank Account - ESC', 'VAT 20% - ESC',
                'Freight and Forwarding Charges - ESC', 'Round Off - ESC', 'Stock Received But Not Billed - ESC',
                'Write Off - ESC') AS acc,
              ELT(1 + seq % 5, 'Customer', NULL, 'Supplier', NULL, NULL) AS pt,
              ROUND(CRC32(seq) % 5000000 / 100, 2) AS amt,
              ELT(1 + (seq DIV 4) % 5, 'Sales Invoice', 'Purchase Invoice', 'Payment Entry', 'Journal Entry',
                'Stock Entry') AS vt
            FROM seq_$1_to_$2) s1) s2;
SQL
}

version_item() {  # index: one "row_changed" entry of a Version document, as Frappe's as_json (indent=1) writes it
  local i=$1
  # shellcheck disable=SC2028  # the \n are for SQL, which turns them into newlines
  echo "CONCAT('\n  [\n   \"items\",\n   $i,\n   \"', SUBSTR(m, $((1 + 7 * i)), 10), '\",\n   [\n    [\n     \"qty\",\n     ',
    h % $((11 + i)), '.0,\n     ', h % $((14 + i)) + 1, '.0\n    ],\n    [\n     \"amount\",\n     ',
    ROUND(h % $((99991 - i)) / 7, 2), ',\n     ', ROUND(h % $((99989 - i)) / 3, 2), '\n    ]\n   ]\n  ]')"
}

version_sql() {  # first last: INSERT ... SELECT of tabVersion rows number first..last (about 750 bytes of JSON each)
  cat <<SQL
INSERT INTO \`tabVersion\` (name, creation, modified, modified_by, owner, docstatus, idx, ref_doctype, docname, data)
SELECT $(name_expr n $ver_mult), ts, ts, usr, usr, 0, 0, dt, dn,
  CONCAT('{\n "added": [],\n "changed": [\n  [\n   "status",\n   "Draft",\n   "', st, '"\n  ],\n  [\n   "grand_total",\n   ',
    amt, ',\n   ', amt2, '\n  ],\n  [\n   "outstanding_amount",\n   ', amt2, ',\n   0.0\n  ],\n  [\n   "modified",\n   "',
    ts, '",\n   "', ts + INTERVAL h % 86400 SECOND, '"\n  ]\n ],\n "data_import": null,\n "removed": [],\n "row_changed": [',
    CONCAT_WS(',', $(version_item 0), IF(h % 4 > 0, $(version_item 1), NULL),
      IF(h % 4 > 1, $(version_item 2), NULL), IF(h % 4 > 2, $(version_item 3), NULL)),
    '\n ],\n "updated_by": "', usr, '"\n}')
FROM (SELECT seq AS n, CRC32(seq) AS h, MD5(seq) AS m,
        TIMESTAMP'2023-01-02 08:00:00' + INTERVAL seq * 148 SECOND + INTERVAL seq * 7919 % 1000000 MICROSECOND AS ts,
        ELT(1 + CRC32(seq) % 6, 'Administrator', 'accounts@example.com', 'sales@example.com', 'purchase@example.com',
          'stock@example.com', 'hr@example.com') AS usr,
        ELT(1 + seq % 4, 'Sales Invoice', 'Purchase Invoice', 'Sales Order', 'Delivery Note') AS dt,
        CONCAT(ELT(1 + seq % 4, 'ACC-SINV-', 'ACC-PINV-', 'SAL-ORD-', 'MAT-DN-'), '2024-', LPAD(seq DIV 3, 7, '0')) AS dn,
        ELT(1 + seq % 3, 'Submitted', 'Paid', 'Unpaid') AS st,
        ROUND(CRC32(seq) % 5000000 / 100, 2) AS amt, ROUND(CRC32(seq + 1) % 5000000 / 100, 2) AS amt2
      FROM seq_$1_to_$2) s;
SQL
}

update_sql() {  # table rows_in_table how_many set-clause: updates how_many rows picked at random (fixed seed) all over the table
  local mult=$gl_mult; [ "$1" = tabVersion ] && mult=$ver_mult
  cat <<SQL
UPDATE \`$1\` t JOIN (SELECT DISTINCT $(name_expr "FLOOR(1 + RAND(20261125) * $2)" $mult) AS nm FROM seq_1_to_$3) r
  ON t.name = r.nm SET $4;
SELECT ROW_COUNT();
SQL
}

# ---------------------------------------------------------------------------------------------------------- generate
src=$id-src
docker volume create "$src" >/dev/null
s=$(start_db "$src" "$src" "$GEN_MEM" -v "$gen_cnf:/etc/mysql/mariadb.conf.d/99-zz-generate.cnf:ro")
phase "generation server up in $s s (buffer pool 4G, no durability); generating $BENCH_DB_GB GiB of .ibd"
docker exec -i "$src" mariadb -uroot -p"$pw" <<SQL
CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE \`$db\`;
CREATE TABLE \`tabGL Entry\` (
  \`name\` varchar(140) NOT NULL, \`creation\` datetime(6) DEFAULT NULL, \`modified\` datetime(6) DEFAULT NULL,
  \`modified_by\` varchar(140) DEFAULT NULL, \`owner\` varchar(140) DEFAULT NULL, \`docstatus\` int(1) NOT NULL DEFAULT 0,
  \`idx\` int(8) NOT NULL DEFAULT 0, \`posting_date\` date DEFAULT NULL, \`transaction_date\` date DEFAULT NULL,
  \`account\` varchar(140) DEFAULT NULL, \`party_type\` varchar(140) DEFAULT NULL, \`party\` varchar(140) DEFAULT NULL,
  \`cost_center\` varchar(140) DEFAULT NULL, \`debit\` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  \`credit\` decimal(21,9) NOT NULL DEFAULT 0.000000000, \`account_currency\` varchar(140) DEFAULT NULL,
  \`debit_in_account_currency\` decimal(21,9) NOT NULL DEFAULT 0.000000000,
  \`credit_in_account_currency\` decimal(21,9) NOT NULL DEFAULT 0.000000000, \`against\` text DEFAULT NULL,
  \`against_voucher_type\` varchar(140) DEFAULT NULL, \`against_voucher\` varchar(140) DEFAULT NULL,
  \`voucher_type\` varchar(140) DEFAULT NULL, \`voucher_no\` varchar(140) DEFAULT NULL, \`remarks\` text DEFAULT NULL,
  \`is_opening\` varchar(140) DEFAULT 'No', \`fiscal_year\` varchar(140) DEFAULT NULL, \`company\` varchar(140) DEFAULT NULL,
  \`is_cancelled\` int(1) NOT NULL DEFAULT 0,
  PRIMARY KEY (\`name\`), KEY \`modified\` (\`modified\`), KEY \`posting_date\` (\`posting_date\`), KEY \`account\` (\`account\`),
  KEY \`party\` (\`party\`), KEY \`against_voucher\` (\`against_voucher\`),
  KEY \`voucher_type_voucher_no\` (\`voucher_type\`, \`voucher_no\`)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
CREATE TABLE \`tabVersion\` (
  \`name\` varchar(140) NOT NULL, \`creation\` datetime(6) DEFAULT NULL, \`modified\` datetime(6) DEFAULT NULL,
  \`modified_by\` varchar(140) DEFAULT NULL, \`owner\` varchar(140) DEFAULT NULL, \`docstatus\` int(1) NOT NULL DEFAULT 0,
  \`idx\` int(8) NOT NULL DEFAULT 0, \`ref_doctype\` varchar(140) DEFAULT NULL, \`docname\` varchar(140) DEFAULT NULL,
  \`data\` longtext DEFAULT NULL, \`table_html\` longtext DEFAULT NULL,
  PRIMARY KEY (\`name\`), KEY \`modified\` (\`modified\`), KEY \`ref_doctype_docname\` (\`ref_doctype\`, \`docname\`)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
-- the account mariadb-backup uses: the privileges 10.11 needs for --backup (BINLOG MONITOR replaced REPLICATION CLIENT)
CREATE USER 'bench_backup'@'%' IDENTIFIED BY '$pw';
GRANT RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR ON *.* TO 'bench_backup'@'%';
SQL
start=$SECONDS gl_n=0 ver_n=0 size=0
while [ "$size" -lt "$target" ]; do
  if [ "$gl_n" -eq 0 ]; then step=$((GEN_CHUNK / 4)); else
    # rows still needed at the bytes per row so far, plus 3 %, in chunks of at most GEN_CHUNK
    step=$(awk -v t="$target" -v s="$size" -v n="$gl_n" -v c="$GEN_CHUNK" \
      'BEGIN { r = int((t - s) / (s / n) * 1.03) + 1000; if (r > c) r = c; print r }')
  fi
  half=$((step / 2)) vstep=$((step / 4))
  # two sessions for two cores: half the ledger rows each, one of them the Version rows too
  gl_sql $((gl_n + 1)) $((gl_n + half)) | sql "$src" & p1=$!
  { gl_sql $((gl_n + half + 1)) $((gl_n + step)); version_sql $((ver_n + 1)) $((ver_n + vstep)); } | sql "$src" & p2=$!
  wait "$p1"; wait "$p2"
  gl_n=$((gl_n + step)) ver_n=$((ver_n + vstep))
  size=$(docker exec "$src" du -sb "/var/lib/mysql/$db" | cut -f1)
done
sql "$src" -e "ANALYZE TABLE \`tabGL Entry\`, \`tabVersion\`" >/dev/null
gen_s=$((SECONDS - start))
phase "generated $gl_n tabGL Entry + $ver_n tabVersion rows, $(mb "$size") MiB of .ibd in $gen_s s; clean shutdown"
stop_db "$src"

# ---------------------------------------------------------------------------------------------------------- A: backups
s=$(start_db "$src" "$src" "$MEM" "${binlog_args[@]}")
r=$(sql "$src" -e "SELECT ROUND(SUM(data_length) / 1048576), ROUND(SUM(index_length) / 1048576)
  FROM information_schema.TABLES WHERE table_schema = '$db'")
read -r data_mb index_mb <<<"$r"
src_ibd=$(docker exec "$src" du -sb "/var/lib/mysql/$db" | cut -f1)
src_datadir=$(docker exec "$src" du -sb /var/lib/mysql | cut -f1)
phase "source up with the role's drop-in for $MEM in $s s: $(mb "$src_ibd") MiB of .ibd ($data_mb MiB data +" \
  "$index_mb MiB indexes), datadir $(mb "$src_datadir") MiB"
fp0=$(fingerprint "$src")
echo "$fp0" >"$out/fingerprint-day0.txt"

dumps=$id-dumps phys=$id-phys repos=$id-restic
docker volume create "$dumps" >/dev/null; docker volume create "$phys" >/dev/null; docker volume create "$repos" >/dev/null
dump_cmd="mariadb-dump --single-transaction --quick --lock-tables=false --routines -h $src -uroot -p$pw $db | gzip"
native_backup_s=$(run_timed "$out/native-backup-day0.log" "$DB_IMAGE" "$dump_cmd >/dumps/day0-database.sql.gz; sync /dumps/day0-database.sql.gz" -v "$dumps:/dumps")
dump0=$(du_b "$dumps" day0-database.sql.gz)
phase "native backup (mariadb-dump | gzip): $native_backup_s s, $(mb "$dump0") MiB"

mbk_args=(-v "$src:/var/lib/mysql" -v "$phys:/backup" -v "$cnf:/etc/mysql/mariadb.conf.d/99-erpstack.cnf:ro")
mbk_conn="--host=$src --user=bench_backup --password=$pw"
fast_backup_s=$(run_timed "$out/fast-backup-day0.log" "$DB_IMAGE" "mariadb-backup --backup --target-dir=/backup/full0 $mbk_conn; find /backup/full0 -type f -exec sync {} +" \
  "${mbk_args[@]}")
full0=$(du_b "$phys" full0)
phase "fast backup (mariadb-backup --backup, directory): $fast_backup_s s, $(mb "$full0") MiB"

# ---------------------------------------------------------------------------------------------------------- B: day 0
restic_backup() {  # repo path: "data_added repo_growth seconds bytes_processed" of one `restic backup`
  docker run --rm --name "$id-restic" -e RESTIC_PASSWORD="$pw" -v "$repos:/repos" -v "$dumps:/dumps:ro" -v "$phys:/backup:ro" \
    --entrypoint bash "$RESTIC_IMAGE" -c '
      set -euo pipefail
      repo=/repos/$1
      [ -f "$repo/config" ] || restic init --repo "$repo" >/dev/null
      before=$(du -sb "$repo" | cut -f1)
      summary=$(restic --repo "$repo" --no-cache backup --host bench --json "$2" | grep "\"message_type\":\"summary\"")
      after=$(du -sb "$repo" | cut -f1)
      field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$summary"; }
      printf "%s %s %.1f %s\n" "$(field data_added)" $((after - before)) "$(field total_duration)" "$(field total_bytes_processed)"' _ "$1" "$2"
}
declare -A added_of growth_of took_of fetch_of
for spec in native:/dumps/day0-database.sql.gz full:/backup/full0; do
  r=$(restic_backup "${spec%%:*}" "${spec#*:}"); read -r a g d _ <<<"$r"
  added_of[${spec%%:*}/0]=$a growth_of[${spec%%:*}/0]=$g took_of[${spec%%:*}/0]=$d
  phase "restic day 0, ${spec%%:*}: data_added $(mb "$a") MiB, repository +$(mb "$g") MiB, $d s"
done
# the incremental strategy starts from the same full backup: its repository is a copy of the full one after day 0
docker run --rm --name "$id-restic" -v "$repos:/repos" --entrypoint cp "$RESTIC_IMAGE" -a /repos/full /repos/incr
added_of[incr/0]=${added_of[full/0]} growth_of[incr/0]=${growth_of[full/0]} took_of[incr/0]=${took_of[full/0]}

# ---------------------------------------------------------------------------------------------------------- A: native restore
native=$id-native
docker volume create "$native" >/dev/null
s=$(start_db "$native" "$native" "$MEM")
docker exec "$native" mariadb -uroot -p"$pw" -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
phase "empty server for the native restore initialised and up in $s s (not counted)"
native_restore_s=$(run_timed "$out/native-restore.log" "$DB_IMAGE" \
  "gunzip -c /dumps/day0-database.sql.gz | mariadb -h $native -uroot -p$pw $db" -v "$dumps:/dumps:ro")
fp_native=$(fingerprint "$native")
native_ibd=$(docker exec "$native" du -sb "/var/lib/mysql/$db" | cut -f1)
phase "native restore (gunzip | mariadb): $native_restore_s s, $(mb "$native_ibd") MiB of .ibd after the import"
sql0=$(docker run --rm --name "$id-tool" -v "$dumps:/dumps:ro" --entrypoint bash "$DB_IMAGE" -c 'gunzip -c /dumps/day0-database.sql.gz | wc -c')
stop_db "$native"; docker volume rm "$native" >/dev/null

# ---------------------------------------------------------------------------------------------------------- B: the day, day 1
pct() { awk -v n="$1" -v p="$2" 'BEGIN { r = int(n * p / 100); if (r < 1) r = 1; print r }'; }  # at least one row
gl_new=$(pct "$gl_n" "$DAY_NEW_PCT") ver_new=$(pct "$ver_n" "$DAY_NEW_PCT")
gl_upd=$(pct "$gl_n" "$DAY_UPDATE_PCT") ver_upd=$(pct "$ver_n" "$DAY_UPDATE_PCT")
# the day's changes start a binary log of their own: replayed on the day-0 restore, they make the day-1 state
day_binlog=$(sql "$src" -e "FLUSH BINARY LOGS; SHOW MASTER STATUS" | cut -f1)
start=$(now)
{ gl_sql $((gl_n + 1)) $((gl_n + gl_new)); version_sql $((ver_n + 1)) $((ver_n + ver_new)); } | sql "$src"
# updates: a cancellation of ledger rows, a touched Version row; rows picked at random over the whole table
gl_updated=$(update_sql "tabGL Entry" "$gl_n" "$gl_upd" "t.modified = TIMESTAMP'2026-06-01 12:00:00', t.modified_by = 'accounts@example.com',
  t.docstatus = 2, t.is_cancelled = 1, t.remarks = CONCAT(t.remarks, ' (cancelled)')" | sql "$src")
ver_updated=$(update_sql tabVersion "$ver_n" "$ver_upd" "t.modified = TIMESTAMP'2026-06-01 12:00:00', t.modified_by = 'Administrator',
  t.docstatus = 1" | sql "$src")
phase "the day: +$gl_new tabGL Entry and +$ver_new tabVersion rows, $gl_updated and $ver_updated rows updated at random ($(since "$start") s)"
# A day later the server has long written those pages back to the .ibd files. Right after the changes they sit dirty in
# the buffer pool and a backup would find them only in the redo log, so both a full and an incremental backup would
# look far smaller than after a real day: flush them now (and let purge finish), then restore the setting.
start=$(now)
sql "$src" -e "SET GLOBAL innodb_max_dirty_pages_pct_lwm = 0, GLOBAL innodb_max_dirty_pages_pct = 0"
for _ in $(seq 1200); do
  r=$(sql "$src" -e "SELECT variable_value FROM information_schema.GLOBAL_STATUS WHERE variable_name = 'INNODB_BUFFER_POOL_PAGES_DIRTY';
    SELECT variable_value FROM information_schema.GLOBAL_STATUS WHERE variable_name = 'INNODB_HISTORY_LIST_LENGTH'" | tr '\n' ' ')
  read -r dirty history <<<"$r"
  [ "$dirty" -gt 0 ] || [ "$history" -gt 0 ] || break
  sleep 0.5
done
sql "$src" -e "SET GLOBAL innodb_max_dirty_pages_pct = DEFAULT, GLOBAL innodb_max_dirty_pages_pct_lwm = DEFAULT"
phase "dirty pages written back and purge done in $(since "$start") s (left: $dirty dirty pages, history length $history)"
fp1=$(fingerprint "$src")
echo "$fp1" >"$out/fingerprint-day1.txt"
# close the day's binary logs and copy them off the server, as the shipping does
sql "$src" -e "FLUSH BINARY LOGS"
day_logs=$(sql "$src" -e "SHOW BINARY LOGS" | cut -f1 | awk -v f="$day_binlog" '$0 >= f' | sed '$d' | tr '\n' ' ')
docker run --rm --name "$id-cp" -v "$src:/var/lib/mysql:ro" -v "$phys:/backup" --entrypoint bash "$DB_IMAGE" -c \
  'mkdir -p /backup/binlog1 && cd /var/lib/mysql && cp $1 /backup/binlog1/ && sync /backup/binlog1/*' _ "$day_logs"
binlog1=$(du_b "$phys" binlog1)
phase "the day's binary logs: $day_logs($(mb "$binlog1") MiB)"

native_backup1_s=$(run_timed "$out/native-backup-day1.log" "$DB_IMAGE" "$dump_cmd >/dumps/day1-database.sql.gz; sync /dumps/day1-database.sql.gz" -v "$dumps:/dumps")
full1_s=$(run_timed "$out/fast-backup-day1.log" "$DB_IMAGE" "mariadb-backup --backup --target-dir=/backup/full1 $mbk_conn; find /backup/full1 -type f -exec sync {} +" \
  "${mbk_args[@]}")
inc1_s=$(run_timed "$out/incremental-backup-day1.log" "$DB_IMAGE" \
  "mariadb-backup --backup --target-dir=/backup/inc1 --incremental-basedir=/backup/full0 $mbk_conn; find /backup/inc1 -type f -exec sync {} +" "${mbk_args[@]}")
dump1=$(du_b "$dumps" day1-database.sql.gz) full1=$(du_b "$phys" full1) inc1=$(du_b "$phys" inc1)
docker run --rm --name "$id-du" -v "$phys:/backup:ro" --entrypoint sh "$DB_IMAGE" -c \
  'cd /backup && du -ab full1 inc1 | sort -k2' >"$out/day1-backup-files.txt"
phase "day 1 backups: dump $native_backup1_s s $(mb "$dump1") MiB, full $full1_s s $(mb "$full1") MiB, incremental $inc1_s s $(mb "$inc1") MiB"
docker run --rm --name "$id-restic" -v "$repos:/repos" --entrypoint cp "$RESTIC_IMAGE" -a /repos/full /repos/binlog
added_of[binlog/0]=${added_of[full/0]} growth_of[binlog/0]=${growth_of[full/0]} took_of[binlog/0]=${took_of[full/0]}
for spec in native:/dumps/day1-database.sql.gz full:/backup/full1 incr:/backup/inc1 binlog:/backup/binlog1; do
  r=$(restic_backup "${spec%%:*}" "${spec#*:}"); read -r a g d _ <<<"$r"
  added_of[${spec%%:*}/1]=$a growth_of[${spec%%:*}/1]=$g took_of[${spec%%:*}/1]=$d
  phase "restic day 1, ${spec%%:*}: data_added $(mb "$a") MiB, repository +$(mb "$g") MiB, $d s"
done
stop_db "$src"  # only the restores below run from here on
# a restore after losing the host starts by fetching the backup: time restic restoring each repository's latest
# snapshot (local repository, so no network) into an empty directory
docker volume create "$id-fetch" >/dev/null
for st in native full; do
  fetch_of[$st]=$(run_timed "$out/restic-restore-$st.log" "$RESTIC_IMAGE" \
    "restic --repo /repos/$st --no-cache restore latest --target /fetch/$st; find /fetch/$st -type f -exec sync {} +" \
    -e RESTIC_PASSWORD="$pw" -v "$repos:/repos" -v "$id-fetch:/fetch")
done
docker volume rm "$id-fetch" >/dev/null
phase "restic restore of the latest snapshot: dump ${fetch_of[native]} s, full directory ${fetch_of[full]} s"

# ---------------------------------------------------------------------------------------------------------- A: fast restore
phys_restore() {  # server-name log-prefix: copy-back of /backup/full0 into a new empty volume, start; sets copy_s start_s
  local name=$1
  docker volume create "$name" >/dev/null
  copy_s=$(run_timed "$out/$2-copy-back.log" "$DB_IMAGE" \
    "mariadb-backup --copy-back --target-dir=/backup/full0 --datadir=/var/lib/mysql; find /var/lib/mysql -type f -exec sync {} +" \
    -v "$name:/var/lib/mysql" -v "$phys:/backup" -v "$cnf:/etc/mysql/mariadb.conf.d/99-erpstack.cnf:ro")
  # copy-back runs as root here and leaves root-owned files: the entrypoint chowns them to mysql before it starts
  # the server (the official image does the same); a server started any other way needs `chown -R mysql:` first.
  # It writes its binary log as the bench's server does (a replay onto it logs every event again).
  start_s=$(start_db "$name" "$name" "$MEM" "${binlog_args[@]}")
}
prep_s=$(run_timed "$out/fast-prepare.log" "$DB_IMAGE" \
  "mariadb-backup --prepare --target-dir=/backup/full0; find /backup/full0 -type f -exec sync {} +" -v "$phys:/backup")
phys_restore "$id-fast" fast
fast_copy_s=$copy_s fast_start_s=$start_s
fast_restore_s=$(awk -v a="$prep_s" -v b="$fast_copy_s" -v c="$fast_start_s" 'BEGIN { printf "%.1f", a + b + c }')
fp_fast=$(fingerprint "$id-fast")
phase "fast restore: prepare $prep_s s + copy-back $fast_copy_s s + start $fast_start_s s = $fast_restore_s s"

# ---------------------------------------------------------------------------------------------------------- C: replay
# the day-0 restore, then the day's binary logs, decoded first (as the restore does) and applied in one session
replay_files=$(for f in $day_logs; do printf '/backup/binlog1/%s ' "$f"; done)
decode_s=$(run_timed "$out/binlog-decode.log" "$DB_IMAGE" "mariadb-binlog $replay_files >/backup/replay.sql; sync /backup/replay.sql" \
  -v "$phys:/backup")
replay_sql=$(du_b "$phys" replay.sql)
replay_s=$(run_timed "$out/binlog-replay.log" "$DB_IMAGE" "mariadb -h $id-fast -uroot -p$pw </backup/replay.sql" -v "$phys:/backup:ro")
fp_replay=$(fingerprint "$id-fast")
phase "binary-log replay onto the day-0 restore: decode $decode_s s ($(mb "$replay_sql") MiB of SQL), apply $replay_s s"
stop_db "$id-fast"; docker volume rm "$id-fast" >/dev/null

# ---------------------------------------------------------------------------------------------------------- B: incremental chain
# 10.11: no --apply-log-only (gone since 10.2); the full was prepared above, now apply the incremental onto it
chain_prep_s=$(run_timed "$out/chain-prepare.log" "$DB_IMAGE" \
  "mariadb-backup --prepare --target-dir=/backup/full0 --incremental-dir=/backup/inc1; find /backup/full0 -type f -exec sync {} +" \
  -v "$phys:/backup")
phys_restore "$id-chain" chain
chain_copy_s=$copy_s chain_start_s=$start_s
fp_chain=$(fingerprint "$id-chain")
phase "incremental chain restore: prepare --incremental-dir $chain_prep_s s, copy-back $chain_copy_s s, start $chain_start_s s"
stop_db "$id-chain"; docker volume rm "$id-chain" >/dev/null

# ---------------------------------------------------------------------------------------------------------- report
mismatch=0
check() { if [ "$1" = "$2" ]; then echo same; else echo DIFFERENT; fi; }
c_native=$(check "$fp_native" "$fp0") c_fast=$(check "$fp_fast" "$fp0") c_chain=$(check "$fp_chain" "$fp1")
c_replay=$(check "$fp_replay" "$fp1")
[[ "$c_native $c_fast $c_chain $c_replay" != *DIFFERENT* ]] || mismatch=1
echo "$fp_replay" >"$out/fingerprint-replay.txt"
echo "$fp_native" >"$out/fingerprint-native.txt"; echo "$fp_fast" >"$out/fingerprint-fast.txt"; echo "$fp_chain" >"$out/fingerprint-chain.txt"
mariadb_version=$(docker run --rm --name "$id-ver" --entrypoint mariadbd "$DB_IMAGE" --version | sed 's/.*Ver \([^ ]*\).*/\1/')
{
  echo
  echo "A. Backup and restore of $(mb "$src_ibd") MiB of .ibd ($gl_n tabGL Entry + $ver_n tabVersion rows, NAMES=$NAMES;" \
    "$data_mb MiB data + $index_mb MiB indexes), MariaDB $mariadb_version, servers --memory $MEM --cpus $CPUS with the role's drop-in"
  printf '%-58s %10s %10s %10s\n' path backup_s restore_s size_MiB
  printf '%-58s %10s %10s %10s\n' "native: mariadb-dump | gzip; gunzip | mariadb" "$native_backup_s" "$native_restore_s" "$(mb "$dump0")"
  printf '%-58s %10s %10s %10s\n' "fast: mariadb-backup dir; prepare + copy-back + start" "$fast_backup_s" "$fast_restore_s" "$(mb "$full0")"
  printf '%-58s %10s %10s %10s\n' "ratio native/fast" "$(ratio "$native_backup_s" "$fast_backup_s")" \
    "$(ratio "$native_restore_s" "$fast_restore_s")" "$(ratio "$dump0" "$full0")"
  echo "fast restore = prepare $prep_s s + copy-back $fast_copy_s s + server start until it answers $fast_start_s s." \
    "Native restore: the import only, into a running empty server. Every step's output files fsync'd before its time stops."
  echo "Fetching the backup from a restic repository first (local, no network) adds ${fetch_of[native]} s (dump) and" \
    "${fetch_of[full]} s (full directory): restore ratio with the fetch $(ratio "$(awk -v a="$native_restore_s" \
    -v b="${fetch_of[native]}" 'BEGIN { print a + b }')" "$(awk -v a="$fast_restore_s" -v b="${fetch_of[full]}" 'BEGIN { print a + b }')")."
  echo "Restored data vs source (rows, sums, CHECKSUM TABLE): native $c_native, fast $c_fast." \
    ".ibd after the native import: $(mb "$native_ibd") MiB (source $(mb "$src_ibd") MiB). The dump is $(mb "$sql0") MiB of SQL" \
    "gzipped to $(mb "$dump0") MiB; the physical backup holds every database of the server and its redo since the checkpoint."
  echo
  echo "B. Offsite bytes, restic 0.14 (repository v2, compression auto), one local repository per strategy; the day:" \
    "+$DAY_NEW_PCT % rows ($gl_new + $ver_new), $DAY_UPDATE_PCT % updated at random ($gl_updated + $ver_updated)"
  printf '%-44s %12s %12s %9s %12s %12s %9s\n' strategy day0_added day1_added fraction day0_repo day1_repo fraction
  for st in native full incr binlog; do
    case $st in
      native) label="native: gzipped dump ($(mb "$dump1") MiB)" ;;
      full) label="full: mariadb-backup directory ($(mb "$full1") MiB)" ;;
      incr) label="incremental: --incremental-basedir ($(mb "$inc1") MiB)" ;;
      binlog) label="binary logs of the day ($(mb "$binlog1") MiB)" ;;
    esac
    printf '%-44s %12s %12s %9s %12s %12s %9s\n' "$label" "$(mb "${added_of[$st/0]}")" "$(mb "${added_of[$st/1]}")" \
      "$(ratio "${added_of[$st/1]}" "${added_of[$st/0]}")" "$(mb "${growth_of[$st/0]}")" "$(mb "${growth_of[$st/1]}")" \
      "$(ratio "${growth_of[$st/1]}" "${growth_of[$st/0]}")"
  done
  echo "(MiB; *_added: restic's data_added, new deduplicated data before compression; *_repo: growth of the repository" \
    "on disk, after compression; fraction: day 1 / day 0. The incremental's day 0 is the full backup.)"
  echo "Day 1 backup times: dump $native_backup1_s s, full $full1_s s, incremental $inc1_s s; restic day 1:" \
    "native ${took_of[native/1]} s, full ${took_of[full/1]} s, incremental ${took_of[incr/1]} s."
  echo "Incremental chain restored (prepare --incremental-dir $chain_prep_s s, copy-back $chain_copy_s s, start" \
    "$chain_start_s s) vs source after the day: $c_chain."
  echo
  week_binlog=$(awk -v f="${growth_of[full/1]}" -v b="${growth_of[binlog/1]}" 'BEGIN { print f + 6 * b }')
  echo "C. Point in time. Offsite per day, repository growth after compression, against a daily full" \
    "($(mb "${growth_of[full/1]}") MiB): a day of binary logs $(ratio "${growth_of[binlog/1]}" "${growth_of[full/1]}");" \
    "a week of one full and six days of binary logs $(ratio "$week_binlog" "$(awk -v f="${growth_of[full/1]}" 'BEGIN { print 7 * f }')")" \
    "(the same week with daily incrementals instead: $(ratio "$(awk -v f="${growth_of[full/1]}" -v i="${growth_of[incr/1]}" \
    'BEGIN { print f + 6 * i }')" "$(awk -v f="${growth_of[full/1]}" 'BEGIN { print 7 * f }')"))."
  echo "Replay of the day's $(mb "$binlog1") MiB of binary logs onto the day-0 restore: decode $decode_s s" \
    "($(mb "$replay_sql") MiB of SQL), apply $replay_s s ($(awk -v b="$binlog1" -v s="$replay_s" \
    'BEGIN { if (s > 0) printf "%.1f", b / 1048576 / s; else print "nan" }') MiB of binary log per second, into a server" \
    "that logs it again); result vs source after the day: $c_replay."
  echo
  echo "Reproduce: BENCH_DB_GB=$BENCH_DB_GB NAMES=$NAMES MEM=$MEM CPUS=$CPUS DAY_NEW_PCT=$DAY_NEW_PCT DAY_UPDATE_PCT=$DAY_UPDATE_PCT" \
    "benchmarks/backup_restore.sh   (generation took $gen_s s; whole run $((SECONDS - t0)) s)"
  echo "Caveats: the host's page cache is not dropped (no privileges), and the backups were read back soon after being" \
    "written, so restores read warm files; the dump, import and restic clients share the $(nproc) CPUs with the servers" \
    "(up to $others_max other containers were running during this run, 1-minute load average, this run's own work included, up to $load_max on $(nproc) CPUs)."
} | tee "$out/table.txt"
phase "done; logs in ${out#"$root"/}"
[ "$mismatch" -eq 0 ] || { echo "backup_restore.sh: a restored copy differs from its source, see $out/fingerprint-*.txt" >&2; exit 1; }
