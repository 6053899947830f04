# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pytest plugin of the Molecule scenarios' testinfra tests (.config/molecule/config.yml loads it with -p).

- ``host`` runs each test on every target of one inventory group: ``erpnext``, or the group named by
  ``ERPSTACK_TESTINFRA_GROUP`` (a scenario's verifier env).
- When a test fails, the state of every compose project on its target (``docker compose ps`` and the last log
  lines) is printed under the failure, so a red verify says why without a second run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

import pytest

BASE_DIR = "/opt/erpstack"


def wait_for(check, timeout=90, interval=2):
    """Call ``check`` until it returns a true value or ``timeout`` seconds passed; return its last value."""
    deadline = time.time() + timeout
    while True:
        value = check()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


def pytest_configure(config):
    # testinfra's own plugin parametrizes `host` over --hosts, every inventory host when it is not given: the
    # group is given as --hosts (a second parametrization of `host` would be ignored by testinfra's fixture)
    if getattr(config.option, "hosts", None) is None:
        config.option.hosts = "ansible://" + (os.environ.get("ERPSTACK_TESTINFRA_GROUP") or "erpnext")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(autouse=True)
def compose_state_on_failure(request):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is None or not report.failed or "host" not in request.fixturenames:
        return
    host = request.getfixturevalue("host")
    projects = host.run("ls -d %s/*/compose.yaml 2>/dev/null" % BASE_DIR).stdout.split()
    for compose_file in projects:
        project = os.path.dirname(compose_file)
        ps = host.run("docker compose --project-directory %s ps --all" % project)
        logs = host.run("docker compose --project-directory %s logs --no-color --tail 20" % project)
        print("\n--- %s: docker compose ps ---\n%s\n--- %s: docker compose logs ---\n%s"
              % (project, ps.stdout, project, logs.stdout))


def quote(text):
    """``text`` as one single-quoted shell word."""
    return "'" + text.replace("'", "'\"'\"'") + "'"
