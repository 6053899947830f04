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
