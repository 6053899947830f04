# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The first manager monitors the databases of the bench on Swarm: the primary's and the replica's mysqld_exporter
(least-privilege account, from their own secret files) reach them over the stack's overlay; the replica's reads its
replication status. A stopped replica fires MariaDBReplicaStopped and has its backups refused; started again, the
alert resolves and the backup goes through."""

import json
import shlex

from swarm_helpers import BENCH, BOOTSTRAP, db_script, replica_status, swarm_plan
from testinfra_erpstack import wait_for

REPLICA_NODE = "erpstack-swarm-2"


def query(host, expr):
    out = host.check_output("curl -sS -m 10 -G --data-urlencode %s http://127.0.0.1:9090/api/v1/query"
                            % shlex.quote("query=" + expr))
    return json.loads(out)["data"]["result"]


def firing(host, alert):
    out = host.check_output("curl -sS -m 10 http://127.0.0.1:9090/api/v1/alerts")
    return sorted(a["labels"].get("bench", "") for a in json.loads(out)["data"]["alerts"]
                  if a["labels"]["alertname"] == alert and a["state"] == "firing")


def value(host, expr):
    result = query(host, expr)
    return [(r["metric"].get("role"), float(r["value"][1])) for r in sorted(result, key=lambda r: r["metric"].get("role"))]


def test_both_database_exporters_are_scraped_and_the_replica_s_status_is_read(node):
    first = node(BOOTSTRAP)
    assert wait_for(lambda: value(first, 'mysql_up{job="mysqld", bench="%s"}' % BENCH) == [
        ("primary", 1.0), ("replica", 1.0)], timeout=120), value(first, 'up{job="mysqld"}')
    for metric in ("mysql_slave_status_slave_sql_running", "mysql_slave_status_slave_io_running"):
        assert wait_for(lambda: value(first, '%s{bench="%s"}' % (metric, BENCH)) == [("replica", 1.0)], timeout=60), \
            metric
    lag = value(first, 'mysql_slave_status_seconds_behind_master{bench="%s"}' % BENCH)
    assert [role for role, _seconds in lag] == ["replica"] and lag[0][1] < 300
    # each exporter's credentials: its own file, readable by the exporter's user only, naming its own service
    for role, service in (("primary", "db"), ("replica", "db-replica")):
        path = "/opt/erpstack/monitoring/secrets/mysqld_exporter.%s.%s.cnf" % (BENCH, role)
        assert first.file(path).mode == 0o400
        assert "host=%s\n" % service in first.check_output("cat %s" % path)


def test_a_stopped_replica_fires_its_alert_and_refuses_backups_until_it_replicates_again(node):
    first, replica = node(BOOTSTRAP), node(REPLICA_NODE)
    stop = db_script(replica, "db-replica", swarm_plan._ROOT_CNF + "sql -e 'STOP SLAVE SQL_THREAD'\n")
    assert stop is not None and stop.rc == 0, stop and stop.stderr
    try:
        assert wait_for(lambda: firing(first, "MariaDBReplicaStopped") == [BENCH], timeout=120)
        backup = replica.run("/usr/local/sbin/erpstack-backup run %s --no-offsite" % BENCH)
        assert backup.rc == 1 and "the replica does not replicate" in backup.stderr, backup.stderr
    finally:
        start = db_script(replica, "db-replica", swarm_plan._ROOT_CNF + "sql -e 'START SLAVE SQL_THREAD'\n")
        assert start is not None and start.rc == 0
    assert wait_for(lambda: replica_status(node) == "replicating", timeout=60)
    assert wait_for(lambda: firing(first, "MariaDBReplicaStopped") == [], timeout=120)
    backup = replica.run("/usr/local/sbin/erpstack-backup run %s --no-offsite" % BENCH)
    assert backup.rc == 0, backup.stderr
