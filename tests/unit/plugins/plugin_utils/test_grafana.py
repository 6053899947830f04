# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""grafana_provisioning: the data sources with and without Loki, the dashboard provider, refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.filter.compose_project import FilterModule
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grafana import (
    grafana_dashboard_provider,
    grafana_datasources,
    grafana_provisioning,
)


def by_uid(document):
    return {source["uid"]: source for source in document["datasources"]}


def test_prometheus_is_the_default_and_alertmanager_is_always_there():
    document = grafana_datasources(False)
    assert document["apiVersion"] == 1
    sources = by_uid(document)
    assert sorted(sources) == ["alertmanager", "prometheus"]
    assert sources["prometheus"] == {
        "name": "Prometheus", "type": "prometheus", "uid": "prometheus", "access": "proxy",
        "url": "http://prometheus:9090", "isDefault": True, "editable": False, "jsonData": {"httpMethod": "POST"}}
    assert sources["alertmanager"]["url"] == "http://alertmanager:9093"
    assert sources["alertmanager"]["jsonData"]["implementation"] == "prometheus"
    assert [s["uid"] for s in document["datasources"] if s["isDefault"]] == ["prometheus"]


def test_loki_when_enabled():
    loki = by_uid(grafana_datasources(True))["loki"]
    assert (loki["type"], loki["url"], loki["isDefault"]) == ("loki", "http://loki:3100", False)


def test_no_data_source_is_editable_in_the_ui():
    assert all(source["editable"] is False for source in grafana_datasources(True)["datasources"])


@pytest.mark.parametrize("interval", ["30s", "1m", "1m30s", "500ms"])
def test_the_scrape_interval_becomes_the_prometheus_time_interval(interval):
    assert by_uid(grafana_datasources(False, interval))["prometheus"]["jsonData"]["timeInterval"] == interval


def test_the_dashboard_provider_reads_the_role_s_files_read_only():
    provider, = grafana_dashboard_provider()["providers"]
    assert provider["type"] == "file" and provider["folder"] == "erpstack"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert (provider["allowUiUpdates"], provider["disableDeletion"]) == (False, True)


def test_both_documents_together():
    assert grafana_provisioning(True, "30s") == {"datasources": grafana_datasources(True, "30s"),
                                                 "dashboards": grafana_dashboard_provider()}


@pytest.mark.parametrize("args, message", [
    (("yes",), "loki_enabled must be true or false, not 'yes'"),
    ((None,), "loki_enabled must be true or false, not None"),
    ((True, "30 seconds"), "scrape_interval '30 seconds' is not a Prometheus duration"),
    ((True, ""), "scrape_interval '' is not a Prometheus duration"),
])
def test_refusals(args, message):
    with pytest.raises(BenchSpecError, match=message):
        grafana_provisioning(*args)


def test_the_filter_reports_refusals_as_filter_errors():
    grafana = FilterModule().filters()["grafana_provisioning"]
    assert grafana(False)["datasources"] == grafana_datasources(False)
    with pytest.raises(AnsibleFilterError, match="monitoring grafana: loki_enabled must be true or false"):
        grafana("loki")
