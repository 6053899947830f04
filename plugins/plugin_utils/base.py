# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bottom layer: the error type, ``deep_merge``, and the one copy of each rule that several parts check.

Every other module of ``plugin_utils`` may import this one; this one imports none of them. The layers above, top
down as data flows: ``plan`` (inventory -> checked plan) and ``sizing``, then one renderer per target: ``compose``
(a bench's compose project), ``traefik`` (the proxy's configuration and compose project), ``monitoring`` with
``monitoring_compose``, ``prometheus`` and ``alertmanager``, ``grafana``, ``logs``, ``backup``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import re

# A bench (and compose project) name: also a directory under the base directory and a MariaDB identifier part
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
# A lower-case DNS host name of at most 253 characters, labels of 1-63 characters, no leading/trailing '-'
HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
# An e-mail address as the programs that take one (ACME, Alertmanager) accept it: one '@', a dot in the domain
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The prefix lengths a bench network may have: MariaDB host patterns scope users to whole octets
SUBNET_PREFIXES = (8, 16, 24)


class BenchSpecError(ValueError):
    """The description cannot be turned into a plan or a rendered document."""


def deep_merge(base, extra):
    """Return ``base`` with ``extra`` merged in recursively (dicts merge, everything else replaces)."""
    result = copy.deepcopy(base)
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = deep_merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def is_name(value):
    return isinstance(value, str) and bool(NAME_RE.match(value))


def is_host(name):
    return isinstance(name, str) and bool(HOST_RE.match(name))


def is_domain(name):
    """A host name, or a wildcard ``*.<host name>`` (one label)."""
    if isinstance(name, str) and name.startswith("*."):
        return is_host(name[2:]) and "." in name[2:]
    return is_host(name)


def is_pinned(image):
    """An image reference with an exact tag: a tag after the last '/' (a registry's port is not one), not 'latest'."""
    if not isinstance(image, str):
        return False
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    return bool(tag) and tag != "latest"


def bench_subnet(value):
    """The IPv4 network a bench may use (prefix /8, /16 or /24), or None."""
    try:
        net = ipaddress.ip_network(str(value), strict=True)
    except ValueError:
        return None
    if net.version != 4 or net.prefixlen not in SUBNET_PREFIXES:
        return None
    return net


def user_host_scope(subnet):
    """MariaDB host pattern matching every address of ``subnet`` (e.g. ``172.30.10.%`` for a /24).

    Site users are scoped to the bench network rather than ``%`` or one container address (frappe_docker #1952).
    """
    net = ipaddress.ip_network(subnet, strict=True)
    if net.version != 4:
        raise BenchSpecError("network subnet %s: only IPv4 subnets are supported" % subnet)
    if net.prefixlen not in SUBNET_PREFIXES:
        raise BenchSpecError("network subnet %s: the prefix length must be 8, 16 or 24" % subnet)
    parts = str(net.network_address).split(".")[:net.prefixlen // 8]
    return ".".join(parts + ["%"])
