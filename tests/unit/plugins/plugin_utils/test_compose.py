# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, deep_merge, user_host_scope
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import compose_project
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")

BASE = {
    "name": "erpnext",
    "images": {
        "erpnext": "frappe/erpnext:v16.32.3",
        "mariadb": "mariadb:11.8.3",
        "redis": "redis:7.4.5-alpine",
    },
    "network": {"subnet": "172.30.10.0/24"},
    "frontend": {"published": [{"host_ip": "0.0.0.0", "port": 8080}]},
    "gunicorn": {"workers": 2, "threads": 4, "timeout": 120},
    "secrets": {
        "db_root_password": {"file": "./secrets/db_root_password", "consumers": ["db"]},
        "db_admin_password": {"file": "./secrets/db_admin_password", "consumers": []},
        "redis_cache_password": {"file": "./secrets/redis_cache_password", "consumers": ["redis-cache", "configurator"]},
        "redis_queue_password": {"file": "./secrets/redis_queue_password", "consumers": ["redis-queue", "configurator"]},
    },
    "mariadb": {"config_file": "./mariadb/erpstack.cnf", "socket_dir": "./run/mysqld"},
}


def bench(**changes):
    return deep_merge(copy.deepcopy(BASE), changes)


def test_golden_default_bench():
    # Regenerate with: ERPSTACK_UPDATE_GOLDENS=1 pytest tests/unit/plugins/plugin_utils
    path = os.path.join(GOLDEN, "default_bench.json")
    got = compose_project(bench())
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        with open(path, "w") as handle:
            json.dump(got, handle, indent=2, sort_keys=True)
            handle.write("\n")
    with open(path) as handle:
        assert got == json.load(handle)


def test_services_follow_the_frappe_docker_layout():
    services = compose_project(bench())["services"]
    assert sorted(services) == sorted([
        "db", "redis-cache", "redis-queue", "configurator", "backend", "frontend",
        "websocket", "queue-short", "queue-long", "scheduler",
    ])
    for name in ("backend", "websocket", "queue-short", "queue-long", "scheduler", "frontend"):
        assert services[name]["depends_on"]["configurator"] == {"condition": "service_completed_successfully"}
    assert services["configurator"]["restart"] == "no"
    assert services["queue-short"]["command"] == ["bench", "worker", "--queue", "short,default"]
    assert services["queue-long"]["command"] == ["bench", "worker", "--queue", "long,default,short"]
    assert services["frontend"]["depends_on"]["backend"] == {"condition": "service_healthy", "restart": True}


@pytest.mark.parametrize("workers,threads,timeout", [(2, 4, 120), (9, 2, 300)])
def test_gunicorn_settings_reach_only_the_backend(workers, threads, timeout):
    doc = compose_project(bench(gunicorn={"workers": workers, "threads": threads, "timeout": timeout}))
    assert doc["services"]["backend"]["environment"] == {
        "GUNICORN_WORKERS": str(workers), "GUNICORN_THREADS": str(threads), "GUNICORN_TIMEOUT": str(timeout)}
    others = compose_project(bench())["services"]
    for name, service in doc["services"].items():
        if name != "backend":
            assert service == others[name], name


# Secret values with the characters that break quoting (YAML, JSON, shell, URLs)
SECRET_VALUES = {
    "db_root_password": "r00t/Pa55:w@rd\"'\nx",
    "db_admin_password": "adm1n%2F@host:3306/db",
    "redis_cache_password": "c@che'pass\"word/1",
    "redis_queue_password": "qu3ue:pass@word\n2",
}
ADMIN_PASSWORD = "Adm1nistr@tor/Pa55:word'"


def _leaks(text):
    return sorted(name for name, value in dict(SECRET_VALUES, admin=ADMIN_PASSWORD).items()
                  if value in text or json.dumps(value)[1:-1] in text)


def test_no_secret_value_or_password_variable_in_the_document(tmp_path):
    # the secrets exist as the role writes them (files with their values), and the site that the inventory gives
    # with its Administrator password goes through the plan to the proxy labels, as the role's variables do
    secrets = {}
    for name, spec in BASE["secrets"].items():
        (tmp_path / name).write_text(SECRET_VALUES[name])
        secrets[name] = dict(spec, file=str(tmp_path / name))
    (planned,) = bench_plan([{"name": "erpnext", "sites": [
        {"name": "erp.example.com", "admin_password": ADMIN_PASSWORD, "domains": ["erp.example.com"]}]}],
        resolvers=["le"], default_resolver="le")
    doc = compose_project(bench(secrets=secrets, proxy={
        "network": "traefik-public", "entrypoint": "websecure", "middlewares": [], "max_body_bytes": 52428800,
        "sites": planned["sites"]}))
    text = json.dumps(doc)
    assert "Host(`erp.example.com`)" in text and str(tmp_path / "db_root_password") in text
    assert _leaks(text) == []
    assert "MARIADB_ROOT_PASSWORD_FILE" in text
    assert '"MARIADB_ROOT_PASSWORD"' not in text
    assert "PASSWORD=" not in text


def test_the_leak_check_finds_a_value_that_reached_the_document():
    # the control: a value an operator put where it does not belong (an extension's environment) is found
    doc = compose_project(bench(extension={"services": {"backend": {"environment": {
        "DB_PASSWORD": SECRET_VALUES["db_admin_password"]}}}}))
    assert _leaks(json.dumps(doc)) == ["db_admin_password"]


def test_only_the_frontend_is_published_and_the_bench_network_is_internal():
    doc = compose_project(bench())
    published = [name for name, s in doc["services"].items() if s.get("ports")]
    assert published == ["frontend"]
    assert doc["networks"]["bench"]["internal"] is True
    assert doc["services"]["db"]["networks"] == ["bench"]


def test_without_published_ports_there_is_no_edge_network():
    doc = compose_project(bench(frontend={"published": []}))
    assert "edge" not in doc["networks"]
    assert "ports" not in doc["services"]["frontend"]


def test_worker_replicas_and_resources():
    doc = compose_project(bench(workers={"short": 3}, resources={"backend": {"memory": "1g", "cpus": 1.5}}))
    assert doc["services"]["queue-short"]["deploy"]["replicas"] == 3
    assert "replicas" not in doc["services"]["queue-long"]["deploy"]
    assert doc["services"]["backend"]["deploy"]["resources"] == {"limits": {"memory": "1g", "cpus": "1.5",
                                                                            "pids": 1024}}


def test_every_service_is_hardened_by_default():
    doc = compose_project(bench())
    for name, service in doc["services"].items():
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["cap_drop"] == ["ALL"], name
        assert service["read_only"] is True, name
        assert service["deploy"]["resources"]["limits"]["pids"] > 0, name
        assert "pids_limit" not in service, name
    assert doc["services"]["db"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert [name for name, s in doc["services"].items() if s.get("cap_add")] == ["db"]
    # MariaDB's temporary files and nginx's buffered bodies on disk, the rest in memory
    assert "db-tmp:/tmp" in doc["services"]["db"]["volumes"]
    assert "nginx-temp:/var/lib/nginx" in doc["services"]["frontend"]["volumes"]
    assert set(doc["volumes"]) >= {"db-tmp", "nginx-temp"}
    assert doc["services"]["backend"]["tmpfs"] == ["/tmp:mode=1777"]
    assert doc["services"]["redis-queue"]["tmpfs"] == ["/run/redis:uid=999,gid=999,mode=0700"]


def test_a_service_switched_off_says_so_and_the_others_stay_hardened():
    doc = compose_project(bench(hardening={
        "backend": {"read_only": False, "no_new_privileges": False, "drop_capabilities": False,
                    "add_capabilities": ["SYS_PTRACE"], "pids_limit": 0},
        "frontend": {"add_capabilities": ["NET_BIND_SERVICE"], "tmpfs": ["/var/cache/nginx"]},
    }))
    backend = doc["services"]["backend"]
    assert backend["security_opt"] == ["no-new-privileges:false"]
    assert "cap_drop" not in backend and backend["cap_add"] == ["SYS_PTRACE"]
    assert "read_only" not in backend and "tmpfs" not in backend
    assert "pids" not in backend.get("deploy", {}).get("resources", {}).get("limits", {})
    frontend = doc["services"]["frontend"]
    assert frontend["cap_drop"] == ["ALL"] and frontend["cap_add"] == ["NET_BIND_SERVICE"]
    assert frontend["tmpfs"][-1] == "/var/cache/nginx:mode=1777"
    assert doc["services"]["websocket"]["read_only"] is True


def test_an_invalid_hardening_is_refused_with_its_path():
    with pytest.raises(BenchSpecError, match=r"erpnext_container_hardening has no service 'web'"):
        compose_project(bench(hardening={"web": {}}))


def test_extension_is_merged_last():
    doc = compose_project(bench(extension={"services": {"backend": {"environment": {"EXTRA": "1"}}}}))
    assert doc["services"]["backend"]["environment"]["EXTRA"] == "1"
    assert doc["services"]["backend"]["environment"]["GUNICORN_WORKERS"] == "2"


@pytest.mark.parametrize("subnet,scope", [
    ("172.30.10.0/24", "172.30.10.%"),
    ("10.20.0.0/16", "10.20.%"),
    ("10.0.0.0/8", "10.%"),
])
def test_user_host_scope(subnet, scope):
    assert user_host_scope(subnet) == scope


@pytest.mark.parametrize("changes,message", [
    ({"images": {"erpnext": "frappe/erpnext"}}, "pinned"),
    ({"images": {"redis": "redis:latest"}}, "latest"),
    ({"name": "Bad Name"}, "bench name"),
    ({"network": {"subnet": "172.30.10.0/25"}}, "prefix length"),
    ({"network": {"subnet": "fd00::/64"}}, "IPv4"),
    ({"bogus": 1}, "unknown keys"),
])
def test_bad_descriptions_are_refused(changes, message):
    with pytest.raises(BenchSpecError, match=message):
        compose_project(bench(**changes))


def test_invalid_subnet_text_is_refused():
    with pytest.raises(ValueError):
        user_host_scope("not-a-subnet")


def test_site_specs_fill_defaults_and_drop_secrets():
    from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import site_specs
    sites = [
        {"name": "a.example.com", "admin_password": "s3cret-value"},
        {"name": "b.example.com", "apps": ["erpnext"], "state": "absent"},
    ]
    specs = site_specs(sites)
    assert specs == [
        {"name": "a.example.com", "apps": [], "default": False, "state": "present", "has_admin_password": True},
        {"name": "b.example.com", "apps": ["erpnext"], "default": False, "state": "absent",
         "has_admin_password": False},
    ]
    assert "s3cret-value" not in json.dumps(specs)
    assert sites[0]["admin_password"] == "s3cret-value"


def test_each_service_gets_exactly_the_secrets_it_consumes():
    doc = compose_project(bench())
    assert sorted(doc["secrets"]) == ["db_root_password", "redis_cache_password", "redis_queue_password"]
    got = {name: service.get("secrets", []) for name, service in doc["services"].items()}
    assert got["db"] == ["db_root_password"]
    assert got["redis-cache"] == ["redis_cache_password"]
    assert got["redis-queue"] == ["redis_queue_password"]
    assert got["configurator"] == ["redis_cache_password", "redis_queue_password"]
    for name in ("backend", "frontend", "websocket", "queue-short", "queue-long", "scheduler"):
        assert got[name] == [], name


def test_a_secret_for_an_unknown_service_is_refused():
    with pytest.raises(BenchSpecError, match="no service 'cron'"):
        compose_project(bench(secrets={"x": {"file": "./secrets/x", "consumers": ["cron"]}}))


def test_redis_reads_its_password_from_the_secret_file_and_requires_it():
    redis = compose_project(bench())["services"]["redis-queue"]
    script = redis["command"][2]
    assert redis["command"][:2] == ["sh", "-c"]
    assert "$$(cat /run/secrets/redis_queue_password)" in script and "requirepass" in script
    assert "--appendonly yes" in script
    assert redis["user"] == "999:999"
    assert "/run/secrets/redis_queue_password" in redis["healthcheck"]["test"][1]
    assert "--appendonly no" in compose_project(bench())["services"]["redis-cache"]["command"][2]


def test_redis_urls_are_written_without_passwords_on_a_command_line():
    script = compose_project(bench())["services"]["configurator"]["command"][0]
    assert "--rawfile c /run/secrets/redis_cache_password" in script
    assert "set-config -g redis_" not in script
