# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus's HTTP API on the target (the targets and the logs of a failure: tests/harness/testinfra_erpstack.py)."""

import json

import pytest
from testinfra_erpstack import quote as _quote

MONITORING_DIR = "/opt/erpstack/monitoring"
BENCH_DIR = "/opt/erpstack/alpha"


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


@pytest.fixture
def prometheus(host):
    return Prometheus(host)
