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


# -- the host firewall, seen from a second host on the target's network ------------------------------------------------
PROBE_IMAGE = "erpstack-test/debian:bookworm"
# Ports a mistake would expose: the bench's services, the monitoring stack, Traefik's internal entrypoint, Pebble's
# API and the development mode's servers and debuggers
WELL_KNOWN_PORTS = (22, 80, 443, 3000, 3100, 3306, 5678, 5679, 6379, 6787, 8000, 8080, 8081, 8082, 9000, 9090, 9093,
                    9100, 9104, 9121, 9115, 12345, 14000, 15000)


def _docker(*argv):
    import subprocess
    return subprocess.run(["docker"] + list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True,
                          universal_newlines=True).stdout


def target_network(container):
    """(network name, address) of a Molecule target, as another container on its network sees it."""
    import json
    networks = json.loads(_docker("inspect", "--format", "{{json .NetworkSettings.Networks}}", container))
    name, settings = sorted(networks.items())[0]
    return name, settings["IPAddress"]


def exposed_ports(host):
    """The target's TCP ports worth probing: every listening socket not on the loopback (from /proc, as ss reads it),
    every port Docker publishes on it, and the well-known ones."""
    ports = set(WELL_KNOWN_PORTS)
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in host.file(table).content_string.splitlines()[1:]:
            fields = line.split()
            address, port = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and address not in ("0100007F", "00000000000000000000000001000000"):
                ports.add(int(port, 16))
    for line in host.run("docker ps --format '{{.Ports}}'").stdout.splitlines():
        for mapping in line.split(", "):
            if "->" in mapping:
                ports.add(int(mapping.split("->")[0].rsplit(":", 1)[1].split("-")[0]))
    return sorted(ports)


def probe_ports(container, ports, timeout=3):
    """Which of ``ports`` a second host on the target's network can open a TCP connection to: {port: True/False}."""
    network, address = target_network(container)
    script = ('for p in %s; do (if timeout %d bash -c "exec 3<>/dev/tcp/%s/$p" 2>/dev/null; then echo "$p open"; '
              'else echo "$p closed"; fi) & done; wait' % (" ".join(str(p) for p in ports), timeout, address))
    out = _docker("run", "--rm", "--network", network, PROBE_IMAGE, "bash", "-c", script)
    return dict((int(port), state == "open") for port, state in (line.split() for line in out.splitlines()))
