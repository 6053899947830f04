# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: one bench description -> one compose project document (a dict).

Everything the collection renders for Docker Compose (and later for Swarm stacks) comes from here, so secrets,
proxy labels, limits, healthchecks and monitoring labels are each one small function of the same transformation.
The input is the normalised bench description built by the ``erpnext`` role (see ``BENCH_KEYS``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import (
    NAME_RE,
    BenchSpecError,
    deep_merge,
    is_pinned,
    user_host_scope,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.hardening import harden, volume_names
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import MIB, parse_size

BENCH_HOME = "/home/frappe/frappe-bench"
ERPNEXT_SERVICES = ("configurator", "backend", "frontend", "websocket", "queue-short", "queue-long", "scheduler")
LABEL_PREFIX = "com.erpstack"

# The Redis URLs carry passwords: jq reads them from the secret files, so they never become a process argument
# (bench set-config would take them as one). The file is rewritten atomically and stays private (0600).
REDIS_SECRET_FILES = (("c", "redis_cache_password"), ("q", "redis_queue_password"))
REDIS_URLS_FILTER = (
    '.redis_cache = "redis://:\\($$c | @uri)@\\($$ch)"'
    ' | .redis_queue = "redis://:\\($$q | @uri)@\\($$qh)"'
    " | .redis_socketio = .redis_queue"
)


# Development mode: outgoing mail goes to the mail catcher (Frappe's outgoing account from the site config:
# EmailAccount.find_outgoing falls back to mail_server & co. when no Email Account is the default). Production mode
# removes exactly these settings, and only while they name the mail catcher: a mail server set by hand stays.
DEV_MAIL_SERVER = "mailcatcher"
DEV_MAIL_PORT = 1025
DEV_MAILDIR = "/home/frappe/frappe-bench/logs/mail-catcher"
DEV_MAIL_FILTER = (' | .mail_server = "%s" | .mail_port = %d | .use_tls = 0 | .use_ssl = 0'
                   ' | .auto_email_id = "erpnext@localhost"' % (DEV_MAIL_SERVER, DEV_MAIL_PORT))
PRODUCTION_MAIL_FILTER = (' | if .mail_server == "%s" then del(.mail_server, .mail_port, .use_tls, .use_ssl,'
                          ' .auto_email_id) else . end' % DEV_MAIL_SERVER)


def configurator_script(secret_files=REDIS_SECRET_FILES, extra_filter="", developer_mode=False, mute_emails=False):
    """The configurator's script: apps.txt and the common site config (``extra_filter``: more jq on the config).

    ``developer_mode`` is set in the development mode and removed otherwise, so one switch of the mode turns it on
    and off for every site of the bench (a site's own site_config.json may still set it); ``mute_emails`` likewise
    (a staging refresh sets it in the refreshed site's own config)."""
    extra_filter += (" | .developer_mode = 1" + DEV_MAIL_FILTER) if developer_mode else (
        " | del(.developer_mode)" + PRODUCTION_MAIL_FILTER)
    extra_filter += " | .mute_emails = 1" if mute_emails else " | del(.mute_emails)"
    rawfiles = " ".join("--rawfile %s /run/secrets/%s" % pair for pair in secret_files)
    return "; ".join([
        "set -e",
        "ls -1 apps > sites/apps.txt",
        "bench set-config -g db_host $$DB_HOST",
        "bench set-config -gp db_port $$DB_PORT",
        "bench set-config -gp socketio_port $$SOCKETIO_PORT",
        "f=sites/common_site_config.json",
        't=$$(mktemp "$$f.XXXXXX")',
        "jq %s" % rawfiles + ' --arg ch "$$REDIS_CACHE" --arg qh "$$REDIS_QUEUE"'
        " '" + REDIS_URLS_FILTER + extra_filter + "'" + ' "$$f" > "$$t"',
        'mv "$$t" "$$f"',
    ])


# Redis reads its password from the secret file at start; the generated config lives on a private tmpfs.
REDIS_START = (
    "umask 077 && printf 'requirepass %s\\n' \"$$(cat /run/secrets/{secret})\" > /run/redis/auth.conf"
    " && exec redis-server /run/redis/auth.conf {options}"
)
REDIS_PING = 'REDISCLI_AUTH="$$(cat /run/secrets/{secret})" redis-cli ping | grep -q PONG'
# Read last by the server (Debian's and the official image's my.cnf include conf.d/ and then mariadb.conf.d/, whose
# 50-server.cnf would otherwise override the collation Frappe needs)
MARIADB_DROPIN = "/etc/mysql/mariadb.conf.d/99-erpstack.cnf"
# uids of the images' service users: MariaDB's mysql, Redis's redis, Frappe's frappe
MARIADB_UID = 999
REDIS_UID = 999
FRAPPE_UID = 1000

BENCH_KEYS = {
    "name": str,
    "images": dict,
    "network": dict,
    "frontend": dict,
    "gunicorn": dict,
    "workers": dict,
    "secrets": dict,
    "mariadb": dict,
    "restart": str,
    "resources": dict,
    "proxy": dict,
    "redis": dict,
    "extension": dict,
    "mode": str,
    "mute_emails": bool,
    "development": dict,
    "hardening": dict,
}
MODES = ("production", "development")
# The development container's processes (bench's Procfile, as `bench setup procfile` writes it for a developer
# bench: the web server with its reloader, the realtime server, the asset watcher, the scheduler and a worker of every
# queue) and its ports inside the container
DEV_PORTS = {"web": 8000, "socketio": 9000, "watch": 6787, "debug_web": 5678, "debug_worker": 5679}
DEV_PROCFILE = "/home/frappe/frappe-bench/Procfile"
DEV_APPS_PTH = "erpstack-development-apps.pth"


def _validate(bench):
    missing = [key for key in ("name", "images", "network") if key not in bench]
    if missing:
        raise BenchSpecError("bench description lacks %s" % ", ".join(missing))
    unknown = sorted(set(bench) - set(BENCH_KEYS))
    if unknown:
        raise BenchSpecError("bench description has unknown keys: %s" % ", ".join(unknown))
    if not NAME_RE.match(str(bench["name"])):
        raise BenchSpecError("bench name %r must match %s" % (bench["name"], NAME_RE.pattern))
    for key in ("erpnext", "mariadb", "redis"):
        image = bench["images"].get(key)
        if isinstance(image, str) and image.endswith(":latest"):
            raise BenchSpecError("image %s=%r: 'latest' is not a pinned tag" % (key, image))
        if not is_pinned(image):
            raise BenchSpecError("image %s=%r must be pinned to an exact tag" % (key, image))
    user_host_scope(bench["network"].get("subnet", ""))


def _labels(bench, service, role):
    return {
        LABEL_PREFIX + ".bench": bench["name"],
        LABEL_PREFIX + ".service": service,
        LABEL_PREFIX + ".role": role,
    }


def healthcheck(test, interval="10s", timeout="5s", retries=30, start_period="20s"):
    return {"test": test, "interval": interval, "timeout": timeout, "retries": retries, "start_period": start_period}


def _port_check(port):
    return healthcheck(["CMD", "wait-for-it", "-q", "-t", "3", "127.0.0.1:%d" % port])


def service_resources(bench, service):
    """``deploy.resources`` for a service (Compose applies it outside Swarm too)."""
    spec = (bench.get("resources") or {}).get(service) or {}
    out = {}
    limits = {k: spec[k] for k in ("cpus", "memory") if spec.get(k) is not None}
    if limits:
        out["limits"] = {k: str(v) for k, v in limits.items()}
    reservations = {k[len("reserve_"):]: str(spec[k]) for k in ("reserve_cpus", "reserve_memory") if spec.get(k)}
    if reservations:
        out["reservations"] = reservations
    return out


def _erpnext_service(bench, name, role, **extra):
    service = {
        "image": bench["images"]["erpnext"],
        "restart": bench.get("restart", "unless-stopped"),
        "volumes": ["sites:%s/sites" % BENCH_HOME, "logs:%s/logs" % BENCH_HOME],
        "networks": ["bench"],
        "labels": _labels(bench, name, role),
    }
    if name != "configurator":
        service["depends_on"] = {"configurator": {"condition": "service_completed_successfully"}}
    service.update(extra)
    return service


def _db_service(bench):
    mariadb = bench.get("mariadb") or {}
    service = {
        "image": bench["images"]["mariadb"],
        "restart": bench.get("restart", "unless-stopped"),
        "environment": {
            "MARIADB_ROOT_PASSWORD_FILE": "/run/secrets/db_root_password",
            # root may log in only from inside the db container; sites are created through the admin account
            "MARIADB_ROOT_HOST": "localhost",
            "MARIADB_AUTO_UPGRADE": "1",
        },
        # the server's socket directory is shared with the host, where the role manages accounts as root
        "volumes": ["db-data:/var/lib/mysql", "%s:/run/mysqld" % mariadb.get("socket_dir", "./run/mysqld")],
        "networks": ["bench"],
        "healthcheck": healthcheck(["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"], interval="5s"),
        "labels": _labels(bench, "db", "database"),
    }
    if mariadb.get("config_file"):
        service["volumes"].append("%s:%s:ro" % (mariadb["config_file"], MARIADB_DROPIN))
    if mariadb.get("config_hash"):
        service["labels"][LABEL_PREFIX + ".config-hash"] = str(mariadb["config_hash"])
    return service


def _redis_service(bench, name, persistent):
    secret = name.replace("-", "_") + "_password"
    if persistent:
        # queued jobs: every write in the append-only file (fsync each second), never evicted
        options = "--save '' --appendonly yes --appendfsync everysec --maxmemory-policy noeviction"
    else:
        # a cache: bounded, least recently used keys evicted first, nothing written to disk
        options = "--save '' --appendonly no --maxmemory-policy allkeys-lru"
        maxmemory = (bench.get("redis") or {}).get("cache_maxmemory")
        if maxmemory:
            if not re.match(r"^[0-9]+(kb|mb|gb)?$", str(maxmemory)):
                raise BenchSpecError("redis cache_maxmemory %r must be like 512mb" % maxmemory)
            options += " --maxmemory %s" % maxmemory
    service = {
        "image": bench["images"]["redis"],
        "restart": bench.get("restart", "unless-stopped"),
        "user": "%d:%d" % (REDIS_UID, REDIS_UID),
        "command": ["sh", "-c", REDIS_START.format(secret=secret, options=options)],
        "tmpfs": ["/run/redis:uid=%d,gid=%d,mode=0700" % (REDIS_UID, REDIS_UID)],
        "networks": ["bench"],
        "healthcheck": healthcheck(["CMD-SHELL", REDIS_PING.format(secret=secret)], interval="5s"),
        "labels": _labels(bench, name, "queue" if persistent else "cache"),
    }
    if persistent:
        service["volumes"] = ["%s-data:/data" % name]
    return service


def dev_procfile():
    """The development container's Procfile: bench's own (config/procfile.py, for a bench without supervisor), the
    web server and the worker each with the address its debugger listens on (erpstack_devdebug.py)."""
    debug = "ERPSTACK_DEBUGPY_LISTEN=0.0.0.0:%d "
    return "".join("%s: %s\n" % pair for pair in (
        ("web", (debug % DEV_PORTS["debug_web"]) + "ERPSTACK_DEBUGPY_RELOADER=1 bench serve --port %d"
         % DEV_PORTS["web"]),
        ("socketio", "node apps/frappe/socketio.js"),
        ("watch", "bench watch"),
        ("schedule", "bench schedule"),
        ("worker", (debug % DEV_PORTS["debug_worker"]) + "bench worker 1>> logs/worker.log 2>> logs/worker.error.log"),
    ))


# The apps bind-mounted from the host become importable as `pip install -e` makes them: their directories in a .pth
# file of the bench's environment (rewritten at every start: the container's own file system is not kept)
# The debugger's code (debugpy and erpstack_devdebug, bind-mounted read-only) comes first: its import line starts
# debugpy where the Procfile asks for it.
DEV_PYTHON = "/opt/erpstack-development"
DEV_START = (
    "set -e; cd %s; "
    "purelib=$$(env/bin/python -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'); "
    "pth=\"$$purelib/%s\"; "
    "printf '%%s\\n' %s/debugpy %s/python 'import erpstack_devdebug' > \"$$pth\"; "
    'for app in $$DEV_APPS; do printf \'%%s\\n\' "$$PWD/apps/$$app" >> "$$pth"; done; '
    "exec bench start"
) % (BENCH_HOME, DEV_APPS_PTH, DEV_PYTHON, DEV_PYTHON)


def _development_service(bench):
    """The development container: the bench's image running `bench start` (every process of the bench, with reload),
    the apps' source bind-mounted from the host, its ports published on the loopback address only."""
    dev = bench.get("development") or {}
    address = dev.get("bind_address", "127.0.0.1")
    ports = dict(DEV_PORTS, **(dev.get("ports") or {}))
    apps = list(dev.get("apps") or [])
    service = _erpnext_service(
        bench, "backend", "development",
        entrypoint=["bash", "-c"],
        command=[DEV_START],
        # debugpy's notice about Python's frozen modules (which hold no app code) would open every process's log
        environment={"DEV_APPS": " ".join(apps), "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        healthcheck=_port_check(DEV_PORTS["web"]),
    )
    service["volumes"] = service["volumes"] + [
        "%s:%s:ro" % (dev.get("procfile", "./development/Procfile"), DEV_PROCFILE),
        "./development/python:%s/python:ro" % DEV_PYTHON,
        "./development/debugpy-%s:%s/debugpy:ro" % (dev["debugpy_version"], DEV_PYTHON),
    ] + ["%s/%s:%s/apps/%s" % (dev["apps_dir"], app, BENCH_HOME, app) for app in apps]
    service["ports"] = [
        {"target": DEV_PORTS[name], "published": str(ports[name]), "host_ip": address, "protocol": "tcp"}
        for name in ("web", "socketio", "watch", "debug_web", "debug_worker")
    ]
    return service


def compose_project(bench):
    """Return the compose document (a dict) for one bench."""
    _validate(bench)
    if bench.get("mode", "production") == "development":
        return _development_project(bench)
    frontend = bench.get("frontend") or {}
    gunicorn = bench.get("gunicorn") or {}
    workers = bench.get("workers") or {}

    services = {
        "db": _db_service(bench),
        "redis-cache": _redis_service(bench, "redis-cache", persistent=False),
        "redis-queue": _redis_service(bench, "redis-queue", persistent=True),
        "configurator": _erpnext_service(
            bench, "configurator", "setup",
            entrypoint=["bash", "-c"],
            command=[configurator_script(mute_emails=bool(bench.get("mute_emails")))],
            restart="no",
            # the Redis secret files are owned by Redis's uid and readable by this group
            group_add=[str(FRAPPE_UID)],
            environment={
                "DB_HOST": "db",
                "DB_PORT": "3306",
                "REDIS_CACHE": "redis-cache:6379",
                "REDIS_QUEUE": "redis-queue:6379",
                "SOCKETIO_PORT": "9000",
            },
            depends_on={
                "db": {"condition": "service_healthy"},
                "redis-cache": {"condition": "service_healthy"},
                "redis-queue": {"condition": "service_healthy"},
            },
        ),
        "backend": _erpnext_service(
            bench, "backend", "app",
            environment={
                "GUNICORN_WORKERS": str(gunicorn.get("workers", 2)),
                "GUNICORN_THREADS": str(gunicorn.get("threads", 4)),
                "GUNICORN_TIMEOUT": str(gunicorn.get("timeout", 120)),
            },
            healthcheck=_port_check(8000),
        ),
        "frontend": _erpnext_service(
            bench, "frontend", "proxy",
            command=["nginx-entrypoint.sh"],
            environment={
                "BACKEND": "backend:8000",
                "SOCKETIO": "websocket:9000",
                "FRAPPE_SITE_NAME_HEADER": frontend.get("site_name_header", "$$host"),
                "UPSTREAM_REAL_IP_ADDRESS": frontend.get("real_ip_from", "127.0.0.1"),
                "UPSTREAM_REAL_IP_HEADER": frontend.get("real_ip_header", "X-Forwarded-For"),
                "UPSTREAM_REAL_IP_RECURSIVE": frontend.get("real_ip_recursive", "off"),
                "PROXY_READ_TIMEOUT": str(frontend.get("proxy_read_timeout", 120)),
                "CLIENT_MAX_BODY_SIZE": str(frontend.get("client_max_body_size", "50m")),
            },
            healthcheck=_port_check(8080),
        ),
        "websocket": _erpnext_service(
            bench, "websocket", "app",
            command=["node", "%s/apps/frappe/socketio.js" % BENCH_HOME],
            healthcheck=_port_check(9000),
        ),
        "queue-short": _erpnext_service(
            bench, "queue-short", "worker", command=["bench", "worker", "--queue", "short,default"]),
        "queue-long": _erpnext_service(
            bench, "queue-long", "worker", command=["bench", "worker", "--queue", "long,default,short"]),
        "scheduler": _erpnext_service(bench, "scheduler", "scheduler", command=["bench", "schedule"]),
    }
    # nginx resolves BACKEND and SOCKETIO once at start: it starts once they answer, and restarts whenever Compose
    # recreates them (a recreated container may get another address)
    services["frontend"]["depends_on"].update({
        "backend": {"condition": "service_healthy", "restart": True},
        "websocket": {"condition": "service_healthy", "restart": True},
    })
    for queue in ("short", "long"):
        replicas = int(workers.get(queue, 1))
        if replicas != 1:
            services["queue-" + queue].setdefault("deploy", {})["replicas"] = replicas
    published = frontend.get("published") or []
    if published:
        services["frontend"]["ports"] = [
            {"target": 8080, "published": str(p["port"]), "host_ip": p.get("host_ip", "0.0.0.0"), "protocol": "tcp"}
            for p in published
        ]
        services["frontend"]["networks"] = ["bench", "edge"]
    proxy = bench.get("proxy")
    if proxy:
        for name, labels in proxy_labels(bench["name"], proxy).items():
            services[name]["labels"].update(labels)
            services[name]["networks"] = services[name]["networks"] + ["proxy"]
    for name, service in services.items():
        resources = service_resources(bench, name)
        if resources:
            service.setdefault("deploy", {})["resources"] = resources
        harden(service, name, bench.get("hardening"))

    networks = {
        "bench": {
            "driver": "bridge",
            # the database and Redis never leave this network; only the frontend joins "edge"
            "internal": True,
            "ipam": {"config": [{"subnet": bench["network"]["subnet"]}]},
            "labels": {LABEL_PREFIX + ".bench": bench["name"]},
        },
    }
    if published:
        networks["edge"] = {"driver": "bridge", "labels": {LABEL_PREFIX + ".bench": bench["name"]}}
    if proxy:
        # created by the traefik role and shared by every bench; only the frontend and websocket join it
        networks["proxy"] = {"external": True, "name": proxy["network"]}

    volumes = {name: {"labels": {LABEL_PREFIX + ".bench": bench["name"]}}
               for name in ["sites", "logs", "db-data", "redis-queue-data"] + volume_names(services)}
    document = {
        "name": bench["name"],
        "services": services,
        "networks": networks,
        "volumes": volumes,
    }
    _attach_secrets(document, bench.get("secrets") or {})
    return deep_merge(document, bench.get("extension") or {})


def _mail_catcher_service(bench):
    """The development bench's mail catcher: aiosmtpd (from the controller's pip, unpacked read-only) run by the bench
    image's own Python as its user frappe, every message kept as a file of a Maildir in the bench's logs volume
    (logs/mail-catcher/new/, which belongs to frappe; a new volume's mount point would belong to root)."""
    directory = (bench.get("development") or {})["mail_catcher_dir"]
    service = {
        "image": bench["images"]["erpnext"],
        "restart": bench.get("restart", "unless-stopped"),
        "entrypoint": ["%s/env/bin/python" % BENCH_HOME],
        "command": ["-m", "aiosmtpd", "--nosetuid", "--listen", "0.0.0.0:%d" % DEV_MAIL_PORT,
                    "--class", "aiosmtpd.handlers.Mailbox", DEV_MAILDIR],
        "environment": {"PYTHONPATH": "%s/mail-catcher" % DEV_PYTHON},
        "volumes": ["./development/%s:%s/mail-catcher:ro" % (directory, DEV_PYTHON), "logs:%s/logs" % BENCH_HOME],
        "networks": ["bench"],
        "healthcheck": _port_check(DEV_MAIL_PORT),
        "labels": _labels(bench, DEV_MAIL_SERVER, "mail"),
    }
    return service


def _development_project(bench):
    """The development view of the same bench: its database, Redis, volumes and secrets, and one development
    container in place of the production services (the same volumes, so switching the mode keeps every record)."""
    production = compose_project(dict(bench, mode="production", proxy={}, extension={},
                                      frontend=dict(bench.get("frontend") or {}, published=[])))
    services = {name: production["services"][name] for name in ("db", "redis-cache", "redis-queue", "configurator")}
    services["configurator"]["command"] = [configurator_script(developer_mode=True)]
    # its apps.txt lists the bind-mounted apps too
    dev = bench.get("development") or {}
    services["configurator"]["volumes"] = services["configurator"]["volumes"] + [
        "%s/%s:%s/apps/%s:ro" % (dev["apps_dir"], app, BENCH_HOME, app) for app in dev.get("apps") or []]
    services["backend"] = harden(_development_service(bench), "development", bench.get("hardening"))
    services[DEV_MAIL_SERVER] = harden(_mail_catcher_service(bench), DEV_MAIL_SERVER, bench.get("hardening"))
    # one container runs what the production services ran: its limit is theirs together
    resources = bench.get("resources") or {}
    app_services = [s for s in ERPNEXT_SERVICES if s != "configurator" and s in resources]
    if app_services:
        memory = sum(parse_size(resources[s]["memory"], "resources.%s.memory" % s) // MIB
                     for s in app_services if resources[s].get("memory"))
        cpus = max(float(resources[s].get("cpus") or 0) for s in app_services)
        limits = {}
        if memory:
            limits["memory"] = "%dM" % memory
        if cpus:
            limits["cpus"] = str(cpus)
        services["backend"].setdefault("deploy", {}).setdefault("resources", {}).setdefault("limits", {}).update(limits)
    for name in services:
        services[name].pop("secrets", None)
    networks = {"bench": dict(production["networks"]["bench"])}
    # the development container publishes its ports: it joins a network with a way out, as the frontend does
    networks["edge"] = {"driver": "bridge", "labels": {LABEL_PREFIX + ".bench": bench["name"]}}
    services["backend"]["networks"] = ["bench", "edge"]
    document = {
        "name": bench["name"],
        "services": services,
        "networks": networks,
        "volumes": production["volumes"],
    }
    secrets = {}
    for name, spec in (bench.get("secrets") or {}).items():
        secrets[name] = dict(spec, consumers=[c for c in spec.get("consumers") or [] if c in services])
    _attach_secrets(document, secrets)
    return deep_merge(document, bench.get("extension") or {})


def _attach_secrets(document, secrets):
    """Declare every secret some service consumes and give each consumer exactly the ones it needs."""
    declared = {}
    for name, spec in sorted(secrets.items()):
        for consumer in spec.get("consumers") or []:
            if consumer not in document["services"]:
                raise BenchSpecError("secret %s: no service %r consumes it" % (name, consumer))
            document["services"][consumer].setdefault("secrets", []).append(name)
            declared[name] = {"file": spec["file"]}
    if declared:
        document["secrets"] = declared


# Router priorities: an exact host beats a wildcard, and a site's /socket.io router beats its page router
PRIORITY = {("exact", "http"): 200, ("exact", "ws"): 210, ("wildcard", "http"): 100, ("wildcard", "ws"): 110}


def _host_rule(domains):
    parts = []
    for domain in domains:
        if domain.startswith("*."):
            # "$$" is Compose's escape for the regular expression's end anchor
            parts.append("HostRegexp(`^[a-z0-9-]+%s$$`)" % re.escape(domain[1:]))
        else:
            parts.append("Host(`%s`)" % domain)
    return " || ".join(parts)


def proxy_labels(bench_name, proxy):
    """Traefik labels for a bench's frontend and websocket services.

    ``proxy``: ``network`` (the external network Traefik watches), ``entrypoint``, ``middlewares`` (applied to every
    router, e.g. the security headers), ``max_body_bytes``, ``sites`` (planned sites: name, domains, tls_resolver,
    router). Each site gets a page router to the frontend and a ``/socket.io`` router to the websocket service, per
    kind of domain (exact or wildcard); each sets ``X-Frappe-Site-Name`` so aliases reach their site.
    """
    frontend = {
        "traefik.enable": "true",
        "traefik.docker.network": proxy["network"],
        "traefik.http.services.%s-frontend.loadbalancer.server.port" % bench_name: "8080",
        "traefik.http.middlewares.%s-body.buffering.maxRequestBodyBytes" % bench_name: str(proxy["max_body_bytes"]),
    }
    websocket = {
        "traefik.enable": "true",
        "traefik.docker.network": proxy["network"],
        "traefik.http.services.%s-websocket.loadbalancer.server.port" % bench_name: "9000",
    }
    shared = list(proxy.get("middlewares") or [])
    for site in proxy.get("sites") or []:
        if site.get("state", "present") != "present":
            continue
        # each container defines the middlewares its own routers use: a router never waits for another container
        header = "%s-%s-site" % (bench_name, site["router"])
        frontend["traefik.http.middlewares.%s.headers.customrequestheaders.X-Frappe-Site-Name" % header] = site["name"]
        websocket["traefik.http.middlewares.%s-ws.headers.customrequestheaders.X-Frappe-Site-Name" % header] = site["name"]
        groups = (
            ("exact", [d for d in site["domains"] if not d.startswith("*.")]),
            ("wildcard", [d for d in site["domains"] if d.startswith("*.")]),
        )
        for kind, domains in groups:
            if not domains:
                continue
            rule = _host_rule(domains)
            base = "%s-%s%s" % (bench_name, site["router"], "" if kind == "exact" else "-wildcard")
            for target, labels, router in (("http", frontend, base), ("ws", websocket, base + "-ws")):
                prefix = "traefik.http.routers.%s" % router
                if target == "http":
                    chain = [header + "@docker", "%s-body@docker" % bench_name] + shared
                else:
                    chain = [header + "-ws@docker"] + shared
                labels.update({
                    prefix + ".rule": rule if target == "http" else "(%s) && PathPrefix(`/socket.io`)" % rule,
                    prefix + ".entrypoints": proxy.get("entrypoint", "websecure"),
                    prefix + ".priority": str(PRIORITY[(kind, target)]),
                    prefix + ".service": "%s-%s" % (bench_name, "frontend" if target == "http" else "websocket"),
                    prefix + ".middlewares": ",".join(chain),
                    prefix + ".tls": "true",
                })
                if site.get("tls_resolver"):
                    labels[prefix + ".tls.certresolver"] = site["tls_resolver"]
                    if kind == "wildcard":
                        for i, domain in enumerate(domains):
                            labels["%s.tls.domains[%d].main" % (prefix, i)] = domain
    return {"frontend": frontend, "websocket": websocket}
