# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring role's settings checks: bad input is refused with a clear message before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from _preflight import check_outcome, run_preflight

# The benches and the proxy of the inventory: the plan (erpstack.erpnext.deployment) derives the monitoring stack's
# scrape targets, probes and backup checks from them
ERPNEXT = {
    "erpnext_benches": [
        {"name": "alpha", "sites": [
            {"name": "erp.example.com", "domains": ["erp.example.com", "www.example.com"]},
            {"name": "shop.example.com", "domains": ["*.shop.example.com", "shop.example.com"]},
            {"name": "old.example.com", "state": "absent"}]},
        {"name": "beta", "network_subnet": "172.30.11.0/24", "sites": [{"name": "crm.example.org"}]},
    ],
    "erpnext_proxy": "traefik", "traefik_https_port": 443, "traefik_default_certresolver": "le",
    # the wildcard domain needs a DNS-01 resolver
    "traefik_certificate_resolvers": {"le": {"challenge": "dns", "provider": "cloudflare",
                                             "credentials": {"CF_DNS_API_TOKEN": "dns-token-from-the-vault"}}},
}
GRAFANA = {"monitoring_grafana_host": "grafana.example.com"}
# A credential given in a receiver that is fine: no refusal may repeat it
HOOK = "https://hooks.example.com/services/T0KEN-from-the-vault"
SMTP = {"monitoring_smtp_smarthost": "smtp.example.com:587", "monitoring_smtp_from": "alerts@example.com",
        "monitoring_smtp_auth_username": "alerts", "monitoring_smtp_auth_password": "smtp-pa55word-from-the-vault"}


def case(**extra):
    return dict(ERPNEXT, **dict(GRAFANA, **extra))


def receivers(default="team", **spec):
    spec.setdefault("team", {"webhook": {"url": HOOK}})
    return {"monitoring_alert_receivers": spec, "monitoring_alert_default_receiver": default}


# name -> (role variables, None when the checks must pass, else a piece of their message)
CASES = {
    "defaults with a Grafana host pass": (case(), None),
    "receivers, routes and SMTP pass": (case(
        monitoring_alert_routes=[{"receiver": "mail", "matchers": ['severity="critical"'], "continue": True}],
        **dict(SMTP, **receivers(mail={"email": {"to": "ops@erpstack-test.net"}}))), None),
    "no sites yet passes": (case(erpnext_benches=[], erpnext_sites=[]), None),
    "Traefik on another port and address passes": (
        case(traefik_https_port=8443, traefik_bind_address="192.0.2.10", monitoring_probe_resolve="dns"), None),
    "Grafana without a host name": (case(monitoring_grafana_host=""),
                                    "Grafana needs its own host name (monitoring_grafana_host, got '')"),
    "Grafana on a site's domain": (case(monitoring_grafana_host="www.example.com"),
                                   "monitoring_grafana_host www.example.com is also a domain of site(s) "
                                   "erp.example.com: Grafana needs a host name of its own"),
    "Grafana on a site's domain is fine when Grafana is off": (
        case(monitoring_grafana_host="crm.example.org", monitoring_grafana_enabled=False), None),
    "no proxy with Grafana": (case(erpnext_proxy="none"),
                              "Grafana is served through Traefik only: it needs erpnext_proxy=traefik"),
    "no proxy without Grafana passes": (case(erpnext_proxy="none", monitoring_grafana_enabled=False,
                                             monitoring_grafana_host=""), None),
    "unpinned image": (case(monitoring_images={
        "prometheus": "prom/prometheus", "alertmanager": "prom/alertmanager:v0.28.1",
        "node_exporter": "prom/node-exporter:latest", "cadvisor": "gcr.io/cadvisor/cadvisor:v0.52.1",
        "mysqld_exporter": "prom/mysqld-exporter:v0.17.2", "redis_exporter": "oliver006/redis_exporter:v1.74.0",
        "blackbox_exporter": "prom/blackbox-exporter:v0.27.0", "grafana": "grafana/grafana:12.1.1",
        "loki": "grafana/loki:3.5.3", "alloy": "grafana/alloy:v1.10.1"}),
        "monitoring_images.prometheus='prom/prometheus' must be pinned to an exact tag; "
        "monitoring_images.node_exporter='prom/node-exporter:latest' must be pinned to an exact tag"),
    "bad retention": (case(monitoring_retention_time="30 days"),
                      "monitoring_retention_time: '30 days' is not a duration"),
    "bad retention size": (case(monitoring_retention_size="10G"), "monitoring_retention_size must be a size"),
    "probe timeout as long as the interval": (case(monitoring_probe_timeout="30s"),
                                              "monitoring_probe_timeout must be shorter than monitoring_probe_interval"),
    "unknown probe resolve mode": (case(monitoring_probe_resolve="hosts"),
                                   "monitoring_probe_resolve must be one of proxy, dns (got 'hosts')"),
    "unknown logs backend": (case(monitoring_logs_backend="elasticsearch"),
                             "monitoring_logs_backend must be one of loki, external (got 'elasticsearch')"),
    "webhook without a URL": (case(**receivers(pager={"webhook": {"max_alerts": 3}})),
                              "receiver pager: a webhook needs an http(s):// url"),
    "webhook with a URL that is not one": (case(**receivers(pager={"webhook": {"url": "hooks.example.com/T0KEN"}})),
                                           "receiver pager: a webhook needs an http(s):// url"),
    "e-mail without SMTP": (case(**receivers(mail={"email": {"to": "ops@erpstack-test.net"}})),
                            "receiver mail sends e-mail: set monitoring_smtp_smarthost (host:port) and "
                            "monitoring_smtp_from"),
    "receivers without a default": (case(**receivers(default="")),
                                    "monitoring_alert_default_receiver must name one of the receivers (team)"),
    "route to an unknown receiver": (case(monitoring_alert_routes=[{"receiver": "pager", "matchers": ['a="b"']}],
                                          **receivers()),
                                     "monitoring_alert_routes[0]: receiver 'pager' is not configured"),
    "route without matchers": (case(monitoring_alert_routes=[{"receiver": "team"}], **receivers()),
                               "monitoring_alert_routes[0].matchers is required (a list)"),
    "backup age override for an unknown bench": (case(monitoring_backup_max_age_overrides={"gamma": 30}),
                                                 "monitoring_backup_max_age_overrides names no bench of the plan: "
                                                 "gamma"),
    "backup age of zero hours": (case(monitoring_backup_max_age_hours=0),
                                 "monitoring_backup_max_age_hours and its overrides must be positive numbers"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cases = {name: ({}, role_vars) for name, (role_vars, _msg) in CASES.items()}
    return run_preflight("erpstack.erpnext.monitoring", cases, {}, tmp_path_factory.mktemp("monitoring_preflight"),
                         {"traefik_acme_email": "ops@erpstack-test.net"})


@pytest.mark.parametrize("name", sorted(CASES))
def test_preflight(outcomes, name):
    check_outcome(outcomes[name], CASES[name][1])


def test_no_credential_in_any_refusal(outcomes):
    leaked = [name for name, outcome in outcomes.items()
              if "T0KEN" in outcome or "pa55word" in outcome or "hooks.example.com" in outcome]
    assert not leaked, [outcomes[name] for name in leaked]
