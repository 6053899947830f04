# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup role's settings checks: bad input is refused with a clear message before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from _preflight import check_outcome, run_preflight

# The benches of the inventory: the plan (erpstack.erpnext.deployment) gives each its backup settings
ERPNEXT = {
    "erpnext_benches": [
        {"name": "alpha", "sites": [{"name": "erp.example.com"}]},
        {"name": "beta", "network_subnet": "172.30.11.0/24", "version": "v15.85.1", "sites": []},
    ],
}
S3 = {"backup_restic_repository": "s3:https://s3.example.com/bucket/erp",
      "backup_restic_env": {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-from-the-vault"}}


def case(**extra):
    return dict(ERPNEXT, **extra)


# name -> (role variables, None when the checks must pass, else a piece of their message)
CASES = {
    "defaults pass": (case(), None),
    "S3 with credentials passes": (case(**S3), None),
    "physical bench passes": (case(backup_benches={"beta": {"method": "physical", "full_every_days": 3}}), None),
    "cron scheduler passes": (case(backup_scheduler="cron"), None),
    "unknown scheduler": (case(backup_scheduler="anacron"), "backup_scheduler must be one of systemd, cron, none (got 'anacron')"),
    "unknown method": (case(backup_method="snapshot"), "backup_method must be one of logical, physical (got 'snapshot')"),
    "keep no daily set": (case(backup_keep_daily=0), "backup_keep_daily must be a whole number of at least 1"),
    "override for a bench that does not exist": (
        case(backup_benches={"gamma": {"method": "physical"}}), "backup_benches names no bench of the plan: gamma"),
    "unknown override key": (case(backup_benches={"beta": {"schedule": "daily"}}),
                             "backup_benches.beta has no key 'schedule'; its keys are cron, enabled"),
    "unknown method for one bench": (case(backup_benches={"beta": {"method": "copy"}}),
                                     "backup_benches.beta.method must be one of logical, physical (got 'copy')"),
    "cron schedule with four fields": (case(backup_benches={"alpha": {"cron": "30 2 * *"}}),
                                       "backup_benches.alpha: cron: '30 2 * *' has 4 fields; cron wants five"),
    "full backups never": (case(backup_benches={"beta": {"full_every_days": 0}}), "full_every_days must be at least 1"),
    "S3 without credentials": (case(backup_restic_repository="s3:https://s3.example.com/bucket"),
                               "needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
    "unknown repository kind": (case(backup_restic_repository="ftp://user:pa55word@nas/backups"),
                                "backup_restic_repository must start with"),
    "credential names must be variables": (
        case(backup_restic_repository="/mnt/nas/restic", backup_restic_env={"aws key": "x"}),
        "backup_restic_env keys must be environment variable names"),
    "password without a repository": (case(backup_restic_password="correct horse"),
                                      "backup_restic_password is set but backup_restic_repository is empty"),
    # a host fact, not a variable (FACTS below)
    "systemd timers without systemd": (case(), "backup_scheduler is systemd but"),
}

# host facts a case changes (the preflight reads ansible_facts, which set_fact with cacheable=True fills)
FACTS = {"systemd timers without systemd": {"ansible_service_mgr": "sysvinit"}}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cases = {name: (FACTS.get(name, {}), role_vars) for name, (role_vars, _msg) in CASES.items()}
    return run_preflight("backup", cases, {"ansible_service_mgr": "systemd"},
                         tmp_path_factory.mktemp("backup_preflight"),
                         {"traefik_acme_email": "ops@erpstack-test.net", "erpstack_monitoring": False})


@pytest.mark.parametrize("name", sorted(CASES))
def test_preflight(outcomes, name):
    check_outcome(outcomes[name], CASES[name][1])


def test_no_credential_in_any_refusal(outcomes):
    leaked = [name for name, outcome in outcomes.items() if "s3cr3t-from-the-vault" in outcome or "pa55word" in outcome]
    assert not leaked
