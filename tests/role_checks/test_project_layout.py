# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The project runs as AWX runs it: every playbook finds the collection with ANSIBLE_COLLECTIONS_PATH empty."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import subprocess

import pytest

from _preflight import ANSIBLE_BIN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PLAYBOOKS = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "playbooks", "*.yml")))


@pytest.mark.parametrize("playbook", ["site.yml"] + PLAYBOOKS)
def test_each_playbook_finds_the_collection_without_a_collections_path(playbook, tmp_path):
    # an AWX job starts with no collections path of the project's: only the playbook-adjacent collections/ (here a
    # link back to the checkout) and what the execution environment installed
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH="", ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path), ANSIBLE_NOCOLOR="1")
    result = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "inventories/prod", "--syntax-check",
                             playbook], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.parametrize("playbook_dir", [".", "playbooks"])
def test_the_local_inventory_finds_the_compose_package_wherever_the_playbook_is(playbook_dir, tmp_path):
    # site.yml at the top and playbooks/site.yml have different playbook_dirs: the path must not depend on them
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_LOCAL_TEMP=str(tmp_path),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="0")
    result = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible"), "-i", "inventories/local", "erpnext",
                             "--playbook-dir", playbook_dir, "-m", "ansible.builtin.debug",
                             "-a", "var=docker_compose_plugin_deb",
                             "-e", '{"ansible_facts": {"distribution_release": "bookworm"}}'],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    output = result.stdout.decode()
    assert result.returncode == 0, output
    assert "docker_compose_plugin_deb: %s/.cache/debs/docker-compose-plugin.deb\n" % ROOT in output, output


def test_collections_requirements_list_every_collection_the_project_uses():
    # AWX's project update reads collections/requirements.yml: it must name every collection a playbook or role calls
    import re
    import yaml
    with open(os.path.join(ROOT, "collections", "requirements.yml")) as handle:
        listed = {c["name"] for c in yaml.safe_load(handle)["collections"]}
    used = set()
    for pattern in ("roles/**/*.yml", "playbooks/*.yml", "playbooks/tasks/*.yml"):
        for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
            with open(path) as handle:
                used.update(re.findall(r"\b((?:community|ansible|awx)\.[a-z_]+)\.[a-z_0-9]+\s*:", handle.read()))
    used -= {"ansible.builtin"}
    assert used and used <= listed, sorted(used - listed)
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        assert set(yaml.safe_load(handle)["dependencies"]) <= listed
