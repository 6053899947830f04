# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the sites held before, after the upgrade and after the rollback (written by side_effect.yml), and the upgrade
runs' output."""

import json
import os

import pytest

LOGS = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "tests", "output", "molecule-upgrade")


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "truth.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def run_log():
    def read(name):
        """The output with its whitespace collapsed: the YAML callback folds long messages across lines."""
        with open(os.path.join(LOGS, "upgrade-%s.log" % name)) as f:
            return " ".join(f.read().split())
    return read
