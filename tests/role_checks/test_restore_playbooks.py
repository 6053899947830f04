# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/restore.yml and restore_drill.yml refuse unclear requests before they touch anything.

The restore tool is replaced by a script that records its arguments, so what the playbooks would run is checked too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(tmp_path, playbook, hosts, *extra):
    tool = tmp_path / "erpstack-backup"
    tool.write_text('#!/bin/sh\necho "$@" >> %s\necho "erpstack-backup: done $1" >&2\n' % (tmp_path / "calls"))
    tool.chmod(0o755)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("erpnext:\n  hosts:\n" + "".join(
        "    %s:\n      ansible_connection: local\n" % host for host in hosts))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS),
               ANSIBLE_BECOME="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    argv = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", str(inventory),
            "-e", "ansible_python_interpreter=" + sys.executable, "-e", "ansible_become=false",
            "-e", "_tool=" + str(tool), os.path.join(ROOT, "playbooks", playbook)]
    result = subprocess.run(argv + list(extra), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    calls = (tmp_path / "calls").read_text().splitlines() if (tmp_path / "calls").exists() else []
    return result, calls


@pytest.mark.parametrize("extra, message", [
    ([], "Name the bench (-e bench=NAME) and the site"),
    (["-e", "bench=erpnext"], "Name the bench (-e bench=NAME) and the site"),
    (["-e", "bench=erpnext", "-e", "site=erp.example.com;rm"], "Given: bench=erpnext site=erp.example.com;rm"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", "set=yesterday"], "set=yesterday"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", "source=s3"], "source=s3"),
    (["-e", "bench=erpnext", "-e", "site=all", "--check"], "A restore replaces the sites' data; it has no check mode"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", "until='2999-01-01 00:00:00'"],
     "until must be a moment 'YYYY-MM-DD HH:MM:SS' (UTC) not in the future"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", "until=yesterday"], "Given: until=yesterday"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", '{"until": 5}'], "Given: until=5"),
    (["-e", "bench=erpnext", "-e", "site=all", "-e", "until=0-1-5", "-e", "set=20261201T000000Z"],
     "leave set out"),
])
def test_restore_refuses_unclear_requests(tmp_path, extra, message):
    result, calls = run(tmp_path, "restore.yml", ["localhost"], *extra)
    assert result.returncode != 0
    # the callback wraps long messages (where, depends on ansible-core's version) and doubles YAML's single quotes
    assert message in " ".join(result.stdout.replace("''", "'").split()), result.stdout
    assert calls == []


def test_restore_runs_on_one_host_only(tmp_path):
    result, calls = run(tmp_path, "restore.yml", ["erp1", "erp2"], "-e", "bench=erpnext", "-e", "site=all")
    assert result.returncode != 0
    assert "name the one host to restore on with -l HOST" in result.stdout
    assert calls == []


def test_restore_runs_the_tool_with_the_request(tmp_path):
    result, calls = run(tmp_path, "restore.yml", ["localhost"], "-e", "bench=erpnext", "-e", "site=all",
                        "-e", "source=offsite", "-e", "source_host=erp1", "-e", "safety_backup=false")
    assert result.returncode == 0, result.stdout
    assert calls == ["restore erpnext --site all --set latest --source offsite --source-host erp1 --no-safety-backup"]
    assert "erpstack-backup: done restore" in result.stdout


def test_restore_to_a_point_in_time_passes_until_to_the_tool(tmp_path):
    result, calls = run(tmp_path, "restore.yml", ["localhost"], "-e", "bench=erpnext", "-e", "site=all",
                        "-e", "until='2026-12-01 09:41:00'")
    assert result.returncode == 0, result.stdout
    assert calls == ["restore erpnext --site all --set latest --source auto --until 2026-12-01 09:41:00"]


def test_drill_runs_the_tool_for_the_named_bench(tmp_path):
    result, calls = run(tmp_path, "restore_drill.yml", ["localhost"], "-e", "bench=erpnext", "-e", "site=erp.example.com")
    assert result.returncode == 0, result.stdout
    assert calls == ["drill erpnext --set latest --source local --site erp.example.com"]
