# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench on Swarm is backed up from its database's replica: both database nodes keep the timer, the one that runs
the replica's task takes the set (a dump in that task, as the backup account, with the password from its Docker
secret), the other stands aside; the set holds what was committed on the primary just before, and every site's
files from the shared storage. A set goes offsite to the restic repository and restores on the first manager, in the
bench's admin container: the move of a bench into the Swarm is that restore of a set another host took."""

import json
import shlex
import uuid

from swarm_helpers import ADDRESSES, BENCH, BOOTSTRAP, SITES, admin_session, api, ping, playbook, replica_status, todos
from testinfra_erpstack import wait_for

TOOL = "/usr/local/sbin/erpstack-backup"
REPLICA_NODE = "erpstack-swarm-2"
# the records the tests write carry this run's mark: a second verify of the same cluster finds only its own
RUN = uuid.uuid4().hex[:8]


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
    marker = "committed before the backup %s" % RUN
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
    assert replica.run("zcat %s/%s/database.sql.gz | grep -c %s" % (path, SITES[0], shlex.quote(marker))
                       ).stdout.strip() == "1"
    # the host never held the backup account's password: it stays a Docker secret of the database's tasks
    assert replica.run("ls /opt/erpstack/%s/secrets/" % BENCH).stdout.strip() == ""


def test_a_set_from_another_node_restores_on_the_first_manager_through_restic(node, request):
    first, replica = node(BOOTSTRAP), node(REPLICA_NODE)
    address = ADDRESSES[BOOTSTRAP]
    session = admin_session(first, address, SITES[0])
    api(first, address, SITES[0], session, "POST", "/api/resource/ToDo", {"description": "in the moved set %s" % RUN})
    assert wait_for(lambda: replica_status(node) == "replicating", timeout=120)
    result = replica.run("%s run %s" % (TOOL, BENCH))
    assert result.rc == 0, result.stderr
    moved = sets(replica)[-1]["set"]
    assert "bench %s: set %s copied offsite" % (BENCH, moved) in result.stderr, result.stderr
    api(first, address, SITES[0], session, "POST", "/api/resource/ToDo", {"description": "written after the set %s" % RUN})
    output = playbook(request, "restore.yml", "-l", BOOTSTRAP, "-e", "bench=%s" % BENCH, "-e", "site=all",
                      "-e", "source=offsite", "-e", "source_host=%s" % REPLICA_NODE)
    said = " ".join(output.split())
    assert "set %s fetched from the restic repository (snapshot" % moved in said
    assert "of host %s)" % REPLICA_NODE in said
    assert "bench %s: restored %s from set %s" % (BENCH, ", ".join(sorted(SITES)), moved) in said
    # the safety backup came from the database task of the first manager (the primary's), not from elsewhere
    assert "taking a safety backup before the restore" in said
    for site in SITES:
        assert wait_for(lambda site=site: ping(first, address, site), timeout=60), site
    session = admin_session(first, address, SITES[0])
    listed = todos(first, address, SITES[0], session)
    assert "in the moved set %s" % RUN in listed and "committed before the backup %s" % RUN in listed
    assert "written after the set %s" % RUN not in listed
    # the replica follows the restore through the primary's binary log
    assert wait_for(lambda: replica_status(node) == "replicating", timeout=120)


def test_a_restore_away_from_the_first_manager_is_refused_with_where_to_run_it(node, request):
    output = playbook(request, "restore.yml", "-l", "erpstack-swarm-3", "-e", "bench=%s" % BENCH, "-e", "site=all",
                      refused=True)
    assert "restore it on its first manager (%s), where its admin container %s_admin runs" % (BOOTSTRAP, BENCH) \
        in " ".join(output.split())
