# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The deployment plan of one host: inventory variables and host facts in, everything the roles apply out.

``deployment_plan`` is pure: it reads nothing but its arguments and raises PlanError naming the variable at fault.
Each role applies its part of the result (``deployment_plan``) and derives nothing itself; every further target (a
Swarm stack, a development mode, an upgrade) is one more view of the same plan. The layers it calls, top-down:
base (shared rules) -> plan (benches and sites) -> sizing -> compose, traefik, backup, monitoring_stack.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible.module_utils.common.text.formatters import human_to_bytes

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.apps import (
    BASE_APPS,
    AppSpecError,
    check_apps,
    check_dev_apps,
    custom_image,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.backup import backup_bench
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, deep_merge, is_pinned, user_host_scope
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import DEV_PORTS, MODES, compose_project, dev_procfile
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grafana import grafana_provisioning
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.hardening import check as check_hardening
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.logs import alloy_config, loki_config
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import (
    SWARM_DB_SERVICES,
    exporter_secret,
    stack_memory_mb,
    swarm_db_exporters,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring_stack import monitoring_configuration
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.plan import bench_plan
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.policy import policy_errors
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.release import image_version
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.swarm import (
    DB_FENCE,
    DB_POSITION,
    DB_PROMOTE,
    REDIS_HA,
    REDIS_ROTATE,
    REPLICA_STATUS,
    bench_replicas,
    replica_seed,
    swarm_secrets,
    swarm_stack,
    swarm_topology,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import (
    SizingError,
    bench_sizing,
    check_mariadb_settings,
    compose_resources,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.traefik import proxy_project, traefik_configuration


# [registry[:port]/]path, as `docker tag` accepts it (lowercase path components, no tag)
IMAGE_REPOSITORY_RE = re.compile(r"^(?:[A-Za-z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
                                 r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")


# MariaDB's binary log for the point-in-time recovery: row events (exact, whatever the statement), written to disk at
# every commit (an acknowledged commit is in the log), kept on the server three days (the backup role ships them off
# every few minutes and alerts when it falls behind)
BINLOG_SETTINGS = {"log_bin": "mariadb-bin", "server_id": 1, "binlog_format": "ROW", "sync_binlog": 1,
                   "expire_logs_days": 3}


class PlanError(ValueError):
    """The inventory cannot be turned into a plan; the message names the variables at fault."""


# Container users of the official images: MariaDB's mysql and Redis's redis are 999, Frappe's frappe is 1000.
# Secrets with no consumer are read on the host only (the modules feed them to bench on standard input).
BENCH_SECRETS = {
    "db_root_password": {"owner": 999, "group": 999, "mode": "0400", "consumers": ["db"]},
    "db_admin_password": {"owner": 0, "group": 0, "mode": "0400", "consumers": []},
    "db_backup_password": {"owner": 0, "group": 0, "mode": "0400", "consumers": []},
    "db_exporter_password": {"owner": 0, "group": 0, "mode": "0400", "consumers": []},
    "redis_cache_password": {"owner": 999, "group": 1000, "mode": "0440", "consumers": ["redis-cache", "configurator"]},
    "redis_queue_password": {"owner": 999, "group": 1000, "mode": "0440", "consumers": ["redis-queue", "configurator"]},
}
EXPORTER_SECRETS = ("db_exporter_password", "redis_cache_password", "redis_queue_password")
LETSENCRYPT = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
MARIADB_CONFIG_FILE = "./mariadb/erpstack.cnf"
NETWORK_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$")
RESTIC_REPOSITORY_RE = re.compile(r"^(s3:https?://|sftp:|rest:https?://|/)")
CREDENTIALS_IN_URL_RE = re.compile(r"//[^@/]*@")
ENV_NAME_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
READ_DATA_SUBSET_RE = re.compile(r"^([0-9]+(/[0-9]+|%)?)?$")
ALL_ADDRESSES = ("0.0.0.0", "::", "")
PINNED_PACKAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][0-9A-Za-z.!+-]*$")


def _stage(label, func, *args, **kwargs):
    """Run one stage of the plan; its invalid-input errors become PlanError prefixed with ``label``."""
    try:
        return func(*args, **kwargs)
    except (BenchSpecError, SizingError, KeyError) as exc:
        raise PlanError("%s: %s" % (label, exc))


def _bytes(value, where):
    try:
        return human_to_bytes(value)
    except (TypeError, ValueError):
        raise PlanError("%s must be a size such as 256M, not %r" % (where, value))


def mariadb_cnf(settings, managed_header):
    """The MariaDB drop-in of a bench: Frappe's settings, the sizing's, then the user's, one per line."""
    lines = [managed_header,
             "# Frappe's required settings (erpnext_mariadb_config), the bench's sizing, then "
             "erpnext_mariadb_config_extension.",
             "[mariadbd]"]
    for key in sorted(settings):
        value = settings[key]
        lines.append(key if value is None else "%s = %s" % (key, value))
    lines += ["", "[client]", "default-character-set = utf8mb4", "", "[mariadb-client]",
              "default-character-set = utf8mb4"]
    return "\n".join(lines) + "\n"


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _whole(value):
    return not isinstance(value, bool) and str(value).isdigit()


def _port(value):
    """A TCP port number, or None."""
    if isinstance(value, bool) or not str(value).isdigit() or not 0 < int(str(value)) < 65536:
        return None
    return int(str(value))


def _loopback(address):
    return address == "::1" or re.match(r"^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$", address)


class Plan(object):
    """One host's plan, built stage by stage from the variables ``v`` and the host facts."""

    def __init__(self, v, facts):
        self.v = v
        self.facts = facts
        self.proxy = v["erpnext_proxy"]
        self.traefik = self.proxy == "traefik"
        self.monitoring = bool(v.get("erpstack_monitoring", True))
        self.dev = None

    # -- the benches and their sizing -------------------------------------------------------------------------------
    def benches_in(self):
        v = self.v
        if v["erpnext_benches"]:
            return v["erpnext_benches"]
        return [{"name": v["erpnext_bench_name"], "sites": v["erpnext_sites"]}]

    def resolvers(self):
        return self.v.get("traefik_certificate_resolvers") or {}

    def shared_memory_mb(self, bench_count):
        """Traefik's and the monitoring stack's memory limits, kept out of the benches' budget."""
        total = 0
        if self.traefik:
            memory = ((self.v.get("traefik_resources") or {}).get("traefik") or {}).get("memory", "256M")
            total += _bytes(memory, "traefik_resources.traefik.memory") // 1048576
        if self.monitoring:
            v = self.v
            total += _stage("monitoring_resources", stack_memory_mb, v["monitoring_resources"], bench_count,
                            v["monitoring_cadvisor_enabled"], v["monitoring_grafana_enabled"],
                            v["monitoring_logs_backend"])
        return total

    def bench(self, entry, sizing):
        v = self.v
        name = entry["name"]
        project_dir = "%s/%s" % (v["erpnext_base_dir"], name)
        images = {
            "erpnext": "%s:%s" % (v["erpnext_image"], entry.get("version", v["erpnext_version"])),
            "mariadb": "%s:%s" % (v["erpnext_mariadb_image"], v["erpnext_mariadb_version"]),
            "redis": "%s:%s" % (v["erpnext_redis_image"], v["erpnext_redis_version"]),
        }
        if entry.get("engine", v["erpnext_engine"]) == "swarm":
            # the proxy that follows each Redis primary (plugin_utils/swarm.py)
            images["haproxy"] = "%s:%s" % (v["swarm_haproxy_image"], v["swarm_haproxy_version"])
        unpinned = [image for image in images.values() if not is_pinned(image)]
        if unpinned:
            raise PlanError("Invalid bench '%s': images must be pinned to an exact tag, never 'latest' (unpinned: %s)"
                            % (name, ", ".join(unpinned)))
        if image_version(images["erpnext"]) is None:
            # a floating tag (v16, version-16) would change the release under the bench without migrating its sites
            bench_at = self._bench_where(name)
            where = "%s.version" % bench_at if entry.get("version") and bench_at else "erpnext_version"
            raise PlanError("Invalid bench '%s': %s: the image tag %s names no exact release; give one as vX.Y.Z (a "
                            "custom image as vX.Y.Z-SUFFIX): upgrades migrate by the release in the tag"
                            % (name, where, images["erpnext"].rsplit(":", 1)[1]))
        dev = self.dev_bench(entry, project_dir) if self.dev else None
        if dev:
            # the apps' source is bind-mounted into the image's bench: nothing is built
            build, apps = None, list(BASE_APPS) + [app["name"] for app in dev["apps"]]
        else:
            build, apps = self.custom_build(entry, images["erpnext"])
        if build:
            images["erpnext"] = build["image"]
        settings = dict(v["erpnext_mariadb_config"])
        settings.update(sizing["mariadb"])
        if v.get("backup_binlog_enabled") and entry.get("engine", v["erpnext_engine"]) != "swarm":
            # the binary logs the backup role ships every few minutes (a Swarm bench's come from its replication)
            settings.update(BINLOG_SETTINGS)
        settings.update(v["erpnext_mariadb_config_extension"])
        settings = _stage("erpnext_mariadb_config", check_mariadb_settings, settings,
                          sizing["services"]["db"]["memory_mib"], "bench " + name)
        cnf = mariadb_cnf(settings, self.facts["managed_header"])
        published = entry.get("frontend_published", v["erpnext_frontend_published"])
        present = [s for s in entry["sites"] if s["state"] == "present"]
        absent = [s for s in entry["sites"] if s["state"] == "absent"]
        engine = self.engine(entry)
        secrets = dict((key, dict(spec, file="./secrets/%s" % key)) for key, spec in BENCH_SECRETS.items())
        if engine == "swarm":
            # the Sentinels' own password (only Docker secrets on Swarm: no compose service reads it)
            secrets["redis_sentinel_password"] = {"owner": 0, "group": 0, "mode": "0400", "consumers": [],
                                                  "file": "./secrets/redis_sentinel_password"}
            if v["swarm_db_replica"]:
                secrets["db_replication_password"] = {"owner": 0, "group": 0, "mode": "0400", "consumers": [],
                                                      "file": "./secrets/db_replication_password"}
        document = {
            "name": name,
            "images": images,
            "network": {"subnet": entry["network_subnet"]},
            "frontend": {
                "published": published,
                # behind Traefik every router sets X-Frappe-Site-Name to its site, so a site's aliases reach it too
                "site_name_header": "$$http_x_frappe_site_name" if self.traefik
                else v["erpnext_frontend_site_name_header"],
                "client_max_body_size": v["erpnext_frontend_client_max_body_size"],
                "proxy_read_timeout": v["erpnext_frontend_proxy_read_timeout"],
            },
            "gunicorn": {"workers": sizing["gunicorn"]["workers"], "threads": sizing["gunicorn"]["threads"],
                         "timeout": v["erpnext_gunicorn_timeout"]},
            "workers": {"short": sizing["workers"]["short"], "long": sizing["workers"]["long"]},
            "resources": compose_resources(sizing),
            "redis": {"cache_maxmemory": sizing["redis_cache_maxmemory"]},
            "restart": v["erpnext_restart_policy"],
            "secrets": secrets,
            "mariadb": {
                "config_file": MARIADB_CONFIG_FILE,
                # a label on the db service: a changed settings file recreates the database container (and nothing else)
                "config_hash": _sha256(cnf),
                "socket_dir": "./run/mysqld",
            },
            "proxy": {
                "network": v["erpnext_proxy_network"],
                "entrypoint": "websecure",
                "middlewares": v["erpnext_proxy_middlewares"],
                "max_body_bytes": _bytes(v["erpnext_frontend_client_max_body_size"],
                                         "erpnext_frontend_client_max_body_size"),
                "sites": entry["sites"],
            } if self.traefik else {},
            "extension": deep_merge(v["erpnext_compose_extension"], entry.get("compose_extension") or {}),
            "mode": "development" if dev else "production",
            "hardening": v["erpnext_container_hardening"],
            "mute_emails": bool(v["erpnext_mute_emails"]),
            "development": {
                "apps_dir": dev["apps_dir"],
                "apps": [app["name"] for app in dev["apps"]],
                "bind_address": dev["bind_address"],
                "ports": dev["ports"],
                "procfile": "./development/Procfile",
                "debugpy_version": dev["debugpy"]["version"],
                "mail_catcher_dir": dev["mail_catcher"]["dir"],
            } if dev else {},
        }
        compose = _stage("compose_project", compose_project, document)
        stack = None
        docker_secrets = swarm_secrets(secrets, name) if engine == "swarm" else {}
        if engine == "swarm":
            try:
                replicas = bench_replicas(entry.get("replicas"), self._bench_where(name) or "erpnext_benches[0]")
            except BenchSpecError as exc:
                raise PlanError("Invalid bench '%s': %s" % (name, exc))
            stack = _stage("swarm stack", swarm_stack, compose, {
                "replicas": replicas,
                "sites_dir": self.swarm_sites_dir(name),
                "project_dir": project_dir,
                "secrets": docker_secrets,
                "registry": self.v["swarm_registry"],
                "images": {"haproxy": images["haproxy"]},
                "db_replica": bool(v["swarm_db_replica"]),
                "mute_emails": bool(v["erpnext_mute_emails"]),
                "check_host": present[0]["host"] if present else "",
            })
        rotatable = (sorted((key for key in secrets if key in BENCH_SECRETS), key=list(BENCH_SECRETS).index)
                     + ["admin_password." + s["name"] for s in present if not s["has_admin_password"]]
                     + ["db_password." + s["name"] for s in present])
        return {
            "name": name,
            "project_dir": project_dir,
            "images": images,
            # the bench's own image (custom apps): built on the host from build.base, never pulled
            "build": build,
            # the apps its image carries (frappe, erpnext and the custom ones)
            "apps": apps,
            "network_subnet": entry["network_subnet"],
            "published": published,
            "sites": entry["sites"],
            "sites_present": present,
            "sites_absent": absent,
            "site_hosts": dict((s["name"], s["host"]) for s in present),
            # where the role checks its sites from the host: the published frontend, else Traefik's HTTPS port
            "check_url": ("http://%s:%s" % (dev["bind_address"], dev["ports"]["web"])) if dev
            else ("http://127.0.0.1:%s" % published[0]["port"]) if published
            else "https://127.0.0.1:%s" % v.get("traefik_https_port", 443),
            "mode": "development" if dev else "production",
            # the development mode: the apps' checkouts on the host, the Procfile and the editor's files
            "development": dev,
            "secrets": secrets,
            # what the role's one stack_secret run ensures: each secret file with its owner and mode
            "secret_files": [{"name": key, "owner": str(spec["owner"]), "group": str(spec["group"]),
                              "mode": spec["mode"]} for key, spec in secrets.items()],
            "rotatable": rotatable,
            "db_scope": user_host_scope(entry["network_subnet"]),
            "db_socket": "%s/run/mysqld/mysqld.sock" % project_dir,
            "db_accounts": [
                # creates and drops sites: every privilege on the databases named with the sites' prefix, nothing else
                {"user": v["erpnext_db_admin_user"], "secret": "db_admin_password",
                 "priv": "`%s%%`.*:ALL,GRANT/*.*:CREATE USER,RELOAD" % v["erpnext_site_db_prefix"],
                 "resource_limits": {}},
                # logical and physical backups: read and lock only (on Swarm, from the replica: its status too)
                {"user": v["erpnext_db_backup_user"], "secret": "db_backup_password",
                 "priv": "*.*:SELECT,SHOW VIEW,LOCK TABLES,EVENT,TRIGGER,RELOAD,PROCESS,BINLOG MONITOR"
                 + (",SLAVE MONITOR" if "db_replication_password" in secrets else ""),
                 "resource_limits": {}},
                # mysqld_exporter: server status only, never a site's tables
                {"user": v["erpnext_db_exporter_user"], "secret": "db_exporter_password",
                 "priv": "*.*:PROCESS,BINLOG MONITOR" + (",SLAVE MONITOR" if "db_replication_password" in secrets else "")
                 + "/performance_schema.*:SELECT",
                 "resource_limits": {"MAX_USER_CONNECTIONS": 3}},
            ] + ([
                # the replica's: seeds it (a consistent dump with its GTID position), then replicates
                {"user": v["swarm_db_replication_user"], "secret": "db_replication_password",
                 "priv": "*.*:REPLICATION SLAVE,SELECT,SHOW VIEW,TRIGGER,EVENT,LOCK TABLES,RELOAD,BINLOG MONITOR",
                 "resource_limits": {}},
            ] if "db_replication_password" in secrets else []),
            "sizing": sizing,
            "mariadb": {"settings": settings, "cnf": cnf},
            "engine": engine,
            "compose": compose,
            # engine swarm: the stack document of the same bench (plugin_utils/swarm.py), deployed from one manager
            "stack": stack,
            "swarm_secrets": docker_secrets if stack else {},
            # engine swarm with a replica: the scripts the role and playbooks/failover_db.yml run in the database's
            # containers (docker exec ... sh -s: each on standard input, the passwords read from the Docker secrets)
            "db_replication": {
                "status": REPLICA_STATUS, "seed": replica_seed(v["swarm_db_replication_user"]),
                "position": DB_POSITION, "fence": DB_FENCE, "promote": DB_PROMOTE,
            } if "db_replication_password" in secrets else None,
            # engine swarm: a Redis password's rotation runs REDIS_ROTATE on every node, with each secret's
            # arguments (kind, primary and replica services), before the services move to the new Docker secret
            "redis_rotation": {
                "script": REDIS_ROTATE,
                "secrets": dict((secret, [kind, primary, replica])
                                for kind, (primary, replica, secret, _port) in sorted(REDIS_HA.items())),
            } if stack else None,
        }

    # -- the development mode ----------------------------------------------------------------------------------------
    def development(self, plan):
        """The host-wide settings of the development mode (None in production mode), refused where the bench could
        not stay a developer's: in an inventory marked prod, on Swarm, behind the public proxy, on a non-loopback
        address, with more than one bench (their ports would collide)."""
        v = self.v
        mode = v["erpnext_mode"]
        if mode not in MODES:
            raise PlanError("erpnext_mode must be one of %s, not %r" % (", ".join(MODES), mode))
        if mode != "development":
            return None
        errors = []
        environment = v.get("erpstack_environment", "")
        if environment == "prod":
            errors.append("erpnext_mode is development but erpstack_environment is prod: the development mode runs "
                          "developer_mode, the reloader and a debugger, never in production (use it in the dev inventory)")
        if self.traefik:
            errors.append("erpnext_mode development publishes the bench on the loopback address only, without Traefik: "
                          "set erpnext_proxy: none")
        if self.monitoring:
            errors.append("erpnext_mode development: set erpstack_monitoring: false (the monitoring stack watches the "
                          "production services, which a development bench does not run)")
        if v.get("erpnext_mute_emails") is True:
            errors.append("erpnext_mode development sends the outgoing mail to its mail catcher: set "
                          "erpnext_mute_emails: false (mute_emails would stop it)")
        if len(plan) != 1:
            errors.append("erpnext_mode development runs one bench per host (its ports are fixed), this host has %d: "
                          "%s" % (len(plan), ", ".join(entry["name"] for entry in plan)))
        swarm = [entry["name"] for entry in plan if entry.get("engine", v["erpnext_engine"]) == "swarm"]
        if swarm:
            errors.append("erpnext_mode development runs on Docker Compose, not on Swarm (bench %s has engine swarm)"
                          % ", ".join(swarm))
        address = v["erpnext_dev_bind_address"]
        if not isinstance(address, str) or not _loopback(address):
            errors.append("erpnext_dev_bind_address must be a loopback address (127.0.0.1, ::1): the web server, its "
                          "debugger and the worker's debugger accept anyone who reaches them, got %r" % (address,))
        ports = v["erpnext_dev_ports"]
        merged = dict(DEV_PORTS)
        if not isinstance(ports, dict):
            errors.append("erpnext_dev_ports must be a mapping of %s to port numbers" % ", ".join(sorted(DEV_PORTS)))
        else:
            for key in sorted(ports):
                if key not in DEV_PORTS:
                    errors.append("erpnext_dev_ports.%s is unknown (expected %s)" % (key, ", ".join(sorted(DEV_PORTS))))
                elif _port(ports[key]) is None or isinstance(ports[key], str):
                    errors.append("erpnext_dev_ports.%s must be a port number (1-65535), got %r" % (key, ports[key]))
                else:
                    merged[key] = int(ports[key])
            taken = sorted(set(p for p in merged.values() if list(merged.values()).count(p) > 1))
            if taken:
                errors.append("erpnext_dev_ports: port %s is given twice" % ", ".join(str(p) for p in taken))
        apps_dir = v["erpnext_dev_apps_dir"]
        if not isinstance(apps_dir, str) or (apps_dir and not apps_dir.startswith("/")):
            errors.append("erpnext_dev_apps_dir must be an absolute path on the host (or empty: the bench's "
                          "<erpnext_base_dir>/<bench>-apps), got %r" % (apps_dir,))
        debugpy = v["erpnext_dev_debugpy_version"]
        if not isinstance(debugpy, str) or not re.match(r"^[0-9]+\.[0-9]+\.[0-9]+$", debugpy):
            errors.append("erpnext_dev_debugpy_version must be an exact release of debugpy such as 1.8.22, got %r"
                          % (debugpy,))
        packages = v["erpnext_dev_mail_catcher_packages"]
        if not isinstance(packages, list) or not all(isinstance(p, str) and PINNED_PACKAGE_RE.match(p) for p in packages):
            errors.append("erpnext_dev_mail_catcher_packages must list Python packages pinned to exact versions "
                          "(aiosmtpd==1.4.6), got %r" % (packages,))
        elif not any(p.lower().startswith("aiosmtpd==") for p in packages):
            errors.append("erpnext_dev_mail_catcher_packages must include aiosmtpd, the mail catcher")
        if errors:
            raise PlanError("Invalid development mode:\n- %s" % "\n- ".join(errors))
        return {"bind_address": address, "ports": merged, "apps_dir": apps_dir, "debugpy_version": debugpy,
                "mail_packages": packages}

    def dev_bench(self, entry, project_dir):
        """One bench's development settings: its apps (erpnext_apps, cloned at their ref, and erpnext_dev_apps) in
        the apps directory, the Procfile, and the editor's launch and devcontainer files."""
        v = self.v
        pinned, _where = self.bench_apps(entry)
        try:
            apps = check_dev_apps(v["erpnext_dev_apps"], pinned, "erpnext_dev_apps")
        except AppSpecError as exc:
            raise PlanError("Invalid bench '%s': %s" % (entry["name"], exc))
        self.check_site_apps(entry, list(BASE_APPS) + [app["name"] for app in apps],
                             "which the development bench does not have", "add the app to erpnext_dev_apps")
        # outside the bench's private project directory: the developer's own user works in it
        apps_dir = self.dev["apps_dir"] or "%s/%s-apps" % (v["erpnext_base_dir"], entry["name"])
        ports = self.dev["ports"]
        return {
            "apps_dir": apps_dir,
            "apps": apps,
            "bind_address": self.dev["bind_address"],
            "ports": ports,
            "procfile": dev_procfile(),
            # the debugger, downloaded on the controller (its pip configuration) and unpacked beside the Procfile
            "debugpy": {"version": self.dev["debugpy_version"],
                        "wheel": "debugpy-%s-py2.py3-none-any.whl" % self.dev["debugpy_version"]},
            # aiosmtpd and its dependencies, unpacked into a directory named by the list (a new list, a new directory)
            "mail_catcher": {"packages": self.dev["mail_packages"],
                             "dir": "mail-catcher-%s" % _sha256(" ".join(self.dev["mail_packages"]))[:12]},
            # beside the apps: VS Code attaches to the debuggers the container's ports publish
            "launch": {
                "version": "0.2.0",
                "configurations": [
                    {"name": "Attach to %s" % what, "type": "debugpy", "request": "attach",
                     "connect": {"host": self.dev["bind_address"], "port": ports["debug_" + key]},
                     "pathMappings": [{"localRoot": "${workspaceFolder}/%s" % app["name"],
                                       "remoteRoot": "/home/frappe/frappe-bench/apps/%s" % app["name"]}
                                      for app in apps],
                     "justMyCode": False}
                    for key, what in (("web", "web"), ("worker", "worker"))
                ],
            },
            "devcontainer": {
                "name": "ERPNext bench %s" % entry["name"],
                "dockerComposeFile": ["%s/compose.yaml" % project_dir],
                "service": "backend",
                "workspaceFolder": "/home/frappe/frappe-bench",
                "shutdownAction": "none",
                "overrideCommand": False,
                "forwardPorts": [ports[key] for key in ("web", "socketio", "watch")],
                "customizations": {"vscode": {"extensions": ["ms-python.python", "ms-python.debugpy"]}},
            },
        }

    def engine(self, entry):
        """compose (one host) or swarm; a bench's replicas need swarm."""
        engine = entry.get("engine", self.v["erpnext_engine"])
        where = self._bench_where(entry["name"])
        at = ("%s.engine" % where) if where and "engine" in entry else "erpnext_engine"
        if engine not in ("compose", "swarm"):
            raise PlanError("Invalid bench '%s': %s must be compose or swarm, not %r" % (entry["name"], at, engine))
        if engine == "compose" and entry.get("replicas") is not None:
            raise PlanError("Invalid bench '%s': %s.replicas needs engine swarm: on Compose one host runs one backend "
                            "per bench (set %s: swarm, with the swarm_* variables)"
                            % (entry["name"], where or "erpnext_benches[0]", at))
        return engine

    def swarm_sites_dir(self, name):
        """A Swarm bench's ``sites`` on the shared storage: the same path on every node."""
        storage = self.v["swarm_storage"] if isinstance(self.v["swarm_storage"], dict) else {}
        return "%s/%s/sites" % (str(storage.get("mount", "/mnt/erpstack")).rstrip("/"), name)

    def swarm_settings(self):
        v = self.v
        return {
            "managers_group": v["swarm_managers_group"],
            "workers_group": v["swarm_workers_group"],
            "edge_nodes": v["swarm_edge_nodes"],
            "db_primary": v["swarm_db_primary"],
            "db_replica": v["swarm_db_replica"],
            "storage": v["swarm_storage"],
            "dispatcher_heartbeat_seconds": v["swarm_dispatcher_heartbeat_seconds"],
        }

    def swarm_part(self, benches):
        """The cluster the swarm role forms, when a bench runs on Swarm (else None)."""
        if not any(bench["engine"] == "swarm" for bench in benches):
            return None
        cluster = self.facts.get("swarm") or {}
        try:
            topology = swarm_topology(cluster.get("managers") or [], cluster.get("workers") or [],
                                      cluster.get("nodes") or {}, self.swarm_settings(),
                                      self.facts["inventory_hostname"])
        except BenchSpecError as exc:
            raise PlanError("Swarm settings: %s" % exc)
        topology["benches"] = [bench["name"] for bench in benches if bench["engine"] == "swarm"]
        topology["registry"] = self.v["swarm_registry"]
        return topology

    def _bench_where(self, name):
        """The inventory path of a bench: erpnext_benches[i], or nothing for the single bench of erpnext_sites."""
        if not self.v["erpnext_benches"]:
            return None
        names = [bench.get("name") if isinstance(bench, dict) else None for bench in self.v["erpnext_benches"]]
        return "erpnext_benches[%d]" % names.index(name) if name in names else None

    def bench_apps(self, entry):
        """(the bench's checked apps: its own, else erpnext_apps; the variable path they come from)."""
        bench_at = self._bench_where(entry["name"])
        own = "apps" in entry and entry["apps"] is not None
        where = "%s.apps" % bench_at if own and bench_at else "erpnext_apps"
        try:
            return check_apps(entry["apps"] if own else self.v["erpnext_apps"], where), where
        except AppSpecError as exc:
            raise PlanError("Invalid bench '%s': %s" % (entry["name"], exc))

    def check_site_apps(self, entry, available, lacking, remedy):
        """Refuse a present site that names an app the bench does not have (``available``)."""
        bench_at = self._bench_where(entry["name"])
        sites_at = ("%s.sites" % bench_at) if bench_at else "erpnext_sites"
        for index, site in enumerate(entry["sites"]):
            unknown = [app for app in site["apps"] if app not in available]
            if unknown and site["state"] == "present":
                raise PlanError("Invalid bench '%s': %s[%d].apps names %s, %s (it has %s): %s"
                                % (entry["name"], sites_at, index, ", ".join(unknown), lacking, ", ".join(available),
                                   remedy))

    def custom_build(self, entry, base):
        """(the bench's custom image, or None without apps beyond the base image's; the apps its image carries).

        Checks the apps, and that its sites name only apps the image carries."""
        v = self.v
        apps, where = self.bench_apps(entry)
        available = list(BASE_APPS) + [app["name"] for app in apps]
        self.check_site_apps(entry, available, "which the bench's image does not carry",
                             "add the app to %s with its git URL and pinned ref" % where)
        if not apps:
            return None, available
        if not isinstance(v["erpnext_apps_image"], str) or not IMAGE_REPOSITORY_RE.match(v["erpnext_apps_image"]):
            raise PlanError("Invalid bench '%s': erpnext_apps_image must be an image repository without a tag, such as "
                            "registry.example.com/erp/erpnext, got %r" % (entry["name"], v["erpnext_apps_image"]))
        build = custom_image(v["erpnext_apps_image"], base, apps, "%d.%d.%d" % image_version(base))
        build["network"] = v["erpnext_apps_build_network"]
        return build, available

    # -- Traefik ------------------------------------------------------------------------------------------------------
    def traefik_part(self, swarm=False):
        v = self.v
        image = "%s:%s" % (v["traefik_image"], v["traefik_version"])
        certificates = list(v["traefik_certificates"]) + ([v["traefik_default_certificate"]]
                                                          if v["traefik_default_certificate"] else [])
        ports = [_port(v["traefik_http_port"]), _port(v["traefik_https_port"])]
        if (not is_pinned(image) or not NETWORK_RE.match(str(v["traefik_network"])) or None in ports
                or ports[0] == ports[1]
                or any(not isinstance(c, dict) or "cert" not in c or "key" not in c for c in certificates)
                or (v["traefik_acme_ca_bundle"] and "-----BEGIN CERTIFICATE-----" not in v["traefik_acme_ca_bundle"])):
            raise PlanError("Invalid Traefik settings: the image must be pinned to an exact tag, never 'latest' (got %s); "
                            "traefik_network must be a Docker network name; the HTTP and HTTPS ports must be distinct "
                            "ports; every entry of traefik_certificates (and traefik_default_certificate) needs cert "
                            "and key (PEM); traefik_acme_ca_bundle must be PEM certificates." % image)
        settings = {
            "network": v["traefik_network"],
            "email": v["traefik_acme_email"],
            "ca_server": v["traefik_acme_ca_server"]
            or LETSENCRYPT["staging" if v["traefik_acme_staging"] else "production"],
            "ca_bundle": len(v["traefik_acme_ca_bundle"]) > 0,
            "resolvers": v["traefik_certificate_resolvers"],
            "default_resolver": v["traefik_default_certresolver"],
            "tls_min_version": v["traefik_tls_min_version"],
            "cipher_suites": v["traefik_tls_cipher_suites"],
            "hsts_max_age": v["traefik_hsts_max_age"],
            "hsts_include_subdomains": v["traefik_hsts_include_subdomains"],
            "hsts_preload": v["traefik_hsts_preload"],
            "frame_options": v["traefik_frame_options"],
            "referrer_policy": v["traefik_referrer_policy"],
            "certificates": len(v["traefik_certificates"]),
            "default_certificate": len(v["traefik_default_certificate"]) > 0,
            "dashboard": {"enabled": v["traefik_dashboard_enabled"], "host": v["traefik_dashboard_host"]},
            "log_level": v["traefik_log_level"],
            "static_extension": v["traefik_static_extension"],
            "swarm": swarm,
        }
        config = _stage("traefik", traefik_configuration, settings)
        # a change of the static configuration changes the hash label, which recreates the container (the dynamic
        # file is watched and needs no restart); the JSON is Ansible's to_json(sort_keys=true)
        config_hash = _sha256(json.dumps(config["static"], sort_keys=True))
        project = {
            "name": "traefik",
            "image": image,
            "network": v["traefik_network"],
            "ports": [{"host_ip": v["traefik_bind_address"], "published": v["traefik_http_port"], "target": 80},
                      {"host_ip": v["traefik_bind_address"], "published": v["traefik_https_port"], "target": 443}],
            "config_hash": config_hash,
            "secrets": dict((name, dict(spec, file="./secrets/%s" % name))
                            for name, spec in config["secrets"].items()),
            "environment": config["environment"],
            "restart": v["traefik_restart_policy"],
            "resources": v["traefik_resources"],
            "extension": v["traefik_compose_extension"],
        }
        return {
            "image": image,
            "static": config["static"],
            "dynamic": config["dynamic"],
            "secrets": config["secrets"],
            "compose": _stage("traefik", proxy_project, project),
        }

    # -- backups --------------------------------------------------------------------------------------------------------
    def backup_errors(self, plan):
        """The role-wide backup settings' problems, all of them."""
        v = self.v
        errors = []
        if v["backup_scheduler"] not in ("systemd", "cron", "none"):
            errors.append("backup_scheduler must be systemd, cron or none, not %s" % v["backup_scheduler"])
        if v["backup_method"] not in ("logical", "physical"):
            errors.append("backup_method must be logical or physical, not %s" % v["backup_method"])
        if not _whole(v["backup_replica_max_lag_seconds"]) or int(str(v["backup_replica_max_lag_seconds"])) < 1:
            errors.append("backup_replica_max_lag_seconds must be a whole number of seconds, at least 1")
        interval = v.get("backup_binlog_interval_minutes", 5)
        if v.get("backup_binlog_enabled") and (not _whole(interval) or not 1 <= int(str(interval)) <= 60):
            errors.append("backup_binlog_interval_minutes must be a whole number of minutes from 1 to 60, not %s (it "
                          "bounds the work a restore can lose; backup_binlog_enabled: false switches the archiving off)"
                          % interval)
        if not _whole(v["backup_keep_daily"]) or int(str(v["backup_keep_daily"])) < 1:
            errors.append("backup_keep_daily must be a whole number of at least 1 (the newest set is always kept)")
        for key in ("backup_keep_weekly", "backup_keep_monthly"):
            if not _whole(v[key]):
                errors.append("%s must be a whole number" % key)
        unknown = sorted(set(v["backup_benches"]) - set(b["name"] for b in plan))
        if unknown:
            errors.append("backup_benches names no bench of the plan: %s" % ", ".join(unknown))
        repository = str(v["backup_restic_repository"])
        if repository and not RESTIC_REPOSITORY_RE.match(repository):
            # the whole value stays out of the message: credentials may sit anywhere in it, '/' and '@' included
            errors.append("backup_restic_repository must start with s3:http(s)://, sftp:, rest:http(s):// or / (the "
                          "value is not shown: it may carry credentials)")
        env = v["backup_restic_env"]
        if repository.startswith("s3:") and not ("AWS_ACCESS_KEY_ID" in env and "AWS_SECRET_ACCESS_KEY" in env):
            errors.append("backup_restic_repository is an S3 repository: backup_restic_env needs AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY")
        if not all(ENV_NAME_RE.match(str(key)) for key in env):
            errors.append("backup_restic_env keys must be environment variable names (A-Z, 0-9, _)")
        empty = sorted(str(key) for key, value in env.items() if not isinstance(value, str) or not value)
        if empty:
            # the host's secret files refuse an empty value: refused here, before any host changes
            errors.append("backup_restic_env values must be non-empty strings (not: %s)" % ", ".join(empty))
        if len(v["backup_restic_password"]) > 0 and not repository:
            errors.append("backup_restic_password is set but backup_restic_repository is empty")
        if not READ_DATA_SUBSET_RE.match(str(v["backup_restic_check_read_data_subset"])):
            errors.append("backup_restic_check_read_data_subset must be like 5% or 1/10")
        return errors

    def backup_part(self, plan, swarm=None):
        v = self.v
        errors = self.backup_errors(plan)
        if errors:
            raise PlanError("Backup settings: %s" % "; ".join(errors))
        defaults = {
            "base_dir": v["erpnext_base_dir"], "method": v["backup_method"], "incremental": v["backup_incremental"],
            "full_every_days": v["backup_full_every_days"], "on_calendar": v["backup_on_calendar"],
            "cron": v["backup_cron"], "enabled": True, "erpnext_image": v["erpnext_image"],
            "erpnext_version": v["erpnext_version"],
            "mariadb_image": "%s:%s" % (v["erpnext_mariadb_image"], v["erpnext_mariadb_version"]),
            "db_prefix": v["erpnext_site_db_prefix"], "db_admin_user": v["erpnext_db_admin_user"],
            "db_backup_user": v["erpnext_db_backup_user"],
            # the accounts whose passwords a physical restore resets to this host's, and their secret files
            "db_accounts": {v["erpnext_db_admin_user"]: "db_admin_password",
                            v["erpnext_db_backup_user"]: "db_backup_password",
                            v["erpnext_db_exporter_user"]: "db_exporter_password"},
        }
        benches = dict((entry["name"], _stage("backup", backup_bench, entry, defaults, v["backup_benches"]))
                       for entry in plan)
        secrets_dir = "%s/secrets" % v["backup_config_dir"]
        config = {
            "host": v["backup_restic_host"],
            "backup_dir": v["backup_dir"],
            "state_dir": v["backup_state_dir"],
            "textfile_dir": v["backup_textfile_dir"],
            "retention": {"daily": v["backup_keep_daily"], "weekly": v["backup_keep_weekly"],
                          "monthly": v["backup_keep_monthly"]},
            "count_doctypes": v["backup_drill_doctypes"],
            "restic": {
                "enabled": len(str(v["backup_restic_repository"])) > 0,
                "password_file": secrets_dir + "/restic_password",
                "repository_file": secrets_dir + "/restic_repository",
                "env_files": dict((key, "%s/restic_env.%s" % (secrets_dir, key.lower()))
                                  for key in v["backup_restic_env"]),
                "cache_dir": "/var/cache/erpstack/restic",
                "options": v["backup_restic_options"],
                "check_every_days": v["backup_restic_check_every_days"],
                "check_read_data_subset": v["backup_restic_check_read_data_subset"],
            },
            "benches": benches,
        }
        for entry in plan:
            benches[entry["name"]]["binlog"] = bool(v["backup_binlog_enabled"])
            if entry.get("engine", v["erpnext_engine"]) == "swarm":
                benches[entry["name"]]["binlog"] = False
                self.backup_on_swarm(entry["name"], benches[entry["name"]], swarm)
        enabled = [name for name, spec in benches.items() if spec["enabled"]]
        return {
            "config": config,
            "enabled_benches": enabled,
            "timers": self.backup_timers(enabled, benches),
        }

    def backup_on_swarm(self, name, spec, swarm):
        """A Swarm bench is backed up from its database's replica (the primary when it has none): a logical dump in
        that service's container, the sites' files read from the shared storage. Both database nodes keep the timer
        and the tool runs where the replica's task is, so the backups follow a failover."""
        v = self.v
        if spec["method"] != "logical":
            at = "backup_benches.%s.method" % name if "method" in (v["backup_benches"].get(name) or {}) \
                else "backup_method"
            raise PlanError("Backup settings: %s is %s, but bench %s runs on Swarm, where the backup is a logical dump "
                            "taken from the database's replica (set it to logical)" % (at, spec["method"], name))
        db = swarm["db"]
        spec.update({
            "engine": "swarm",
            "stack": name,
            "db_service": "db-replica" if db["replica"] else "db",
            "sites_dir": self.swarm_sites_dir(name),
            # a restore runs its bench commands in the admin container, on the first manager
            "admin_container": name + "_admin",
            "first_manager": swarm["bootstrap"],
            "db_nodes": [node for node in (db["primary"], db["replica"]) if node],
            "max_replica_lag_seconds": int(v["backup_replica_max_lag_seconds"]),
        })
        spec["enabled"] = spec["enabled"] and self.facts["inventory_hostname"] in spec["db_nodes"]

    def backup_timers(self, enabled, benches):
        """The systemd timer of each enabled bench's backup, and of its restore drill: the unit file and what the
        role's timer template writes into it. None unless systemd is the scheduler."""
        v = self.v
        if v["backup_scheduler"] != "systemd":
            return []
        kinds = [("backup", "backup", lambda name: benches[name]["on_calendar"])]
        if v["backup_drill_enabled"]:
            kinds.append(("restore-drill", "restore drill", lambda name: v["backup_drill_on_calendar"]))
        if v["backup_binlog_enabled"]:
            every = int(str(v["backup_binlog_interval_minutes"]))
            kinds.append(("binlog", "binary-log shipping",
                          lambda name: "*-*-* *:00:00" if every == 60 else "*-*-* *:00/%d:00" % every))
        return [{"path": "/etc/systemd/system/erpstack-%s-%s.timer" % (kind, name),
                 "template_vars": {"timer": dict({"bench": name, "what": what, "on_calendar": calendar(name),
                                                  "service": "erpstack-%s@%s.service" % (kind, name)},
                                                 # the shipping interval is the recovery point: no random delay
                                                 **({"randomized_delay_sec": 0} if kind == "binlog" else {}))}}
                for kind, what, calendar in kinds for name in enabled
                # the drill restores through the bench's compose project: not on Swarm yet (docs/swarm.md)
                if kind == "backup" or (benches[name].get("engine", "compose") == "compose"
                                        and (kind != "binlog" or benches[name]["binlog"]))]

    # -- monitoring -----------------------------------------------------------------------------------------------------
    def monitoring_part(self, plan, backup, swarm_benches=()):
        v = self.v
        bind = v.get("traefik_bind_address", "0.0.0.0")
        settings = {
            "project": v["monitoring_project"],
            "images": v["monitoring_images"],
            "restart": v["monitoring_restart_policy"],
            "benches": plan,
            "swarm_benches": list(swarm_benches),
            "proxy": {"network": v["erpnext_proxy_network"], "entrypoint": "websecure",
                      "middlewares": v["erpnext_proxy_middlewares"] or []} if self.traefik else {},
            "scrape_interval": v["monitoring_scrape_interval"],
            "evaluation_interval": v["monitoring_evaluation_interval"],
            "retention_time": v["monitoring_retention_time"],
            "retention_size": v["monitoring_retention_size"],
            "prometheus_published": v["monitoring_prometheus_published"],
            "alertmanager_published": v["monitoring_alertmanager_published"],
            "probe": {
                "resolve": v["monitoring_probe_resolve"],
                "interval": v["monitoring_probe_interval"],
                "timeout": v["monitoring_probe_timeout"],
                "ca_bundle": len(v["monitoring_probe_ca_bundle"]) > 0,
                "tls_insecure": v["monitoring_probe_tls_insecure"],
                "https_port": int(v.get("traefik_https_port", 443)),
                # the probes reach this host's Traefik: through Docker's host gateway when it listens everywhere
                "proxy_address": "host-gateway" if bind in ALL_ADDRESSES else bind,
            },
            "cadvisor": v["monitoring_cadvisor_enabled"],
            "grafana": {
                "enabled": v["monitoring_grafana_enabled"],
                "host": v["monitoring_grafana_host"],
                "admin_user": v["monitoring_grafana_admin_user"],
                "tls_resolver": v["monitoring_grafana_tls_resolver"] or v.get("traefik_default_certresolver", ""),
            },
            "logs_backend": v["monitoring_logs_backend"],
            "textfile_dir": v["backup_textfile_dir"],
            "external_labels": {"host": self.facts["inventory_hostname"]},
            "backup": {"benches": backup["enabled_benches"],
                       "max_age_hours": v["monitoring_backup_max_age_hours"],
                       "overrides": v["monitoring_backup_max_age_overrides"],
                       # shipping is behind after three missed intervals
                       "binlog": dict((name, 3 * 60 * int(str(v["backup_binlog_interval_minutes"])))
                                      for name in backup["enabled_benches"]
                                      if backup["config"]["benches"][name].get("binlog"))},
            "resources": v["monitoring_resources"],
            "hardening": v["monitoring_container_hardening"],
            "extension": v["monitoring_compose_extension"],
        }
        config = _stage("monitoring", monitoring_configuration, settings)
        if v["monitoring_grafana_enabled"]:
            clash = [s["name"] for bench in plan for s in bench["sites"]
                     if s["state"] == "present" and v["monitoring_grafana_host"] in s["domains"]]
            if clash:
                raise PlanError("monitoring_grafana_host %s is also a domain of site(s) %s: Grafana needs a host name of "
                                "its own." % (v["monitoring_grafana_host"], ", ".join(clash)))
        loki = v["monitoring_logs_backend"] == "loki"
        config["textfile_dir"] = v["backup_textfile_dir"]
        config["grafana"] = (_stage("monitoring grafana", grafana_provisioning, loki, v["monitoring_scrape_interval"])
                             if v["monitoring_grafana_enabled"] else None)
        config["loki"] = _stage("monitoring logs", loki_config, v["monitoring_loki_retention"]) if loki else None
        config["alloy"] = _stage("monitoring logs", alloy_config, plan) if loki else None
        config["images_needed"] = sorted(set(s["image"] for s in config["compose"]["services"].values()))
        # the exporters' credentials: each bench's secret files the monitoring role copies for its exporters
        config["exporter_credentials"] = [
            dict({"bench": bench["name"], "secret": secret, "db_user": v["erpnext_db_exporter_user"],
                  "path": "%s/%s/secrets/%s" % (v["erpnext_base_dir"], bench["name"], secret)},
                 **({"cnf": exporter_secret("mysqld", bench["name"]), "db_host": "db"}
                    if secret == "db_exporter_password" else {}))
            for bench in plan for secret in EXPORTER_SECRETS] + [
            {"bench": bench["name"], "secret": "db_exporter_password", "db_user": v["erpnext_db_exporter_user"],
             "path": "%s/%s/secrets/db_exporter_password" % (v["erpnext_base_dir"], bench["name"]),
             "cnf": exporter_secret("mysqld", bench["name"], role), "db_host": SWARM_DB_SERVICES[role]}
            for bench in swarm_benches for role, _service in swarm_db_exporters(bench)]
        return config

    # -- the whole host -------------------------------------------------------------------------------------------------
    def build(self):
        v = self.v
        resolvers = self.resolvers()
        plan = _stage("erpnext_benches", bench_plan, self.benches_in(),
                      resolvers=list(resolvers),
                      default_resolver=v["erpnext_tls_resolver"],
                      dns_resolvers=[name for name, spec in resolvers.items() if (spec or {}).get("challenge") == "dns"],
                      proxy=self.proxy, default_subnet=v["erpnext_network_subnet"])
        self.dev = self.development(plan)
        hardening = check_hardening(v["erpnext_container_hardening"])
        if hardening:
            raise PlanError("Invalid container hardening:\n- %s" % "\n- ".join(hardening))
        shared_mb = self.shared_memory_mb(len(plan))
        counts = dict((key, v["erpnext_" + key]) for key in
                      ("gunicorn_workers", "gunicorn_threads", "queue_short_workers", "queue_long_workers"))
        sizing = _stage("sizing", bench_sizing, self.facts["memtotal_mb"], self.facts["processor_vcpus"], plan,
                        profile=v["erpnext_sizing_profile"], overrides=v["erpnext_sizing_overrides"],
                        reserve_mb=v["erpnext_sizing_reserve_mb"] or None, proxy_memory_mb=int(shared_mb),
                        counts=counts)
        benches = [self.bench(entry, sizing[entry["name"]]) for entry in plan]
        swarm = self.swarm_part(benches)
        backup = self.backup_part(plan, swarm)
        for bench in benches:
            # an upgrade backs the bench up the way its backups are taken: physical (mariadb-backup) or logical
            bench["upgrade_backup"] = backup["config"]["benches"][bench["name"]]["method"]
        traefik = self.traefik_part(swarm is not None) if self.traefik else None
        if traefik:
            # on a Swarm the network is an attachable overlay, created by a manager, that Traefik and the stacks share
            traefik["network_driver"] = "overlay" if swarm else "bridge"
        # not yet for the benches on Swarm: the monitoring stack reaches a bench through its compose networks
        on_compose = [entry for entry, bench in zip(plan, benches) if bench["engine"] == "compose"]
        # a bench on Swarm: its databases' exporters run on the first manager, which keeps the secret files
        on_swarm = [{"name": bench["name"], "replica": bool(swarm["db"]["replica"])} for bench in benches
                    if bench["engine"] == "swarm" and swarm["bootstrap"] == self.facts["inventory_hostname"]]
        monitoring = self.monitoring_part(on_compose, backup, on_swarm) if self.monitoring else None
        # unsafe but valid: refused once everything is known to be valid
        refused = policy_errors(v, plan)
        if refused:
            raise PlanError("Unsafe settings (each may be allowed by the variable it names):\n- %s" % "\n- ".join(refused))
        return {
            "host": self.facts["inventory_hostname"],
            "proxy": self.proxy,
            # the benches as bench_plan normalised them (no secret values): the inputs of every per-bench view
            "bench_specs": plan,
            "benches": benches,
            "memory": {"host_mb": int(self.facts["memtotal_mb"]), "cpus": self.facts["processor_vcpus"],
                       "shared_mb": int(shared_mb),
                       "benches_mb": dict((name, sum(s["memory_mib"] for s in spec["services"].values()))
                                          for name, spec in sizing.items())},
            "traefik": traefik,
            "swarm": swarm,
            "backup": backup,
            "monitoring": monitoring,
        }


def deployment_plan(variables, facts):
    """The whole host's deployment from its variables (role defaults under the inventory's) and facts.

    ``facts``: ``memtotal_mb``, ``processor_vcpus``, ``inventory_hostname`` and ``managed_header`` (the commented
    ``ansible_managed`` line the MariaDB drop-in starts with). Raises PlanError.
    """
    return Plan(variables, facts).build()
