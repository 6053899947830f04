# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""monitoring_configuration and alertmanager_config: goldens for two benches, exporters and probes derived from the
plan, the proxy and Grafana, refusals (all at once, never repeating a credential)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.filter.compose_project import FilterModule
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.alertmanager import INHIBIT_RULES, alertmanager_config
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, deep_merge
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import duration_seconds, probe_targets, stack_memory_mb
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring_stack import monitoring_configuration
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
UPDATE = os.environ.get("ERPSTACK_UPDATE_GOLDEN") == "1"

# Two benches as the erpnext role plans them: alpha has a site with two exact domains, a site whose first domain is a
# wildcard (the probe takes its first exact domain, not its name) and an absent site; beta has one site
BENCHES = [
    {"name": "alpha", "sites": [
        {"name": "erp.example.com", "domains": ["erp.example.com", "www.example.com"]},
        {"name": "shop.example.com", "domains": ["*.shop.example.com", "shop.example.net", "shop.example.com"],
         "tls_resolver": "dns"},
        {"name": "old.example.com", "state": "absent"},
    ]},
    {"name": "beta", "network_subnet": "172.30.11.0/24", "sites": [{"name": "crm.example.org"}]},
]
PLAN = bench_plan(BENCHES, resolvers=["le", "dns"], default_resolver="le", dns_resolvers=["dns"])
IMAGES = {
    "prometheus": "prom/prometheus:v2.55.1", "alertmanager": "prom/alertmanager:v0.28.1",
    "node_exporter": "prom/node-exporter:v1.9.1", "cadvisor": "gcr.io/cadvisor/cadvisor:v0.52.1",
    "mysqld_exporter": "prom/mysqld-exporter:v0.17.2", "redis_exporter": "oliver006/redis_exporter:v1.74.0",
    "blackbox_exporter": "prom/blackbox-exporter:v0.27.0", "grafana": "grafana/grafana:12.1.1",
    "loki": "grafana/loki:3.5.3", "alloy": "grafana/alloy:v1.10.1",
}
# What roles/monitoring/vars/main.yml builds from the role's defaults, with Traefik and a Grafana host
SETTINGS = {
    "project": "monitoring", "images": IMAGES, "restart": "unless-stopped", "benches": PLAN,
    "proxy": {"network": "traefik-public", "entrypoint": "websecure", "middlewares": ["erpstack-security-headers@file"]},
    "scrape_interval": "30s", "evaluation_interval": "30s", "retention_time": "30d", "retention_size": "10GB",
    "prometheus_published": [{"host_ip": "127.0.0.1", "port": 9090}],
    "alertmanager_published": [{"host_ip": "127.0.0.1", "port": 9093}],
    "probe": {"resolve": "proxy", "interval": "30s", "timeout": "10s", "ca_bundle": False, "tls_insecure": False,
              "https_port": 443, "proxy_address": "host-gateway"},
    "cadvisor": True,
    "grafana": {"enabled": True, "host": "grafana.example.com", "admin_user": "admin", "tls_resolver": "le"},
    "logs_backend": "loki", "textfile_dir": "/var/lib/erpstack/textfile", "external_labels": {"host": "erp1"},
    "backup": {"benches": ["alpha", "beta"], "max_age_hours": 26, "overrides": {}},
    "resources": {
        "prometheus": {"cpus": 1, "memory": "1G"}, "alertmanager": {"cpus": 0.25, "memory": "128M"},
        "node_exporter": {"cpus": 0.25, "memory": "64M"}, "cadvisor": {"cpus": 0.5, "memory": "256M"},
        "mysqld_exporter": {"cpus": 0.25, "memory": "64M"}, "redis_exporter": {"cpus": 0.25, "memory": "64M"},
        "blackbox_exporter": {"cpus": 0.25, "memory": "64M"}, "grafana": {"cpus": 0.5, "memory": "512M"},
        "loki": {"cpus": 1, "memory": "1G"}, "alloy": {"cpus": 0.5, "memory": "512M"},
    },
    "extension": {},
}
ALERTING = {"receivers": {}, "default_receiver": "", "routes": [], "group_wait": "30s", "group_interval": "5m",
            "repeat_interval": "4h",
            "smtp": {"smarthost": "", "from": "", "auth_username": "", "auth_password": "", "require_tls": True}}
SMTP = {"smarthost": "smtp.example.com:587", "from": "alerts@example.com", "auth_username": "alerts",
        "auth_password": "smtp-pa55word-from-the-vault", "require_tls": True}
HOOK = "https://hooks.example.com/services/T0KEN-from-the-vault"


def settings(**changes):
    """SETTINGS with changes merged in (dicts recursively; a key set to None is removed)."""
    result = deep_merge(copy.deepcopy(SETTINGS), {k: v for k, v in changes.items() if v is not None})
    for key in [k for k, v in changes.items() if v is None]:
        result.pop(key, None)
    return result


def alerting(**changes):
    return dict(copy.deepcopy(ALERTING), **changes)


class _IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint's default configuration wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(_IndentedDumper, self).increase_indent(flow, False)


def golden(name, value):
    """Compare value with the YAML golden file; ERPSTACK_UPDATE_GOLDEN=1 rewrites it."""
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        with open(path, "w") as handle:
            yaml.dump(value, handle, Dumper=_IndentedDumper, explicit_start=True, default_flow_style=False,
                      sort_keys=True, width=120)
    with open(path) as handle:
        assert yaml.safe_load(handle) == json.loads(json.dumps(value)), \
            "golden %s differs (ERPSTACK_UPDATE_GOLDEN=1)" % name


@pytest.fixture(scope="module")
def config():
    return monitoring_configuration(settings())


def jobs(prometheus):
    return {job["job_name"]: job for job in prometheus["scrape_configs"]}


def refusal(**changes):
    with pytest.raises(BenchSpecError) as err:
        monitoring_configuration(settings(**changes))
    return str(err.value)


# Goldens ---------------------------------------------------------------------------------------------------------

def test_golden_prometheus_two_benches(config):
    golden("monitoring_prometheus.yml", config["prometheus"])


def test_golden_compose_two_benches(config):
    golden("monitoring_compose.yml", config["compose"])


def test_the_result_has_every_document(config):
    assert sorted(config) == ["backup_benches", "binlog_benches", "blackbox", "compose", "probes", "prometheus"]
    assert config["backup_benches"] == [{"name": "alpha", "max_age_hours": 26.0}, {"name": "beta", "max_age_hours": 26.0}]


# Exporters per bench ---------------------------------------------------------------------------------------------

def test_one_mysqld_exporter_per_bench_on_its_network(config):
    services = config["compose"]["services"]
    assert sorted(s for s in services if s.startswith("mysqld-exporter-")) == [
        "mysqld-exporter-alpha", "mysqld-exporter-beta"]
    for bench in ("alpha", "beta"):
        exporter = services["mysqld-exporter-%s" % bench]
        assert exporter["networks"] == ["monitoring", "bench-%s" % bench]
        assert exporter["secrets"] == ["mysqld_exporter.%s.cnf" % bench]
        assert "--config.my-cnf=/run/secrets/mysqld_exporter.%s.cnf" % bench in exporter["command"]
        assert exporter["labels"]["com.erpstack.bench"] == bench
    mysqld = jobs(config["prometheus"])["mysqld"]["static_configs"]
    assert mysqld == [{"targets": ["mysqld-exporter-alpha:9104"], "labels": {"bench": "alpha"}},
                      {"targets": ["mysqld-exporter-beta:9104"], "labels": {"bench": "beta"}}]


def test_one_redis_exporter_per_instance_on_the_bench_network(config):
    services = config["compose"]["services"]
    assert sorted(s for s in services if s.startswith("redis-exporter-")) == [
        "redis-exporter-alpha-cache", "redis-exporter-alpha-queue", "redis-exporter-beta-cache",
        "redis-exporter-beta-queue"]
    for bench in ("alpha", "beta"):
        for instance in ("cache", "queue"):
            exporter = services["redis-exporter-%s-%s" % (bench, instance)]
            assert exporter["networks"] == ["monitoring", "bench-%s" % bench]
            assert "--redis.addr=redis://redis-%s:6379" % instance in exporter["command"]
            secret = "redis_exporter.%s.%s.json" % (bench, instance)
            assert exporter["secrets"] == [secret]
            assert "--redis.password-file=/run/secrets/%s" % secret in exporter["command"]
            # queue lengths and registered workers are the queue instance's keys only
            assert ("--check-keys=rq:queue:*,rq:workers:*" in exporter["command"]) == (instance == "queue")
    redis = jobs(config["prometheus"])["redis"]["static_configs"]
    assert [(c["targets"], c["labels"]) for c in redis] == [
        (["redis-exporter-alpha-cache:9121"], {"bench": "alpha", "redis": "cache"}),
        (["redis-exporter-alpha-queue:9121"], {"bench": "alpha", "redis": "queue"}),
        (["redis-exporter-beta-cache:9121"], {"bench": "beta", "redis": "cache"}),
        (["redis-exporter-beta-queue:9121"], {"bench": "beta", "redis": "queue"})]


def test_bench_networks_are_the_benches_external_networks(config):
    networks = config["compose"]["networks"]
    assert networks["bench-alpha"] == {"external": True, "name": "alpha_bench"}
    assert networks["bench-beta"] == {"external": True, "name": "beta_bench"}
    assert networks["monitoring"]["internal"] is True
    assert networks["proxy"] == {"external": True, "name": "traefik-public"}


def test_without_benches_there_is_no_bench_job():
    config = monitoring_configuration(settings(benches=[]))
    assert not set(jobs(config["prometheus"])) & {"mysqld", "redis", "site-probe"}
    assert not [s for s in config["compose"]["services"] if "exporter-" in s]
    assert config["probes"] == []


# Probes ----------------------------------------------------------------------------------------------------------

def test_probes_are_the_first_exact_domain_of_each_present_site(config):
    assert config["probes"] == [
        {"bench": "alpha", "site": "erp.example.com", "domain": "erp.example.com",
         "url": "https://erp.example.com/api/method/ping"},
        {"bench": "alpha", "site": "shop.example.com", "domain": "shop.example.net",
         "url": "https://shop.example.net/api/method/ping"},
        {"bench": "beta", "site": "crm.example.org", "domain": "crm.example.org",
         "url": "https://crm.example.org/api/method/ping"}]
    probe = jobs(config["prometheus"])["site-probe"]
    assert [c["targets"] for c in probe["static_configs"]] == [[p["url"]] for p in config["probes"]]
    assert [c["labels"] for c in probe["static_configs"]] == [
        {"bench": p["bench"], "site": p["site"], "domain": p["domain"]} for p in config["probes"]]
    text = json.dumps(config)
    assert "old.example.com" not in text and "www.example.com" not in text and "*.shop" not in text


def test_the_probe_job_goes_through_blackbox_exporter(config):
    probe = jobs(config["prometheus"])["site-probe"]
    assert probe["metrics_path"] == "/probe" and probe["params"] == {"module": ["erpstack_ping"]}
    assert probe["relabel_configs"] == [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {"target_label": "__address__", "replacement": "blackbox-exporter:9115"}]
    # the scrape waits for the probe's own timeout, within the interval
    assert (probe["scrape_interval"], probe["scrape_timeout"]) == ("30s", "15s")
    assert config["blackbox"]["modules"]["erpstack_ping"]["timeout"] == "10s"


@pytest.mark.parametrize("interval, timeout, scrape_timeout", [("30s", "10s", "15s"), ("1m", "50s", "55s"),
                                                               ("20s", "18s", "20s"), ("2m", "1m30s", "95s")])
def test_the_probe_scrape_timeout_never_exceeds_its_interval(interval, timeout, scrape_timeout):
    config = monitoring_configuration(settings(probe={"interval": interval, "timeout": timeout}))
    job = jobs(config["prometheus"])["site-probe"]
    assert (job["scrape_interval"], job["scrape_timeout"]) == (interval, scrape_timeout)
    assert duration_seconds(job["scrape_timeout"]) <= duration_seconds(interval)


def test_a_site_with_wildcard_domains_only_is_probed_by_its_name():
    plan = [{"name": "alpha", "sites": [{"name": "a.example.com", "domains": ["*.a.example.com"], "state": "present"}]}]
    assert [t["domain"] for t in probe_targets(plan)] == ["a.example.com"]


def test_another_https_port_is_part_of_every_url():
    config = monitoring_configuration(settings(probe={"https_port": 8443}))
    assert [p["url"] for p in config["probes"]] == [
        "https://erp.example.com:8443/api/method/ping", "https://shop.example.net:8443/api/method/ping",
        "https://crm.example.org:8443/api/method/ping"]
    assert [c["targets"][0] for c in jobs(config["prometheus"])["site-probe"]["static_configs"]] == [
        p["url"] for p in config["probes"]]
    # the host names stay without the port (labels, extra_hosts)
    assert [p["domain"] for p in config["probes"]] == ["erp.example.com", "shop.example.net", "crm.example.org"]
    assert all(":8443" not in h for h in config["compose"]["services"]["blackbox-exporter"]["extra_hosts"])


def test_port_443_is_left_out_whatever_its_type():
    assert probe_targets(PLAN, "443")[0]["url"] == "https://erp.example.com/api/method/ping"


def test_proxy_resolve_mode_points_the_domains_at_the_host_gateway(config):
    assert config["compose"]["services"]["blackbox-exporter"]["extra_hosts"] == [
        "crm.example.org:host-gateway", "erp.example.com:host-gateway", "shop.example.net:host-gateway"]


def test_proxy_resolve_mode_with_traefik_on_one_address():
    config = monitoring_configuration(settings(probe={"proxy_address": "192.0.2.10"}))
    assert config["compose"]["services"]["blackbox-exporter"]["extra_hosts"] == [
        "crm.example.org:192.0.2.10", "erp.example.com:192.0.2.10", "shop.example.net:192.0.2.10"]


def test_dns_resolve_mode_uses_public_dns():
    config = monitoring_configuration(settings(probe={"resolve": "dns"}))
    assert "extra_hosts" not in config["compose"]["services"]["blackbox-exporter"]
    assert len(config["probes"]) == 3


@pytest.mark.parametrize("probe, tls", [
    ({}, {"insecure_skip_verify": False}),
    ({"tls_insecure": True}, {"insecure_skip_verify": True}),
    ({"ca_bundle": True}, {"insecure_skip_verify": False, "ca_file": "/etc/blackbox_exporter/ca.pem"}),
])
def test_blackbox_module(probe, tls):
    module = monitoring_configuration(settings(probe=probe))["blackbox"]["modules"]["erpstack_ping"]
    assert module["prober"] == "http"
    http = module["http"]
    assert http["tls_config"] == tls
    assert (http["valid_status_codes"], http["fail_if_not_ssl"], http["follow_redirects"]) == ([200], True, False)
    assert http["fail_if_body_not_matches_regexp"] == ['"message":\\s*"pong"']


# Proxy and Grafana -----------------------------------------------------------------------------------------------

def test_traefik_metrics_carry_the_bench(config):
    traefik = jobs(config["prometheus"])["traefik"]
    assert traefik["static_configs"] == [{"targets": ["traefik:8082"]}]
    relabel, = traefik["metric_relabel_configs"]
    assert (relabel["source_labels"], relabel["target_label"], relabel["replacement"]) == (["service"], "bench", "$1")
    pattern = re.compile("^(?:%s)$" % relabel["regex"])
    assert pattern.match("alpha-frontend@docker").group(1) == "alpha"
    assert pattern.match("my-erp-websocket@docker").group(1) == "my-erp"
    assert not pattern.match("erpstack-grafana@docker") and not pattern.match("alpha-frontend@file")
    assert "proxy" in config["compose"]["services"]["prometheus"]["networks"]


def test_without_a_proxy_there_is_no_traefik_job():
    config = monitoring_configuration(settings(proxy={"network": None}, grafana={"enabled": False}))
    assert "traefik" not in jobs(config["prometheus"])
    assert "grafana" not in jobs(config["prometheus"]) and "grafana" not in config["compose"]["services"]
    assert "proxy" not in config["compose"]["networks"]
    assert "proxy" not in config["compose"]["services"]["prometheus"]["networks"]
    assert "grafana-data" not in config["compose"]["volumes"] and "grafana_admin_password" not in json.dumps(config)
    assert monitoring_configuration(dict(settings(grafana={"enabled": False}), proxy={}))["prometheus"] == \
        config["prometheus"]


def test_without_a_proxy_grafana_is_refused():
    message = refusal(proxy={"network": None})
    assert "Grafana is served through Traefik only: it needs erpnext_proxy=traefik" in message
    assert "monitoring_grafana_enabled: false" in message


def test_grafana_is_routed_by_traefik_with_tls_and_the_middlewares(config):
    grafana = config["compose"]["services"]["grafana"]
    labels = grafana["labels"]
    router = "traefik.http.routers.erpstack-grafana."
    assert labels["traefik.enable"] == "true" and labels["traefik.docker.network"] == "traefik-public"
    assert labels[router + "rule"] == "Host(`grafana.example.com`)"
    assert labels[router + "entrypoints"] == "websecure"
    assert labels[router + "tls"] == "true"
    assert labels[router + "tls.certresolver"] == "le"
    assert labels[router + "middlewares"] == "erpstack-security-headers@file"
    assert labels[router + "service"] == "erpstack-grafana"
    assert labels["traefik.http.services.erpstack-grafana.loadbalancer.server.port"] == "3000"
    assert grafana["networks"] == ["monitoring", "proxy"] and "ports" not in grafana
    assert grafana["environment"]["GF_SERVER_ROOT_URL"] == "https://grafana.example.com/"
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD__FILE"] == "/run/secrets/grafana_admin_password"
    assert grafana["secrets"] == ["grafana_admin_password"]
    assert "grafana" in jobs(config["prometheus"])


def test_grafana_without_a_resolver_or_middlewares():
    config = monitoring_configuration(settings(proxy={"middlewares": []}, grafana={"tls_resolver": ""}))
    labels = config["compose"]["services"]["grafana"]["labels"]
    assert "traefik.http.routers.erpstack-grafana.middlewares" not in labels
    assert "traefik.http.routers.erpstack-grafana.tls.certresolver" not in labels
    assert labels["traefik.http.routers.erpstack-grafana.tls"] == "true"


def test_several_middlewares_keep_their_order():
    config = monitoring_configuration(settings(proxy={"middlewares": ["auth@file", "erpstack-security-headers@file"]}))
    labels = config["compose"]["services"]["grafana"]["labels"]
    assert labels["traefik.http.routers.erpstack-grafana.middlewares"] == "auth@file,erpstack-security-headers@file"


# Published ports, secrets, logs ----------------------------------------------------------------------------------

def test_published_ports_are_on_the_loopback_by_default(config):
    services = config["compose"]["services"]
    assert services["prometheus"]["ports"] == [
        {"target": 9090, "published": "9090", "host_ip": "127.0.0.1", "protocol": "tcp"}]
    assert services["alertmanager"]["ports"] == [
        {"target": 9093, "published": "9093", "host_ip": "127.0.0.1", "protocol": "tcp"}]
    # an entry without host_ip stays on the loopback too
    config = monitoring_configuration(settings(prometheus_published=[{"port": 19090}], alertmanager_published=[]))
    assert config["compose"]["services"]["prometheus"]["ports"] == [
        {"target": 9090, "published": "19090", "host_ip": "127.0.0.1", "protocol": "tcp"}]
    assert config["compose"]["services"]["alertmanager"]["ports"] == []
    # nothing else is published: the rest is reached through Prometheus or Traefik
    assert [name for name, service in services.items() if service.get("ports")] == ["prometheus", "alertmanager"]


def test_no_secret_value_in_the_compose_document():
    # a plan as the role may receive it, with a value that must never be copied into the project
    plan = copy.deepcopy(PLAN)
    plan[0]["sites"][0]["admin_password"] = "admin-pa55word-of-the-site"
    plan[1]["db_root_password"] = "root-pa55word-of-the-bench"
    compose = monitoring_configuration(settings(benches=plan))["compose"]
    text = json.dumps(compose)
    assert "pa55word" not in text
    # every secret is a file under ./secrets, consumed by name
    assert all(set(spec) == {"file"} and spec["file"] == "./secrets/" + name
               for name, spec in compose["secrets"].items())
    consumed = sorted(s for service in compose["services"].values() for s in service.get("secrets", []))
    assert consumed == sorted(compose["secrets"])
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            assert "PASSWORD" not in key or key.endswith("__FILE"), (name, key)
        for argument in service.get("command") or []:
            assert "password=" not in argument.lower() and "pass=" not in argument.lower(), (name, argument)
    # Alertmanager's configuration holds the receivers' credentials: it is mounted from the secrets directory
    assert "./secrets/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in \
        compose["services"]["alertmanager"]["volumes"]


def test_loki_backend_ships_every_bench_s_logs_and_sites_read_only(config):
    compose = config["compose"]
    alloy = compose["services"]["alloy"]
    for bench in ("alpha", "beta"):
        for kind in ("logs", "sites"):
            volume = "%s-%s" % (bench, kind)
            assert compose["volumes"][volume] == {"external": True, "name": "%s_%s" % (bench, kind)}
            assert "%s:/frappe/%s/%s:ro" % (volume, bench, kind) in alloy["volumes"]
    assert "/var/run/docker.sock:/var/run/docker.sock:ro" in alloy["volumes"]
    assert all(v.endswith(":ro") for v in alloy["volumes"] if not v.startswith("alloy-data:"))
    assert "loki" in compose["services"] and {"loki", "alloy"} <= set(jobs(config["prometheus"]))


def test_external_logs_backend_runs_neither_loki_nor_alloy():
    config = monitoring_configuration(settings(logs_backend="external"))
    compose = config["compose"]
    assert not {"loki", "alloy"} & set(compose["services"])
    assert not {"loki-data", "alloy-data", "alpha-logs", "alpha-sites", "beta-logs"} & set(compose["volumes"])
    assert not {"loki", "alloy"} & set(jobs(config["prometheus"]))


def test_cadvisor_can_be_switched_off():
    config = monitoring_configuration(settings(cadvisor=False))
    assert "cadvisor" not in config["compose"]["services"] and "cadvisor" not in jobs(config["prometheus"])


def test_images_resources_and_extension():
    config = monitoring_configuration(settings(
        images={"prometheus": "registry.local:5000/prom/prometheus:v2.55.1"},
        extension={"services": {"prometheus": {"environment": {"TZ": "UTC"}}}},
        config_hashes={"prometheus": "abc123"}))
    prometheus = config["compose"]["services"]["prometheus"]
    assert prometheus["image"] == "registry.local:5000/prom/prometheus:v2.55.1"
    assert prometheus["environment"] == {"TZ": "UTC"}
    assert prometheus["deploy"] == {"resources": {"limits": {"cpus": "1", "memory": "1G", "pids": 512}}}
    assert prometheus["labels"]["com.erpstack.config-hash"] == "abc123"
    assert "--storage.tsdb.retention.time=30d" in prometheus["command"]
    assert "--storage.tsdb.retention.size=10GB" in prometheus["command"]


def test_backup_age_overrides():
    config = monitoring_configuration(settings(backup={"benches": ["alpha", "beta"], "max_age_hours": 30,
                                                       "overrides": {"beta": 50}}))
    assert config["backup_benches"] == [{"name": "alpha", "max_age_hours": 30.0},
                                        {"name": "beta", "max_age_hours": 50.0}]


# Refusals --------------------------------------------------------------------------------------------------------

def test_every_problem_is_reported_at_once():
    message = refusal(
        images={"prometheus": "prom/prometheus", "grafana": "grafana/grafana:latest",
                "alloy": "registry.local:5000/grafana/alloy"},
        scrape_interval="30 seconds", retention_time="forever", retention_size="10 gigabytes",
        probe={"resolve": "hosts", "interval": "10s", "timeout": "10s"},
        logs_backend="elasticsearch", grafana={"host": ""},
        backup={"max_age_hours": 0, "overrides": {"gamma": 12}})
    expected = [
        "monitoring_images.prometheus='prom/prometheus' must be pinned to an exact tag",
        "monitoring_images.grafana='grafana/grafana:latest' must be pinned to an exact tag",
        "monitoring_images.alloy='registry.local:5000/grafana/alloy' must be pinned to an exact tag",
        "monitoring_scrape_interval: '30 seconds' is not a duration",
        "monitoring_retention_time: 'forever' is not a duration",
        "monitoring_retention_size must be a size such as 10GB (got '10 gigabytes')",
        "monitoring_probe_resolve must be proxy or dns (got 'hosts')",
        "monitoring_probe_timeout must be shorter than monitoring_probe_interval",
        "monitoring_logs_backend must be one of loki, external (got 'elasticsearch')",
        "Grafana needs its own host name (monitoring_grafana_host, got '')",
        "monitoring_backup_max_age_hours and its overrides must be positive numbers of hours",
        "monitoring_backup_max_age_overrides names no bench of the plan: gamma",
    ]
    missing = [piece for piece in expected if piece not in message]
    assert not missing, message
    assert message.count("; ") == len(expected) - 1, message


@pytest.mark.parametrize("changes, message", [
    ({"images": {"loki": "grafana/loki:latest"}}, "monitoring_images.loki='grafana/loki:latest' must be pinned"),
    ({"images": {"cadvisor": ""}}, "monitoring_images.cadvisor='' must be pinned to an exact tag"),
    ({"evaluation_interval": "1.5m"}, "monitoring_evaluation_interval: '1.5m' is not a duration"),
    ({"scrape_interval": ""}, "monitoring_scrape_interval: '' is not a duration"),
    ({"retention_size": "10G"}, "monitoring_retention_size must be a size such as 10GB (got '10G')"),
    ({"probe": {"timeout": "30s"}}, "monitoring_probe_timeout must be shorter than monitoring_probe_interval"),
    ({"probe": {"timeout": "1m"}}, "monitoring_probe_timeout must be shorter than monitoring_probe_interval"),
    ({"probe": {"interval": "often"}}, "monitoring_probe_interval/timeout: 'often' is not a duration"),
    ({"probe": {"resolve": None}}, "monitoring_probe_resolve must be proxy or dns (got None)"),
    ({"logs_backend": "syslog"}, "monitoring_logs_backend must be one of loki, external (got 'syslog')"),
    ({"grafana": {"host": "Grafana Example"}}, "Grafana needs its own host name"),
    ({"backup": {"overrides": {"gamma": 12, "delta": 6}}},
     "monitoring_backup_max_age_overrides names no bench of the plan: delta, gamma"),
    ({"backup": {"max_age_hours": -1}}, "must be positive numbers of hours"),
    ({"backup": {"overrides": {"alpha": 0}}}, "must be positive numbers of hours"),
    ({"backup": {"overrides": {"alpha": "daily"}}}, "must be positive numbers of hours"),
    ({"backup": {"max_age_hours": True}}, "must be positive numbers of hours"),
])
def test_refusals(changes, message):
    assert message in refusal(**changes)


def test_repeated_bench_names_are_refused():
    assert "bench names repeat: alpha" in refusal(benches=PLAN + [PLAN[0]])


def test_the_filter_reports_refusals_as_filter_errors():
    filters = FilterModule().filters()
    assert filters["monitoring_configuration"](settings()) == monitoring_configuration(settings())
    with pytest.raises(AnsibleFilterError, match="^monitoring: monitoring_logs_backend must be one of"):
        filters["monitoring_configuration"](settings(logs_backend="files"))
    with pytest.raises(AnsibleFilterError, match="^monitoring alerts: monitoring_alert_default_receiver"):
        filters["alertmanager_config"](alerting(receivers={"ops": {"webhook": {"url": HOOK}}}))


# Alertmanager ----------------------------------------------------------------------------------------------------

def am_refusal(**changes):
    with pytest.raises(BenchSpecError) as err:
        alertmanager_config(alerting(**changes))
    return str(err.value)


def test_without_receivers_alerts_go_to_the_blackhole():
    config = alertmanager_config(alerting())
    assert config["receivers"] == [{"name": "blackhole"}]
    assert config["route"] == {"receiver": "blackhole", "group_by": ["alertname", "bench", "site"],
                               "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}
    assert config["global"] == {"resolve_timeout": "5m"}
    assert config["inhibit_rules"] == INHIBIT_RULES


def test_receivers_routes_and_smtp():
    config = alertmanager_config(alerting(
        receivers={
            "ops": {"email": [{"to": "ops@example.com"}, {"to": "cto@example.com", "send_resolved": False}],
                    "webhook": [{"url": HOOK}, {"url": "http://chat.internal/hook", "max_alerts": 5}]},
            "oncall": {"webhook": {"url": "https://pager.example.com/v1/T0KEN2"}},
            "mail_only": {"email": {"to": "it@example.com"}},
        },
        default_receiver="ops",
        routes=[{"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True},
                {"receiver": "mail_only", "matchers": ['bench="beta"'], "group_by": ["alertname"],
                 "repeat_interval": "12h"}],
        smtp=SMTP))
    assert config["global"] == {
        "resolve_timeout": "5m", "smtp_smarthost": "smtp.example.com:587", "smtp_from": "alerts@example.com",
        "smtp_require_tls": True, "smtp_auth_username": "alerts", "smtp_auth_password": "smtp-pa55word-from-the-vault"}
    receivers = {r["name"]: r for r in config["receivers"]}
    assert [r["name"] for r in config["receivers"]] == ["blackhole", "mail_only", "oncall", "ops"]
    assert receivers["ops"] == {
        "name": "ops",
        "email_configs": [{"to": "ops@example.com", "send_resolved": True},
                          {"to": "cto@example.com", "send_resolved": False}],
        "webhook_configs": [{"url": HOOK, "send_resolved": True, "max_alerts": 0},
                            {"url": "http://chat.internal/hook", "send_resolved": True, "max_alerts": 5}]}
    assert receivers["oncall"] == {"name": "oncall", "webhook_configs": [
        {"url": "https://pager.example.com/v1/T0KEN2", "send_resolved": True, "max_alerts": 0}]}
    assert receivers["mail_only"] == {"name": "mail_only", "email_configs": [
        {"to": "it@example.com", "send_resolved": True}]}
    assert config["route"]["receiver"] == "ops"
    assert config["route"]["routes"] == [
        {"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True},
        {"receiver": "mail_only", "matchers": ['bench="beta"'], "group_by": ["alertname"], "repeat_interval": "12h"}]


def test_smtp_without_authentication_has_no_credentials():
    config = alertmanager_config(alerting(receivers={"ops": {"email": {"to": "ops@example.com"}}},
                                          default_receiver="ops",
                                          smtp=dict(SMTP, auth_username="", auth_password="", require_tls=False)))
    assert config["global"] == {"resolve_timeout": "5m", "smtp_smarthost": "smtp.example.com:587",
                                "smtp_from": "alerts@example.com", "smtp_require_tls": False}


def test_inhibition_rules():
    rules = alertmanager_config(alerting())["inhibit_rules"]
    database = [r for r in rules if r["source_matchers"] == ['alertname=~"MariaDBDown|RedisDown"']]
    assert len(database) == 1 and database[0]["equal"] == ["bench"]
    for name in ("SiteDown", "SiteHttp5xxRatioHigh", "SiteLatencyHigh", "QueueGrowingWithoutWorker"):
        assert name in database[0]["target_matchers"][0]
    site = [r for r in rules if r["source_matchers"] == ['alertname="SiteDown"']]
    assert any("SiteLatencyHigh" in r["target_matchers"][0] and "SiteHttp5xxRatioHigh" in r["target_matchers"][0]
               for r in site)
    assert {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "bench", "site"]} in rules
    assert all(r["source_matchers"] and r["target_matchers"] and r["equal"] for r in rules)


def test_inhibition_rules_name_alerts_the_rules_define():
    with open(os.path.join(ROOT, "roles", "monitoring", "templates", "alerts.yml.j2")) as handle:
        defined = set(re.findall(r"^\s*- alert: (\w+)$", handle.read(), re.M))
    named = set()
    for rule in INHIBIT_RULES:
        for matcher in rule["source_matchers"] + rule["target_matchers"]:
            match = re.match(r'^alertname(=~|=)"([^"]+)"$', matcher)
            if match:
                named.update(match.group(2).split("|"))
    assert named and not named - defined, sorted(named - defined)


@pytest.mark.parametrize("changes, message", [
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}},
     "monitoring_alert_default_receiver must name one of the receivers (ops)"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}, "default_receiver": "team"},
     "monitoring_alert_default_receiver 'team' is not a configured receiver"),
    ({"default_receiver": "team"}, "monitoring_alert_default_receiver 'team' is not a configured receiver"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}, "default_receiver": "ops",
      "routes": [{"receiver": "pager", "matchers": ['severity="critical"']}]},
     "monitoring_alert_routes[0]: receiver 'pager' is not configured"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}, "default_receiver": "ops",
      "routes": [{"receiver": "ops", "matchers": ['a="b"']}, {"receiver": "ops"}]},
     "monitoring_alert_routes[1]: matchers must be a non-empty list"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}, "default_receiver": "ops",
      "routes": [{"receiver": "ops", "matchers": 'severity="critical"'}]},
     "monitoring_alert_routes[0]: matchers must be a non-empty list"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}}}, "default_receiver": "ops",
      "routes": [{"receiver": "ops", "matchers": ['a="b"'], "match": {"a": "b"}}]},
     "monitoring_alert_routes[0]: unknown keys match"),
    ({"receivers": {"ops": {"email": {"to": "ops@example.com"}}}, "default_receiver": "ops"},
     "receiver ops sends e-mail: set monitoring_smtp_smarthost (host:port) and monitoring_smtp_from"),
    ({"receivers": {"ops": {"email": {"to": "ops@example.com"}}}, "default_receiver": "ops",
      "smtp": dict(SMTP, **{"from": "alerts"})}, "receiver ops sends e-mail: set monitoring_smtp_smarthost"),
    ({"receivers": {"ops": {"email": {"to": "ops"}}}, "default_receiver": "ops", "smtp": SMTP},
     "receiver ops: email needs an address in to (got 'ops')"),
    ({"receivers": {"ops": {"webhook": {"url": "hooks.example.com/T0KEN-from-the-vault"}}}, "default_receiver": "ops"},
     "receiver ops: a webhook needs an http(s):// url"),
    ({"receivers": {"ops": {"webhook": {}}}, "default_receiver": "ops"},
     "receiver ops has neither email nor webhook"),
    ({"receivers": {"ops": {}}, "default_receiver": "ops"}, "receiver ops has neither email nor webhook"),
    ({"receivers": {"ops": {"webhook": {"url": HOOK}, "slack": {}}}, "default_receiver": "ops"},
     "receiver ops: unknown keys slack (email, webhook)"),
    ({"receivers": {"blackhole": {"webhook": {"url": HOOK}}}, "default_receiver": "blackhole"},
     "receiver name 'blackhole': letters, digits, '-' and '_' (blackhole is reserved)"),
    ({"receivers": {"on call": {"webhook": {"url": HOOK}}}, "default_receiver": "on call"},
     "receiver name 'on call': letters, digits"),
    ({"receivers": ["ops"]}, "monitoring_alert_receivers must be a dict of receiver name -> {email, webhook}"),
    ({"group_wait": "soon"}, "monitoring_alert_group_wait: 'soon' is not a duration"),
    ({"repeat_interval": ""}, "monitoring_alert_repeat_interval: '' is not a duration"),
])
def test_alertmanager_refusals(changes, message):
    assert message in am_refusal(**changes)


def test_alertmanager_reports_every_problem_at_once_without_a_credential():
    message = am_refusal(
        receivers={"ops": {"email": {"to": "ops@example.com"}, "webhook": [{"url": HOOK}, {"url": "ftp://x/T0KEN-2"}]},
                   "dev": {"webhook": {"url": "hooks.example.com/T0KEN-from-the-vault"}}},
        default_receiver="team", routes=[{"receiver": "pager"}],
        smtp=dict(SMTP, smarthost=""), group_interval="5 minutes")
    for piece in ("receiver ops sends e-mail", "receiver ops: a webhook needs an http(s):// url",
                  "receiver dev: a webhook needs an http(s):// url",
                  "monitoring_alert_default_receiver 'team' is not a configured receiver",
                  "monitoring_alert_routes[0]: receiver 'pager' is not configured",
                  "monitoring_alert_routes[0]: matchers must be a non-empty list",
                  "monitoring_alert_group_interval: '5 minutes' is not a duration"):
        assert piece in message, message
    for secret in ("T0KEN", "hooks.example.com", "pa55word", "ftp://"):
        assert secret not in message, message


def test_stack_memory_counts_the_enabled_components_and_the_exporters_per_bench():
    resources = {"prometheus": {"memory": "768M"}, "alertmanager": {"memory": "128M"},
                 "node_exporter": {"memory": "64M"}, "blackbox_exporter": {"memory": "64M"},
                 "cadvisor": {"memory": "256M"}, "grafana": {"memory": "256M"}, "loki": {"memory": "512M"},
                 "alloy": {"memory": "256M"}, "mysqld_exporter": {"memory": "64M"},
                 "redis_exporter": {"memory": "64m"}}
    # 768 + 128 + 64 + 64, plus 2 benches x (64 + 2 x 64)
    assert stack_memory_mb(resources, 2, cadvisor=False, grafana=False, logs_backend="external") == 1024 + 384
    assert stack_memory_mb(resources, 2) == 1024 + 384 + 256 + 256 + 512 + 256
    assert stack_memory_mb(resources, 0, cadvisor=False, grafana=False, logs_backend="external") == 1024
    assert stack_memory_mb({}, 3) == 0


def test_stack_memory_refuses_a_bad_size():
    with pytest.raises(BenchSpecError, match="monitoring_resources.loki.memory"):
        stack_memory_mb({"loki": {"memory": "lots"}}, 1)


# Container hardening ---------------------------------------------------------------------------------------------

def test_every_monitoring_service_is_hardened_but_cadvisor_keeps_its_capabilities(config):
    for name, service in config["compose"]["services"].items():
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["deploy"]["resources"]["limits"]["pids"] >= 128, name
        if name == "cadvisor":
            assert "cap_drop" not in service and "read_only" not in service
            continue
        assert service["cap_drop"] == ["ALL"], name
        assert service["read_only"] is True, name
        assert service.get("cap_add", []) == (["DAC_READ_SEARCH"] if name == "alloy" else []), name
    assert config["compose"]["services"]["grafana"]["tmpfs"] == ["/var/log/grafana:mode=1777", "/tmp:mode=1777"]
    assert "_kind" not in config["compose"]["services"]["prometheus"]


def test_monitoring_hardening_overrides_apply_to_every_exporter_of_their_kind():
    config = monitoring_configuration(settings(hardening={
        "grafana": {"read_only": False}, "cadvisor": {"drop_capabilities": True, "add_capabilities": ["SYS_PTRACE"]},
        "mysqld_exporter": {"pids_limit": 0, "no_new_privileges": False}}))
    services = config["compose"]["services"]
    assert "read_only" not in services["grafana"] and "tmpfs" not in services["grafana"]
    assert services["grafana"]["cap_drop"] == ["ALL"]
    assert (services["cadvisor"]["cap_drop"], services["cadvisor"]["cap_add"]) == (["ALL"], ["SYS_PTRACE"])
    for bench in ("alpha", "beta"):
        exporter = services["mysqld-exporter-%s" % bench]
        assert "pids" not in exporter["deploy"]["resources"]["limits"]
        assert exporter["security_opt"] == ["no-new-privileges:false"]
    assert services["redis-exporter-alpha-queue"]["deploy"]["resources"]["limits"]["pids"] == 128


@pytest.mark.parametrize("hardening, message", [
    ({"node-exporter": {"read_only": False}},
     "monitoring_container_hardening has no service 'node-exporter'; its services are prometheus, alertmanager, "
     "node_exporter, cadvisor"),
    ({"alloy": {"add_capabilities": ["cap_dac_override"]}},
     "monitoring_container_hardening.alloy.add_capabilities[0] must be a Linux capability as Docker names it, such "
     "as NET_BIND_SERVICE, not 'cap_dac_override' (write it DAC_OVERRIDE)"),
    ({"loki": {"tmpfs": ["/tmp:size=1m"]}},
     "monitoring_container_hardening.loki.tmpfs[0] must be an absolute, normalised path"),
])
def test_monitoring_hardening_refusals_name_the_path(hardening, message):
    assert message in refusal(hardening=hardening)
