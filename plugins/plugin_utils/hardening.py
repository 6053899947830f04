# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Container hardening of a bench's and the monitoring stack's services: what each needs, and nothing more.

Every service runs with ``no-new-privileges``, every capability dropped but those it needs, a read-only root file
system with the writable paths it needs (tmpfs, or a volume where the files may be large) and a bound number of
processes. ``erpnext_container_hardening`` (a bench's services) and ``monitoring_container_hardening`` (the monitoring
stack's, by their ``monitoring_images`` key) switch any of these off, or add to them, per service: an app or an
exporter that needs more gets exactly that, the rest stays hardened.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import posixpath

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError

VARIABLE = "erpnext_container_hardening"
FRAPPE_UID = 1000

# The capabilities a container may be given (Linux's, as Docker names them: without the CAP_ prefix)
CAPABILITIES = (
    "AUDIT_CONTROL", "AUDIT_READ", "AUDIT_WRITE", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "CHOWN",
    "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "IPC_LOCK", "IPC_OWNER", "KILL", "LEASE",
    "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "MKNOD", "NET_ADMIN", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_RAW", "PERFMON", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYSLOG", "SYS_ADMIN", "SYS_BOOT", "SYS_CHROOT",
    "SYS_MODULE", "SYS_NICE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG",
    "WAKE_ALARM",
)

_APP_TMP = "/tmp:mode=1777"
# Each service's needs. capabilities: kept when all are dropped. tmpfs: its writable paths in memory (they count
# against the service's memory limit); volumes: writable paths whose files may be large, on disk.
DEFAULTS = {
    # the image's entrypoint starts as root, gives the data directory to mysql and drops to it (setpriv/gosu);
    # mariadb-backup and the physical restore run as root in the container and read mysql's files
    "db": {"capabilities": ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"], "tmpfs": [],
           # MariaDB's tmpdir holds on-disk temporary tables and ALTER's sort files: gigabytes, not memory
           "volumes": ["db-tmp:/tmp"], "pids_limit": 4096},
    # Redis runs as its own user, with its generated configuration on a private tmpfs (set by the service)
    "redis-cache": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 256},
    "redis-queue": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 256},
    "configurator": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 256},
    "backend": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 1024},
    # nginx as frappe: the entrypoint writes conf.d/frappe.conf, nginx its pid in /run; request and response bodies
    # beyond the buffers (uploads up to client_max_body_size) go to /var/lib/nginx, on disk
    "frontend": {"capabilities": [],
                 "tmpfs": ["/etc/nginx/conf.d:uid=%d,gid=%d,mode=0755" % (FRAPPE_UID, FRAPPE_UID),
                           "/run:uid=%d,gid=%d,mode=0755" % (FRAPPE_UID, FRAPPE_UID), _APP_TMP],
                 "volumes": ["nginx-temp:/var/lib/nginx"], "pids_limit": 256},
    "websocket": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 256},
    "queue-short": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 1024},
    "queue-long": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 1024},
    "scheduler": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 256},
    # the development mode's container rewrites a .pth file in the bench's environment at every start and runs every
    # process of the bench with reloaders: its root file system stays writable
    "development": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 4096, "read_only": False},
    "mailcatcher": {"capabilities": [], "tmpfs": [_APP_TMP], "volumes": [], "pids_limit": 128},
}
SERVICES = tuple(DEFAULTS)

MONITORING_VARIABLE = "monitoring_container_hardening"
# The monitoring stack's services, by their monitoring_images key (every mysqld_exporter and redis_exporter of every
# bench takes its kind's). Each official image runs as a user of its own (nobody, 472 Grafana, 10001 Loki, 59000
# redis_exporter) and listens above 1024: none needs a capability, but Alloy (root in its image) reads the benches'
# log files whatever their owner and mode, and cAdvisor reads every container's cgroups and Docker's directory.
_MONITORING_TMP = "/tmp:mode=1777"
MONITORING_DEFAULTS = {
    "prometheus": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 512},
    "alertmanager": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 256},
    "node_exporter": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 256},
    # root and Docker's default set, its root file system writable, as its documentation runs it (its collectors
    # need more than a capability list this project can prove here: the image does not run on the test machine)
    "cadvisor": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 512, "drop_capabilities": False,
                 "read_only": False},
    "blackbox_exporter": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 256},
    "mysqld_exporter": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 128},
    "redis_exporter": {"capabilities": [], "tmpfs": [], "volumes": [], "pids_limit": 128},
    # Grafana writes its data and plugins to its volume, its log files and sessions' temporary files here
    "grafana": {"capabilities": [], "tmpfs": ["/var/log/grafana:mode=1777", _MONITORING_TMP], "volumes": [],
                "pids_limit": 512},
    "loki": {"capabilities": [], "tmpfs": [_MONITORING_TMP], "volumes": [], "pids_limit": 512},
    "alloy": {"capabilities": ["DAC_READ_SEARCH"], "tmpfs": [_MONITORING_TMP], "volumes": [], "pids_limit": 512},
}
MONITORING_SERVICES = tuple(MONITORING_DEFAULTS)
# The settings an operator may give per service, and what each is
SETTINGS = {
    "no_new_privileges": "true or false",
    "drop_capabilities": "true or false",
    "add_capabilities": "a list of capability names",
    "read_only": "true or false",
    "tmpfs": "a list of absolute paths",
    "pids_limit": "an integer, 0 for no limit",
}


def check(overrides, where=VARIABLE, defaults=None):
    """The errors of an ``erpnext_container_hardening`` value, or of ``monitoring_container_hardening`` with
    ``defaults=MONITORING_DEFAULTS`` (its types are checked by the schema first)."""
    defaults = DEFAULTS if defaults is None else defaults
    errors = []
    for service, settings in sorted((overrides or {}).items()):
        if service not in defaults:
            errors.append("%s has no service %r; its services are %s" % (where, service, ", ".join(defaults)))
            continue
        path = "%s.%s" % (where, service)
        if not isinstance(settings, dict):
            errors.append("%s must be a mapping of %s" % (path, ", ".join(SETTINGS)))
            continue
        for key in sorted(settings):
            if key not in SETTINGS:
                errors.append("%s has no setting %r; its settings are %s" % (path, key, ", ".join(SETTINGS)))
        for index, cap in enumerate(settings.get("add_capabilities") or []):
            if cap not in CAPABILITIES:
                hint = ""
                if isinstance(cap, str) and cap.upper().replace("CAP_", "", 1) in CAPABILITIES:
                    hint = " (write it %s)" % cap.upper().replace("CAP_", "", 1)
                errors.append("%s.add_capabilities[%d] must be a Linux capability as Docker names it, such as "
                              "NET_BIND_SERVICE, not %r%s" % (path, index, cap, hint))
        for index, target in enumerate(settings.get("tmpfs") or []):
            if not isinstance(target, str) or not target.startswith("/") or posixpath.normpath(target) != target \
                    or target == "/" or ":" in target:
                errors.append("%s.tmpfs[%d] must be an absolute, normalised path other than / (no options), not %r"
                              % (path, index, target))
        limit = settings.get("pids_limit")
        if isinstance(limit, int) and not isinstance(limit, bool) and limit < 0:
            errors.append("%s.pids_limit must be 0 (no limit) or more, not %d" % (path, limit))
        elif isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < 32:
            errors.append("%s.pids_limit %d is too low for any of the bench's services (at least 32, or 0 for no "
                          "limit)" % (path, limit))
    return errors


def settings(service, overrides=None, defaults=None):
    """The effective hardening of one service: its defaults with the operator's settings over them."""
    base = (DEFAULTS if defaults is None else defaults)[service]
    given = (overrides or {}).get(service) or {}
    return {
        "no_new_privileges": given.get("no_new_privileges", True),
        "drop_capabilities": given.get("drop_capabilities", base.get("drop_capabilities", True)),
        "capabilities": sorted(set(base["capabilities"]) | set(given.get("add_capabilities") or [])),
        "read_only": given.get("read_only", base.get("read_only", True)),
        "tmpfs": list(base["tmpfs"]) + ["%s:mode=1777" % path for path in given.get("tmpfs") or []],
        "volumes": list(base["volumes"]),
        "pids_limit": given.get("pids_limit", base["pids_limit"]),
    }


def harden(service, name, overrides=None, defaults=None, where=VARIABLE):
    """Add the hardening of ``name`` (a key of ``defaults``: ``DEFAULTS``, a bench's, unless given) to one compose
    service (a dict, changed in place)."""
    errors = check(overrides, where, defaults)
    if errors:
        raise BenchSpecError("; ".join(errors))
    spec = settings(name, overrides, defaults)
    # the daemon's default is no-new-privileges too (docker role): a service switched off says so explicitly
    service["security_opt"] = ["no-new-privileges:%s" % ("true" if spec["no_new_privileges"] else "false")]
    added = sorted((overrides or {}).get(name, {}).get("add_capabilities") or [])
    if spec["drop_capabilities"]:
        service["cap_drop"] = ["ALL"]
        added = spec["capabilities"]
    if added:
        service["cap_add"] = added
    if spec["read_only"]:
        service["read_only"] = True
        if spec["tmpfs"]:
            service["tmpfs"] = list(service.get("tmpfs") or []) + spec["tmpfs"]
    # the disk-backed writable paths stay whether or not the root is read-only: their contents do not change place
    if spec["volumes"]:
        service["volumes"] = list(service.get("volumes") or []) + spec["volumes"]
    if spec["pids_limit"]:
        # beside memory and CPU limits: Compose refuses a pids_limit key next to deploy.resources.limits
        service.setdefault("deploy", {}).setdefault("resources", {}).setdefault("limits", {})["pids"] = \
            spec["pids_limit"]
    return service


def volume_names(services):
    """The named volumes the hardening adds to these services."""
    names = []
    for name in services:
        for volume in DEFAULTS.get(name, {}).get("volumes", []):
            names.append(volume.split(":", 1)[0])
    return names
