# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/upgrade.yml refuses, in its first play and before any change, a canary that is no site, a downgrade and
a target that names no exact release, each with the bench or the option named. The host's running images come from a
`docker` stand-in on PATH that answers `docker ps` as a host running the given image would."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest
import yaml

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS, ROOT

SITES = {"erpnext_sites": [{"name": "erp.example.net", "apps": ["erpnext"]}], "erpnext_proxy": "none",
         "erpstack_monitoring": False,
         "erpnext_frontend_published": [{"host_ip": "127.0.0.1", "port": 8080}]}

CASES = {
    "a canary that is no site": (
        "erpstack-test/erpnext:v16.32.3", {"erpnext_version": "v16.33.0"}, ["-e", "canary=nosuch.example.net"],
        "-e canary=nosuch.example.net names no site of the inventory"),
    "a downgrade": (
        "erpstack-test/erpnext:v16.33.0", {"erpnext_version": "v16.32.3"}, [],
        "bench erpnext runs erpstack-test/erpnext:v16.33.0 and the inventory asks for erpstack-test/erpnext:v16.32.3:"
        " Frappe has no reverse migration, so a downgrade is refused"),
    "a major downgrade": (
        "erpstack-test/erpnext:v16.32.3", {"erpnext_version": "v15.85.1"}, [], "so a downgrade is refused"),
    "a floating target tag": (
        "erpstack-test/erpnext:v16.32.3", {"erpnext_version": "v16"}, [],
        "erpnext_version: the image tag v16 names no exact release"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    results = {}
    for name, (running, variables, extra, _message) in CASES.items():
        tmp = tmp_path_factory.mktemp("upgrade")
        bindir = tmp / "bin"
        bindir.mkdir()
        docker = bindir / "docker"
        # `docker ps --all --format "erpnext {{.Image}}" --filter ...`: the bench's backend runs RUNNING
        docker.write_text('#!/bin/sh\n[ "$1" = ps ] && printf "%%s\\n" "erpnext %s"\nexit 0\n' % running)
        docker.chmod(0o755)
        inventory = tmp / "inventory.yml"
        host = dict(SITES, ansible_connection="local", ansible_python_interpreter=sys.executable,
                    erpnext_image="erpstack-test/erpnext", **variables)
        inventory.write_text(yaml.safe_dump({"erpnext": {"hosts": {"localhost": host}}}))
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
                   ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS),
                   PATH=os.pathsep.join([str(bindir), os.environ.get("PATH", "")]))
        proc = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", str(inventory),
                               "playbooks/upgrade.yml"] + extra, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, universal_newlines=True, timeout=300, check=False)
        results[name] = proc
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_first_play_refuses_it_before_any_change(outcomes, case):
    proc = outcomes[case]
    assert proc.returncode != 0, proc.stdout[-3000:]
    # the YAML callback of ansible-core 2.16 doubles an apostrophe inside a quoted message
    assert CASES[case][3] in " ".join(proc.stdout.replace("''", "'").split()), proc.stdout[-3000:]
    # the refusal came in the first play: no later play started
    assert "PLAY [Upgrade the canary's bench first]" not in proc.stdout
    assert "Traceback" not in proc.stdout
