# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host firewall's settings (docker role, ``docker_firewall_*``): what nft would refuse, and what would lock the
run out or cut a Swarm in pieces, refused before any host changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress

# Connections that reach the host over its SSH port (the others: local, docker exec, a container API)
SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh", "ansible.builtin.paramiko_ssh",
                   "ansible.netcommon.libssh")
PORT_LISTS = ("docker_firewall_ssh_ports", "docker_firewall_public_tcp_ports", "docker_firewall_public_udp_ports")


def firewall_errors(settings, swarm=False, connection=None, port=None):
    """Errors of the ``docker_firewall_*`` values (their types are checked first, by the schema).

    ``connection`` and ``port``: how Ansible reaches the host (``ansible_connection``, ``ansible_port``)."""
    if not settings.get("docker_firewall_enabled"):
        return []
    errors = []
    for name in PORT_LISTS:
        for index, value in enumerate(settings.get(name) or []):
            if not 1 <= value <= 65535:
                errors.append("%s[%d] must be a port from 1 to 65535, not %d" % (name, index, value))
    for index, value in enumerate(settings.get("docker_firewall_trusted_networks") or []):
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            errors.append("docker_firewall_trusted_networks[%d] must be an address or a network such as 192.0.2.0/24 "
                          "(%s)" % (index, exc))
    tcp = (list(settings.get("docker_firewall_ssh_ports") or [])
           + list(settings.get("docker_firewall_public_tcp_ports") or []))
    if connection is None or str(connection) in SSH_CONNECTIONS:
        try:
            ssh_port = int(port) if port not in (None, "") else 22
        except (TypeError, ValueError):
            ssh_port = None
        if ssh_port is not None and ssh_port not in tcp:
            errors.append("docker_firewall_ssh_ports must include %d, the port Ansible reaches this host on "
                          "(ansible_port): the firewall would lock the run out" % ssh_port)
    if swarm and not settings.get("docker_firewall_trusted_networks"):
        errors.append("docker_firewall_trusted_networks must list the Swarm nodes' network: the nodes talk on 2377/tcp, "
                      "7946/tcp+udp and 4789/udp (and GlusterFS), which the firewall lets in from trusted networks "
                      "only; or set docker_firewall_enabled: false")
    return errors
