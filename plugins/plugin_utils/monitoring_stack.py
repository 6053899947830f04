# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole monitoring stack's documents: the settings checked once, then each renderer."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import backup_ages, check_settings, probe_targets
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring_compose import compose_document
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.prometheus import blackbox_config, prometheus_config


def monitoring_configuration(settings):
    """Return ``{compose, prometheus, blackbox, probes}`` (raises BenchSpecError listing every problem).

    ``settings``: ``project``, ``images`` ({component: image}), ``restart``, ``benches`` (the erpnext plan: name,
    sites with name, domains, state), ``proxy`` (``network``, ``entrypoint``, ``middlewares``; {} without Traefik),
    ``scrape_interval``, ``evaluation_interval``, ``retention_time``, ``retention_size``, ``prometheus_published``,
    ``alertmanager_published``, ``probe`` (``resolve``, ``interval``, ``timeout``, ``ca_bundle`` (bool),
    ``tls_insecure``, ``https_port``, ``proxy_address``), ``cadvisor`` (bool), ``grafana`` (``enabled``, ``host``,
    ``admin_user``, ``tls_resolver``), ``logs_backend``, ``textfile_dir``, ``external_labels``, ``config_hashes``,
    ``resources``, ``hardening`` (``monitoring_container_hardening``), ``extension``.
    """
    errors = check_settings(settings)
    if errors:
        raise BenchSpecError("; ".join(errors))
    probe = settings.get("probe") or {}
    return {
        "compose": compose_document(settings),
        "prometheus": prometheus_config(settings),
        "blackbox": blackbox_config(settings),
        "probes": probe_targets(settings.get("benches") or [], probe.get("https_port", 443)),
        "backup_benches": backup_ages(settings.get("backup")),
        # the benches whose binary logs are shipped, and the lag after which shipping is behind
        "binlog_benches": [{"name": name, "max_lag_seconds": lag}
                           for name, lag in sorted(((settings.get("backup") or {}).get("binlog") or {}).items())],
    }
