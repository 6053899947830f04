#!/usr/bin/env bash
# The maintenance window of an upgrade and the time of its rollback, for a site of BENCH_DB_GB GiB on the stand-in
# (not a test: it prints figures and judges none). On the `upgrade` Molecule scenario's target:
#   1. converge (bench alpha on v16.32.3 with erp.example.test and hr.example.test, beta on v15.85.1);
#   2. fill erp.example.test's database: `tabGL Entry` (Frappe's columns and indexes) to BENCH_DB_GB GiB, generated
#      with INSERT ... SELECT from the Sequence engine, plus TODOS ToDo records;
#   3. playbooks/upgrade.yml to v16.33.0 (a minor release whose patch adds and fills a ToDo column): the window;
#   4. playbooks/upgrade.yml to v16.34.0 (broken: its patch fails after its DDL), twice: physical, then logical
#      pre-upgrade backup; the window and the rollback of each.
# The pre-upgrade backup is physical for alpha in the scenario (mariadb-backup of the bench's server, prepared, copied
# back by a rollback); the logical one (bench backup per site, bench restore by a rollback) is measured on a second
# broken upgrade with backup_benches.alpha.method=logical as an extra variable. There is one minor release to go to
# on the stand-in, so the minor upgrade's window is measured with the physical backup only (see the table's note).
# Times come from ansible.posix.profile_tasks' timestamps: the window runs from the banner of the task that turns
# maintenance mode on to the banner of the health gate (maintenance is off by then); the rollback from the banner of
# the first rollback task to the banner of "Record that the rollback finished".
#
# usage: benchmarks/upgrade.sh          env: BENCH_DB_GB=2 (0.2 for a smoke run), TODOS=20000
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=$root/.venv/bin:$PATH ERPSTACK_CACHE=$root/.cache ANSIBLE_FORCE_COLOR=0 PY_COLORS=0
BENCH_DB_GB=${BENCH_DB_GB:-2} TODOS=${TODOS:-20000}
out=$root/benchmarks/results
mkdir -p "$out" "$root/tests/output/molecule-upgrade"
"$root/tests/harness/images.sh" >/dev/null
cp -f "$("$root/scripts/fetch-compose-deb.sh" "$ERPSTACK_CACHE/debs")" "$ERPSTACK_CACHE/debs/docker-compose-plugin.deb"
cd "$root"
trap 'molecule destroy -s upgrade >/dev/null 2>&1 || true' EXIT
molecule destroy -s upgrade >/dev/null 2>&1 || true
echo "converge (bench alpha v16.32.3, beta v15.85.1) ..."
molecule create -s upgrade >"$out/upgrade-create.log" 2>&1
molecule converge -s upgrade >"$out/upgrade-converge.log" 2>&1 || { tail -n 40 "$out/upgrade-converge.log"; exit 1; }

target=erpstack-upgrade
db() {  # SQL on alpha's database server, as root inside the db container
  docker exec -i "$target" docker compose --project-directory /opt/erpstack/alpha exec -T db \
    sh -c 'MYSQL_PWD=$(cat /run/secrets/db_root_password) mariadb -uroot -N -B "$@"' mariadb "$@"
}
site_db=$(docker exec "$target" docker compose --project-directory /opt/erpstack/alpha exec -T backend \
  jq -r .db_name sites/erp.example.test/site_config.json)
# a GL Entry row of Frappe's columns stores about 560 bytes with its indexes in InnoDB (measured by backup_restore.sh)
rows=$(awk -v gb="$BENCH_DB_GB" 'BEGIN { printf "%d", gb * 1073741824 / 560 }')
echo "fill $site_db: $rows GL Entry rows, $TODOS ToDo records ..."
start=$(date +%s)
db "$site_db" <<SQL
CREATE TABLE IF NOT EXISTS \`tabGL Entry\` (
  name varchar(140) NOT NULL, creation datetime(6), modified datetime(6), modified_by varchar(140), owner varchar(140),
  docstatus int(1) NOT NULL DEFAULT 0, idx int(8) NOT NULL DEFAULT 0, posting_date date, account varchar(140),
  party_type varchar(140), party varchar(140), cost_center varchar(140), debit decimal(21,9) NOT NULL DEFAULT 0,
  credit decimal(21,9) NOT NULL DEFAULT 0, voucher_type varchar(140), voucher_no varchar(140), remarks text,
  is_cancelled int(1) NOT NULL DEFAULT 0, company varchar(140), fiscal_year varchar(140),
  PRIMARY KEY (name), KEY posting_date (posting_date), KEY account (account), KEY voucher_no (voucher_no),
  KEY party (party), KEY modified (modified)
) ENGINE=InnoDB ROW_FORMAT=DYNAMIC DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
SQL
chunk=400000 done_rows=0
while [ "$done_rows" -lt "$rows" ]; do
  n=$(( rows - done_rows < chunk ? rows - done_rows : chunk ))
  db "$site_db" -e "INSERT INTO \`tabGL Entry\` SELECT LEFT(SHA2(seq + $done_rows, 256), 16), NOW(6) - INTERVAL seq MINUTE,
    NOW(6), 'Administrator', 'Administrator', 1, 0, CURDATE() - INTERVAL (seq % 1500) DAY,
    CONCAT('Debtors ', seq % 200, ' - ACME'), 'Customer', CONCAT('CUST-', LPAD(seq % 5000, 5, '0')), 'Main - ACME',
    (seq % 100000) / 7, (seq % 70000) / 3, 'Sales Invoice', CONCAT('ACC-SINV-2026-', LPAD(seq + $done_rows, 8, '0')),
    REPEAT('Against invoice for goods delivered. ', 3), 0, 'ACME', '2026-2027' FROM seq_1_to_$n"
  done_rows=$(( done_rows + n ))
done
db "$site_db" -e "INSERT INTO tabToDo (name, creation, modified, modified_by, owner, docstatus, idx, status, priority,
  description) SELECT LEFT(SHA2(CONCAT('todo', seq), 256), 10), NOW(6), NOW(6) + INTERVAL seq MICROSECOND,
  'Administrator', 'Administrator', 0, 0, 'Open', ELT(1 + seq % 3, 'Low', 'Medium', 'High'),
  CONCAT('benchmark record ', seq) FROM seq_1_to_$TODOS"
size=$(db -e "SELECT ROUND(SUM(data_length + index_length) / 1048576) FROM information_schema.TABLES
  WHERE table_schema = '$site_db'")
echo "filled in $(( $(date +%s) - start )) s: $size MiB of tables"

# Molecule's ephemeral directory of the scenario: its inventory and ansible.cfg, as the side effect runs upgrade.yml
eph=$(find "$HOME/.ansible/tmp" -maxdepth 1 -name 'molecule.*.upgrade' -printf '%T@ %p\n' | sort -rn | head -n 1 | cut -d' ' -f2)
run_upgrade() {  # name, extra args...
  local name=$1; shift
  ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks ANSIBLE_CONFIG=$eph/ansible.cfg \
    ANSIBLE_COLLECTIONS_PATH=$root/collections ANSIBLE_ROLES_PATH=$root/roles \
    ansible-playbook -i "$eph/inventory" -l "$target" playbooks/upgrade.yml "$@" >"$out/upgrade-$name.log" 2>&1 || true
}
stamp() {  # log, pattern of a task banner: epoch seconds of the profile_tasks line after the first such banner
  awk -v pat="$2" 'found && /[0-9][0-9]:[0-9][0-9]:[0-9][0-9] [+-][0-9][0-9][0-9][0-9] [(]/ { print; exit } index($0, pat) && /^TASK/ { found = 1 }' "$1" \
    | sed -E 's/^[A-Za-z]+ ([0-9]+ [A-Za-z]+ [0-9]{4} +[0-9:]+ [+-][0-9]{4}).*/\1/' | xargs -I{} date -d "{}" +%s
}
span() { echo $(( $(stamp "$1" "$3") - $(stamp "$1" "$2") )); }

logical='{"backup_benches": {"alpha": {"method": "logical"}}}'
echo "upgrade to v16.33.0, physical pre-upgrade backup ..."
run_upgrade minor-physical -e alpha_version=v16.33.0
grep -qE "erpstack-upgrade +: .*failed=0" "$out/upgrade-minor-physical.log" \
  || { echo "the minor upgrade failed: $out/upgrade-minor-physical.log"; exit 1; }
m_window=$(span "$out/upgrade-minor-physical.log" "Put every site in maintenance mode" "Check the upgraded bench")
m_backup=$(span "$out/upgrade-minor-physical.log" "Back up the bench's database server before the switch" "Note the pre-upgrade backup")
m_migrate=$(span "$out/upgrade-minor-physical.log" "Migrate every site" "Install each site's apps")

for method in physical logical; do
  echo "upgrade to v16.34.0 (broken), $method pre-upgrade backup ..."
  if [ "$method" = physical ]; then run_upgrade "broken-$method" -e alpha_version=v16.34.0
  else run_upgrade "broken-$method" -e alpha_version=v16.34.0 -e "$logical"; fi
  log=$out/upgrade-broken-$method.log
  grep -q "failed and was rolled back" "$log" || { echo "no rollback: $log"; exit 1; }
  if [ "$method" = physical ]; then
    backup=$(span "$log" "Back up the bench's database server before the switch" "Note the pre-upgrade backup")
    restore=$(span "$log" "Put the database server's files back" "Start the previous release")
  else
    backup=$(span "$log" "Back up every site before the switch" "Find each site's pre-upgrade dump")
    restore=$(span "$log" "Restore each site's database from its pre-upgrade dump" "Clear each site's cache")
  fi
  window=$(span "$log" "Put every site in maintenance mode" "Stop with the reason of the failure")
  rollback=$(span "$log" "Put the compose file of the previous release back" "Record that the rollback finished")
  if [ "$method" = physical ]; then
    b_physical=$backup r_physical=$restore w_physical=$window rb_physical=$rollback
  else
    b_logical=$backup r_logical=$restore w_logical=$window rb_logical=$rollback
  fi
  left=$(db "$site_db" -e "SELECT COUNT(*) FROM \`tabGL Entry\`")
  [ "$left" = "$rows" ] || { echo "the $method rollback lost rows: $left of $rows"; exit 1; }
done

{
  echo "upgrade of bench alpha (erp.example.test: ${size} MiB of tables; hr.example.test: empty), stand-in, $(nproc) cores"
  printf '%-52s %10s %10s %8s\n' "" physical logical ratio
  row() { printf '%-52s %9ss %9ss %8s\n' "$1" "$2" "$3" "$(awk -v a="$3" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }')"; }
  row "pre-upgrade backup" "$b_physical" "$b_logical"
  row "minor upgrade v16.33.0: maintenance on -> off (*)" "$m_window" "$(( m_window - m_backup + b_logical ))"
  row "broken v16.34.0: maintenance on -> run failed" "$w_physical" "$w_logical"
  row "  of which the rollback" "$rb_physical" "$rb_logical"
  row "    of which the data restore" "$r_physical" "$r_logical"
  echo "(*) measured with the physical backup; the logical figure is that window with the logical backup's measured time"
  echo "    in place of the physical one (migrate took ${m_migrate}s). Rows of tabGL Entry after both rollbacks: $rows."
} | tee "$out/upgrade.txt"
