# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared testinfra helpers: the bench's compose project on the target, and its logs when a check fails."""

import json
import os

import pytest
import testinfra.utils.ansible_runner

PROJECT_DIR = "/opt/erpstack/erpnext"
BENCH = "erpnext"


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
def compose_logs_on_failure(request, host):
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ps = host.run("docker compose --project-directory %s ps --all" % PROJECT_DIR)
        logs = host.run("docker compose --project-directory %s logs --no-color --tail 30" % PROJECT_DIR)
        print("\n--- docker compose ps ---\n%s\n--- docker compose logs ---\n%s" % (ps.stdout, logs.stdout))


class Bench(object):
    def __init__(self, host):
        self.host = host

    def compose(self, *args, **kwargs):
        cmd = "docker compose --project-directory %s " % PROJECT_DIR + " ".join(args)
        return self.host.run_expect([0], cmd) if kwargs.get("check", True) else self.host.run(cmd)

    def bench(self, *args):
        return self.compose("exec -T -u frappe backend", *args)

    def sql(self, statement):
        """Run SQL as root inside the db container; the password goes through a 0600 file, never argv."""
        script = (
            "umask 077; f=$(mktemp); "
            "printf '[client]\\nuser=root\\npassword=\"%s\"\\n' \"$(cat /run/secrets/db_root_password)\" > $f; "
            "mariadb --defaults-extra-file=$f -N -B; rc=$?; rm -f $f; exit $rc"
        )
        cmd = "docker compose --project-directory %s exec -T db bash -c %s" % (PROJECT_DIR, _quote(script))
        result = self.host.run("printf '%%s' %s | %s" % (_quote(statement), cmd))
        assert result.rc == 0, result.stderr
        return result.stdout

    def sql_as(self, user, secret, statement, container="backend", host="db"):
        """Run SQL as USER from CONTAINER (on the bench network); the password comes from a secret file, or a
        dict value, through stdin into a client option file, never argv. Returns the CommandResult."""
        if isinstance(secret, dict):
            password_cmd = "printf '%%s' %s" % _quote(secret["value"])
        else:
            password_cmd = "cat %s/secrets/%s" % (PROJECT_DIR, secret)
        options = "{ printf '[client]\\nuser=%s\\nhost=%s\\npassword=\"'; %s; printf '\"\\n'; }" % (user, host, password_cmd)
        script = ('f=$(mktemp); cat > $f; mariadb --defaults-extra-file=$f -N -B -e %s; rc=$?; rm -f $f; exit $rc'
                  % _quote(statement))
        return self.host.run("%s | docker compose --project-directory %s exec -T %s bash -c %s"
                             % (options, PROJECT_DIR, container, _quote(script)))

    def site_config(self, site):
        return json.loads(self.bench("cat sites/%s/site_config.json" % site).stdout)

    def secret(self, name):
        return self.host.file("%s/secrets/%s" % (PROJECT_DIR, name)).content_string


def _quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"


@pytest.fixture
def bench(host):
    return Bench(host)
