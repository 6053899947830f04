# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sizing in effect: the rendered MariaDB and Redis settings are the running ones, every service has the limits of
its compose file, queued jobs survive a Redis restart and the cache does not."""

import json
import re

import pytest
import yaml

from conftest import PROJECT_DIR, _quote

SERVICES = ("db", "redis-cache", "redis-queue", "backend", "frontend", "websocket", "queue-short", "queue-long",
            "scheduler")


def compose_document(host):
    return yaml.safe_load(host.file(PROJECT_DIR + "/compose.yaml").content_string)


def to_bytes(text):
    number, unit = re.match(r"^([0-9]+)([KMG]?)$", str(text)).groups()
    return int(number) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[unit]


def rendered_cnf(host):
    settings = {}
    for line in host.file(PROJECT_DIR + "/mariadb/erpstack.cnf").content_string.split("[client]")[0].splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = (part.strip() for part in line.split("=", 1))
            settings[key] = value
    return settings


def redis_config(bench, service, key):
    secret = service.replace("-", "_") + "_password"
    out = bench.compose("exec -T %s sh -c %s" % (service, _quote(
        'REDISCLI_AUTH="$(cat /run/secrets/%s)" redis-cli --no-auth-warning CONFIG GET %s' % (secret, key)))).stdout
    lines = out.splitlines()
    return lines[1].strip() if len(lines) > 1 else ""


def redis_cli(bench, service, command):
    secret = service.replace("-", "_") + "_password"
    return bench.compose("exec -T %s sh -c %s" % (service, _quote(
        'REDISCLI_AUTH="$(cat /run/secrets/%s)" redis-cli --no-auth-warning %s' % (secret, command)))).stdout.strip()


def test_rendered_mariadb_settings_are_in_effect(bench, host):
    cnf = rendered_cnf(host)
    assert to_bytes(cnf["innodb_buffer_pool_size"]) >= 128 << 20
    variables = dict(line.split("\t", 1) for line in bench.sql(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('innodb_buffer_pool_size', 'innodb_log_file_size',"
        " 'max_connections', 'tmp_table_size', 'max_heap_table_size', 'innodb_flush_method', 'slow_query_log',"
        " 'long_query_time', 'character_set_server', 'collation_server', 'innodb_file_per_table')").splitlines())
    for key in ("innodb_buffer_pool_size", "innodb_log_file_size", "tmp_table_size", "max_heap_table_size"):
        assert int(variables[key]) == to_bytes(cnf[key]), key
    assert variables["max_connections"] == cnf["max_connections"]
    assert variables["innodb_flush_method"] == "O_DIRECT"
    assert variables["slow_query_log"] == "ON" and float(variables["long_query_time"]) == float(cnf["long_query_time"])
    assert variables["character_set_server"] == "utf8mb4" and variables["collation_server"] == "utf8mb4_unicode_ci"
    assert variables["innodb_file_per_table"] == "ON"


def test_buffer_pool_fits_the_db_memory_limit(host):
    limit = to_bytes(compose_document(host)["services"]["db"]["deploy"]["resources"]["limits"]["memory"])
    assert to_bytes(rendered_cnf(host)["innodb_buffer_pool_size"]) < limit


def test_redis_settings_are_in_effect(bench, host):
    command = " ".join(compose_document(host)["services"]["redis-cache"]["command"])
    maxmemory = re.search(r"--maxmemory ([0-9]+)mb", command).group(1)
    assert int(redis_config(bench, "redis-cache", "maxmemory")) == int(maxmemory) << 20
    assert redis_config(bench, "redis-cache", "maxmemory-policy") == "allkeys-lru"
    assert redis_config(bench, "redis-cache", "appendonly") == "no"
    assert redis_config(bench, "redis-cache", "save") == ""
    assert redis_config(bench, "redis-queue", "appendonly") == "yes"
    assert redis_config(bench, "redis-queue", "appendfsync") == "everysec"
    assert redis_config(bench, "redis-queue", "maxmemory-policy") == "noeviction"


@pytest.mark.parametrize("service", SERVICES)
def test_limits_are_applied_to_the_containers(host, service):
    limits = compose_document(host)["services"][service]["deploy"]["resources"]
    ids = host.run_expect([0], "docker compose --project-directory %s ps -q %s" % (PROJECT_DIR, service)).stdout.split()
    assert ids
    for cid in ids:
        config = json.loads(host.run_expect([0], "docker inspect --format '{{json .HostConfig}}' %s" % cid).stdout)
        assert config["Memory"] == to_bytes(limits["limits"]["memory"])
        assert config["NanoCpus"] == int(round(float(limits["limits"]["cpus"]) * 1e9))
        if "reservations" in limits:
            assert config["MemoryReservation"] == to_bytes(limits["reservations"]["memory"])


def test_queued_jobs_survive_a_restart_and_the_cache_does_not(bench, host):
    redis_cli(bench, "redis-queue", "DEL erpstack:test:queue")
    for n in range(50):
        redis_cli(bench, "redis-queue", "RPUSH erpstack:test:queue job-%d" % n)
    redis_cli(bench, "redis-cache", "SET erpstack:test:cache cached")
    assert redis_cli(bench, "redis-cache", "GET erpstack:test:cache") == "cached"
    host.run_expect([0], "docker restart %s %s" % (
        host.run_expect([0], "docker compose --project-directory %s ps -q redis-queue" % PROJECT_DIR).stdout.strip(),
        host.run_expect([0], "docker compose --project-directory %s ps -q redis-cache" % PROJECT_DIR).stdout.strip()))
    host.run_expect([0], "for i in $(seq 60); do docker compose --project-directory %s ps redis-queue redis-cache "
                    "| grep -c '(healthy)' | grep -qx 2 && exit 0; sleep 1; done; exit 1" % PROJECT_DIR)
    assert redis_cli(bench, "redis-queue", "LLEN erpstack:test:queue") == "50"
    assert redis_cli(bench, "redis-queue", "LINDEX erpstack:test:queue 49") == "job-49"
    assert redis_cli(bench, "redis-cache", "EXISTS erpstack:test:cache") == "0"
    redis_cli(bench, "redis-queue", "DEL erpstack:test:queue")
