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

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import (
    LABEL_PREFIX,
    BenchSpecError,
    _healthcheck,
    deep_merge,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import is_host
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import SizingError, parse_size

REDIS_INSTANCES = ("cache", "queue")
# RQ's keys: a queue's jobs (list) and the workers listening on it (set, removed with its last member)
QUEUE_KEYS = "rq:queue:*,rq:workers:*"
PROBE_MODULE = "erpstack_ping"
DURATION_RE = re.compile(r"^(?=.)([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$")
SIZE_RE = re.compile(r"^[0-9]+(B|KB|MB|GB|TB|PB|EB)$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
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
    """Name of an exporter's credentials file: ``mysqld_exporter.BENCH.cnf``, ``redis_exporter.BENCH.cache.json``."""
    if kind == "mysqld":
        return "mysqld_exporter.%s.cnf" % bench
    return "redis_exporter.%s.%s.json" % (bench, instance)


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


def _check(settings):
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
        if ":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest"):
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
    return errors


def _service(settings, name, command=None, networks=("monitoring",), healthcheck=None):
    image = settings["images"][name]
    service = {
        "image": image,
        "restart": settings.get("restart", "unless-stopped"),
        "networks": list(networks),
        "security_opt": ["no-new-privileges:true"],
        "labels": {LABEL_PREFIX + ".role": "monitoring", LABEL_PREFIX + ".service": name.replace("_", "-")},
    }
    if command:
        service["command"] = command
    if healthcheck:
        service["healthcheck"] = _healthcheck(healthcheck, interval="10s", start_period="10s")
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
    for bench in benches:
        networks[_bench_network(bench)] = {"external": True, "name": "%s_bench" % bench["name"]}
    for name in ("prometheus", "alertmanager", "grafana"):
        if name in services and settings.get("config_hashes", {}).get(name):
            services[name]["labels"][LABEL_PREFIX + ".config-hash"] = settings["config_hashes"][name]
    document = {"name": settings.get("project", "monitoring"), "services": services, "networks": networks,
                "volumes": volumes}
    if secrets:
        document["secrets"] = dict(sorted(secrets.items()))
    return deep_merge(document, settings.get("extension") or {})


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


def monitoring_configuration(settings):
    """Return ``{compose, prometheus, blackbox, probes}`` (raises BenchSpecError listing every problem).

    ``settings``: ``project``, ``images`` ({component: image}), ``restart``, ``benches`` (the erpnext plan: name,
    sites with name, domains, state), ``proxy`` (``network``, ``entrypoint``, ``middlewares``; {} without Traefik),
    ``scrape_interval``, ``evaluation_interval``, ``retention_time``, ``retention_size``, ``prometheus_published``,
    ``alertmanager_published``, ``probe`` (``resolve``, ``interval``, ``timeout``, ``ca_bundle`` (bool),
    ``tls_insecure``, ``https_port``, ``proxy_address``), ``cadvisor`` (bool), ``grafana`` (``enabled``, ``host``,
    ``admin_user``, ``tls_resolver``), ``logs_backend``, ``textfile_dir``, ``external_labels``, ``config_hashes``,
    ``resources``, ``extension``.
    """
    errors = _check(settings)
    if errors:
        raise BenchSpecError("; ".join(errors))
    probe = settings.get("probe") or {}
    return {
        "compose": compose_document(settings),
        "prometheus": prometheus_config(settings),
        "blackbox": blackbox_config(settings),
        "probes": probe_targets(settings.get("benches") or [], probe.get("https_port", 443)),
        "backup_benches": backup_ages(settings.get("backup")),
    }


def _receiver(name, spec, smtp):
    errors = []
    spec = spec or {}
    out = {"name": name}
    if not isinstance(spec, dict):
        return out, ["receiver %s must be a dict with email and/or webhook" % name]
    unknown = sorted(set(spec) - {"email", "webhook"})
    if unknown:
        errors.append("receiver %s: unknown keys %s (email, webhook)" % (name, ", ".join(unknown)))
    emails = spec.get("email")
    if emails:
        emails = emails if isinstance(emails, list) else [emails]
        out["email_configs"] = []
        for email in emails:
            if isinstance(email, str):
                email = {"to": email}
            if not isinstance(email, dict):
                errors.append("receiver %s: each email must be a dict with to" % name)
                continue
            if not EMAIL_RE.match(str((email or {}).get("to", ""))):
                errors.append("receiver %s: email needs an address in to (got %r)" % (name, (email or {}).get("to")))
                continue
            out["email_configs"].append({"to": email["to"], "send_resolved": bool(email.get("send_resolved", True))})
        if not smtp.get("smarthost") or not EMAIL_RE.match(str(smtp.get("from") or "")):
            errors.append("receiver %s sends e-mail: set monitoring_smtp_smarthost (host:port) and monitoring_smtp_from"
                          % name)
    hooks = spec.get("webhook")
    if hooks:
        hooks = hooks if isinstance(hooks, list) else [hooks]
        out["webhook_configs"] = []
        for hook in hooks:
            if not isinstance(hook, dict):
                # it may be the URL itself, token included: never repeat it
                errors.append("receiver %s: each webhook must be a dict with url" % name)
                continue
            url = str(hook.get("url", ""))
            if not re.match(r"^https?://[^\s/]+", url):
                # the URL may carry a token: never repeat it
                errors.append("receiver %s: a webhook needs an http(s):// url" % name)
                continue
            try:
                max_alerts = int(hook.get("max_alerts", 0))
            except (TypeError, ValueError):
                errors.append("receiver %s: max_alerts must be a whole number" % name)
                continue
            out["webhook_configs"].append({"url": url, "send_resolved": bool(hook.get("send_resolved", True)),
                                           "max_alerts": max_alerts})
    if not emails and not hooks:
        errors.append("receiver %s has neither email nor webhook" % name)
    return out, errors


# Causes silence their symptoms: a bench's database or Redis down explains its sites' failures, a site down its
# latency and errors; a critical alert silences the warning of the same alert
INHIBIT_RULES = [
    {"source_matchers": ['alertname=~"MariaDBDown|RedisDown"'],
     "target_matchers": ['alertname=~"SiteDown|SiteHttp5xxRatioHigh|SiteLatencyHigh|QueueGrowingWithoutWorker|'
                         'MariaDBConnectionsNearLimit|RedisMemoryNearLimit|BackupFailed"'],
     "equal": ["bench"]},
    {"source_matchers": ['alertname="SiteDown"'],
     "target_matchers": ['alertname=~"SiteHttp5xxRatioHigh|SiteLatencyHigh"'],
     "equal": ["bench"]},
    {"source_matchers": ['alertname="SiteDown"'],
     "target_matchers": ['alertname="CertificateExpiringSoon"'],
     "equal": ["bench", "site"]},
    {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
     "equal": ["alertname", "bench", "site"]},
]


def alertmanager_config(settings):
    """Alertmanager's configuration, credentials included (write it as a secret file, never print it).

    ``settings``: ``receivers`` ({name: {email: {to}|[...], webhook: {url}|[...]}}), ``default_receiver``,
    ``routes`` ([{receiver, matchers: [...], continue}]), ``group_wait``, ``group_interval``, ``repeat_interval``,
    ``smtp`` (``smarthost``, ``from``, ``auth_username``, ``auth_password``, ``require_tls``).
    Raises BenchSpecError (messages never include a URL or password).
    """
    errors = []
    smtp = settings.get("smtp") or {}
    receivers = settings.get("receivers") or {}
    if not isinstance(receivers, dict):
        raise BenchSpecError("monitoring_alert_receivers must be a dict of receiver name -> {email, webhook}")
    out_receivers = [{"name": "blackhole"}]
    for name in sorted(receivers):
        if not RECEIVER_RE.match(str(name)) or name == "blackhole":
            errors.append("receiver name %r: letters, digits, '-' and '_' (blackhole is reserved)" % name)
            continue
        receiver, problems = _receiver(name, receivers[name], smtp)
        errors.extend(problems)
        out_receivers.append(receiver)
    default = settings.get("default_receiver") or ""
    if default and default not in receivers:
        errors.append("monitoring_alert_default_receiver %r is not a configured receiver" % default)
    if receivers and not default:
        errors.append("monitoring_alert_default_receiver must name one of the receivers (%s)"
                      % ", ".join(sorted(receivers)))
    routes = []
    for i, route in enumerate(settings.get("routes") or []):
        route = route or {}
        if route.get("receiver") not in receivers:
            errors.append("monitoring_alert_routes[%d]: receiver %r is not configured" % (i, route.get("receiver")))
        matchers = route.get("matchers") or []
        if not isinstance(matchers, list) or not matchers:
            errors.append("monitoring_alert_routes[%d]: matchers must be a non-empty list such as "
                          "['severity=\"critical\"']" % i)
        unknown = sorted(set(route) - {"receiver", "matchers", "continue", "group_by", "repeat_interval"})
        if unknown:
            errors.append("monitoring_alert_routes[%d]: unknown keys %s" % (i, ", ".join(unknown)))
        entry = {"receiver": route.get("receiver"), "matchers": list(matchers)}
        for key in ("continue", "group_by", "repeat_interval"):
            if key in route:
                entry[key] = route[key]
        routes.append(entry)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        try:
            duration_seconds(settings.get(key))
        except ValueError as exc:
            errors.append("monitoring_alert_%s: %s" % (key, exc))
    if errors:
        raise BenchSpecError("; ".join(errors))
    config = {"global": {"resolve_timeout": "5m"}}
    if smtp.get("smarthost"):
        config["global"].update({"smtp_smarthost": smtp["smarthost"], "smtp_from": smtp["from"],
                                 "smtp_require_tls": bool(smtp.get("require_tls", True))})
        if smtp.get("auth_username"):
            config["global"]["smtp_auth_username"] = smtp["auth_username"]
            config["global"]["smtp_auth_password"] = smtp.get("auth_password") or ""
    config["route"] = {
        # without receivers alerts are still visible in Alertmanager and Grafana, just not sent anywhere
        "receiver": default or "blackhole",
        "group_by": ["alertname", "bench", "site"],
        "group_wait": settings["group_wait"],
        "group_interval": settings["group_interval"],
        "repeat_interval": settings["repeat_interval"],
    }
    if routes:
        config["route"]["routes"] = routes
    config["receivers"] = out_receivers
    config["inhibit_rules"] = INHIBIT_RULES
    return config
