# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench on Swarm is backed up from its database's replica: both database nodes keep the timer, the one that runs
the replica's task takes the set (a dump in that task, as the backup account, with the password from its Docker
secret), the other stands aside; the set holds what was committed on the primary just before, and every site's
files from the shared storage."""

import json

from swarm_helpers import ADDRESSES, BENCH, BOOTSTRAP, SITES, admin_session, api, replica_status
from testinfra_erpstack import wait_for

TOOL = "/usr/local/sbin/erpstack-backup"
REPLICA_NODE = "erpstack-swarm-2"


def sets(host):
    return json.loads(host.check_output("%s list %s" % (TOOL, BENCH)))


def test_both_database_nodes_and_only_they_keep_the_backup_timer(node):
    for name, kept in ((BOOTSTRAP, True), (REPLICA_NODE, True), ("erpstack-swarm-3", False)):
        timer = node(name).run("systemctl is-enabled erpstack-backup-%s.timer" % BENCH)
        assert (timer.rc == 0) == kept, (name, timer.stdout)
        # the restore drill works through a compose project: no drill timer for a bench on Swarm
        assert node(name).run("systemctl cat erpstack-restore-drill-%s.timer" % BENCH).rc != 0, name


def test_the_node_without_the_replica_stands_aside(node):
    first = node(BOOTSTRAP)
    before = sets(first)
    result = first.run("%s run %s --no-offsite" % (TOOL, BENCH))
    assert result.rc == 0, result.stderr
    assert "db-replica task runs on another node, which takes the backup" in result.stderr
    assert sets(first) == before


def test_the_replica_s_node_takes_a_set_with_the_primary_s_last_commit(node):
    first, replica = node(BOOTSTRAP), node(REPLICA_NODE)
    assert wait_for(lambda: replica_status(node) == "replicating", timeout=120)
    session = admin_session(first, ADDRESSES[BOOTSTRAP], SITES[0])
    marker = "committed before the backup"
    api(first, ADDRESSES[BOOTSTRAP], SITES[0], session, "POST", "/api/resource/ToDo", {"description": marker})
    result = replica.run("%s run %s --no-offsite" % (TOOL, BENCH))
    assert result.rc == 0, result.stderr
    newest = sets(replica)[-1]
    assert newest["method"] == "logical" and newest["sites"] == sorted(SITES)
    path = "/var/backups/erpstack/%s/%s" % (BENCH, newest["set"])
    manifest = json.loads(replica.check_output("cat %s/manifest.json" % path))
    assert manifest["engine"] == "swarm" and manifest["source"]["service"] == "db-replica"
    assert manifest["source"]["lag_seconds"] <= 300 and manifest["source"]["gtid_slave_pos"]
    assert [app["name"] for app in manifest["sites"][SITES[0]]["apps"]] == ["frappe", "erpnext"]
    for site in SITES:
        listing = replica.check_output("ls %s/%s" % (path, site)).split()
        assert sorted(listing) == ["database.sql.gz", "files.tgz", "private-files.tgz", "site_config.json"], site
        assert replica.file("%s/%s/site_config.json" % (path, site)).mode == 0o600
    assert replica.run("zcat %s/%s/database.sql.gz | grep -c %s" % (path, SITES[0], "'committed before the backup'")
                       ).stdout.strip() == "1"
    # the host never held the backup account's password: it stays a Docker secret of the database's tasks
    assert replica.run("ls /opt/erpstack/%s/secrets/" % BENCH).stdout.strip() == ""
