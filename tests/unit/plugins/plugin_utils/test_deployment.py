# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment plan as a pure function: the roles' defaults and an inventory in, the whole host out."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import os

import pytest
import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.deployment import PlanError, deployment_plan

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
FACTS = {"memtotal_mb": 15990, "processor_vcpus": 4, "inventory_hostname": "erp1.example.com",
         "managed_header": "#\n# Ansible managed\n#"}
SECRETS = {
    "backup_restic_password": "restic-secret-value-1",
    "backup_restic_env": {"AWS_ACCESS_KEY_ID": "key-id-secret-2", "AWS_SECRET_ACCESS_KEY": "secret-key-3"},
    "monitoring_smtp_auth_password": "smtp-secret-value-4",
}


def _defaults():
    """The roles' defaults, with their few templated values resolved as Ansible would for this host."""
    variables = {}
    for role in ("erpnext", "backup", "traefik", "monitoring", "swarm"):
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
            variables.update(yaml.safe_load(handle))
    variables.update(erpnext_proxy_network="traefik-public", erpnext_tls_resolver="letsencrypt",
                     backup_restic_host="erp1.example.com", erpstack_monitoring=True)
    return variables


def inventory(**extra):
    variables = _defaults()
    variables.update(traefik_acme_email="ops@erpstack-test.net", monitoring_grafana_host="grafana.example.com",
                     backup_restic_repository="s3:https://s3.example.com/erp")
    variables.update(SECRETS)
    variables["erpnext_benches"] = [
        {"name": "main", "sites": [
            {"name": "erp.example.com", "apps": ["erpnext"], "admin_password": "admin-secret-value-5"},
            {"name": "old.example.com", "state": "absent"}]},
        {"name": "shop", "network_subnet": "172.30.11.0/24", "sites": [{"name": "shop.example.com"}]},
    ]
    variables.update(extra)
    return variables


def test_the_plan_describes_every_bench_and_stack():
    plan = deployment_plan(inventory(), FACTS)
    assert [b["name"] for b in plan["benches"]] == ["main", "shop"]
    main = plan["benches"][0]
    assert main["project_dir"] == "/opt/erpstack/main"
    assert [s["name"] for s in main["sites_present"]] == ["erp.example.com"]
    assert [s["name"] for s in main["sites_absent"]] == ["old.example.com"]
    assert main["db_scope"] == "172.30.10.%"
    assert main["check_url"] == "https://127.0.0.1:443"
    assert "db_password.erp.example.com" in main["rotatable"]
    assert "admin_password.erp.example.com" not in main["rotatable"]  # supplied, so not generated nor rotated
    assert sorted(plan["backup"]["enabled_benches"]) == ["main", "shop"]
    assert plan["traefik"]["image"] == "traefik:v3.7.15"
    assert "prometheus" in plan["monitoring"] and plan["monitoring"]["images_needed"]
    assert plan["memory"]["shared_mb"] > 256
    assert sum(plan["memory"]["benches_mb"].values()) + plan["memory"]["shared_mb"] < FACTS["memtotal_mb"]


def test_the_db_container_label_is_the_hash_of_the_mariadb_file_it_mounts():
    main = deployment_plan(inventory(), FACTS)["benches"][0]
    label = main["compose"]["services"]["db"]["labels"]["com.erpstack.config-hash"]
    assert label == hashlib.sha256(main["mariadb"]["cnf"].encode()).hexdigest()
    assert main["mariadb"]["cnf"].startswith("#\n# Ansible managed\n#\n")
    assert "innodb_buffer_pool_size = " in main["mariadb"]["cnf"]


def test_the_plan_carries_no_secret_value():
    text = json.dumps(deployment_plan(inventory(), FACTS))
    leaked = [value for value in ("restic-secret-value-1", "key-id-secret-2", "secret-key-3", "smtp-secret-value-4",
                                  "admin-secret-value-5") if value in text]
    assert leaked == []
    # the control: the inventory does hold them, and the environment's names reach the plan
    assert "AWS_SECRET_ACCESS_KEY" in text


def test_the_plan_is_pure():
    variables = inventory()
    before = copy.deepcopy(variables)
    assert deployment_plan(variables, FACTS) == deployment_plan(variables, FACTS)
    assert variables == before


def test_switched_off_stacks_have_no_part():
    # without Traefik the action leaves its variables out, so erpnext_tls_resolver falls back to ""
    plan = deployment_plan(inventory(erpnext_proxy="none", erpstack_monitoring=False, erpnext_tls_resolver="",
                                     erpnext_frontend_published=[{"host_ip": "127.0.0.1", "port": 8080}]), FACTS)
    assert plan["traefik"] is None and plan["monitoring"] is None
    assert plan["benches"][0]["check_url"] == "http://127.0.0.1:8080"
    assert "proxy" not in plan["benches"][0]["compose"]["networks"]


def test_backup_settings_report_every_problem_at_once():
    with pytest.raises(PlanError) as error:
        deployment_plan(inventory(backup_method="snapshot", backup_keep_daily=0,
                                  backup_restic_repository="ftp://user:p/w@ho:st/x", backup_benches={"nope": {}}), FACTS)
    message = str(error.value)
    assert message.startswith("Backup settings: ")
    for part in ("backup_method must be logical or physical, not snapshot", "backup_keep_daily must be a whole number",
                 "backup_benches names no bench of the plan: nope",
                 "backup_restic_repository must start with s3:http(s)://, sftp:, rest:http(s):// or / (the value is not "
                 "shown: it may carry credentials)"):
        assert part in message
    # no piece of the repository, whose password holds a '/'
    for piece in ("ftp://", "user", "p/w", "w@ho", "ho:st", "st/x"):
        assert piece not in message


def test_an_unpinned_traefik_image_is_refused_with_the_variable_to_fix():
    with pytest.raises(PlanError, match=r"Invalid Traefik settings: the image must be pinned .* \(got traefik:latest\)"):
        deployment_plan(inventory(traefik_version="latest"), FACTS)


def test_grafana_needs_a_host_name_no_site_uses():
    with pytest.raises(PlanError, match="monitoring_grafana_host erp.example.com is also a domain of site"):
        deployment_plan(inventory(monitoring_grafana_host="erp.example.com"), FACTS)


def test_a_host_too_small_for_its_benches_names_the_budget():
    with pytest.raises(PlanError, match="^sizing: .*Budget per service"):
        deployment_plan(inventory(erpnext_sizing_profile="large"), dict(FACTS, memtotal_mb=4096))


def test_the_backup_timers_follow_the_scheduler_and_the_enabled_benches():
    plan = deployment_plan(inventory(backup_benches={"shop": {"on_calendar": "*-*-* 03:15:00"}},
                                     backup_drill_on_calendar="Sun *-*-* 05:00:00"), FACTS)
    assert plan["backup"]["timers"] == [
        {"path": "/etc/systemd/system/erpstack-backup-main.timer", "template_vars": {"timer": {
            "bench": "main", "what": "backup", "on_calendar": _defaults()["backup_on_calendar"],
            "service": "erpstack-backup@main.service"}}},
        {"path": "/etc/systemd/system/erpstack-backup-shop.timer", "template_vars": {"timer": {
            "bench": "shop", "what": "backup", "on_calendar": "*-*-* 03:15:00",
            "service": "erpstack-backup@shop.service"}}},
        {"path": "/etc/systemd/system/erpstack-restore-drill-main.timer", "template_vars": {"timer": {
            "bench": "main", "what": "restore drill", "on_calendar": "Sun *-*-* 05:00:00",
            "service": "erpstack-restore-drill@main.service"}}},
        {"path": "/etc/systemd/system/erpstack-restore-drill-shop.timer", "template_vars": {"timer": {
            "bench": "shop", "what": "restore drill", "on_calendar": "Sun *-*-* 05:00:00",
            "service": "erpstack-restore-drill@shop.service"}}},
        {"path": "/etc/systemd/system/erpstack-binlog-main.timer", "template_vars": {"timer": {
            "bench": "main", "what": "binary-log shipping", "on_calendar": "*-*-* *:00/5:00",
            "service": "erpstack-binlog@main.service", "randomized_delay_sec": 0}}},
        {"path": "/etc/systemd/system/erpstack-binlog-shop.timer", "template_vars": {"timer": {
            "bench": "shop", "what": "binary-log shipping", "on_calendar": "*-*-* *:00/5:00",
            "service": "erpstack-binlog@shop.service", "randomized_delay_sec": 0}}},
    ]
    no_drill = deployment_plan(inventory(backup_drill_enabled=False, backup_benches={"shop": {"enabled": False}},
                                         backup_binlog_enabled=False), FACTS)
    assert [t["path"] for t in no_drill["backup"]["timers"]] == ["/etc/systemd/system/erpstack-backup-main.timer"]
    hourly = deployment_plan(inventory(backup_binlog_interval_minutes=60), FACTS)["backup"]["timers"]
    assert hourly[-1]["template_vars"]["timer"]["on_calendar"] == "*-*-* *:00:00"


def test_the_binary_log_is_on_for_compose_benches_and_shipped_at_the_interval():
    plan = deployment_plan(inventory(), FACTS)
    settings = plan["benches"][0]["mariadb"]["settings"]
    assert {k: settings[k] for k in ("log_bin", "binlog_format", "sync_binlog", "server_id")} == {
        "log_bin": "mariadb-bin", "binlog_format": "ROW", "sync_binlog": 1, "server_id": 1}
    assert "log_bin = mariadb-bin" in plan["benches"][0]["mariadb"]["cnf"]
    assert plan["backup"]["config"]["benches"]["main"]["binlog"] is True
    off = deployment_plan(inventory(backup_binlog_enabled=False), FACTS)
    assert off["backup"]["config"]["benches"]["main"]["binlog"] is False
    assert "log_bin" not in off["benches"][0]["mariadb"]["settings"]


@pytest.mark.parametrize("interval", [0, 61, -5])
def test_a_binlog_interval_outside_1_to_60_minutes_is_refused(interval):
    with pytest.raises(PlanError, match=r"backup_binlog_interval_minutes must be a whole number of minutes from 1 to "
                                        r"60, not %s" % interval):
        deployment_plan(inventory(backup_binlog_interval_minutes=interval), FACTS)
    assert deployment_plan(inventory(backup_scheduler="cron"), FACTS)["backup"]["timers"] == []


NOTES = {"name": "erpstack_notes", "url": "git://git.example.com/erpstack_notes.git", "ref": "v1.0.0"}


def test_custom_apps_give_the_bench_its_own_image_built_from_the_pinned_one():
    variables = inventory(erpnext_apps=[NOTES])
    variables["erpnext_benches"][0]["sites"][0]["apps"] = ["erpnext", "erpstack_notes"]
    plan = deployment_plan(variables, FACTS)
    main, shop = plan["benches"]
    assert main["build"]["base"] == "frappe/erpnext:v16.32.3" and main["build"]["apps"] == ["erpstack_notes"]
    assert main["images"]["erpnext"] == main["build"]["image"]
    assert main["images"]["erpnext"].startswith("erpstack/erpnext-apps:v16.32.3-")
    assert main["compose"]["services"]["backend"]["image"] == main["build"]["image"]
    assert "bench get-app --branch='v1.0.0' 'git://git.example.com/erpstack_notes.git'" in main["build"]["containerfile"]
    # the same list on another bench of the same release: the same image
    assert shop["images"]["erpnext"] == main["images"]["erpnext"]


def test_a_bench_may_carry_its_own_apps():
    variables = inventory(erpnext_apps=[NOTES])
    variables["erpnext_benches"][1]["apps"] = []
    main, shop = deployment_plan(variables, FACTS)["benches"]
    assert main["build"] and shop["build"] is None and shop["images"]["erpnext"] == "frappe/erpnext:v16.32.3"


@pytest.mark.parametrize("change, message", [
    ({"erpnext_apps": [dict(NOTES, ref="main")]}, "Invalid bench 'main': erpnext_apps[0].ref 'main' is not pinned"),
    ({"bench_apps": [dict(NOTES, ref=None)]}, "Invalid bench 'shop': erpnext_benches[1].apps[0].ref is missing"),
    ({"site_apps": ["erpnext", "hrms"]},
     "Invalid bench 'main': erpnext_benches[0].sites[0].apps names hrms, which the bench's image does not carry"),
    ({"erpnext_apps": [NOTES], "erpnext_apps_image": "erpstack/erpnext-apps:v1"},
     "erpnext_apps_image must be an image repository without a tag"),
])
def test_bad_apps_are_refused_with_the_field_named(change, message):
    variables = inventory(**{k: v for k, v in change.items() if k.startswith("erpnext_")})
    if "bench_apps" in change:
        variables["erpnext_benches"][1]["apps"] = change["bench_apps"]
    if "site_apps" in change:
        variables["erpnext_benches"][0]["sites"][0]["apps"] = change["site_apps"]
    with pytest.raises(PlanError) as err:
        deployment_plan(variables, FACTS)
    assert message in str(err.value)


def test_an_upgrade_backs_a_bench_up_the_way_its_backups_are_taken():
    main, shop = deployment_plan(inventory(backup_benches={"shop": {"method": "physical"}}), FACTS)["benches"]
    assert (main["upgrade_backup"], shop["upgrade_backup"]) == ("logical", "physical")


# -- the development mode: one more view of the same bench of the plan, and what it refuses -------------------------


def development(**extra):
    """The dev inventory's shape: one bench without Traefik or monitoring, in development mode."""
    variables = _defaults()
    variables.update(erpnext_proxy="none", erpstack_monitoring=False, erpnext_mode="development",
                     erpstack_environment="dev", backup_restic_repository="/srv/restic",
                     backup_restic_password="restic-secret-value-1",
                     erpnext_frontend_published=[{"host_ip": "127.0.0.1", "port": 8080}],
                     erpnext_apps=[NOTES], erpnext_dev_apps=[{"name": "acme_tools"}],
                     erpnext_sites=[{"name": "erp.localhost", "apps": ["erpnext", "erpstack_notes", "acme_tools"]}])
    variables.update(extra)
    return variables


def bench_of(variables):
    return deployment_plan(variables, FACTS)["benches"][0]


def test_golden_development_bench():
    # Regenerate with: ERPSTACK_UPDATE_GOLDENS=1 pytest tests/unit/plugins/plugin_utils/test_deployment.py
    path = os.path.join(os.path.dirname(__file__), "golden", "development_bench.json")
    got = bench_of(development())["compose"]
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        with open(path, "w") as handle:
            json.dump(got, handle, indent=2, sort_keys=True)
            handle.write("\n")
    with open(path) as handle:
        assert got == json.load(handle)


def test_one_development_container_replaces_the_production_services():
    services = bench_of(development())["compose"]["services"]
    assert sorted(services) == ["backend", "configurator", "db", "mailcatcher", "redis-cache", "redis-queue"]
    dev = services["backend"]
    assert dev["labels"]["com.erpstack.role"] == "development"
    assert dev["command"][0].endswith("exec bench start")
    assert dev["environment"]["DEV_APPS"] == "erpstack_notes acme_tools"
    assert "/opt/erpstack/erpnext-apps/acme_tools:/home/frappe/frappe-bench/apps/acme_tools" in dev["volumes"]
    assert "./development/Procfile:/home/frappe/frappe-bench/Procfile:ro" in dev["volumes"]
    # the production services' limits together, for the one container that runs all their processes
    assert dev["deploy"]["resources"]["limits"]["memory"].endswith("M")
    assert "developer_mode = 1" in services["configurator"]["command"][0]


def test_every_port_is_published_on_the_loopback_address_only():
    ports = bench_of(development(erpnext_dev_ports={"web": 8001}))["compose"]["services"]["backend"]["ports"]
    assert sorted((p["published"], p["target"]) for p in ports) == [
        ("5678", 5678), ("5679", 5679), ("6787", 6787), ("8001", 8000), ("9000", 9000)]
    assert set(p["host_ip"] for p in ports) == {"127.0.0.1"}


def test_production_mode_keeps_the_volumes_and_removes_developer_mode():
    dev = bench_of(development())
    prod = bench_of(development(erpnext_mode="production", erpnext_apps=[], erpnext_dev_apps=[],
                                erpnext_sites=[{"name": "erp.localhost", "apps": ["erpnext"]}]))
    assert dev["compose"]["volumes"] == prod["compose"]["volumes"]
    assert dev["compose"]["name"] == prod["compose"]["name"]
    assert dev["compose"]["services"]["db"] == prod["compose"]["services"]["db"]
    assert "del(.developer_mode)" in prod["compose"]["services"]["configurator"]["command"][0]
    assert prod["mode"] == "production" and prod["development"] is None
    assert "frontend" in prod["compose"]["services"]


def test_the_plan_carries_the_editor_files_and_the_check_url():
    bench = bench_of(development())
    assert bench["check_url"] == "http://127.0.0.1:8000"
    assert bench["build"] is None and bench["images"]["erpnext"] == "frappe/erpnext:v16.32.3"
    dev = bench["development"]
    assert [app["name"] for app in dev["apps"]] == ["erpstack_notes", "acme_tools"]
    assert dev["apps"][0]["url"] == NOTES["url"] and dev["apps"][1]["url"] is None
    attach = dict((c["name"], c) for c in dev["launch"]["configurations"])
    assert attach["Attach to web"]["connect"] == {"host": "127.0.0.1", "port": 5678}
    assert attach["Attach to worker"]["connect"] == {"host": "127.0.0.1", "port": 5679}
    assert dev["devcontainer"]["service"] == "backend"
    assert dev["procfile"].splitlines()[0] == (
        "web: ERPSTACK_DEBUGPY_LISTEN=0.0.0.0:5678 ERPSTACK_DEBUGPY_RELOADER=1 bench serve --port 8000")
    assert dev["debugpy"] == {"version": "1.8.22", "wheel": "debugpy-1.8.22-py2.py3-none-any.whl"}


@pytest.mark.parametrize("change, message", [
    ({"erpstack_environment": "prod"}, "erpnext_mode is development but erpstack_environment is prod"),
    ({"erpnext_dev_bind_address": "0.0.0.0"}, "erpnext_dev_bind_address must be a loopback address"),
    ({"erpnext_dev_bind_address": "192.0.2.10"}, "erpnext_dev_bind_address must be a loopback address"),
    ({"erpnext_proxy": "traefik"}, "without Traefik: set erpnext_proxy: none"),
    ({"erpstack_monitoring": True}, "set erpstack_monitoring: false"),
    ({"erpnext_engine": "swarm"}, "not on Swarm"),
    ({"erpnext_dev_ports": {"web": 9000}}, "erpnext_dev_ports: port 9000 is given twice"),
    ({"erpnext_dev_ports": {"debugger": 1}}, "erpnext_dev_ports.debugger is unknown"),
    ({"erpnext_dev_ports": {"web": "8000"}}, "erpnext_dev_ports.web must be a port number"),
    ({"erpnext_dev_apps_dir": "apps"}, "erpnext_dev_apps_dir must be an absolute path"),
    ({"erpnext_dev_apps": [{"name": "erpstack_notes"}]}, "erpnext_dev_apps[0].name: erpstack_notes is listed twice"),
    ({"erpnext_dev_apps": [{"name": "x", "ref": "main"}]}, "erpnext_dev_apps[0].ref needs a url"),
    ({"erpnext_mode": "debug"}, "erpnext_mode must be one of production, development"),
    ({"erpnext_dev_debugpy_version": "latest"}, "erpnext_dev_debugpy_version must be an exact release"),
    ({"erpnext_dev_mail_catcher_packages": ["aiosmtpd"]}, "erpnext_dev_mail_catcher_packages must list Python packages"),
    ({"erpnext_dev_mail_catcher_packages": ["attrs==26.1.0"]}, "must include aiosmtpd"),
    ({"erpnext_sites": [{"name": "erp.localhost", "apps": ["hrms"]}]},
     "erpnext_sites[0].apps names hrms, which the development bench does not have"),
])
def test_a_development_mode_that_could_not_stay_on_a_developer_machine_is_refused(change, message):
    with pytest.raises(PlanError) as err:
        deployment_plan(development(**change), FACTS)
    assert message in str(err.value)


def test_two_benches_cannot_share_the_development_ports():
    variables = development(erpnext_benches=[
        {"name": "a", "sites": [{"name": "a.localhost"}]},
        {"name": "b", "network_subnet": "172.30.11.0/24", "sites": [{"name": "b.localhost"}]}])
    with pytest.raises(PlanError) as err:
        deployment_plan(variables, FACTS)
    assert "runs one bench per host (its ports are fixed), this host has 2: a, b" in str(err.value)


def test_the_mail_catcher_receives_the_development_bench_outgoing_mail():
    bench = bench_of(development())
    services = bench["compose"]["services"]
    catcher = services["mailcatcher"]
    assert catcher["image"] == services["backend"]["image"]
    assert catcher["command"][:3] == ["-m", "aiosmtpd", "--nosetuid"]
    assert "0.0.0.0:1025" in catcher["command"] and "ports" not in catcher and catcher["networks"] == ["bench"]
    directory = bench["development"]["mail_catcher"]["dir"]
    assert directory.startswith("mail-catcher-") and bench["development"]["mail_catcher"]["packages"] == [
        "aiosmtpd==1.4.6", "atpublic==9.0.0", "attrs==26.1.0"]
    assert "./development/%s:/opt/erpstack-development/mail-catcher:ro" % directory in catcher["volumes"]
    configure = services["configurator"]["command"][0]
    assert '.mail_server = "mailcatcher" | .mail_port = 1025' in configure
    # production mode removes the mail catcher's settings, and only those (a mail server set by hand stays)
    prod = deployment_plan(development(erpnext_mode="production", erpnext_apps=[], erpnext_dev_apps=[],
                                       erpnext_sites=[{"name": "erp.localhost", "apps": ["erpnext"]}]), FACTS)
    assert ('if .mail_server == "mailcatcher" then del(.mail_server, .mail_port, .use_tls, .use_ssl, .auto_email_id)'
            ' else . end') in prod["benches"][0]["compose"]["services"]["configurator"]["command"][0]


# -- staging: no e-mail leaves the bench --------------------------------------------------------------------------


def configurator_filter(bench):
    return bench["compose"]["services"]["configurator"]["command"][0]


def test_muted_e_mail_is_set_in_the_common_site_config_and_removed_again():
    muted = configurator_filter(bench_of(inventory(erpnext_mute_emails=True)))
    assert muted.endswith(" | .mute_emails = 1' \"$$f\" > \"$$t\"; mv \"$$t\" \"$$f\"")
    assert "del(.mute_emails)" in configurator_filter(bench_of(inventory()))
    # the development bench always removes it: its mail goes to the catcher
    assert "del(.mute_emails)" in configurator_filter(bench_of(development()))


def test_muted_e_mail_and_the_development_mode_are_refused_together():
    with pytest.raises(PlanError) as err:
        deployment_plan(development(erpnext_mute_emails=True), FACTS)
    assert "set erpnext_mute_emails: false (mute_emails would stop it)" in str(err.value)
