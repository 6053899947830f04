# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/show_secret.yml prints a secret only when asked explicitly."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VALUE = "Zq3-not-a-real-password-9f1"


def run(tmp_path, *extra, env_extra=None):
    bench = tmp_path / "opt" / "erpnext"
    (bench / "secrets").mkdir(parents=True, exist_ok=True)
    (bench / "secrets" / "admin_password.erp.example.com").write_text(VALUE)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("erpnext:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS),
               ANSIBLE_BECOME="false",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    env.pop("AWX_ISOLATED_DATA_DIR", None)
    env.update(env_extra or {})
    argv = [os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", str(inventory), "-vvv",
            "-e", "ansible_python_interpreter=" + sys.executable, "-e", "ansible_become=false",
            "-e", "erpnext_base_dir=" + str(tmp_path / "opt"), os.path.join(ROOT, "playbooks", "show_secret.yml")]
    return subprocess.run(argv + list(extra), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=120, check=False)


@pytest.mark.parametrize("extra", [
    [],
    ["-e", "secret=admin_password.erp.example.com"],
    ["-e", "secret=admin_password.erp.example.com", "-e", "reveal=false"],
])
def test_nothing_is_printed_without_an_explicit_request(tmp_path, extra):
    result = run(tmp_path, *extra)
    assert result.returncode != 0
    assert "confirm with -e reveal=true" in result.stdout
    assert VALUE not in result.stdout


def test_the_secret_is_printed_on_request(tmp_path):
    result = run(tmp_path, "-e", "secret=admin_password.erp.example.com", "-e", "reveal=true")
    assert result.returncode == 0, result.stdout
    assert "admin_password.erp.example.com on localhost: " + VALUE in result.stdout
    assert result.stdout.count(VALUE) == 1, "printed more than once (the read must stay no_log)"


@pytest.mark.parametrize("extra, env", [
    (["-e", "awx_job_id=42"], {}),
    (["-e", "tower_job_id=42"], {}),
    ([], {"AWX_ISOLATED_DATA_DIR": "/runner/artifacts/42"}),
])
def test_an_awx_or_ansible_runner_job_never_gets_the_secret_in_its_output(tmp_path, extra, env):
    result = run(tmp_path, "-e", "secret=admin_password.erp.example.com", "-e", "reveal=true", *extra, env_extra=env)
    assert result.returncode != 0
    assert "This run is an AWX (or ansible-runner) job" in result.stdout
    assert VALUE not in result.stdout
