# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/inventory.md is what scripts/inventory-doc.py generates from the schema (run `make docs` after a change)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_the_inventory_reference_is_generated_from_the_current_schema():
    generated = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "inventory-doc.py")], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True)
    with open(os.path.join(ROOT, "docs", "inventory.md")) as handle:
        assert handle.read() == generated.stdout, "docs/inventory.md is stale: run make docs"


def test_every_option_of_every_role_is_in_the_reference():
    sys.path.insert(0, os.path.join(ROOT, "collections"))
    from ansible_collections.erpstack.erpnext.plugins.plugin_utils import schema

    with open(os.path.join(ROOT, "docs", "inventory.md")) as handle:
        text = handle.read()
    for name in schema.load_options(ROOT):
        assert "| `%s` |" % name in text, name
