# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the source's sites held (written by side_effect.yml), for the tests on the fresh server of the disaster
recovery."""

import json
import os

import pytest

# The tests run on the fresh server only: the inventory group `dr` (ERPSTACK_TESTINFRA_GROUP in molecule.yml)


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "truth.json")) as f:
        data = json.load(f)
    return [dict(site, records=data["records"][i], files=data["files"][i], encryption_key=data["encryption_keys"][i],
                 admin_password=data["admin_passwords"][i]) for i, site in enumerate(data["sites"])]
