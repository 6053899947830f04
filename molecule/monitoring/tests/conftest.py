# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared testinfra helpers: Prometheus's HTTP API on the target, and the stack's logs when a check fails."""

import json
import os

import pytest
import testinfra.utils.ansible_runner

MONITORING_DIR = "/opt/erpstack/monitoring"
BENCH_DIR = "/opt/erpstack/alpha"


def pytest_generate_tests(metafunc):
    if "host" in metafunc.fixturenames:
        hosts = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"]).get_hosts("erpnext")
        metafunc.parametrize("host", ["ansible://" + h for h in hosts], indirect=True)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(autouse=True)
def logs_on_failure(request, host):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ps = host.run("docker compose --project-directory %s ps --all" % MONITORING_DIR)
        logs = host.run("docker compose --project-directory %s logs --no-color --tail 30" % MONITORING_DIR)
        print("\n--- docker compose ps ---\n%s\n--- docker compose logs ---\n%s" % (ps.stdout, logs.stdout))


class Prometheus(object):
    """Prometheus's API on the target's loopback, where the role publishes it."""

    def __init__(self, host):
        self.host = host

    def get(self, path):
        out = self.host.run_expect([0], "curl -sS -m 10 'http://127.0.0.1:9090%s'" % path).stdout
        return json.loads(out)["data"]

    def query(self, expr):
        out = self.host.run_expect([0], "curl -sS -m 10 -G --data-urlencode %s http://127.0.0.1:9090/api/v1/query"
                                   % _quote("query=" + expr)).stdout
        return json.loads(out)["data"]["result"]


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


@pytest.fixture
def prometheus(host):
    return Prometheus(host)
