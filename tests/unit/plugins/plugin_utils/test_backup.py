# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""backup_bench: a bench of the erpnext plan -> the backup tool's description of it; refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.backup import (
    BackupSpecError,
    backup_bench,
)

DEFAULTS = {
    "base_dir": "/opt/erpstack/", "method": "logical", "incremental": "True", "full_every_days": "7",
    "on_calendar": "*-*-* 02:30:00", "cron": "30 2 * * *", "enabled": True,
    "erpnext_image": "frappe/erpnext", "erpnext_version": "v16.32.3", "mariadb_image": "mariadb:11.8.3",
    "db_prefix": "erp", "db_admin_user": "erpstack_admin", "db_backup_user": "erpstack_backup",
    "db_accounts": {"erpstack_admin": "db_admin_password", "erpstack_backup": "db_backup_password"},
}
BENCH = {"name": "beta", "network_subnet": "172.30.11.0/24", "version": "v15.85.1",
         "sites": [{"name": "a.example.com", "state": "present"}, {"name": "old.example.com", "state": "absent"}]}


def test_a_bench_with_the_role_wide_settings():
    assert backup_bench(BENCH, DEFAULTS) == {
        "enabled": True, "method": "logical", "incremental": True, "full_every_days": 7,
        "on_calendar": "*-*-* 02:30:00", "cron": "30 2 * * *", "project_dir": "/opt/erpstack/beta",
        "sites": ["a.example.com"],
        "images": {"erpnext": "frappe/erpnext:v15.85.1", "mariadb": "mariadb:11.8.3"},
        "db_scope": "172.30.11.%", "db_prefix": "erp", "db_admin_user": "erpstack_admin",
        "db_backup_user": "erpstack_backup",
        "db_accounts": {"erpstack_admin": "db_admin_password", "erpstack_backup": "db_backup_password"},
    }


def test_overrides_of_one_bench():
    spec = backup_bench(BENCH, DEFAULTS, {"beta": {"method": "physical", "incremental": "no", "cron": "@daily"},
                                          "other": {"enabled": False}})
    assert (spec["method"], spec["incremental"], spec["cron"], spec["enabled"]) == ("physical", False, "@daily", True)


def test_a_bench_without_a_version_runs_the_default_one():
    assert backup_bench(dict(BENCH, version=None), DEFAULTS)["images"]["erpnext"] == "frappe/erpnext:v16.32.3"


@pytest.mark.parametrize("override, message", [
    ({"method": "snapshot"}, "backup_benches.beta: method must be one of logical, physical, not 'snapshot'"),
    ({"cron": "every night"}, "backup_benches.beta: cron: 'every night' has 2 fields; cron wants five"),
    ({"cron": "30 25 * * *"}, "backup_benches.beta: cron: hour: '25' is not a value from 0 to 23"),
    ({"full_every_days": 0}, "backup_benches.beta: full_every_days must be at least 1, not 0"),
    ({"full_every_days": "weekly"}, "backup_benches.beta: full_every_days must be a whole number, not 'weekly'"),
    ({"incremental": "maybe"}, "backup_benches.beta: incremental must be a boolean, not 'maybe'"),
    ({"on_calendar": " "}, "backup_benches.beta: on_calendar must not be empty"),
    ({"keep": 3}, "backup_benches.beta has unknown keys keep"),
])
def test_refusals(override, message):
    with pytest.raises(BackupSpecError) as err:
        backup_bench(BENCH, DEFAULTS, {"beta": override})
    assert message in str(err.value)
