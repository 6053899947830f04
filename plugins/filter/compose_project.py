# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import (
    BenchSpecError,
    compose_project,
    proxy_project,
    site_specs,
    user_host_scope,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import (
    SizingError,
    bench_sizing,
    check_mariadb_settings,
    compose_resources,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.traefik import traefik_configuration


def _compose_project(bench):
    try:
        return compose_project(bench)
    except BenchSpecError as exc:
        raise AnsibleFilterError("compose_project: %s" % exc)


def _user_host_scope(subnet):
    try:
        return user_host_scope(subnet)
    except (BenchSpecError, ValueError) as exc:
        raise AnsibleFilterError("user_host_scope: %s" % exc)


def _proxy_project(proxy):
    try:
        return proxy_project(proxy)
    except BenchSpecError as exc:
        raise AnsibleFilterError("proxy_project: %s" % exc)


def _bench_plan(benches, resolvers=None, default_resolver="", dns_resolvers=None, proxy="traefik",
                default_subnet="172.30.10.0/24"):
    try:
        return bench_plan(benches, resolvers=resolvers, default_resolver=default_resolver,
                          dns_resolvers=dns_resolvers, proxy=proxy, default_subnet=default_subnet)
    except BenchSpecError as exc:
        raise AnsibleFilterError("erpnext_benches: %s" % exc)


def _traefik_configuration(settings):
    try:
        return traefik_configuration(settings)
    except BenchSpecError as exc:
        raise AnsibleFilterError("traefik: %s" % exc)


def _bench_sizing(host_memory_mb, host_cpus, benches, profile="auto", overrides=None, reserve_mb=None,
                  proxy_memory_mb=256, counts=None):
    try:
        return bench_sizing(host_memory_mb, host_cpus, benches, profile=profile, overrides=overrides,
                            reserve_mb=reserve_mb, proxy_memory_mb=proxy_memory_mb, counts=counts)
    except SizingError as exc:
        raise AnsibleFilterError("sizing: %s" % exc)


def _mariadb_settings_check(settings, memory_mib, where="db"):
    try:
        return check_mariadb_settings(settings, memory_mib, where)
    except SizingError as exc:
        raise AnsibleFilterError("erpnext_mariadb_config: %s" % exc)


class FilterModule(object):
    """Bench description -> compose project."""

    def filters(self):
        return {
            "compose_project": _compose_project,
            "user_host_scope": _user_host_scope,
            "site_specs": site_specs,
            "proxy_project": _proxy_project,
            "bench_plan": _bench_plan,
            "traefik_configuration": _traefik_configuration,
            "bench_sizing": _bench_sizing,
            "bench_resources": compose_resources,
            "mariadb_settings_check": _mariadb_settings_check,
        }
