# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: a host (memory, CPUs) and its benches -> memory and CPU limits per service, gunicorn and worker
counts, and the MariaDB and Redis settings that follow from them.

Every bench gets the same share of the host after a reserve for the system, Docker and the shared stacks
(``auto``), or a fixed budget (``small``/``medium``/``large``). Within a bench the budget is split by fixed shares;
per-service overrides replace a share. The plan is refused when the limits of all benches exceed what the host can give.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grammars import is_mariadb_size_option, mariadb_size_errors

MIB = 1024 * 1024
SERVICES = ("db", "redis-cache", "redis-queue", "backend", "frontend", "websocket", "queue-short", "queue-long",
            "scheduler")
# Share of a bench's memory budget per service (sums to 1)
MEMORY_SHARES = {
    "db": 0.40, "redis-cache": 0.08, "redis-queue": 0.04, "backend": 0.26, "frontend": 0.03, "websocket": 0.04,
    "queue-short": 0.06, "queue-long": 0.06, "scheduler": 0.03,
}
# Share of a bench's CPUs each service may burst to (CPU is compressible: these need not sum to 1)
CPU_SHARES = {
    "db": 1.0, "redis-cache": 0.25, "redis-queue": 0.25, "backend": 1.0, "frontend": 0.5, "websocket": 0.25,
    "queue-short": 0.5, "queue-long": 0.5, "scheduler": 0.25,
}
# Memory (MiB) and CPUs per bench of the fixed profiles
PROFILES = {"small": (2048, 1.0), "medium": (4096, 2.0), "large": (8192, 4.0)}
GUNICORN_WORKER_MIB = 200      # an ERPNext gunicorn worker (preloaded) under load
GUNICORN_THREADS = 4
CONNECTION_MIB = 2             # per MariaDB connection: thread stack, sort/join/read buffers
DB_OVERHEAD_MIB = 96           # MariaDB's own memory beside the buffer pool and the connections
POOL_CHUNK_MIB = 128           # innodb_buffer_pool_chunk_size
MIN_SERVICE_MIB = 32
_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB, "t": 1024 * 1024 * MIB}


class SizingError(ValueError):
    """The sizing plan is invalid or does not fit the host."""


def parse_size(value, where, default_unit="m"):
    """Bytes of a size: an integer (in ``default_unit``) or a string such as ``512m``, ``2G``, ``1.5g``.

    Not ansible-core's ``human_to_bytes``: it refuses ``512mb`` (a lower-case b means bits to it), ``1MiB`` and
    spaces that Docker and operators write, and its errors cannot name the variable path (``where``).
    """
    if isinstance(value, bool):
        raise SizingError("%s: %r is not a size" % (where, value))
    if isinstance(value, (int, float)):
        if value <= 0:
            raise SizingError("%s: %r must be positive" % (where, value))
        return int(value * _UNITS[default_unit])
    match = _SIZE_RE.match(str(value))
    if not match:
        raise SizingError("%s: %r is not a size (e.g. 512m, 2g)" % (where, value))
    number = float(match.group(1))
    if number <= 0:
        raise SizingError("%s: %r must be positive" % (where, value))
    return int(number * _UNITS[match.group(2).lower()])


def parse_cpus(value, where):
    try:
        cpus = float(value)
    except (TypeError, ValueError):
        raise SizingError("%s: %r is not a number of CPUs" % (where, value))
    if isinstance(value, bool) or cpus <= 0:
        raise SizingError("%s: %r must be a positive number of CPUs" % (where, value))
    return cpus


def _mib(num_bytes):
    return int(num_bytes // MIB)


def mariadb_sizing(memory_mib, max_connections):
    """MariaDB settings for a db service limited to ``memory_mib`` serving ``max_connections``."""
    available = memory_mib - DB_OVERHEAD_MIB - max_connections * CONNECTION_MIB
    pool = int(min(available, memory_mib * 0.65) // POOL_CHUNK_MIB * POOL_CHUNK_MIB)
    if pool < POOL_CHUNK_MIB:
        raise SizingError(
            "db: %d MiB cannot hold a %d MiB buffer pool beside %d connections (%d MiB each) and %d MiB for the "
            "server: give the db more memory or lower max_connections"
            % (memory_mib, POOL_CHUNK_MIB, max_connections, CONNECTION_MIB, DB_OVERHEAD_MIB))
    heap = max(16, min(256, memory_mib // 32))
    return {
        "innodb_buffer_pool_size": "%dM" % pool,
        # a quarter of the pool, the usual rule, within what recovery time allows
        "innodb_log_file_size": "%dM" % max(48, min(pool // 4, 2048)),
        "innodb_log_buffer_size": "16M",
        "innodb_flush_method": "O_DIRECT",
        "innodb_flush_log_at_trx_commit": 1,
        "innodb_io_capacity": 1000,
        "max_connections": max_connections,
        "tmp_table_size": "%dM" % heap,
        "max_heap_table_size": "%dM" % heap,
        "table_open_cache": 2000 if memory_mib >= 1024 else 800,
        "thread_cache_size": min(64, max_connections),
        "slow_query_log": 1,
        "slow_query_log_file": "/var/lib/mysql/slow.log",
        "long_query_time": 1,
    }


COUNT_KEYS = ("gunicorn_workers", "gunicorn_threads", "queue_short_workers", "queue_long_workers")


def bench_sizing(host_memory_mb, host_cpus, benches, profile="auto", overrides=None, reserve_mb=None,
                 proxy_memory_mb=256, counts=None):
    """Limits and settings for every bench of a host.

    ``benches``: names, or plan entries (dicts with ``name`` and optionally the keys of COUNT_KEYS).
    ``overrides``: ``{bench: {service: {memory, cpus, reserve_memory}, gunicorn_workers, gunicorn_threads,
    queue_short_workers, queue_long_workers, max_connections}}``; ``counts``: host-wide values of COUNT_KEYS (0 or
    None: derived). Precedence: overrides, then the bench's own keys, then counts, then the derivation.
    Returns ``{bench: {...}}`` and raises SizingError (listing the budget per service) when the benches' limits
    exceed the host.
    """
    bench_names = []
    explicit = {}
    for bench in benches or []:
        name = bench["name"] if isinstance(bench, dict) else bench
        bench_names.append(name)
        own = dict((k, v) for k, v in (counts or {}).items() if k in COUNT_KEYS and v)
        if isinstance(bench, dict):
            own.update((k, bench[k]) for k in COUNT_KEYS if bench.get(k))
        explicit[name] = own
    if profile not in ("auto",) + tuple(PROFILES):
        raise SizingError("unknown sizing profile %r (auto, %s)" % (profile, ", ".join(sorted(PROFILES))))
    host_mib = _mib(parse_size(host_memory_mb, "host memory"))
    cpus = parse_cpus(host_cpus, "host CPUs")
    names = bench_names
    if not names:
        raise SizingError("no bench to size")
    reserve = _mib(parse_size(reserve_mb, "erpnext_sizing_reserve")) if reserve_mb else max(512, host_mib // 10)
    available = host_mib - reserve - int(proxy_memory_mb or 0)
    if available <= 0:
        raise SizingError("host memory %d MiB leaves nothing after the %d MiB reserve and %d MiB for Traefik and "
                          "monitoring" % (host_mib, reserve, proxy_memory_mb))
    if profile == "auto":
        budget, bench_cpus = available // len(names), max(0.5, cpus / len(names))
    else:
        budget, bench_cpus = PROFILES[profile]
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise SizingError("sizing overrides for unknown benches: %s" % ", ".join(unknown))
    result = {}
    total = 0
    for name in names:
        override = dict(explicit[name], **(overrides.get(name) or {}))
        result[name] = sized = _size_bench(name, budget, bench_cpus, cpus, override)
        total += sum(service["memory_mib"] for service in sized["services"].values())
    if total > available:
        lines = []
        for bench, sized in result.items():
            budget_line = ", ".join("%s %dM" % (svc, spec["memory_mib"]) for svc, spec in sized["services"].items())
            lines.append("%s: %s" % (bench, budget_line))
        raise SizingError(
            "the benches' memory limits add up to %d MiB but the host can give %d MiB (%d MiB total, %d MiB reserved "
            "for the system and Docker, %d MiB for Traefik and monitoring). Budget per service: %s"
            % (total, available, host_mib, reserve, proxy_memory_mb, "; ".join(lines)))
    return result


def _size_bench(name, budget, bench_cpus, host_cpus, override):
    where = "bench %r" % name
    known = set(SERVICES) | {"gunicorn_workers", "gunicorn_threads", "queue_short_workers", "queue_long_workers",
                             "max_connections"}
    unknown = sorted(set(override) - known)
    if unknown:
        raise SizingError("%s: unknown sizing keys %s (services: %s)" % (where, ", ".join(unknown), ", ".join(SERVICES)))
    services = {}
    for service in SERVICES:
        spec = override.get(service) or {}
        extra = sorted(set(spec) - {"memory", "cpus", "reserve_memory"})
        if extra:
            raise SizingError("%s, %s: unknown keys %s (memory, cpus, reserve_memory)" % (where, service, ", ".join(extra)))
        memory = (_mib(parse_size(spec["memory"], "%s, %s memory" % (where, service))) if "memory" in spec
                  else max(MIN_SERVICE_MIB, int(budget * MEMORY_SHARES[service])))
        limit_cpus = (parse_cpus(spec["cpus"], "%s, %s cpus" % (where, service)) if "cpus" in spec
                      else max(0.1, round(bench_cpus * CPU_SHARES[service], 2)))
        if limit_cpus > host_cpus:
            raise SizingError("%s, %s: %s CPUs exceed the host's %s" % (where, service, limit_cpus, host_cpus))
        services[service] = {"memory_mib": memory, "cpus": min(limit_cpus, float(host_cpus))}
        if "reserve_memory" in spec:
            services[service]["reserve_mib"] = _mib(parse_size(spec["reserve_memory"], "%s, %s reserve" % (where, service)))
        elif service in ("db", "backend"):
            services[service]["reserve_mib"] = memory // 2
    backend = services["backend"]
    derived = {
        "gunicorn_workers": max(1, min(int(2 * backend["cpus"]) + 1, backend["memory_mib"] // GUNICORN_WORKER_MIB)),
        "gunicorn_threads": GUNICORN_THREADS,
        "queue_short_workers": 2 if budget >= 4096 else 1,
        "queue_long_workers": 1,
    }
    for key, value in override.items():
        if key in derived and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SizingError("%s: %s must be a whole number >= 1 (got %r)" % (where, key, value))
    # Every request thread and job may hold a connection; the rest is for the scheduler, backups and monitoring.
    # From the derived counts, so that changing a worker count does not restart the database.
    connections = override.get("max_connections") or max(100, 2 * (
        derived["gunicorn_workers"] * derived["gunicorn_threads"] + derived["queue_short_workers"]
        + derived["queue_long_workers"]) + 40)
    counts = dict(derived, **dict((k, v) for k, v in override.items() if k in derived))
    workers, threads = counts["gunicorn_workers"], counts["gunicorn_threads"]
    short, long_ = counts["queue_short_workers"], counts["queue_long_workers"]
    needed = workers * threads + short + long_ + 10
    if needed > connections:
        raise SizingError("%s: %d gunicorn workers x %d threads and %d queue workers need about %d database "
                          "connections, more than max_connections %d: raise max_connections in "
                          "erpnext_sizing_overrides" % (where, workers, threads, short + long_, needed, connections))
    return {
        "services": services,
        "gunicorn": {"workers": workers, "threads": threads},
        "workers": {"short": short, "long": long_},
        "mariadb": mariadb_sizing(services["db"]["memory_mib"], connections),
        "redis_cache_maxmemory": "%dmb" % max(16, int(services["redis-cache"]["memory_mib"] * 0.75)),
    }


def compose_resources(sized):
    """``deploy.resources`` per service for compose_project from one bench's sizing."""
    out = {}
    for service, spec in sized["services"].items():
        entry = {"cpus": spec["cpus"], "memory": "%dM" % spec["memory_mib"]}
        if spec.get("reserve_mib"):
            entry["reserve_memory"] = "%dM" % spec["reserve_mib"]
        out[service] = entry
    return out


def check_mariadb_settings(settings, memory_mib, where="db"):
    """Refuse MariaDB settings (after the user's overrides) that MariaDB would not read as sizes, or whose buffer pool
    does not fit the db's memory limit."""
    for key in sorted(settings):
        if is_mariadb_size_option(key) and settings[key] is not None:
            errors = mariadb_size_errors(key, settings[key])
            if errors:
                raise SizingError("%s: %s" % (where, errors[0]))
    pool = settings.get("innodb_buffer_pool_size")
    if pool is None:
        return settings
    pool_mib = _mib(parse_size(pool, "%s: innodb_buffer_pool_size" % where, default_unit=""))
    if pool_mib + DB_OVERHEAD_MIB > memory_mib:
        raise SizingError("%s: innodb_buffer_pool_size %s does not fit the db's memory limit of %d MiB (the server "
                          "needs about %d MiB beside the pool): lower it or raise the db's memory"
                          % (where, pool, memory_mib, DB_OVERHEAD_MIB))
    connections = settings.get("max_connections")
    if connections is not None and (isinstance(connections, bool) or not str(connections).isdigit()
                                    or int(connections) < 10):
        raise SizingError("%s: max_connections must be a whole number >= 10 (got %r)" % (where, connections))
    return settings
