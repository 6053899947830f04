# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Three nodes, one swarm: every node a Ready manager with its labels, a GlusterFS volume replicated on the three and
mounted on each (a file written on one is read on another). The bench on it: test_bench.py."""

import json
import uuid

BOOTSTRAP = "erpstack-swarm-1"
MOUNT = "/mnt/erpstack"
VOLUME = "erpstack"
REGISTRY = "172.31.40.11:5000"


# on every node (the `host` fixture runs each test on all three)

def test_glusterd_runs_and_the_volume_is_mounted(host):
    assert host.service("glusterd").is_running and host.service("glusterd").is_enabled
    mount = host.mount_point(MOUNT)
    assert mount.exists and mount.filesystem == "fuse.glusterfs", host.run("findmnt %s" % MOUNT).stdout
    assert mount.device.endswith(":/" + VOLUME)
    assert "backup-volfile-servers=" in host.file("/etc/fstab").content_string


def test_the_mount_root_belongs_to_frappes_user(host):
    root = host.file(MOUNT)
    assert root.uid == 1000 and root.gid == 1000 and root.mode == 0o755


def test_docker_trusts_the_registry_and_runs_without_live_restore(host):
    info = json.loads(host.check_output("docker info --format '{{json .}}'"))
    assert info["LiveRestoreEnabled"] is False
    assert REGISTRY in info["RegistryConfig"]["IndexConfigs"]
    assert info["Swarm"]["LocalNodeState"] == "active" and info["Swarm"]["ControlAvailable"] is True


# the cluster, seen from the bootstrap manager

def test_three_ready_managers(node, plan):
    lines = node(BOOTSTRAP).check_output(
        "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}'").splitlines()
    nodes = dict((line.split()[0], line.split()[1:]) for line in lines)
    assert sorted(nodes) == sorted(plan["managers"])
    for name, (status, availability, manager) in nodes.items():
        assert (status, availability) == ("Ready", "Active"), name
        assert manager in ("Leader", "Reachable"), name
    assert [values[2] for values in nodes.values()].count("Leader") == 1


def test_every_node_has_its_labels(node, plan):
    for name, labels in plan["node_labels"].items():
        actual = json.loads(node(BOOTSTRAP).check_output("docker node inspect %s --format '{{json .Spec.Labels}}'" % name))
        assert actual == labels, name


def test_dispatcher_heartbeat_is_the_plans(node, plan):
    # (the CLI prints the duration, e.g. 5s)
    period = node(BOOTSTRAP).check_output("docker info --format '{{.Swarm.Cluster.Spec.Dispatcher.HeartbeatPeriod}}'")
    assert period.strip() == "%ds" % plan["dispatcher_heartbeat_seconds"]


def test_the_volume_is_started_with_three_bricks_and_its_options(node, plan):
    info = node(BOOTSTRAP).check_output("gluster --mode=script volume info %s" % VOLUME)
    assert "Status: Started" in info
    assert "Number of Bricks: 1 x 3 = 3" in info
    for name in plan["storage"]["servers"]:
        assert "%s:%s" % (plan["addresses"][name], plan["storage"]["brick_dir"]) in info
    assert "cluster.quorum-type: auto" in info
    assert "network.ping-timeout: 5" in info
    status = node(BOOTSTRAP).check_output("gluster --mode=script volume status %s detail" % VOLUME)
    assert status.count("Online               : Y") == 3, status


def test_a_file_written_on_one_node_is_read_on_another(node):
    marker = "erpstack-%s" % uuid.uuid4().hex
    path = "%s/.swarm-test-%s" % (MOUNT, marker)
    node(BOOTSTRAP).check_output("echo %s > %s" % (marker, path))
    try:
        assert node("erpstack-swarm-3").file(path).content_string.strip() == marker
    finally:
        node("erpstack-swarm-2").run("rm -f %s" % path)
    assert not node(BOOTSTRAP).file(path).exists
