# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus's scrape configuration and the blackbox exporter's modules, from the checked monitoring settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import (
    PROBE_MODULE,
    REDIS_INSTANCES,
    duration_seconds,
    probe_targets,
    swarm_db_exporters,
)


def prometheus_config(settings):
    benches = settings.get("benches") or []
    probe = settings.get("probe") or {}
    scrape = [
        {"job_name": "prometheus", "static_configs": [{"targets": ["localhost:9090"]}]},
        {"job_name": "alertmanager", "static_configs": [{"targets": ["alertmanager:9093"]}]},
        {"job_name": "node", "static_configs": [{"targets": ["node-exporter:9100"]}]},
    ]
    if settings.get("cadvisor"):
        scrape.append({"job_name": "cadvisor", "static_configs": [{"targets": ["cadvisor:8080"]}]})
    if (settings.get("proxy") or {}).get("network"):
        scrape.append({
            "job_name": "traefik",
            "static_configs": [{"targets": ["traefik:8082"]}],
            # Traefik's services of a bench are named BENCH-frontend and BENCH-websocket
            "metric_relabel_configs": [{
                "source_labels": ["service"], "regex": "(.+)-(frontend|websocket)@docker",
                "target_label": "bench", "replacement": "$1"}],
        })
    if benches:
        scrape.append({"job_name": "mysqld", "static_configs": [
            {"targets": ["mysqld-exporter-%s:9104" % b["name"]], "labels": {"bench": b["name"]}} for b in benches]})
        scrape.append({"job_name": "redis", "static_configs": [
            {"targets": ["redis-exporter-%s-%s:9121" % (b["name"], i)], "labels": {"bench": b["name"], "redis": i}}
            for b in benches for i in REDIS_INSTANCES]})
    swarm = settings.get("swarm_benches") or []
    if swarm:
        static = [{"targets": ["%s:9104" % service], "labels": {"bench": b["name"], "role": role}}
                  for b in swarm for role, service in swarm_db_exporters(b)]
        jobs = [job for job in scrape if job["job_name"] == "mysqld"]
        if jobs:
            jobs[0]["static_configs"].extend(static)
        else:
            scrape.append({"job_name": "mysqld", "static_configs": static})
    targets = probe_targets(benches, probe.get("https_port", 443))
    if targets:
        interval = probe.get("interval", "30s")
        timeout = min(duration_seconds(probe.get("timeout", "10s")) + 5, duration_seconds(interval))
        scrape.append({
            "job_name": "site-probe",
            "metrics_path": "/probe",
            "params": {"module": [PROBE_MODULE]},
            "scrape_interval": interval,
            "scrape_timeout": "%ds" % timeout,
            "static_configs": [{"targets": [t["url"]], "labels": {"bench": t["bench"], "site": t["site"],
                                                                  "domain": t["domain"]}} for t in targets],
            "relabel_configs": [
                {"source_labels": ["__address__"], "target_label": "__param_target"},
                {"source_labels": ["__param_target"], "target_label": "instance"},
                {"target_label": "__address__", "replacement": "blackbox-exporter:9115"},
            ],
        })
    if settings.get("grafana", {}).get("enabled"):
        scrape.append({"job_name": "grafana", "static_configs": [{"targets": ["grafana:3000"]}]})
    if settings.get("logs_backend") == "loki":
        scrape.append({"job_name": "loki", "static_configs": [{"targets": ["loki:3100"]}]})
        scrape.append({"job_name": "alloy", "static_configs": [{"targets": ["alloy:12345"]}]})
    return {
        "global": {
            "scrape_interval": settings["scrape_interval"],
            "evaluation_interval": settings["evaluation_interval"],
            "external_labels": dict(settings.get("external_labels") or {}),
        },
        "rule_files": ["/etc/prometheus/rules/*.yml"],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": ["alertmanager:9093"]}]}]},
        "scrape_configs": scrape,
    }


def blackbox_config(settings):
    probe = settings.get("probe") or {}
    tls = {"insecure_skip_verify": bool(probe.get("tls_insecure"))}
    if probe.get("ca_bundle"):
        tls["ca_file"] = "/etc/blackbox_exporter/ca.pem"
    return {"modules": {PROBE_MODULE: {
        "prober": "http",
        "timeout": probe.get("timeout", "10s"),
        "http": {
            "method": "GET",
            "valid_status_codes": [200],
            "fail_if_not_ssl": True,
            "follow_redirects": False,
            "preferred_ip_protocol": "ip4",
            # Frappe answers {"message": "pong"}: anything else (a proxy's error page) is a failed probe
            "fail_if_body_not_matches_regexp": ['"message":\\s*"pong"'],
            "tls_config": tls,
        },
    }}}
