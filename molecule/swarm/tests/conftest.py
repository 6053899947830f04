# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The swarm's nodes by name (``node("erpstack-swarm-1")``) for the tests that look at the cluster from one node, and
what the scenario's inventory makes the plan say about the cluster."""


import pytest
import testinfra


@pytest.fixture(scope="session")
def node(request):
    hosts = {}

    def get(name):
        if name not in hosts:
            hosts[name] = testinfra.get_host("ansible://" + name,
                                             ansible_inventory=request.config.option.ansible_inventory)
        return hosts[name]
    return get


@pytest.fixture(scope="session")
def plan():
    """What the scenario's inventory (molecule.yml) makes the plan say about the cluster."""
    managers = ["erpstack-swarm-1", "erpstack-swarm-2", "erpstack-swarm-3"]
    labels = dict((name, {"erpstack.zone": name, "erpstack.edge": "true"}) for name in managers)
    labels["erpstack-swarm-1"]["erpstack.db"] = "primary"
    labels["erpstack-swarm-2"]["erpstack.db"] = "replica"
    # the Redis instances' nodes: the first two of the swarm
    labels["erpstack-swarm-1"]["erpstack.redis-a"] = "true"
    labels["erpstack-swarm-2"]["erpstack.redis-b"] = "true"
    return {"managers": managers, "node_labels": labels, "dispatcher_heartbeat_seconds": 5,
            "storage": {"servers": managers, "brick_dir": "/srv/erpstack/gluster/brick"},
            "addresses": dict(zip(managers, ["172.31.40.11", "172.31.40.12", "172.31.40.13"]))}
