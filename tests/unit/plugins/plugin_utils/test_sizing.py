# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sizing arithmetic: host sizes and bench counts -> limits, worker counts, MariaDB and Redis settings; refusals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import (
    SizingError,
    bench_sizing,
    check_mariadb_settings,
    compose_resources,
    parse_size,
)

# host MiB, CPUs, benches -> db MiB, backend MiB, gunicorn workers, queue-short containers, buffer pool, max_connections
CASES = [
    (2048, 1, 1, 512, 332, 1, 1, "128M", 100),
    (4096, 2, 1, 1331, 865, 4, 1, "768M", 100),
    (8192, 4, 1, 2846, 1850, 9, 2, "1792M", 118),
    (16384, 8, 1, 5796, 3767, 17, 2, "3712M", 182),
    (16384, 8, 2, 2898, 1883, 9, 2, "1792M", 118),
    (65536, 16, 4, 5872, 3817, 9, 2, "3712M", 118),
]


@pytest.mark.parametrize("memory, cpus, count, db, backend, workers, short, pool, connections", CASES)
def test_auto_profile(memory, cpus, count, db, backend, workers, short, pool, connections):
    names = ["b%d" % i for i in range(count)]
    sizing = bench_sizing(memory, cpus, names)
    assert sorted(sizing) == names
    first = sizing["b0"]
    assert first["services"]["db"]["memory_mib"] == db
    assert first["services"]["backend"]["memory_mib"] == backend
    assert first["gunicorn"] == {"workers": workers, "threads": 4}
    assert first["workers"] == {"short": short, "long": 1}
    assert first["mariadb"]["innodb_buffer_pool_size"] == pool
    assert first["mariadb"]["max_connections"] == connections
    reserve = max(512, memory // 10)
    total = sum(s["memory_mib"] for b in sizing.values() for s in b["services"].values())
    assert total <= memory - reserve - 256, "the benches fit the host beside the reserve and Traefik"
    assert all(s["cpus"] <= cpus for b in sizing.values() for s in b["services"].values())


@pytest.mark.parametrize("profile, db, cpus", [("small", 819, 1.0), ("medium", 1638, 2.0), ("large", 3276, 4.0)])
def test_fixed_profiles(profile, db, cpus):
    sizing = bench_sizing(32768, 8, ["erp"], profile=profile)["erp"]
    assert sizing["services"]["db"]["memory_mib"] == db
    assert sizing["services"]["db"]["cpus"] == cpus and sizing["services"]["backend"]["cpus"] == cpus


def test_the_buffer_pool_fits_the_db_limit_with_its_connections():
    for memory in (2048, 3000, 4096, 10000, 50000):
        mariadb = bench_sizing(memory, 2, ["a"])["a"]
        pool = parse_size(mariadb["mariadb"]["innodb_buffer_pool_size"], "pool") // (1024 * 1024)
        db = mariadb["services"]["db"]["memory_mib"]
        assert pool % 128 == 0 and pool + 96 + 2 * mariadb["mariadb"]["max_connections"] <= db
        assert mariadb["mariadb"]["innodb_flush_method"] == "O_DIRECT" and mariadb["mariadb"]["slow_query_log"] == 1


def test_overrides_replace_a_share_and_explicit_counts_win():
    sizing = bench_sizing(16384, 4, [{"name": "a", "gunicorn_workers": 3}, "b"],
                          overrides={"b": {"db": {"memory": "2g", "cpus": 1.5}, "max_connections": 300}},
                          counts={"gunicorn_threads": 2, "queue_short_workers": 0})
    assert sizing["a"]["gunicorn"] == {"workers": 3, "threads": 2}
    assert sizing["b"]["services"]["db"] == {"memory_mib": 2048, "cpus": 1.5, "reserve_mib": 1024}
    assert sizing["b"]["mariadb"]["max_connections"] == 300
    assert sizing["b"]["gunicorn"]["threads"] == 2


def test_changing_a_worker_count_keeps_the_database_settings():
    plain = bench_sizing(8192, 2, ["a"])["a"]["mariadb"]
    more = bench_sizing(8192, 2, [{"name": "a", "gunicorn_workers": 2}])["a"]["mariadb"]
    assert plain == more


def test_redis_cache_maxmemory_and_resources():
    sizing = bench_sizing(8192, 4, ["a"])["a"]
    assert sizing["redis_cache_maxmemory"] == "%dmb" % int(sizing["services"]["redis-cache"]["memory_mib"] * 0.75)
    resources = compose_resources(sizing)
    assert resources["db"] == {"cpus": 4.0, "memory": "2846M", "reserve_memory": "1423M"}
    assert resources["scheduler"] == {"cpus": 1.0, "memory": "213M"}


@pytest.mark.parametrize("kwargs, message", [
    ({"profile": "huge"}, "unknown sizing profile 'huge'"),
    ({"overrides": {"a": {"db": {"memory": -1}}}}, "must be positive"),
    ({"overrides": {"a": {"db": {"memory": "lots"}}}}, "'lots' is not a size"),
    ({"overrides": {"a": {"backend": {"cpus": "two"}}}}, "'two' is not a number of CPUs"),
    ({"overrides": {"a": {"backend": {"cpus": 64}}}}, "64.0 CPUs exceed the host's 4"),
    ({"overrides": {"a": {"db": {"memory": "20g"}}}}, "the benches' memory limits add up to"),
    ({"overrides": {"a": {"db": {"memory": "256m"}}}}, "cannot hold a 128 MiB buffer pool"),
    ({"overrides": {"zz": {}}}, "sizing overrides for unknown benches: zz"),
    ({"overrides": {"a": {"web": {}}}}, "unknown sizing keys web"),
    ({"overrides": {"a": {"gunicorn_workers": 0}}}, "gunicorn_workers must be a whole number >= 1"),
    ({"counts": {"gunicorn_workers": 40}}, "raise max_connections"),
])
def test_refusals(kwargs, message):
    with pytest.raises(SizingError) as error:
        bench_sizing(8192, 4, ["a"], **kwargs)
    assert message in str(error.value)


def test_refusal_lists_the_budget_per_service():
    with pytest.raises(SizingError) as error:
        bench_sizing(4096, 8, ["a", "b"], profile="large")
    text = str(error.value)
    assert "add up to 16372 MiB but the host can give 3328 MiB" in text
    assert "a: db 3276M, redis-cache 655M" in text and "b: db 3276M" in text


@pytest.mark.parametrize("value, expected", [(512, 512 << 20), ("2g", 2 << 30), ("1.5G", 3 << 29), ("64MB", 64 << 20),
                                             ("100k", 100 << 10)])
def test_parse_size(value, expected):
    assert parse_size(value, "x") == expected


@pytest.mark.parametrize("settings, message", [
    ({"innodb_buffer_pool_size": "2G"}, "does not fit the db's memory limit of 2048 MiB"),
    ({"innodb_buffer_pool_size": "-1G"}, "is not a size"),
    ({"innodb_buffer_pool_size": "1G", "max_connections": "many"}, "max_connections must be a whole number"),
])
def test_mariadb_settings_refusals(settings, message):
    with pytest.raises(SizingError) as error:
        check_mariadb_settings(settings, 2048)
    assert message in str(error.value)


def test_mariadb_settings_that_fit_pass_unchanged():
    settings = {"innodb_buffer_pool_size": "1536M", "max_connections": 150}
    assert check_mariadb_settings(settings, 2048) is settings
