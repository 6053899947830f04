# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The default scenario: one bench with two sites, converged by playbooks/site.yml on a fresh Debian host."""

import json

import pytest

from conftest import PROJECT_DIR
from testinfra_erpstack import exposed_ports, probe_ports

SITES = ["erp.example.test", "hr.example.test"]
LONG_RUNNING = ["db", "redis-cache", "redis-queue", "backend", "frontend", "websocket", "queue-short", "queue-long",
                "scheduler"]
HEALTHCHECKED = ["db", "redis-cache", "redis-queue", "backend", "frontend", "websocket"]


def services(bench):
    out = bench.compose("ps --all --format json").stdout
    rows = [json.loads(line) for line in out.splitlines() if line.strip()] if not out.lstrip().startswith("[") \
        else json.loads(out)
    return {row["Service"]: row for row in rows}


def curl(host, path, site, *extra):
    return host.run("curl -sS -m 10 -H 'Host: %s' %s 'http://127.0.0.1:8080%s'" % (site, " ".join(extra), path))


def test_docker_and_compose_are_installed_and_running(host):
    assert host.service("docker").is_running
    assert host.service("docker").is_enabled
    assert host.run_expect([0], "docker compose version --short").stdout.startswith("2.")
    daemon = json.loads(host.file("/etc/docker/daemon.json").content_string)
    assert daemon["log-driver"] in ("local", "json-file")
    assert daemon["live-restore"] is True
    assert daemon["icc"] is False and daemon["no-new-privileges"] is True and "userland-proxy" not in daemon


# What each service keeps once every capability is dropped (plugins/plugin_utils/hardening.py)
KEPT_CAPABILITIES = {"db": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"]}


def test_every_container_is_hardened_and_runs_as_a_user(host, bench):
    ids = bench.compose("ps --all -q").stdout.split()
    assert len(ids) >= len(LONG_RUNNING) + 1
    for info in json.loads(host.run_expect([0], "docker inspect " + " ".join(ids)).stdout):
        name = info["Config"]["Labels"]["com.docker.compose.service"]
        config = info["HostConfig"]
        assert config["ReadonlyRootfs"] is True, name
        assert config["CapDrop"] == ["ALL"], name
        assert sorted("CAP_" + c if not c.startswith("CAP_") else c for c in config["CapAdd"] or []) \
            == KEPT_CAPABILITIES.get(name, []), name
        assert "no-new-privileges:true" in config["SecurityOpt"], name
        assert config["PidsLimit"] and config["PidsLimit"] > 0, name
        if info["State"]["Running"]:
            # the main process's real and effective user on the host (the image's user, or the one MariaDB drops to)
            status = host.file("/proc/%d/status" % info["State"]["Pid"]).content_string
            uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
            assert uids[0] != "0" and uids[1] != "0", (name, uids)
            capabilities = next(line.split()[1] for line in status.splitlines() if line.startswith("CapEff:"))
            assert int(capabilities, 16) == 0, (name, capabilities)


def test_the_host_firewall_is_loaded_and_enabled_at_boot(host):
    assert host.service("erpstack-firewall").is_enabled
    table = host.run_expect([0], "nft list table inet erpstack").stdout
    assert "hook input priority filter; policy drop;" in table
    assert "ct status dnat meta l4proto tcp ct original proto-dst @public_tcp accept" in table
    assert host.file("/etc/erpstack/firewall.nft").mode == 0o600


def test_from_another_host_the_published_frontend_is_refused_and_only_ssh_and_web_ports_answer(host):
    ports = exposed_ports(host)
    # published on 0.0.0.0 by this scenario, yet not a public port: only the host itself reaches it
    assert 8080 in ports
    seen = probe_ports("erpstack-default", ports)
    assert set(seen) == set(ports)
    assert sorted(p for p, is_open in seen.items() if is_open and p not in (22, 80, 443)) == []
    assert seen[8080] is False
    assert curl(host, "/api/method/ping", SITES[0], "-o /dev/null -w '%{http_code}'").stdout == "200"


def test_the_root_file_system_is_read_only_and_the_writable_paths_work(bench):
    for service in ("backend", "frontend", "db"):
        # as root, who owns /: only the read-only mount refuses the write
        result = bench.compose("exec -T -u 0 %s sh -c 'touch /erpstack-probe'" % service, check=False)
        assert result.rc != 0 and "Read-only file system" in result.stderr, (service, result.stderr)
    bench.compose("exec -T -u frappe backend sh -c 't=$(mktemp) && rm $t'")
    bench.compose("exec -T frontend sh -c 'test -s /etc/nginx/conf.d/frappe.conf && test -s /run/nginx.pid'")


def test_every_service_runs_and_is_healthy(bench):
    state = services(bench)
    for name in LONG_RUNNING:
        assert state[name]["State"] == "running", (name, state[name]["Status"])
    for name in HEALTHCHECKED:
        assert state[name]["Health"] == "healthy", (name, state[name]["Status"])
    assert state["configurator"]["State"] == "exited"
    assert state["configurator"]["ExitCode"] == 0


def test_compose_file_is_private_and_holds_no_secret(host, bench):
    compose = host.file(PROJECT_DIR + "/compose.yaml")
    assert compose.user == "root" and compose.mode == 0o640
    secrets_dir = host.file(PROJECT_DIR + "/secrets")
    assert secrets_dir.mode == 0o700
    expected = {
        "db_root_password": (999, 999, 0o400),
        "db_admin_password": (0, 0, 0o400),
        "db_backup_password": (0, 0, 0o400),
        "db_exporter_password": (0, 0, 0o400),
        "redis_cache_password": (999, 1000, 0o440),
        "redis_queue_password": (999, 1000, 0o440),
    }
    for name, (uid, gid, mode) in expected.items():
        secret = host.file("%s/secrets/%s" % (PROJECT_DIR, name))
        assert (secret.uid, secret.gid, secret.mode) == (uid, gid, mode), name
    values = [bench.secret(n) for n in list(expected) + ["admin_password." + s for s in SITES]]
    assert all(len(v) >= 16 for v in values)
    files = host.run_expect([0], "find %s -type f -not -path '*/secrets/*'" % PROJECT_DIR).stdout.split()
    inspect = host.run_expect([0], "docker inspect $(docker ps -aq)").stdout
    for value in values:
        assert value not in inspect
        for path in files:
            assert value not in host.file(path).content_string, path


@pytest.mark.parametrize("site", SITES)
def test_site_answers_through_the_frontend(host, site):
    result = curl(host, "/api/method/ping", site)
    assert result.rc == 0, result.stderr
    assert json.loads(result.stdout) == {"message": "pong"}


def test_unknown_site_is_not_served(host):
    result = curl(host, "/api/method/ping", "nobody.example.test", "-o /dev/null -w '%{http_code}'")
    assert result.stdout.strip() == "404"


def test_administrator_can_log_in_with_the_generated_password(host):
    login = (
        "curl -sS -m 10 -H 'Host: erp.example.test' --data-urlencode usr=Administrator "
        "--data-urlencode pwd@%s http://127.0.0.1:8080/api/method/login"
    )
    result = host.run(login % (PROJECT_DIR + "/secrets/admin_password.erp.example.test"))
    assert json.loads(result.stdout)["message"] == "Logged In", result.stdout
    wrong = host.run("echo -n wrong-password > /tmp/wrong && " + login % "/tmp/wrong")
    assert "Logged In" not in wrong.stdout


def test_apps_and_default_site(bench):
    apps = json.loads(bench.bench("bench --site erp.example.test list-apps --format json").stdout)
    assert apps == {"erp.example.test": ["frappe", "erpnext"]}
    apps = json.loads(bench.bench("bench --site hr.example.test list-apps --format json").stdout)
    assert apps == {"hr.example.test": ["frappe"]}
    assert bench.bench("cat sites/currentsite.txt").stdout.strip() == "erp.example.test"


@pytest.mark.parametrize("site", SITES)
def test_site_database_user_is_scoped_to_its_database_and_the_bench_network(bench, site):
    config = bench.site_config(site)
    db = config["db_name"]
    assert bench.sql("SHOW DATABASES LIKE '%s'" % db).strip() == db
    hosts = bench.sql("SELECT host FROM mysql.user WHERE user = '%s'" % db).split()
    assert hosts == ["172.30.10.%"]
    grants = bench.sql("SHOW GRANTS FOR '%s'@'172.30.10.%%'" % db).splitlines()
    assert len(grants) == 2
    assert grants[0].startswith("GRANT USAGE ON *.* TO")
    assert grants[1].startswith("GRANT ALL PRIVILEGES ON `%s`.* TO" % db)


def test_root_cannot_log_in_from_the_network(bench):
    assert bench.sql("SELECT host FROM mysql.user WHERE user = 'root'").split() == ["localhost"]


def test_workers_are_connected_to_the_queue_redis(bench):
    clients = bench.compose("exec -T redis-queue sh -c 'REDISCLI_AUTH=\"$(cat /run/secrets/redis_queue_password)\" "
                            "redis-cli client list'").stdout
    workers = [line for line in clients.splitlines() if "name=rq:worker:" in line]
    assert len(workers) >= 2, clients


def test_websocket_answers_the_socketio_handshake(host):
    result = curl(host, "/socket.io/?EIO=4&transport=polling", "erp.example.test", "-o /dev/null -w '%{http_code}'")
    assert result.stdout.strip() == "200"


def test_assets_are_served_by_nginx(host):
    result = curl(host, "/assets/frappe/images/frappe-framework-logo.svg", "erp.example.test",
                  "-o /dev/null -w '%{http_code} %{size_download}'")
    code, size = result.stdout.split()
    assert code == "200" and int(size) > 0


def site_db(bench, site):
    config = bench.site_config(site)
    return config["db_name"], {"value": config["db_password"]}


def test_remote_root_is_refused_even_with_the_right_password(bench):
    result = bench.sql_as("root", "db_root_password", "SELECT 1")
    assert result.rc != 0 and "Access denied" in result.stderr, result.stderr


def test_exporter_sees_server_status_but_no_site_table(bench):
    db, _pw = site_db(bench, "erp.example.test")
    ok = bench.sql_as("erpstack_exporter", "db_exporter_password", "SHOW GLOBAL STATUS LIKE 'Uptime'")
    assert ok.rc == 0 and "Uptime" in ok.stdout, ok.stderr
    denied = bench.sql_as("erpstack_exporter", "db_exporter_password", "SELECT COUNT(*) FROM `%s`.tabToDo" % db)
    assert denied.rc != 0 and "denied" in denied.stderr, denied.stderr
    limit = bench.sql("SELECT max_user_connections FROM mysql.user WHERE user = 'erpstack_exporter'")
    assert limit.split() == ["3"]


def test_backup_account_reads_but_cannot_write(bench):
    db, _pw = site_db(bench, "erp.example.test")
    ok = bench.sql_as("erpstack_backup", "db_backup_password", "SELECT COUNT(*) FROM `%s`.tabToDo" % db)
    assert ok.rc == 0, ok.stderr
    denied = bench.sql_as("erpstack_backup", "db_backup_password",
                          "INSERT INTO `%s`.tabToDo (name, description) VALUES ('x', 'x')" % db)
    assert denied.rc != 0 and "denied" in denied.stderr, denied.stderr


def test_site_admin_account_is_limited_to_site_databases(bench):
    ok = bench.sql_as("erpstack_admin", "db_admin_password", "CREATE DATABASE `erpprobe`; DROP DATABASE `erpprobe`")
    assert ok.rc == 0, ok.stderr
    denied = bench.sql_as("erpstack_admin", "db_admin_password", "CREATE DATABASE `probe`")
    assert denied.rc != 0 and "denied" in denied.stderr, denied.stderr
    denied = bench.sql_as("erpstack_admin", "db_admin_password", "SELECT COUNT(*) FROM mysql.user")
    assert denied.rc != 0 and "denied" in denied.stderr, denied.stderr


def test_site_user_sees_only_its_own_database(bench):
    db, password = site_db(bench, "erp.example.test")
    other, _pw = site_db(bench, "hr.example.test")
    shown = bench.sql_as(db, password, "SHOW DATABASES")
    assert shown.rc == 0, shown.stderr
    assert sorted(shown.stdout.split()) == sorted(["information_schema", db])
    denied = bench.sql_as(db, password, "SELECT COUNT(*) FROM `%s`.tabToDo" % other)
    assert denied.rc != 0 and "denied" in denied.stderr, denied.stderr


def test_redis_requires_its_password(bench):
    anonymous = bench.compose("exec -T redis-queue redis-cli ping", check=False)
    assert "NOAUTH" in anonymous.stdout + anonymous.stderr
    authed = bench.compose("exec -T redis-queue sh -c 'REDISCLI_AUTH=\"$(cat /run/secrets/redis_queue_password)\" "
                           "redis-cli ping'")
    assert authed.stdout.strip() == "PONG"


def test_common_site_config_is_private(bench):
    mode = bench.bench("stat -c %a sites/common_site_config.json").stdout.strip()
    assert mode == "600"
