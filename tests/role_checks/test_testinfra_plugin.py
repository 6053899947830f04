# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Molecule scenarios' testinfra plugin runs each test on the targets of one inventory group, and only there.

(backup_restore's verify ran on the source target as well as the fresh server when the group was a second
parametrization testinfra's own `host` fixture ignored: the destroyed source failed every test.)"""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

INVENTORY = """\
all:
  children:
    erpnext:
      hosts:
        source: {ansible_connection: docker}
        fresh: {ansible_connection: docker}
    dr:
      hosts:
        fresh:
    other:
      hosts:
        elsewhere: {ansible_connection: docker}
"""


@pytest.mark.parametrize("group, expected", [
    ("", ["ansible://fresh", "ansible://source"]),
    ("dr", ["ansible://fresh"]),
])
def test_tests_run_on_the_groups_targets_only(tmp_path, group, expected):
    (tmp_path / "inventory.yml").write_text(INVENTORY)
    (tmp_path / "test_probe.py").write_text("def test_probe(host):\n    pass\n")
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "tests", "harness"), ERPSTACK_TESTINFRA_GROUP=group,
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "testinfra_erpstack",
                          "--connection=ansible", "--ansible-inventory=inventory.yml", "--collect-only", "-q"],
                         cwd=str(tmp_path), env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    collected = sorted(line.split("[", 1)[1].rstrip("]") for line in out.stdout.splitlines() if "::" in line)
    assert collected == expected
