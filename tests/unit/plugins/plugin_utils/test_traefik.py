# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan of benches and sites, the Traefik labels that route it, and Traefik's own configuration and project."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import compose_project, proxy_labels
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.traefik import proxy_project, traefik_configuration

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
UPDATE = os.environ.get("ERPSTACK_UPDATE_GOLDEN") == "1"

BENCHES = [
    {"name": "alpha", "sites": [
        {"name": "erp.example.com", "domains": ["erp.example.com", "www.example.com"], "apps": ["erpnext"],
         "default": True, "admin_password": "never-in-the-plan-123"},
        {"name": "hr.example.com"},
    ]},
    {"name": "beta", "network_subnet": "172.30.11.0/24", "version": "v15.85.1", "sites": [
        {"name": "shop.example.com", "domains": ["shop.example.com", "*.shop.example.com"], "tls_resolver": "dns"},
        {"name": "old.example.com", "state": "absent"},
    ]},
]
RESOLVERS = {"resolvers": ["le", "dns"], "default_resolver": "le", "dns_resolvers": ["dns"]}


def golden(name, value):
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        with open(path, "w") as handle:
            json.dump(value, handle, indent=1, sort_keys=True)
            handle.write("\n")
    with open(path) as handle:
        assert json.load(handle) == json.loads(json.dumps(value)), "golden %s differs (ERPSTACK_UPDATE_GOLDEN=1)" % name


def test_plan_fills_in_defaults_and_drops_secrets():
    plan = bench_plan(BENCHES, **RESOLVERS)
    assert "never-in-the-plan-123" not in json.dumps(plan)
    assert [b["name"] for b in plan] == ["alpha", "beta"]
    assert plan[0]["network_subnet"] == "172.30.10.0/24" and plan[1]["network_subnet"] == "172.30.11.0/24"
    erp, hr = plan[0]["sites"]
    assert erp["domains"] == ["erp.example.com", "www.example.com"] and erp["tls_resolver"] == "le"
    assert erp["has_admin_password"] and not hr["has_admin_password"]
    assert hr["domains"] == ["hr.example.com"] and hr["router"] == "hr-example-com" and hr["host"] == "hr.example.com"
    assert plan[1]["sites"][0]["tls_resolver"] == "dns" and plan[1]["version"] == "v15.85.1"


def test_absent_sites_free_their_domains():
    benches = copy.deepcopy(BENCHES)
    benches[0]["sites"].append({"name": "new.example.com", "domains": ["old.example.com"]})
    assert bench_plan(benches, **RESOLVERS)[0]["sites"][-1]["domains"] == ["old.example.com"]


@pytest.mark.parametrize("change, message", [
    (lambda b: b[1]["sites"][0]["domains"].append("www.example.com"),
     "domain 'www.example.com' is claimed by bench 'alpha', site 'erp.example.com' and by bench 'beta'"),
    (lambda b: b[0]["sites"][1].update(domains=["hr..example.com"]), "invalid domain 'hr..example.com'"),
    (lambda b: b[0]["sites"][1].update(domains=["*.com"]), "invalid domain '*.com'"),
    (lambda b: b[0]["sites"][1].update(domains=[]), "domains must be a non-empty list"),
    (lambda b: b[0]["sites"][1].update(tls_resolver="le-prod"), "unknown certificate resolver 'le-prod' (known: le, dns)"),
    (lambda b: b[1]["sites"][0].update(tls_resolver="le"), "wildcard domains *.shop.example.com need a DNS-01 resolver"),
    (lambda b: b[1].pop("network_subnet"), "bench 'beta': every bench after the first needs its own network_subnet"),
    (lambda b: b[1].update(network_subnet="172.30.10.128/25"), "must be an IPv4 network with prefix /8, /16 or /24"),
    (lambda b: b[1].update(network_subnet="172.30.0.0/16"), "overlaps bench 'alpha'"),
    (lambda b: b[1].update(name="alpha"), "bench 'alpha' is listed twice"),
    (lambda b: b[1].update(name="Beta"), "bench 'Beta': the name must be lower-case"),
    (lambda b: b[1].update(name="monitoring"), "bench 'monitoring': the name is reserved for a shared stack"),
    (lambda b: b[1].update(name="traefik"), "bench 'traefik': the name is reserved for a shared stack"),
    (lambda b: b[1].update(replica=3), "unknown keys replica"),
    (lambda b: b[0]["sites"][1].update(domain="x.example.com"), "unknown keys domain"),
    (lambda b: b[0]["sites"].append({"name": "hr-example.com"}), "router name clashes with site 'hr.example.com'"),
    (lambda b: b[0]["sites"][1].update(default=True), "at most one site may be the default"),
])
def test_plan_refusals(change, message):
    benches = copy.deepcopy(BENCHES)
    change(benches)
    with pytest.raises(BenchSpecError) as error:
        bench_plan(benches, **RESOLVERS)
    assert message in str(error.value)
    assert "never-in-the-plan-123" not in str(error.value)


def test_plan_reports_every_error_at_once():
    with pytest.raises(BenchSpecError) as error:
        bench_plan([{"name": "a", "sites": [{"name": "A"}, {"name": "b.example.com", "tls_resolver": "x"}]}], **RESOLVERS)
    assert "site 'A'" in str(error.value) and "unknown certificate resolver 'x'" in str(error.value)


def test_no_proxy_and_no_resolver_plan():
    plan = bench_plan([{"name": "erpnext", "sites": [{"name": "erp.localhost"}]}], proxy="none")
    assert plan[0]["sites"][0]["tls_resolver"] == ""
    with pytest.raises(BenchSpecError):
        bench_plan([{"name": "erpnext"}], proxy="nginx")


def labels_for(bench_index):
    plan = bench_plan(BENCHES, **RESOLVERS)
    return proxy_labels(plan[bench_index]["name"], {
        "network": "traefik-public", "max_body_bytes": 52428800,
        "middlewares": ["erpstack-security-headers@file"], "sites": plan[bench_index]["sites"]})


def test_labels_route_every_domain_of_every_present_site():
    golden("proxy_labels_alpha.json", labels_for(0))
    golden("proxy_labels_beta.json", labels_for(1))
    beta = labels_for(1)
    assert not [k for k in beta["frontend"] if "old-example-com" in k], "an absent site keeps no router"


def test_exact_hosts_beat_wildcards_and_socketio_beats_pages():
    frontend, websocket = labels_for(1)["frontend"], labels_for(1)["websocket"]
    exact = int(frontend["traefik.http.routers.beta-shop-example-com.priority"])
    wildcard = int(frontend["traefik.http.routers.beta-shop-example-com-wildcard.priority"])
    socket = int(websocket["traefik.http.routers.beta-shop-example-com-ws.priority"])
    assert socket > exact > wildcard
    assert websocket["traefik.http.routers.beta-shop-example-com-ws.rule"].endswith("PathPrefix(`/socket.io`)")
    assert frontend["traefik.http.routers.beta-shop-example-com-wildcard.tls.domains[0].main"] == "*.shop.example.com"
    assert frontend["traefik.http.routers.beta-shop-example-com-wildcard.rule"] == (
        "HostRegexp(`^[a-z0-9-]+\\.shop\\.example\\.com$$`)")


def test_every_router_sets_the_site_header_first():
    frontend = labels_for(0)["frontend"]
    assert frontend["traefik.http.routers.alpha-erp-example-com.middlewares"] == (
        "alpha-erp-example-com-site@docker,alpha-body@docker,erpstack-security-headers@file")
    assert frontend["traefik.http.middlewares.alpha-erp-example-com-site.headers.customrequestheaders"
                    ".X-Frappe-Site-Name"] == "erp.example.com"


def test_bench_joins_the_proxy_network_with_its_frontend_and_websocket_only():
    bench = {
        "name": "alpha", "network": {"subnet": "172.30.10.0/24"},
        "images": {"erpnext": "frappe/erpnext:v16.32.3", "mariadb": "mariadb:11.8.3", "redis": "redis:7.4.5-alpine"},
        "proxy": {"network": "traefik-public", "max_body_bytes": 1024, "sites": bench_plan(BENCHES, **RESOLVERS)[0]["sites"]},
    }
    document = compose_project(bench)
    joined = sorted(name for name, svc in document["services"].items() if "proxy" in svc["networks"])
    assert joined == ["frontend", "websocket"]
    assert document["networks"]["proxy"] == {"external": True, "name": "traefik-public"}
    assert "traefik.enable" not in document["services"]["backend"]["labels"]
    assert "ports" not in document["services"]["frontend"]


SETTINGS = {
    "network": "traefik-public", "email": "ops@example.com", "ca_server": "https://acme.example/dir",
    "ca_bundle": True, "resolvers": {
        "le": {"challenge": "http"}, "alpn": {"challenge": "tlsalpn"},
        "dns": {"challenge": "dns", "provider": "cloudflare", "credentials": {"CF_DNS_API_TOKEN": "secret-token-value"},
                "dns_servers": ["1.1.1.1:53"], "delay": 10},
    }, "default_resolver": "le", "tls_min_version": "VersionTLS12", "cipher_suites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"],
    "hsts_max_age": 31536000, "hsts_include_subdomains": True, "hsts_preload": False, "frame_options": "SAMEORIGIN",
    "referrer_policy": "no-referrer", "certificates": 1, "default_certificate": False,
    "dashboard": {"enabled": True, "host": "traefik.example.com"}, "log_level": "INFO",
    "static_extension": {"log": {"level": "DEBUG"}},
}


def test_traefik_configuration_golden():
    config = traefik_configuration(SETTINGS)
    golden("traefik_configuration.json", config)
    assert "secret-token-value" not in json.dumps(config)
    assert config["secrets"]["dns.dns.cf_dns_api_token"] == {"env": "CF_DNS_API_TOKEN_FILE"}
    assert config["static"]["log"]["level"] == "DEBUG", "the extension is merged last"
    assert config["static"]["entryPoints"]["web"]["http"]["redirections"]["entryPoint"]["to"] == "websecure"
    assert config["dynamic"]["tls"]["options"]["default"]["minVersion"] == "VersionTLS12"


@pytest.mark.parametrize("change, message", [
    ({"resolvers": {"dns": {"challenge": "dns", "provider": "cloudflare"}}, "default_resolver": "dns"},
     "DNS-01 needs the provider's credentials"),
    ({"resolvers": {"dns": {"challenge": "dns", "provider": "x", "credentials": {"lower": "v"}}},
      "default_resolver": "dns"}, "is not an environment variable name"),
    ({"resolvers": {"le": {"challenge": "http", "provider": "x"}}}, "belong to DNS-01 resolvers only"),
    ({"default_resolver": "nope"}, "traefik_default_certresolver 'nope' is not a configured resolver"),
    ({"email": "ops"}, "traefik_acme_email must be"),
    ({"hsts_max_age": "a year"}, "traefik_hsts_max_age must be a whole number"),
    ({"hsts_preload": True, "hsts_max_age": 600}, "HSTS preload needs"),
    ({"dashboard": {"enabled": True, "host": ""}}, "the dashboard needs its own host name"),
    ({"tls_min_version": "VersionTLS10"}, "traefik_tls_min_version must be one of"),
    ({"colour": "blue"}, "unknown settings: colour"),
])
def test_traefik_configuration_refusals(change, message):
    settings = dict(SETTINGS, **change)
    with pytest.raises(BenchSpecError) as error:
        traefik_configuration(settings)
    assert message in str(error.value)


def test_proxy_project_golden():
    config = traefik_configuration(SETTINGS)
    project = proxy_project({
        "name": "traefik", "image": "traefik:v3.7.15", "network": "traefik-public",
        "ports": [{"host_ip": "0.0.0.0", "published": 80, "target": 80}, {"published": 443, "target": 443}],
        "config_hash": "abc", "environment": config["environment"],
        "secrets": {name: dict(spec, file="./secrets/" + name) for name, spec in config["secrets"].items()},
        "resources": {"traefik": {"cpus": 1, "memory": "256M"}},
        "extension": {"services": {"traefik": {"networks": {"acme": {"aliases": ["a.example.test"]}}}}},
    })
    golden("proxy_project.json", project)
    service = project["services"]["traefik"]
    assert service["environment"]["CF_DNS_API_TOKEN_FILE"] == "/run/secrets/dns.dns.cf_dns_api_token"
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in service["volumes"]
    assert service["networks"] == {"proxy": {}, "acme": {"aliases": ["a.example.test"]}}


@pytest.mark.parametrize("image", ["traefik", "traefik:latest", "registry:5000/traefik"])
def test_proxy_project_refuses_unpinned_images(image):
    with pytest.raises(BenchSpecError):
        proxy_project({"image": image, "network": "traefik-public"})
