# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: Grafana's provisioning files (data sources, dashboard provider) as dicts.

The dashboards themselves are JSON files of the monitoring role (``files/dashboards/``); they refer to the data
sources by the fixed uids provisioned here, so that they never depend on names users may see or change.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError

# Where the role mounts files/dashboards/ into the Grafana container.
DASHBOARDS_DIR = "/var/lib/grafana/dashboards"
DASHBOARD_FOLDER = "erpstack"
PROMETHEUS = {"uid": "prometheus", "url": "http://prometheus:9090"}
ALERTMANAGER = {"uid": "alertmanager", "url": "http://alertmanager:9093"}
LOKI = {"uid": "loki", "url": "http://loki:3100"}
# Prometheus's duration syntax, as in scrape_interval
DURATION_RE = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def grafana_datasources(loki_enabled, scrape_interval=None):
    """Return Grafana's data source provisioning document.

    Prometheus (the default) and Alertmanager always, Loki when ``loki_enabled``. ``scrape_interval`` (Prometheus's
    scrape interval, e.g. ``30s``) tells Grafana the shortest step worth querying, which ``$__rate_interval`` builds
    on; without it Grafana assumes 15s.
    """
    if not isinstance(loki_enabled, bool):
        raise BenchSpecError("loki_enabled must be true or false, not %r" % (loki_enabled,))
    if scrape_interval is not None and not DURATION_RE.match(str(scrape_interval)):
        raise BenchSpecError("scrape_interval %r is not a Prometheus duration (e.g. 30s, 1m)" % (scrape_interval,))
    prometheus = {
        "name": "Prometheus", "type": "prometheus", "uid": PROMETHEUS["uid"], "access": "proxy",
        "url": PROMETHEUS["url"], "isDefault": True, "editable": False,
        "jsonData": {"httpMethod": "POST"},
    }
    if scrape_interval is not None:
        prometheus["jsonData"]["timeInterval"] = str(scrape_interval)
    datasources = [
        prometheus,
        {
            "name": "Alertmanager", "type": "alertmanager", "uid": ALERTMANAGER["uid"], "access": "proxy",
            "url": ALERTMANAGER["url"], "isDefault": False, "editable": False,
            # Prometheus's Alertmanager: Grafana shows its alerts and silences, it does not send its own there
            "jsonData": {"implementation": "prometheus", "handleGrafanaManagedAlerts": False},
        },
    ]
    if loki_enabled:
        datasources.append({
            "name": "Loki", "type": "loki", "uid": LOKI["uid"], "access": "proxy", "url": LOKI["url"],
            "isDefault": False, "editable": False, "jsonData": {"maxLines": 1000},
        })
    return {"apiVersion": 1, "datasources": datasources}


def grafana_dashboard_provider():
    """Return Grafana's dashboard provisioning document: the role's dashboards, read-only, in one folder."""
    return {
        "apiVersion": 1,
        "providers": [{
            "name": "erpstack",
            "orgId": 1,
            "type": "file",
            "folder": DASHBOARD_FOLDER,
            # Changes belong in the role's files: edits in the UI would be lost on the next deployment
            "allowUiUpdates": False,
            "disableDeletion": True,
            "updateIntervalSeconds": 60,
            "options": {"path": DASHBOARDS_DIR, "foldersFromFilesStructure": False},
        }],
    }


def grafana_provisioning(loki_enabled, scrape_interval=None):
    """Return both provisioning documents: ``datasources`` and ``dashboards``."""
    return {
        "datasources": grafana_datasources(loki_enabled, scrape_interval),
        "dashboards": grafana_dashboard_provider(),
    }
