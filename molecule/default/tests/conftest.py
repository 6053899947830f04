# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench's compose project on the target (the targets and the logs of a failure: tests/harness/testinfra_erpstack.py)."""

import json

import pytest
from testinfra_erpstack import quote as _quote

PROJECT_DIR = "/opt/erpstack/erpnext"
BENCH = "erpnext"


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


@pytest.fixture
def bench(host):
    return Bench(host)
