# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.backup import backup_bench
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, user_host_scope
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import compose_project
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.dpkg import installed_packages
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grafana import grafana_provisioning
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.logs import alloy_config, loki_config
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.alertmanager import alertmanager_config
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import stack_memory_mb
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring_stack import monitoring_configuration
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan, site_specs
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.release import bench_release
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import (
    SizingError,
    bench_sizing,
    check_mariadb_settings,
    compose_resources,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.traefik import proxy_project, traefik_configuration


def _reporting(func, label, errors=(BenchSpecError,)):
    """``func`` as a filter whose invalid-input errors become AnsibleFilterError prefixed with ``label``."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except errors as exc:
            raise AnsibleFilterError("%s: %s" % (label, exc))
    return wrapper


class FilterModule(object):
    """The collection's filters: the plan of benches and sites -> compose projects and every stack's configuration."""

    def filters(self):
        return {
            "compose_project": _reporting(compose_project, "compose_project"),
            "user_host_scope": _reporting(user_host_scope, "user_host_scope", (BenchSpecError, ValueError)),
            "site_specs": site_specs,
            "proxy_project": _reporting(proxy_project, "proxy_project"),
            "bench_plan": _reporting(bench_plan, "erpnext_benches"),
            "traefik_configuration": _reporting(traefik_configuration, "traefik"),
            "bench_sizing": _reporting(bench_sizing, "sizing", (SizingError,)),
            "bench_resources": compose_resources,
            "mariadb_settings_check": _reporting(check_mariadb_settings, "erpnext_mariadb_config", (SizingError,)),
            "backup_bench": _reporting(backup_bench, "backup", (BenchSpecError, KeyError)),
            "monitoring_configuration": _reporting(monitoring_configuration, "monitoring"),
            "alertmanager_config": _reporting(alertmanager_config, "monitoring alerts"),
            "monitoring_memory_mb": _reporting(stack_memory_mb, "monitoring_resources"),
            "grafana_provisioning": _reporting(grafana_provisioning, "monitoring grafana"),
            "loki_config": _reporting(loki_config, "monitoring logs"),
            "alloy_config": _reporting(alloy_config, "monitoring logs"),
            "dpkg_installed": installed_packages,
            "bench_release": bench_release,
        }
