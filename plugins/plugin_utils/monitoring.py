# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: the monitoring role's settings -> the monitoring compose project, Prometheus's scrape
configuration, blackbox_exporter's modules and Alertmanager's configuration (dicts).

Scrape targets come from the benches the erpnext role plans, never from a hand-written list: every bench gets a
mysqld_exporter and one redis_exporter per Redis instance on its own (internal) network, every present site a probe
of ``https://DOMAIN/api/method/ping``. Secret values stay out of everything but ``alertmanager_config``'s result,
which the role writes as a secret file: exporters read their credentials from secret files by name.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, is_host, is_pinned
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.hardening import (
    MONITORING_DEFAULTS,
    MONITORING_VARIABLE,
    check as check_hardening,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import SizingError, parse_size

REDIS_INSTANCES = ("cache", "queue")
# RQ's keys: a queue's jobs (list) and the workers listening on it (set, removed with its last member)
QUEUE_KEYS = "rq:queue:*,rq:workers:*"
PROBE_MODULE = "erpstack_ping"
DURATION_RE = re.compile(r"^(?=.)([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$")
SIZE_RE = re.compile(r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$")
RECEIVER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")
COMPONENTS = ("prometheus", "alertmanager", "node_exporter", "cadvisor", "mysqld_exporter", "redis_exporter",
              "blackbox_exporter", "grafana", "loki", "alloy")
LOG_BACKENDS = ("loki", "external")
# Container users of the official images: the secret files they read are owned by them
USERS = {"prometheus": 65534, "alertmanager": 65534, "mysqld_exporter": 65534, "redis_exporter": 59000,
         "blackbox_exporter": 65534, "grafana": 472}
PORTS = {"prometheus": 9090, "alertmanager": 9093, "node_exporter": 9100, "cadvisor": 8080, "mysqld_exporter": 9104,
         "redis_exporter": 9121, "blackbox_exporter": 9115, "grafana": 3000, "loki": 3100, "alloy": 12345}


def duration_seconds(value):
    """Seconds of a Prometheus duration such as ``1h30m`` (raises ValueError)."""
    text = str(value)
    if not DURATION_RE.match(text):
        raise ValueError("%r is not a duration (e.g. 30s, 5m, 1h30m)" % (value,))
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[u] for n, u in re.findall(r"([0-9]+)(ms|s|m|h|d|w|y)", text))


def exporter_secret(kind, bench, instance=None):
    """Name of an exporter's credentials file: ``mysqld_exporter.BENCH.cnf``, ``redis_exporter.BENCH.cache.json``;
    a bench on Swarm has ``mysqld_exporter.BENCH.primary.cnf`` and ``mysqld_exporter.BENCH.replica.cnf``."""
    if kind == "mysqld":
        return "mysqld_exporter.%s%s.cnf" % (bench, "." + instance if instance else "")
    return "redis_exporter.%s.%s.json" % (bench, instance)


# The database service each role's exporter reaches on a bench on Swarm (plugin_utils/swarm.py names them)
SWARM_DB_SERVICES = {"primary": "db", "replica": "db-replica"}


def swarm_db_exporters(bench):
    """``[(role, exporter service)]`` of a bench on Swarm (``{name, replica}``): the primary's, and the replica's."""
    roles = ["primary"] + (["replica"] if bench.get("replica") else [])
    return [(role, "mysqld-exporter-%s-%s" % (bench["name"], role)) for role in roles]


def probe_targets(benches, https_port=443):
    """One probe per present site: its first exact domain (wildcards cannot be probed)."""
    targets = []
    for bench in benches:
        for site in bench.get("sites") or []:
            if site.get("state", "present") != "present":
                continue
            exact = [d for d in site.get("domains") or [site["name"]] if not d.startswith("*.")]
            domain = exact[0] if exact else site["name"]
            port = "" if int(https_port) == 443 else ":%d" % int(https_port)
            targets.append({"bench": bench["name"], "site": site["name"], "domain": domain,
                            "url": "https://%s%s/api/method/ping" % (domain, port)})
    return targets


def backup_ages(backup):
    """``[{name, max_age_hours}]`` of the benches with scheduled backups (``backup``: benches, max_age_hours,
    overrides ({bench: hours}))."""
    backup = backup or {}
    overrides = backup.get("overrides") or {}
    return [{"name": name, "max_age_hours": float(overrides.get(name, backup.get("max_age_hours", 26)))}
            for name in backup.get("benches") or []]


def stack_memory_mb(resources, benches=0, cadvisor=True, grafana=True, logs_backend="loki"):
    """MiB of memory limits of the enabled components (per-bench exporters counted once per bench): what the benches'
    sizing reserves for the stack, as it does for Traefik."""
    resources = resources or {}
    counts = {"prometheus": 1, "alertmanager": 1, "node_exporter": 1, "blackbox_exporter": 1,
              "cadvisor": int(bool(cadvisor)), "grafana": int(bool(grafana)),
              "loki": int(logs_backend == "loki"), "alloy": int(logs_backend == "loki"),
              "mysqld_exporter": int(benches), "redis_exporter": 2 * int(benches)}
    total = 0
    for name, count in counts.items():
        memory = (resources.get(name) or {}).get("memory")
        if count and memory is not None:
            try:
                total += count * parse_size(memory, "monitoring_resources.%s.memory" % name)
            except SizingError as exc:
                raise BenchSpecError(str(exc))
    return total // 1048576


def _positive(value):
    if isinstance(value, bool):
        return False
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def check_settings(settings):
    """Every problem of the monitoring settings, as messages (an empty list when they are valid)."""
    errors = []
    backup = settings.get("backup") or {}
    hours = [backup.get("max_age_hours", 26)] + list((backup.get("overrides") or {}).values())
    if not all(_positive(h) for h in hours):
        errors.append("monitoring_backup_max_age_hours and its overrides must be positive numbers of hours")
    bench_names = [b.get("name") for b in settings.get("benches") or []]
    unknown = sorted(set(backup.get("overrides") or {}) - set(bench_names))
    if unknown:
        errors.append("monitoring_backup_max_age_overrides names no bench of the plan: %s" % ", ".join(unknown))
    images = settings.get("images") or {}
    for name in COMPONENTS:
        image = images.get(name) or ""
        if not is_pinned(image):
            errors.append("monitoring_images.%s=%r must be pinned to an exact tag" % (name, image))
    for key in ("scrape_interval", "evaluation_interval", "retention_time"):
        try:
            duration_seconds(settings.get(key))
        except ValueError as exc:
            errors.append("monitoring_%s: %s" % (key, exc))
    if not SIZE_RE.match(str(settings.get("retention_size", "0B"))):
        errors.append("monitoring_retention_size must be a size such as 10GB (got %r)" % settings.get("retention_size"))
    probe = settings.get("probe") or {}
    if probe.get("resolve") not in ("proxy", "dns"):
        errors.append("monitoring_probe_resolve must be proxy or dns (got %r)" % probe.get("resolve"))
    try:
        if duration_seconds(probe.get("timeout", "10s")) >= duration_seconds(probe.get("interval", "30s")):
            errors.append("monitoring_probe_timeout must be shorter than monitoring_probe_interval")
    except ValueError as exc:
        errors.append("monitoring_probe_interval/timeout: %s" % exc)
    address = str(probe.get("proxy_address") or "host-gateway")
    try:
        loopback = ipaddress.ip_address(address).is_loopback
    except ValueError:
        loopback = address == "localhost"
    if probe.get("resolve") == "proxy" and loopback:
        errors.append("monitoring_probe_resolve is proxy but Traefik listens on %s only, which containers cannot "
                      "reach: set monitoring_probe_resolve: dns (or bind Traefik to an address they reach)" % address)
    if settings.get("logs_backend") not in LOG_BACKENDS:
        errors.append("monitoring_logs_backend must be one of %s (got %r)"
                      % (", ".join(LOG_BACKENDS), settings.get("logs_backend")))
    grafana = settings.get("grafana") or {}
    if grafana.get("enabled"):
        if not (settings.get("proxy") or {}).get("network"):
            errors.append("Grafana is served through Traefik only: it needs erpnext_proxy=traefik "
                          "(or monitoring_grafana_enabled: false)")
        if not is_host(grafana.get("host")):
            errors.append("Grafana needs its own host name (monitoring_grafana_host, got %r)" % grafana.get("host"))
    names = [b.get("name") for b in settings.get("benches") or []]
    if len(set(names)) != len(names):
        errors.append("bench names repeat: %s" % ", ".join(sorted(n for n in set(names) if names.count(n) > 1)))
    errors.extend(check_hardening(settings.get("hardening"), MONITORING_VARIABLE, MONITORING_DEFAULTS))
    return errors
