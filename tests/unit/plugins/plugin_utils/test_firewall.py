# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.firewall import firewall_errors

DEFAULTS = {
    "docker_firewall_enabled": True,
    "docker_firewall_ssh_ports": [22],
    "docker_firewall_public_tcp_ports": [80, 443],
    "docker_firewall_public_udp_ports": [],
    "docker_firewall_trusted_networks": [],
}


def errors(swarm=False, connection="ssh", port=None, **settings):
    return firewall_errors(dict(DEFAULTS, **settings), swarm=swarm, connection=connection, port=port)


def test_the_defaults_are_valid():
    assert errors() == []


def test_a_switched_off_firewall_checks_nothing():
    assert errors(docker_firewall_enabled=False, docker_firewall_ssh_ports=[], swarm=True) == []


@pytest.mark.parametrize("value", [0, 65536, -22])
def test_a_port_out_of_range_is_refused_with_its_path(value):
    assert errors(docker_firewall_public_tcp_ports=[80, value]) == [
        "docker_firewall_public_tcp_ports[1] must be a port from 1 to 65535, not %d" % value]


def test_a_network_nft_would_refuse_is_refused_with_its_path():
    found = errors(docker_firewall_trusted_networks=["10.0.0.0/8", "10.1.2.3/16", "2001:db8::/32", "office"])
    assert [e.split(" (")[0] for e in found] == [
        "docker_firewall_trusted_networks[1] must be an address or a network such as 192.0.2.0/24",
        "docker_firewall_trusted_networks[3] must be an address or a network such as 192.0.2.0/24"]
    assert "has host bits set" in found[0]


@pytest.mark.parametrize("connection, port, locked_out", [
    ("ssh", None, False), ("ssh", 2222, True), ("ssh", "2222", True), ("paramiko", 443, False),
    ("community.docker.docker", 2222, False), ("local", None, False), (None, None, False),
])
def test_the_port_ansible_connects_on_stays_open(connection, port, locked_out):
    found = errors(connection=connection, port=port)
    assert bool(found) == locked_out
    if locked_out:
        assert found == ["docker_firewall_ssh_ports must include 2222, the port Ansible reaches this host on "
                         "(ansible_port): the firewall would lock the run out"]


def test_a_swarm_node_needs_its_peers_network():
    assert "docker_firewall_trusted_networks must list the Swarm nodes' network" in errors(swarm=True)[0]
    assert errors(swarm=True, docker_firewall_trusted_networks=["172.31.40.0/24"]) == []
