# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Upgrades that roll back by themselves: a minor and a major upgrade with every record intact, a broken release
rolled back to the old one with every record, a custom app added through the same flow, and a re-run that changes
nothing."""

import json
import re

import pytest

SITES = {"erp.example.test": ("alpha", 8080), "hr.example.test": ("alpha", 8080), "shop.example.test": ("beta", 8081)}


def recap(text):
    """The PLAY RECAP line of the target in an ansible-playbook output."""
    lines = re.findall(r"erpstack-upgrade : (ok=[0-9]+ changed=[0-9]+ unreachable=[0-9]+ failed=[0-9]+ skipped=[0-9]+"
                       r" rescued=[0-9]+ ignored=[0-9]+)", text)
    assert lines, text[-2000:]
    return dict(item.split("=") for item in lines[-1].split())


def test_the_check_run_printed_the_plan_and_changed_nothing(run_log):
    text = run_log("check")
    assert "Bench alpha: erpstack-test/erpnext:v16.32.3 → erpstack-test/erpnext:v16.33.0" in text
    assert "Bench beta: erpstack-test/erpnext:v15.85.1 → erpstack-test/erpnext:v16.32.3 (major upgrade" in text
    assert "sites: erp.example.test, hr.example.test" in text


def test_the_canary_went_first(run_log):
    text = run_log("minor-major")
    canary = text.index("PLAY [Upgrade the canary's bench first]")
    rest = text.index("PLAY [Upgrade every bench, one host at a time]")
    assert canary < text.index("Bench alpha: erpstack-test/erpnext:v16.32.3") < rest
    assert canary < rest < text.index("Bench beta: erpstack-test/erpnext:v15.85.1")
    assert recap(text)["failed"] == "0"


@pytest.mark.parametrize("site, version, column", [
    ("erp.example.test", "16.33.0", "reference_note"),
    ("hr.example.test", "16.33.0", "reference_note"),
    ("shop.example.test", "16.32.3", "color"),
])
def test_the_upgrade_migrated_every_site_with_its_records_intact(truth, site, version, column):
    before, after = truth["before"][site], truth["upgraded"][site]
    assert before["frappe"] != version and after["frappe"] == version
    assert column not in before["columns"] and column in after["columns"]
    assert len(before["records"]) >= 12 and after["records"] == before["records"]


@pytest.mark.parametrize("site, version", [
    ("erp.example.test", "16.33.0"), ("hr.example.test", "16.33.0"),  # physical backup, files copied back
    ("shop.example.test", "16.32.3"),                                   # logical backup, each dump restored
])
def test_the_broken_release_was_rolled_back_with_every_record(truth, site, version):
    upgraded, rolled_back = truth["upgraded"][site], truth["rolled_back"][site]
    assert rolled_back["frappe"] == version
    assert rolled_back["records"] == upgraded["records"]
    # the failed migration's DDL and data are gone with the restore
    assert rolled_back["columns"] == upgraded["columns"] and "priority_rank" not in rolled_back["columns"]


def test_the_failure_was_reported_in_one_line_with_the_logs(run_log):
    text = run_log("broken")
    assert recap(text)["failed"] == "1"
    match = re.search(r"The upgrade of bench alpha to erpstack-test/erpnext:v16\.34\.0 failed and was rolled back.*?"
                      r"migrate-SITE\.log", text)
    assert match, text[-3000:]
    assert "Unknown column 'priority_weight'" in match.group(0)
    assert "/opt/erpstack/alpha/upgrade/16.34.0/migrate-SITE.log" in match.group(0)


@pytest.mark.parametrize("name, bench, backup, restore", [
    ("broken", "alpha", "Back up the bench's database server before the switch (mariadb-backup, prepared)",
     "Put the database server's files back from the pre-upgrade backup (mariadb-backup --copy-back)"),
    ("broken-logical", "beta", "Back up every site before the switch",
     "Restore each site's database from its pre-upgrade dump"),
])
def test_each_rollback_used_the_bench_backup_method(run_log, name, bench, backup, restore):
    text = run_log(name)
    assert recap(text)["failed"] == "1"
    assert "The upgrade of bench %s to erpstack-test/erpnext:v16.34.0 failed and was rolled back" % bench in text
    for task in (backup, restore):
        start = text.index("TASK [erpstack.erpnext.erpnext : %s]" % task)
        output = text[start:text.index("TASK [", start + 1)]
        assert "changed: [erpstack-upgrade]" in output, output[:2000]


def test_the_physical_backup_is_kept_prepared(host):
    assert host.file("/opt/erpstack/alpha/upgrade/16.34.0/physical/data/xtrabackup_checkpoints").exists
    # prepared at backup time: MariaDB 10.11's mariadb-backup marks a prepared full backup "log-applied"
    checkpoints = host.file("/opt/erpstack/alpha/upgrade/16.34.0/physical/data/xtrabackup_checkpoints").content_string
    assert re.search(r"^backup_type = (log-applied|full-prepared)$", checkpoints, re.M), checkpoints
    assert host.file("/opt/erpstack/alpha/upgrade/16.34.0/physical").mode == 0o700


def test_the_failed_migration_log_is_kept(host):
    log = host.file("/opt/erpstack/alpha/upgrade/16.34.0/migrate-erp.example.test.log")
    assert log.exists and log.mode == 0o600
    assert "Unknown column 'priority_weight'" in log.content_string


def test_no_upgrade_state_is_left(host):
    assert not host.file("/opt/erpstack/alpha/upgrade/state.json").exists
    assert not host.file("/opt/erpstack/beta/upgrade/state.json").exists


@pytest.mark.parametrize("site", sorted(SITES))
def test_every_site_answers_out_of_maintenance(host, site):
    bench, port = SITES[site]
    out = host.check_output("curl -sS -m 20 -H 'Host: %s' http://127.0.0.1:%s/api/method/ping", site, str(port))
    assert json.loads(out) == {"message": "pong"}
    config = json.loads(host.check_output(
        "docker compose --project-directory /opt/erpstack/%s exec -T backend cat sites/%s/site_config.json",
        bench, site))
    assert not config.get("maintenance_mode") and not config.get("pause_scheduler")


def test_alpha_runs_its_own_image_of_the_release_it_ran_before_the_broken_upgrade(host):
    image = host.check_output("docker inspect --format '{{.Config.Image}}' alpha-backend-1")
    assert re.match(r"^erpstack/erpnext-apps:v16\.33\.0-[0-9a-f]{12}$", image), image
    labels = json.loads(host.check_output("docker image inspect --format '{{json .Config.Labels}}' %s", image))
    assert labels["io.erpstack.base"] == "erpstack-test/erpnext:v16.33.0"
    assert labels["io.erpstack.apps"] == "erpstack_notes@v1.0.0"
    containerfile = host.file("/opt/erpstack/alpha/build/Containerfile").content_string
    assert "bench get-app --branch='v1.0.0' 'git://" in containerfile


def test_the_app_was_added_through_the_upgrade_flow(run_log):
    text = run_log("apps")
    assert "(new set of apps on Frappe 16.33.0: erpstack_notes)" in text
    assert "TASK [erpstack.erpnext.erpnext : Back up every site before the switch]" in text
    assert "TASK [erpstack.erpnext.erpnext : Install each site's apps that the new image brings]" in text
    assert recap(text)["failed"] == "0"


def test_the_app_is_installed_on_the_site_that_lists_it_only(truth):
    with_app = truth["with_app"]
    assert with_app["hr.example.test"]["apps"] == ["frappe", "erpstack_notes"]
    assert with_app["erp.example.test"]["apps"] == ["frappe", "erpnext"]
    for site in ("erp.example.test", "hr.example.test"):
        assert with_app[site]["records"] == truth["rolled_back"][site]["records"]
        assert with_app[site]["frappe"] == "16.33.0"


def test_the_frontend_serves_the_app_bundle(host):
    manifest = json.loads(host.check_output(
        "docker compose --project-directory /opt/erpstack/alpha exec -T frontend cat sites/assets/assets.json"))
    bundle = manifest["notes.bundle.js"]
    assert re.match(r"^/assets/erpstack_notes/dist/js/notes\.bundle\.[0-9A-F]{8}\.js$", bundle)
    out = host.check_output("curl -sS -m 20 -H 'Host: hr.example.test' http://127.0.0.1:8080%s", bundle)
    assert 'erpstack_notes.version = "1.0.0"' in out


def test_the_rerun_changed_nothing(run_log):
    summary = recap(run_log("again"))
    assert summary["changed"] == "0" and summary["failed"] == "0"
