# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring stack's compose project: one function of the checked monitoring settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import deep_merge
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import LABEL_PREFIX, healthcheck as compose_healthcheck
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.hardening import (
    MONITORING_DEFAULTS,
    MONITORING_VARIABLE,
    harden,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import (
    QUEUE_KEYS,
    REDIS_INSTANCES,
    exporter_secret,
    probe_targets,
    swarm_db_exporters,
)


def _service(settings, name, command=None, networks=("monitoring",), healthcheck=None):
    image = settings["images"][name]
    service = {
        "image": image,
        "restart": settings.get("restart", "unless-stopped"),
        "networks": list(networks),
        # its hardening, by this key, once the document is whole (compose_document)
        "_kind": name,
        "labels": {LABEL_PREFIX + ".role": "monitoring", LABEL_PREFIX + ".service": name.replace("_", "-")},
    }
    if command:
        service["command"] = command
    if healthcheck:
        service["healthcheck"] = compose_healthcheck(healthcheck, interval="10s", start_period="10s")
    spec = (settings.get("resources") or {}).get(name) or {}
    limits = {k: str(spec[k]) for k in ("cpus", "memory") if spec.get(k) is not None}
    if limits:
        service["deploy"] = {"resources": {"limits": limits}}
    return service


def _wget(port, path):
    return ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:%d%s" % (port, path)]


def _ports(published, target):
    return [{"target": target, "published": str(p["port"]), "host_ip": p.get("host_ip", "127.0.0.1"),
             "protocol": "tcp"} for p in published or []]


def _bench_network(bench):
    return "bench-%s" % bench["name"]


def compose_document(settings):
    """The monitoring compose project. ``settings``: see ``monitoring_configuration``."""
    benches = settings.get("benches") or []
    proxy = settings.get("proxy") or {}
    grafana = settings.get("grafana") or {}
    services = {}
    secrets = {}

    def secret(name, service):
        secrets[name] = {"file": "./secrets/%s" % name}
        services[service].setdefault("secrets", []).append(name)

    # egress: a container on internal networks only cannot publish its port on the host's loopback
    prometheus_networks = ["monitoring", "egress"] + (["proxy"] if proxy.get("network") else [])
    services["prometheus"] = _service(settings, "prometheus", [
        "--config.file=/etc/prometheus/prometheus.yml",
        "--storage.tsdb.path=/prometheus",
        "--storage.tsdb.retention.time=%s" % settings["retention_time"],
        "--storage.tsdb.retention.size=%s" % settings["retention_size"],
        "--web.console.libraries=/usr/share/prometheus/console_libraries",
        "--web.console.templates=/usr/share/prometheus/consoles",
    ], prometheus_networks, _wget(9090, "/-/ready"))
    services["prometheus"]["volumes"] = ["./prometheus:/etc/prometheus:ro", "prometheus-data:/prometheus"]
    services["prometheus"]["ports"] = _ports(settings.get("prometheus_published"), 9090)

    services["alertmanager"] = _service(settings, "alertmanager", [
        "--config.file=/etc/alertmanager/alertmanager.yml",
        "--storage.path=/alertmanager",
        "--cluster.listen-address=",
    ], ["monitoring"], _wget(9093, "/-/ready"))
    # the configuration holds the receivers' credentials: it is a secret file itself
    services["alertmanager"]["volumes"] = [
        "./secrets/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro", "alertmanager-data:/alertmanager"]
    services["alertmanager"]["ports"] = _ports(settings.get("alertmanager_published"), 9093)

    services["node-exporter"] = _service(settings, "node_exporter", [
        "--path.rootfs=/host",
        "--collector.textfile.directory=/textfile",
        "--collector.filesystem.mount-points-exclude=^/(dev|proc|run|sys|host|var/lib/docker/.+)($|/)",
    ], ["monitoring"], _wget(9100, "/metrics"))
    services["node-exporter"].update({
        "pid": "host",
        "volumes": ["/:/host:ro,rslave", "%s:/textfile:ro" % settings["textfile_dir"]],
    })

    if settings.get("cadvisor"):
        services["cadvisor"] = _service(settings, "cadvisor", [
            "--docker_only=true",
            "--housekeeping_interval=30s",
            "--store_container_labels=false",
            "--whitelisted_container_labels=com.docker.compose.project,com.docker.compose.service",
            "--disable_metrics=advtcp,cpu_topology,cpuset,hugetlb,memory_numa,percpu,process,referenced_memory,"
            "resctrl,sched,tcp,udp",
        ], ["monitoring"], _wget(8080, "/healthz"))
        services["cadvisor"]["volumes"] = [
            "/:/rootfs:ro", "/var/run:/var/run:ro", "/sys:/sys:ro", "/var/lib/docker/:/var/lib/docker:ro",
            "/dev/disk/:/dev/disk:ro"]
        services["cadvisor"]["devices"] = ["/dev/kmsg"]

    services["blackbox-exporter"] = _service(settings, "blackbox_exporter", [
        "--config.file=/etc/blackbox_exporter/config.yml",
    ], ["monitoring", "egress"], _wget(9115, "/-/healthy"))
    services["blackbox-exporter"]["volumes"] = ["./blackbox:/etc/blackbox_exporter:ro"]
    probe = settings.get("probe") or {}
    if probe.get("resolve") == "proxy":
        # the sites' domains resolve to this host's Traefik: the probe takes the proxy's path without public DNS
        address = probe.get("proxy_address") or "host-gateway"
        services["blackbox-exporter"]["extra_hosts"] = sorted(
            "%s:%s" % (t["domain"], address) for t in probe_targets(benches, probe.get("https_port", 443)))

    for bench in benches:
        name = bench["name"]
        network = _bench_network(bench)
        exporter = "mysqld-exporter-%s" % name
        services[exporter] = _service(settings, "mysqld_exporter", [
            "--config.my-cnf=/run/secrets/%s" % exporter_secret("mysqld", name),
            # SHOW SLAVE STATUS needs SLAVE MONITOR, which the least-privilege account does not have (no replicas yet)
            "--no-collect.slave_status",
        ], ["monitoring", network], _wget(9104, "/metrics"))
        services[exporter]["labels"][LABEL_PREFIX + ".bench"] = name
        secret(exporter_secret("mysqld", name), exporter)
        for instance in REDIS_INSTANCES:
            exporter = "redis-exporter-%s-%s" % (name, instance)
            command = [
                "--redis.addr=redis://redis-%s:6379" % instance,
                "--redis.password-file=/run/secrets/%s" % exporter_secret("redis", name, instance),
            ]
            if instance == "queue":
                command.append("--check-keys=%s" % QUEUE_KEYS)
            # the official image is FROM scratch: no shell, no health check
            services[exporter] = _service(settings, "redis_exporter", command, ["monitoring", network])
            services[exporter]["labels"][LABEL_PREFIX + ".bench"] = name
            secret(exporter_secret("redis", name, instance), exporter)

    # A bench on Swarm, from its first manager: the stack's attachable overlay reaches the database's services by
    # name, the primary's and the replica's exporters each with its own credentials (host db or db-replica)
    for bench in settings.get("swarm_benches") or []:
        name = bench["name"]
        for role, service in swarm_db_exporters(bench):
            command = ["--config.my-cnf=/run/secrets/%s" % exporter_secret("mysqld", name, role),
                       "--collect.slave_status" if role == "replica" else "--no-collect.slave_status"]
            services[service] = _service(settings, "mysqld_exporter", command, ["monitoring", _bench_network(bench)],
                                         _wget(9104, "/metrics"))
            services[service]["labels"][LABEL_PREFIX + ".bench"] = name
            secret(exporter_secret("mysqld", name, role), service)

    if grafana.get("enabled"):
        services["grafana"] = _service(settings, "grafana", None, ["monitoring", "proxy"], _wget(3000, "/api/health"))
        services["grafana"]["environment"] = {
            "GF_SECURITY_ADMIN_USER": grafana.get("admin_user", "admin"),
            "GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/secrets/grafana_admin_password",
            "GF_SERVER_ROOT_URL": "https://%s/" % grafana["host"],
            "GF_USERS_ALLOW_SIGN_UP": "false",
            "GF_AUTH_ANONYMOUS_ENABLED": "false",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
            "GF_ANALYTICS_CHECK_FOR_UPDATES": "false",
            "GF_SECURITY_COOKIE_SECURE": "true",
        }
        services["grafana"]["volumes"] = [
            "./grafana/provisioning:/etc/grafana/provisioning:ro",
            "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
            "grafana-data:/var/lib/grafana",
        ]
        secret("grafana_admin_password", "grafana")
        router = "erpstack-grafana"
        labels = {
            "traefik.enable": "true",
            "traefik.docker.network": proxy["network"],
            "traefik.http.routers.%s.rule" % router: "Host(`%s`)" % grafana["host"],
            "traefik.http.routers.%s.entrypoints" % router: proxy.get("entrypoint", "websecure"),
            "traefik.http.routers.%s.tls" % router: "true",
            # above every site router (exact hosts 200/210, wildcards 100/110): a wildcard site cannot shadow it
            "traefik.http.routers.%s.priority" % router: "300",
            "traefik.http.routers.%s.service" % router: router,
            "traefik.http.services.%s.loadbalancer.server.port" % router: "3000",
        }
        if proxy.get("middlewares"):
            labels["traefik.http.routers.%s.middlewares" % router] = ",".join(proxy["middlewares"])
        if grafana.get("tls_resolver"):
            labels["traefik.http.routers.%s.tls.certresolver" % router] = grafana["tls_resolver"]
        services["grafana"]["labels"].update(labels)

    volumes = {"prometheus-data": {}, "alertmanager-data": {}}
    if grafana.get("enabled"):
        volumes["grafana-data"] = {}
    if settings.get("logs_backend") == "loki":
        services["loki"] = _service(settings, "loki", ["-config.file=/etc/loki/config.yml"], ["monitoring"],
                                    _wget(3100, "/ready"))
        services["loki"]["volumes"] = ["./loki:/etc/loki:ro", "loki-data:/loki"]
        services["alloy"] = _service(settings, "alloy", [
            "run", "--server.http.listen-addr=0.0.0.0:12345", "--storage.path=/var/lib/alloy/data",
            "--disable-reporting", "/etc/alloy/config.alloy",
        ], ["monitoring"])
        services["alloy"]["volumes"] = ["./alloy:/etc/alloy:ro", "alloy-data:/var/lib/alloy/data",
                                        "/var/run/docker.sock:/var/run/docker.sock:ro"]
        for bench in benches:
            for kind in ("logs", "sites"):
                volume = "%s-%s" % (bench["name"], kind)
                volumes[volume] = {"external": True, "name": "%s_%s" % (bench["name"], kind)}
                services["alloy"]["volumes"].append("%s:/frappe/%s/%s:ro" % (volume, bench["name"], kind))
        volumes["loki-data"] = {}
        volumes["alloy-data"] = {}
    for volume in volumes.values():
        if not volume.get("external"):
            volume["labels"] = {LABEL_PREFIX + ".role": "monitoring"}

    networks = {
        # the exporters' and Prometheus's own network: nothing on it is published except through the ports above
        "monitoring": {"driver": "bridge", "internal": True, "labels": {LABEL_PREFIX + ".role": "monitoring"}},
        # outbound only: the probes' path to the sites, Alertmanager's to its receivers
        "egress": {"driver": "bridge", "labels": {LABEL_PREFIX + ".role": "monitoring"}},
    }
    services["alertmanager"]["networks"].append("egress")
    if proxy.get("network"):
        networks["proxy"] = {"external": True, "name": proxy["network"]}
    for bench in benches + list(settings.get("swarm_benches") or []):
        networks[_bench_network(bench)] = {"external": True, "name": "%s_bench" % bench["name"]}
    for service in services.values():
        harden(service, service.pop("_kind"), settings.get("hardening"), MONITORING_DEFAULTS, MONITORING_VARIABLE)
    for name in ("prometheus", "alertmanager", "grafana"):
        if name in services and settings.get("config_hashes", {}).get(name):
            services[name]["labels"][LABEL_PREFIX + ".config-hash"] = settings["config_hashes"][name]
    document = {"name": settings.get("project", "monitoring"), "services": services, "networks": networks,
                "volumes": volumes}
    if secrets:
        document["secrets"] = dict(sorted(secrets.items()))
    return deep_merge(document, settings.get("extension") or {})
