# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fresh server of the disaster recovery, and what the source's sites held (written by side_effect.yml)."""

import json
import os

import pytest
import testinfra

DR_HOST = "erpstack-backup_restore-dr"


@pytest.fixture(scope="module")
def host():
    return testinfra.get_host("ansible://" + DR_HOST, ansible_inventory=os.environ["MOLECULE_INVENTORY_FILE"])


@pytest.fixture(scope="module")
def truth():
    with open(os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "truth.json")) as f:
        data = json.load(f)
    return [dict(site, records=data["records"][i], files=data["files"][i], encryption_key=data["encryption_keys"][i],
                 admin_password=data["admin_passwords"][i]) for i, site in enumerate(data["sites"])]
