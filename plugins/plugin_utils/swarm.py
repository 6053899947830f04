# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: the Swarm view of the plan.

``swarm_topology`` checks the cluster the inventory describes (managers, workers, node labels, shared storage, the
database's nodes) and returns what the ``swarm`` role applies. ``swarm_stack`` turns a bench's compose document (the
output of ``compose.compose_project``, the single description of a bench) into the stack document
``docker stack deploy`` takes: the same services, images, commands, health checks, limits and Traefik routes, with
what Swarm needs instead of what Compose has (replicas spread over nodes, start-first rolling updates, Docker secrets
with an owner per consumer, overlay networks, the shared ``sites`` directory, host-mode ports).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import ipaddress
import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.hardening import DEFAULTS as HARDENING_DEFAULTS
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import (
    REDIS_SECRET_FILES,
    configurator_script,
    healthcheck,
)

# The services a bench may scale, by the key of the bench's `replicas` setting
REPLICA_KEYS = {
    "backend": "backend",
    "frontend": "frontend",
    "websocket": "websocket",
    "queue_short": "queue-short",
    "queue_long": "queue-long",
    "scheduler": "scheduler",
}
DEFAULT_REPLICAS = {"backend": 2, "frontend": 2, "websocket": 2, "queue_short": 2, "queue_long": 1, "scheduler": 1}
STORAGE_TYPES = ("glusterfs", "nfs")
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$")
NFS_SOURCE_RE = re.compile(r"^[A-Za-z0-9.:\[\]-]+:/[^\s]*$")
ZONE_LABEL = "erpstack.zone"
EDGE_LABEL = "erpstack.edge"
DB_LABEL = "erpstack.db"
# The two nodes of the Redis instances (each its own data volume): the first two nodes of the swarm unless
# swarm_node_labels say otherwise. Unlike the database's labels they never follow a failover (Sentinel decides which
# instance is the primary), so nothing moves a Redis instance off the data it has.
REDIS_LABELS = ("erpstack.redis-a", "erpstack.redis-b")
# The label every task of a bench carries (the same as its compose containers'), and Traefik's sticky cookie
LABEL_PREFIX = "com.erpstack"
STICKY_COOKIE = "erpstack_io"
# Compose keys a Swarm service keeps as they are; the others are translated below or have no Swarm meaning
# (restart and depends_on: Swarm restarts tasks and services wait for what they need by their health checks)
KEPT_KEYS = ("image", "command", "entrypoint", "environment", "user", "healthcheck", "working_dir")
# The compose view's hardening, as Swarm takes it (API 1.41, Engine 20.10). security_opt is not a service setting of
# Swarm: no-new-privileges comes from the daemon's default (docker role, docker_daemon_options)
HARDENING_KEYS = ("cap_drop", "cap_add", "read_only")

# Redis high availability: each instance (cache, queue) has a primary and a replica service, watched by three
# Sentinels; every address is a service name (replica-announce-ip, announce-hostnames), so a restarted task keeps it
SENTINEL_PORT = 26379
SENTINEL_SERVICE = "redis-sentinel"
PROXY_SERVICE = "redis-proxy"
REDIS_HA = {
    # master name in Sentinel -> (primary service, replica service, password secret, port on the proxy)
    "cache": ("redis-cache", "redis-cache-replica", "redis_cache_password", 6380),
    "queue": ("redis-queue", "redis-queue-replica", "redis_queue_password", 6379),
}
SENTINEL_SECRET = "redis_sentinel_password"
# Who reads each Docker secret, as which uid (the file is 0400 for it); HAProxy's user differs between its images,
# so its copy is 0444 inside its own container
PROXY_UID = "any"
SECRET_READERS = {
    "db_root_password": {"db": 999, "db-replica": 999},
    # the backup tool's dump runs in the replica's container (in the primary's when there is no replica)
    "db_backup_password": {"db": 999, "db-replica": 999},
    # the replica's seeding and replication (the erpnext role runs them in the replica's container)
    "db_replication_password": {"db-replica": 999},
    "redis_cache_password": {"redis-cache": 999, "redis-cache-replica": 999, SENTINEL_SERVICE: 999,
                             "configurator": 1000, PROXY_SERVICE: PROXY_UID},
    "redis_queue_password": {"redis-queue": 999, "redis-queue-replica": 999, SENTINEL_SERVICE: 999,
                             "configurator": 1000, PROXY_SERVICE: PROXY_UID},
    SENTINEL_SECRET: {"redis-cache": 999, "redis-cache-replica": 999, "redis-queue": 999, "redis-queue-replica": 999,
                      SENTINEL_SERVICE: 999, "configurator": 1000},
}
# Frappe's Python side finds each primary through the Sentinels (frappe/utils/redis_wrapper.py setup_cache,
# frappe/utils/redis_queue.py RedisQueue.get_connection); its Node realtime server reads only the plain redis_queue
# URL, which names the proxy: HAProxy sends it to whichever instance says role:master
SENTINEL_FILTER = "".join(
    ' | .redis_{kind}_sentinel_enabled = true | .redis_{kind}_sentinels = ["{sentinel}:{port}"]'
    ' | .redis_{kind}_master_service = "{kind}" | .redis_{kind}_master_password = $${var}'
    " | .redis_{kind}_sentinel_password = $$s".format(kind=kind, sentinel=SENTINEL_SERVICE, port=SENTINEL_PORT,
                                                      var=var)
    for kind, var in (("cache", "c"), ("queue", "q")))
# An instance starts as the replica of the primary the Sentinels name, unless they name itself or none (then the
# primary service starts as primary and the replica service as its replica): a primary that failed over and came back
# rejoins as a replica, never as a second primary
REDIS_HA_START = (
    "umask 077 && pw=$$(cat /run/secrets/{secret}) && sp=$$(cat /run/secrets/" + SENTINEL_SECRET + ")"
    " && m=$$(REDISCLI_AUTH=$$sp redis-cli -h " + SENTINEL_SERVICE + " -p " + str(SENTINEL_PORT)
    + " --raw sentinel get-master-addr-by-name {kind} 2>/dev/null | head -n 1)"
    " ; case $$m in redis-*) ;; *) m={initial} ;; esac"
    " ; {{ printf 'requirepass %s\\nmasterauth %s\\nreplica-announce-ip {service}\\n' \"$$pw\" \"$$pw\""
    " ; [ \"$$m\" = {service} ] || printf 'replicaof %s 6379\\n' \"$$m\" ; }} > /run/redis/auth.conf"
    " && exec redis-server /run/redis/auth.conf {options}"
)
# A Sentinel's ID follows its task slot (the host name of the task): a restarted Sentinel is the same one to the
# others, who would otherwise count every restart as one more Sentinel, and soon never reach the majority a
# failover needs
SENTINEL_START = (
    "umask 077 && sp=$$(cat /run/secrets/" + SENTINEL_SECRET + ") && id=$$(hostname | sha1sum | cut -c1-40)"
    " && {{ printf 'port " + str(SENTINEL_PORT) + "\\nrequirepass %s\\nsentinel myid %s\\n"
    "sentinel resolve-hostnames yes\\nsentinel announce-hostnames yes\\n' \"$$sp\" \"$$id\" ; {monitors} }}"
    " > /run/redis/sentinel.conf"
    " && exec redis-server /run/redis/sentinel.conf --sentinel"
)
SENTINEL_MONITOR = (
    "m=$$(REDISCLI_AUTH=$$sp redis-cli -h " + SENTINEL_SERVICE + " -p " + str(SENTINEL_PORT)
    + " --raw sentinel get-master-addr-by-name {kind} 2>/dev/null | head -n 1)"
    " ; case $$m in redis-*) ;; *) m={primary} ;; esac"
    " ; printf 'sentinel monitor {kind} %s 6379 2\\nsentinel auth-pass {kind} %s\\n"
    "sentinel down-after-milliseconds {kind} 2000\\nsentinel failover-timeout {kind} 10000\\n"
    "sentinel parallel-syncs {kind} 1\\n' \"$$m\" \"$$(cat /run/secrets/{secret})\" ;"
)


# A Redis password's rotation, before the services move to its next Docker secret: on each node, every running
# instance of the rotated Redis accepts the new password beside the one it started with (ACL SETUSER default >NEW)
# and authenticates to its primary with the new one, and every Sentinel uses it. Any mix of old and new tasks then
# agrees while the stack update restarts them in no set order; a restarted instance knows only the new password.
# Run on the node: sh -c REDIS_ROTATE sh BENCH SECRET KIND PRIMARY REPLICA, the new password on standard input (the
# containers read the old one from the secret they started with).
_REDIS_QUOTE = "e=$(printf %s \"$new\" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/\"/\\\\\"/g'); "
REDIS_ROTATE_INSTANCE = (
    "set -eu; IFS= read -r new; " + _REDIS_QUOTE
    + "out=$(printf 'ACL SETUSER default on \">%s\"\\nCONFIG SET masterauth \"%s\"\\n' \"$e\" \"$e\" "
    "| REDISCLI_AUTH=\"$(cat /run/secrets/$1)\" redis-cli --no-auth-warning 2>&1); "
    "[ -z \"$(printf '%s\\n' \"$out\" | grep -vx OK)\" ] || { printf '%s\\n' \"$out\" >&2; exit 1; }"
)
REDIS_ROTATE_SENTINEL = (
    "set -eu; IFS= read -r new; " + _REDIS_QUOTE
    + "out=$(printf 'SENTINEL SET %s auth-pass \"%s\"\\n' \"$2\" \"$e\" "
    "| REDISCLI_AUTH=\"$(cat /run/secrets/" + SENTINEL_SECRET + ")\" redis-cli -p " + str(SENTINEL_PORT)
    + " --no-auth-warning 2>&1); "
    "[ \"$out\" = OK ] || { printf '%s\\n' \"$out\" >&2; exit 1; }"
)
REDIS_ROTATE = (
    "set -eu; IFS= read -r new; n=0; "
    "for svc in \"$4\" \"$5\" " + SENTINEL_SERVICE + "; do "
    "script=$(if [ \"$svc\" = " + SENTINEL_SERVICE + " ]; then cat <<'EOS'\n" + REDIS_ROTATE_SENTINEL + "\nEOS\n"
    "else cat <<'EOS'\n" + REDIS_ROTATE_INSTANCE + "\nEOS\nfi); "
    "for c in $(docker ps -q --filter \"label=com.docker.swarm.service.name=$1_$svc\"); do "
    "printf '%s\\n' \"$new\" | docker exec -i \"$c\" sh -c \"$script\" sh \"$2\" \"$3\"; n=$((n+1)); "
    "done; done; echo \"rotated $n\"\n"
)


def _haproxy_config_lines():
    lines = ["global", "  maxconn 4096", "defaults", "  mode tcp", "  timeout connect 3s",
             # RQ workers block in BLPOP and the realtime server holds a SUBSCRIBE: long idle sessions are normal
             "  timeout client 24h",
             "  timeout server 24h", "  timeout check 2s", "resolvers docker", "  nameserver dns 127.0.0.11:53",
             "  hold valid 1s"]
    for kind, (primary, replica, secret, port) in sorted(REDIS_HA.items()):
        lines += ["frontend %s" % kind, "  bind :%d" % port, "  default_backend %s" % kind,
                  "backend %s" % kind, "  option tcp-check", "  tcp-check connect",
                  # AUTH as a RESP array, in hex: no character of the password needs escaping
                  "  tcp-check send-binary $${%s}" % kind, "  tcp-check expect string +OK",
                  r"  tcp-check send info\ replication\r\n",
                  # a reply without role:master (a replica's) fails at once instead of at the check's timeout
                  "  tcp-check expect min-recv 40 string role:master",
                  r"  tcp-check send QUIT\r\n", "  tcp-check expect string +OK"]
        lines += ["  server %s %s:6379 check inter 1s fall 2 rise 2 resolvers docker init-addr none "
                  "on-marked-down shutdown-sessions" % (name.rsplit("-", 1)[-1] if name == replica else "primary", name)
                  for name in (primary, replica)]
    return lines


# HAProxy sends each port to the instance that says role:master (one for the cache, one for the queue); its
# configuration holds the AUTH commands, so it is written at start, from the secrets, to a private tmpfs
HAPROXY_START = (
    "umask 077 && auth() { pw=$$(cat /run/secrets/$$1) && len=$$(printf %s \"$$pw\" | wc -c | tr -d ' ')"
    " && printf '*2\\r\\n$$4\\r\\nAUTH\\r\\n$$%s\\r\\n%s\\r\\n' \"$$len\" \"$$pw\" | od -An -v -tx1 | tr -d ' \\n'; }"
    " && cache=$$(auth redis_cache_password) && queue=$$(auth redis_queue_password)"
    " && printf '%s\\n' " + " ".join("'%s'" % line.replace("$${cache}", "'\"$$cache\"'").replace(
        "$${queue}", "'\"$$queue\"'") for line in _haproxy_config_lines())
    + " > /run/haproxy/haproxy.cfg && exec haproxy -W -db -f /run/haproxy/haproxy.cfg"
)


def _errors_to_exception(errors):
    if errors:
        raise BenchSpecError("; ".join(errors))


def bench_replicas(value, where):
    """The replica count of each scalable service of a bench: ``{compose service: count}``."""
    errors = []
    given = value if value is not None else {}
    if not isinstance(given, dict):
        raise BenchSpecError("%s.replicas must be a mapping of %s to counts" % (where, ", ".join(sorted(REPLICA_KEYS))))
    unknown = sorted(set(given) - set(REPLICA_KEYS))
    if unknown:
        errors.append("%s.replicas has unknown keys %s (known: %s)"
                      % (where, ", ".join(str(k) for k in unknown), ", ".join(sorted(REPLICA_KEYS))))
    counts = dict(DEFAULT_REPLICAS)
    for key, count in given.items():
        if key not in REPLICA_KEYS:
            continue
        if isinstance(count, bool) or not isinstance(count, int):
            errors.append("%s.replicas.%s must be a whole number, not %r" % (where, key, count))
        elif key == "scheduler" and count != 1:
            errors.append("%s.replicas.scheduler must be 1: Frappe's scheduler enqueues every job once per running "
                          "scheduler (frappe/helm runs exactly one)" % where)
        elif count < 1:
            errors.append("%s.replicas.%s must be at least 1, not %d" % (where, key, count))
        else:
            counts[key] = count
    _errors_to_exception(errors)
    return dict((REPLICA_KEYS[key], count) for key, count in counts.items())


def _address(value):
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None


def swarm_topology(managers, workers, nodes, settings, this_host):
    """The cluster the ``swarm`` role forms, checked.

    ``managers`` and ``workers``: the inventory hostnames of the two groups, in inventory order; ``nodes``: each
    node's ``{address, labels}`` (its ``swarm_advertise_addr`` or default IPv4 address, its ``swarm_node_labels``);
    ``settings``: ``managers_group``, ``workers_group``, ``edge_nodes``, ``db_primary``, ``db_replica``,
    ``storage``, ``dispatcher_heartbeat_seconds``. Raises BenchSpecError naming every variable at fault.
    """
    errors = []
    mgroup, wgroup = settings["managers_group"], settings["workers_group"]
    if not managers:
        errors.append("a bench with engine swarm needs managers: the inventory group %s is empty or missing" % mgroup)
    elif len(managers) % 2 == 0:
        errors.append("the inventory group %s has %d hosts: a Swarm needs an odd number of managers (1, 3 or 5), "
                      "since %d managers survive no more failures than %d and two halves cannot elect a leader"
                      % (mgroup, len(managers), len(managers), len(managers) - 1))
    both = [host for host in workers if host in managers]
    if both:
        errors.append("hosts %s are in both %s and %s: a node is a manager or a worker" % (", ".join(both), mgroup, wgroup))
    members = list(managers) + [host for host in workers if host not in managers]
    if this_host not in members:
        errors.append("host %s runs a bench with engine swarm but is in neither %s nor %s" % (this_host, mgroup, wgroup))
    addresses = {}
    labels = {}
    seen = {}
    for host in members:
        node = nodes.get(host) or {}
        address = _address(node.get("address"))
        if address is None:
            errors.append("hostvars[%s].swarm_advertise_addr must be the node's IP address in the cluster (it has no "
                          "default IPv4 address either), not %r" % (host, node.get("address")))
        elif address in seen:
            errors.append("hosts %s and %s have the same swarm_advertise_addr %s" % (seen[address], host, address))
        else:
            seen[address] = host
        addresses[host] = address
        own = node.get("labels") or {}
        if not isinstance(own, dict):
            errors.append("hostvars[%s].swarm_node_labels must be a mapping of label names to strings" % host)
            own = {}
        for key, value in own.items():
            if not isinstance(key, str) or not LABEL_RE.match(key) or not isinstance(value, str):
                errors.append("hostvars[%s].swarm_node_labels: %r: names are lower-case (a-z, 0-9, '.', '-') and "
                              "values strings" % (host, key))
        labels[host] = dict({ZONE_LABEL: host}, **own)
    edge = settings["edge_nodes"] if settings["edge_nodes"] else list(managers)
    for host in edge:
        if host not in managers:
            errors.append("swarm_edge_nodes: %s is not a manager: Traefik's Swarm provider reads the services from a "
                          "manager's API, so the edge nodes are managers" % host)
        elif host in labels:
            labels[host][EDGE_LABEL] = "true"
    primary, replica = settings["db_primary"], settings["db_replica"]
    for name, host in (("swarm_db_primary", primary), ("swarm_db_replica", replica)):
        if host and host not in members:
            errors.append("%s: %s is not a node of the swarm (%s)" % (name, host, ", ".join(members)))
    if not primary and members:
        errors.append("swarm_db_primary must name the node that holds the database (its data volume is on that node)")
    if primary and replica and primary == replica:
        errors.append("swarm_db_primary and swarm_db_replica are both %s: the replica must run on another host, or a "
                      "host's loss takes both" % primary)
    if primary in labels:
        labels[primary][DB_LABEL] = "primary"
    if replica and replica in labels:
        labels[replica][DB_LABEL] = "replica"
    for index, key in enumerate(REDIS_LABELS):
        if members and not any(labels.get(host, {}).get(key) == "true" for host in members):
            host = members[min(index, len(members) - 1)]
            if host in labels:
                labels[host][key] = "true"
    storage = storage_settings(settings["storage"], members, len(members))
    errors += storage.pop("errors")
    heartbeat = settings["dispatcher_heartbeat_seconds"]
    if isinstance(heartbeat, bool) or not isinstance(heartbeat, int) or not 1 <= heartbeat <= 60:
        errors.append("swarm_dispatcher_heartbeat_seconds must be a whole number from 1 to 60")
    _errors_to_exception(errors)
    return {
        "managers": list(managers),
        "workers": [host for host in workers if host not in managers],
        "bootstrap": managers[0],
        "role": "manager" if this_host in managers else "worker",
        "advertise_addr": addresses[this_host],
        "addresses": addresses,
        "node_labels": labels,
        "edge_nodes": list(edge),
        "db": {"primary": primary, "replica": replica or ""},
        "dispatcher_heartbeat_seconds": heartbeat,
        "storage": storage,
    }


def storage_settings(storage, members, node_count):
    """The shared storage of ``sites/``: ``{type, mount, ...}`` plus ``errors`` (a list, popped by the caller)."""
    errors = []
    if not isinstance(storage, dict):
        return {"errors": ["swarm_storage must be a mapping with a type (glusterfs or nfs)"]}
    kind = storage.get("type", "")
    mount = storage.get("mount", "/mnt/erpstack")
    if not isinstance(mount, str) or not mount.startswith("/") or mount.rstrip("/") in ("", "/mnt"):
        errors.append("swarm_storage.mount must be an absolute directory of its own, such as /mnt/erpstack")
    result = {"type": kind, "mount": str(mount).rstrip("/")}
    if kind not in STORAGE_TYPES:
        if node_count > 1 or kind:
            errors.append("swarm_storage.type must be glusterfs or nfs%s, not %r" % (
                ": a bench on several nodes needs sites/ on shared storage" if node_count > 1 else "", kind))
        result["errors"] = errors
        return result
    if kind == "glusterfs":
        servers = storage.get("servers") or list(members)[:3]
        arbiter = storage.get("arbiter", False)
        if not isinstance(servers, list) or any(host not in members for host in servers):
            errors.append("swarm_storage.servers must list nodes of the swarm (%s)" % ", ".join(members))
        elif len(servers) != 3:
            errors.append("swarm_storage.servers lists %d node(s): GlusterFS needs 3 (replica 3, or 2 and an arbiter "
                          "with swarm_storage.arbiter) so that one node's loss neither stops writes nor splits the "
                          "brain" % len(servers))
        if not isinstance(arbiter, bool):
            errors.append("swarm_storage.arbiter must be true or false")
        volume = storage.get("volume", "erpstack")
        if not isinstance(volume, str) or not re.match(r"^[A-Za-z0-9_-]{1,64}$", volume):
            errors.append("swarm_storage.volume must be a GlusterFS volume name (letters, digits, '-', '_')")
        brick_dir = storage.get("brick_dir", "/srv/erpstack/gluster/brick")
        if not isinstance(brick_dir, str) or not brick_dir.startswith("/"):
            errors.append("swarm_storage.brick_dir must be an absolute directory")
        unknown = sorted(set(storage) - {"type", "mount", "servers", "arbiter", "volume", "brick_dir"})
        result.update({"volume": volume, "brick_dir": brick_dir, "servers": servers if isinstance(servers, list) else [],
                       "arbiter": arbiter is True, "source": "", "options": ""})
    else:
        source = storage.get("source", "")
        if not isinstance(source, str) or not NFS_SOURCE_RE.match(source):
            errors.append("swarm_storage.source must be an NFS export as server:/path, not %r" % (source,))
        options = storage.get("options", "nfsvers=4.1,hard,timeo=600,retrans=2,noresvport")
        if not isinstance(options, str) or " " in options:
            errors.append("swarm_storage.options must be mount options separated by commas")
        unknown = sorted(set(storage) - {"type", "mount", "source", "options"})
        result.update({"volume": "", "brick_dir": "", "servers": [], "arbiter": False, "source": source,
                       "options": options})
    if unknown:
        errors.append("swarm_storage has unknown keys for type %s: %s" % (kind, ", ".join(str(k) for k in unknown)))
    result["errors"] = errors
    return result


def _secret_ref(name, spec):
    ref = {"source": name, "target": name, "mode": int(spec.get("mode", "0400"), 8)}
    if spec.get("uid") is not None:
        ref.update({"uid": str(spec["uid"]), "gid": str(spec.get("gid", spec["uid"]))})
    return ref


def _tmpfs(volumes, tmpfs):
    for entry in tmpfs:
        volumes.append({"type": "tmpfs", "target": entry.split(":", 1)[0]})


def swarm_stack(compose, spec):
    """The stack document of one bench, from its compose document.

    ``spec``: ``replicas`` (``{service: count}``, from ``bench_replicas``), ``sites_dir`` (the bench's ``sites`` on the
    shared storage, the same path on every node), ``db_replica`` (whether the database has a replica),
    ``secrets`` (``{name: {external, uid, gid, mode}}`` per consumer:
    the versioned Docker secret's name and the owner each consumer reads it as), ``db_node_label`` (placement of the
    database and the queue's Redis, whose data stay on one node), ``update_monitor``, ``check_host`` (a site's host
    name, for Traefik's health check of the backend), ``registry`` (``host:port``
    every node pulls the images from, or empty), ``mute_emails`` (Frappe sends no e-mail).
    """
    document = copy.deepcopy(compose)
    name = document.pop("name")
    services = {}
    for service_name, service in document["services"].items():
        services[service_name] = _swarm_service(name, service_name, service, spec)
    if "traefik.enable" in services["frontend"]["deploy"]["labels"]:
        _route_backend(name, services)
        _traefik_resilience(name, services, spec.get("check_host"))
    _redis_ha(services, document["volumes"], spec)
    _db_pair(services, spec)
    used = set()
    for secret, readers in sorted(spec["secrets"].items()):
        for service, reader in sorted(readers["consumers"].items()):
            if service in services:
                services[service].setdefault("secrets", []).append(_secret_ref(secret, reader))
                used.add(secret)
    networks = {}
    for net_name, net in document.get("networks", {}).items():
        if net.get("external"):
            networks[net_name] = {"external": True, "name": net["name"]}
            continue
        overlay = {"driver": "overlay", "attachable": True, "labels": net.get("labels", {})}
        if net.get("internal"):
            overlay["internal"] = True
        if net.get("ipam"):
            overlay["ipam"] = net["ipam"]
        networks[net_name] = overlay
    volumes = dict((vol, {"labels": v.get("labels", {})}) for vol, v in document.get("volumes", {}).items()
                   if vol != "sites")
    secrets = dict((secret, {"external": True, "name": spec["secrets"][secret]["external"]})
                   for secret in sorted(used))
    stack = {"version": "3.9", "services": services, "networks": networks, "volumes": volumes}
    if secrets:
        stack["secrets"] = secrets
    return stack


def _route_backend(bench, services):
    """Traefik routes a site's pages straight to the backend's tasks, and only /assets and /files to nginx.

    nginx resolves BACKEND once, when it starts (the contract): with DNS round robin it would keep the addresses of
    the backend tasks it saw then, and lose every task a rolling update or a node's loss replaces. Traefik's Swarm
    provider follows the tasks as they come and go."""
    frontend = services["frontend"]["deploy"]["labels"]
    backend = services["backend"]["deploy"]["labels"]
    backend.update({
        "traefik.enable": "true",
        "traefik.swarm.network": frontend["traefik.swarm.network"],
        "traefik.http.services.%s-backend.loadbalancer.server.port" % bench: "8000",
    })
    prefix = "traefik.http.routers."
    routers = sorted(set(key[len(prefix):].split(".", 1)[0] for key in frontend if key.startswith(prefix)))
    for router in routers:
        own = dict((key[len(prefix + router) + 1:], value) for key, value in frontend.items()
                   if key.startswith(prefix + router + "."))
        app = prefix + router + "-app."
        for key, value in own.items():
            backend[app + key] = value
        backend[app + "rule"] = "(%s) && !PathPrefix(`/assets`) && !PathPrefix(`/files`)" % own["rule"]
        backend[app + "priority"] = str(int(own["priority"]) + 5)
        backend[app + "service"] = "%s-backend" % bench
    services["backend"]["networks"] = services["backend"]["networks"] + [
        net for net in services["frontend"]["networks"] if net not in services["backend"]["networks"] and net != "edge"]


# What Traefik asks each kind of task, every 2 s: a task that stops answering leaves the rotation before the Swarm
# provider's next refresh, and a request whose connection fails is sent again to another task
HEALTH_PATHS = {"frontend": "/assets/frappe/images/frappe-framework-logo.svg",
                "websocket": "/socket.io/?EIO=4&transport=polling", "backend": "/api/method/ping"}


def _traefik_resilience(bench, services, check_host):
    retry = "%s-retry" % bench
    services["frontend"]["deploy"]["labels"]["traefik.http.middlewares.%s.retry.attempts" % retry] = "3"
    for name, path in sorted(HEALTH_PATHS.items()):
        labels = services[name]["deploy"]["labels"]
        prefix = "traefik.http.services.%s-%s.loadbalancer.healthcheck." % (bench, name)
        if name == "backend":
            if not check_host:
                continue
            # gunicorn answers a site's ping only for the site's own name
            labels[prefix + "hostname"] = check_host
        labels.update({prefix + "path": path, prefix + "interval": "2s", prefix + "timeout": "1s"})
        for key in [key for key in labels if key.endswith(".middlewares") and key.startswith("traefik.http.routers.")]:
            labels[key] = "%s@swarm,%s" % (retry, labels[key])


def _image(spec, image):
    """Every node pulls the image from the cluster's registry, where the first manager pushed it (or its own)."""
    return "%s/%s" % (spec["registry"], image) if spec.get("registry") else image


def _swarm_service(bench, name, service, spec):
    out = dict((key, copy.deepcopy(service[key])) for key in KEPT_KEYS if key in service)
    if "image" in out:
        out["image"] = _image(spec, out["image"])
    volumes = []
    for volume in service.get("volumes") or []:
        source, dummy, rest = volume.partition(":")
        if source == "sites":
            volumes.append({"type": "bind", "source": spec["sites_dir"], "target": rest})
        elif source.startswith("./"):
            # host files beside the compose project (the MariaDB drop-in, the socket directory): on the database's node
            parts = rest.split(":")
            entry = {"type": "bind", "source": "%s/%s" % (spec["project_dir"], source[2:]), "target": parts[0]}
            if parts[1:] == ["ro"]:
                entry["read_only"] = True
            volumes.append(entry)
        else:
            volumes.append(volume)
    # The hardening's writable paths under a read-only root: a Swarm task's tmpfs takes neither owner nor mode (root's,
    # 0755: nginx as frappe could not write its conf.d, nor the bench its /tmp), an anonymous volume takes the image's
    # directory as it is (owner, mode and files) and goes with its task
    added = set(HARDENING_DEFAULTS.get(name, {}).get("tmpfs", []))
    hardening = [t for t in service.get("tmpfs") or [] if t in added or t.endswith(":mode=1777")]
    _tmpfs(volumes, [t for t in service.get("tmpfs") or [] if t not in hardening])
    volumes.extend({"type": "volume", "target": t.split(":", 1)[0]} for t in hardening)
    if volumes:
        out["volumes"] = volumes
    for key in HARDENING_KEYS:
        if key in service:
            out[key] = copy.deepcopy(service[key])
    out["networks"] = list(service.get("networks") or [])
    labels = dict(service.get("labels") or {})
    traefik = dict((k, v) for k, v in labels.items() if k.startswith("traefik."))
    container_labels = dict((k, v) for k, v in labels.items() if not k.startswith("traefik."))
    out["labels"] = container_labels
    deploy = {
        "labels": dict(container_labels, **_swarm_traefik(traefik, bench)),
        # nothing but DNS round robin: this kernel class has no IPVS, and Traefik routes to task addresses anyway
        "endpoint_mode": "dnsrr",
    }
    resources = copy.deepcopy((service.get("deploy") or {}).get("resources"))
    if resources:
        deploy["resources"] = resources
    if name in spec["replicas"]:
        deploy["replicas"] = spec["replicas"][name]
        # the new task runs (and is healthy) before the old one stops; a failed update rolls back
        deploy["update_config"] = {"parallelism": 1, "order": "start-first", "failure_action": "rollback",
                                   "monitor": spec.get("update_monitor", "30s"), "delay": "5s"}
        deploy["rollback_config"] = {"parallelism": 1, "order": "start-first"}
        deploy["restart_policy"] = {"condition": "any", "delay": "5s"}
        if name != "scheduler":
            deploy["placement"] = {"preferences": [{"spread": "node.labels.%s" % ZONE_LABEL}]}
    elif name == "configurator":
        # a one-shot: done once it exits 0, started again only when it fails
        deploy["replicas"] = 1
        deploy["restart_policy"] = {"condition": "on-failure", "delay": "5s", "max_attempts": 20}
    else:
        # the database and the Redis instances keep their data on one node (placed here: the database; the Redis
        # instances by _redis_ha)
        deploy["replicas"] = 1
        deploy["restart_policy"] = {"condition": "any", "delay": "5s"}
        deploy["update_config"] = {"parallelism": 1, "order": "stop-first", "failure_action": "rollback"}
        if name == "db":
            deploy["placement"] = {"constraints": ["node.labels.%s == primary" % DB_LABEL]}
    out["deploy"] = deploy
    ports = []
    for port in service.get("ports") or []:
        # host-mode ports: each node publishes the task it runs (no routing mesh without IPVS)
        ports.append({"target": port["target"], "published": int(port["published"]), "protocol": port["protocol"],
                      "mode": "host"})
    if ports:
        out["ports"] = ports
    return out


# MariaDB on two nodes: the service "db" runs on the node labelled primary and "db-replica" on the one labelled
# replica, each on that node's own volume of the same name. A failover promotes the replica and swaps the labels:
# "db" then starts where the promoted data are, so every client keeps its address (playbooks/failover_db.yml)
DB_ARGS = [
    "--log-bin=mysql-bin", "--binlog-format=ROW", "--log-slave-updates=ON", "--gtid-strict-mode=ON",
    # a commit returns once the replica has it (lossless: after the sync to the binary log, before the commit); with
    # the replica away, after 5 s without its answer the primary goes on alone until it is back
    "--rpl-semi-sync-slave-enabled=ON", "--rpl-semi-sync-master-wait-point=AFTER_SYNC",
    "--rpl-semi-sync-master-timeout=5000",
]
DB_REPLICA_SERVICE = "db-replica"
REPLICATION_SECRET = "db_replication_password"


# Run in the replica's container (docker exec ... sh -s, the script on standard input); the passwords go from the
# secrets to option files in a private directory, never to a command line
_ROOT_CNF = (
    "set -eu; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; "
    "printf '[client]\\nuser=root\\npassword=%s\\n' \"$(cat /run/secrets/db_root_password)\" > \"$d/root.cnf\"; "
    "sql() { mariadb --defaults-extra-file=\"$d/root.cnf\" \"$@\"; }; "
)
# prints "replicating" (both threads run, by GTID), "broken" (set up but a thread stopped: its error follows) or "none"
REPLICA_STATUS = _ROOT_CNF + (
    "s=$(sql -e 'SHOW SLAVE STATUS\\G'); "
    "if [ -z \"$s\" ]; then echo none; "
    "elif echo \"$s\" | grep -q 'Slave_IO_Running: Yes' && echo \"$s\" | grep -q 'Slave_SQL_Running: Yes' "
    "&& echo \"$s\" | grep -q 'Using_Gtid: Slave_Pos'; then echo replicating; "
    "else echo broken; echo \"$s\" | grep -E 'Last_(IO|SQL)_Error:' | sed 's/^ *//'; fi\n"
)


# A failover: the primary stops taking writes (when it still answers) and says its position; the replica, once it
# has applied that position, becomes the primary
DB_POSITION = _ROOT_CNF + "sql -N -e 'SELECT @@gtid_binlog_pos, @@gtid_slave_pos, @@read_only'\n"
DB_FENCE = _ROOT_CNF + "sql -e 'SET GLOBAL read_only=ON'; sql -N -e 'SELECT @@gtid_binlog_pos'\n"
DB_PROMOTE = _ROOT_CNF + (
    "sql -e 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=OFF; SET GLOBAL rpl_semi_sync_master_enabled=ON'; "
    "echo promoted\n"
)


def replica_seed(user, primary="db"):
    """The script that (re)builds the replica: a consistent dump of the primary with its GTID position, loaded
    without writing the replica's binary log, then replication from that position (semi-synchronous)."""
    return _ROOT_CNF + (
        "printf '[client]\\nhost=%s\\nuser=%s\\npassword=%s\\n' {primary} {user} "
        "\"$(cat /run/secrets/db_replication_password)\" > \"$d/primary.cnf\"; "
        "sql -e 'STOP SLAVE; RESET SLAVE ALL; SET GLOBAL read_only=ON; RESET MASTER'; "
        # the replica's own databases go first (a former primary's may differ); the system schema is reloaded table
        # by table, all but its replication position, and the accounts in memory from it (FLUSH PRIVILEGES)
        "sql -N -e \"SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN "
        "('mysql', 'information_schema', 'performance_schema', 'sys')\" "
        "| while read -r db; do echo \"SET sql_log_bin=0; DROP DATABASE \\`$db\\`;\"; done | sql; "
        "{{ echo 'SET sql_log_bin=0;'; mariadb-dump --defaults-extra-file=\"$d/primary.cnf\" --all-databases "
        "--single-transaction --gtid --master-data=1 --routines --events --triggers --flush-privileges "
        "--ignore-table=mysql.gtid_slave_pos; }} | sql; "
        # the dump carried the primary's health check account, whose password the image keeps beside its data:
        # the replica's own, unlogged (its image's health check reads /var/lib/mysql/.my-healthcheck.cnf)
        "hc=$(sed -n 's/^password=//p' /var/lib/mysql/.my-healthcheck.cnf | sed -e \"s/\\\\\\\\/\\\\\\\\\\\\\\\\/g\" -e \"s/'/''/g\"); "
        "for h in localhost 127.0.0.1 ::1; do printf \"SET sql_log_bin=0; ALTER USER IF EXISTS 'healthcheck'@'%s' "
        "IDENTIFIED BY '%s';\\n\" \"$h\" \"$hc\"; done | sql; "
        "pw=$(sed -e \"s/\\\\\\\\/\\\\\\\\\\\\\\\\/g\" -e \"s/'/''/g\" /run/secrets/db_replication_password); "
        "printf \"CHANGE MASTER TO MASTER_HOST='{primary}', MASTER_PORT=3306, MASTER_USER='{user}', "
        "MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos; START SLAVE;\\n\" \"$pw\" | sql; "
        "echo seeded\n"
    ).format(primary=primary, user=user)


def _db_pair(services, spec):
    """The database's primary and replica services (GTID replication, set up by the erpnext role)."""
    db = services["db"]
    db["command"] = ["--server-id=1", "--rpl-semi-sync-master-enabled=ON"] + DB_ARGS
    db["deploy"]["placement"] = {"constraints": ["node.labels.%s == primary" % DB_LABEL]}
    if not spec.get("db_replica"):
        return
    replica = copy.deepcopy(db)
    # not a semi-synchronous primary: it would wait for replicas of its own before applying each transaction
    replica["command"] = ["--server-id=2", "--read-only=ON", "--rpl-semi-sync-master-enabled=OFF"] + DB_ARGS
    replica["deploy"]["placement"] = {"constraints": ["node.labels.%s == replica" % DB_LABEL]}
    for labels in (replica["labels"], replica["deploy"]["labels"]):
        labels[LABEL_PREFIX + ".service"] = DB_REPLICA_SERVICE
        labels[LABEL_PREFIX + ".role"] = "database-replica"
    services[DB_REPLICA_SERVICE] = replica


def _redis_ha(services, volumes, spec):
    """A primary and a replica of each Redis, three Sentinels, and the proxy that follows each primary."""
    for kind, (primary, replica, secret, _port) in sorted(REDIS_HA.items()):
        options = services[primary]["command"][-1].split("/run/redis/auth.conf ", 1)[1]
        for name in (primary, replica):
            if name == replica:
                services[name] = copy.deepcopy(services[primary])
                services[name]["deploy"]["labels"][LABEL_PREFIX + ".service"] = name
                services[name]["labels"][LABEL_PREFIX + ".service"] = name
                data = "%s-data:" % primary
                if any(str(v).startswith(data) for v in services[name].get("volumes", [])):
                    services[name]["volumes"] = [("%s-data:/data" % replica) if str(v).startswith(data) else v
                                                 for v in services[name]["volumes"]]
                    volumes["%s-data" % replica] = copy.deepcopy(volumes["%s-data" % primary])
            services[name]["command"] = ["sh", "-c", REDIS_HA_START.format(
                secret=secret, kind=kind, initial=primary, service=name, options=options)]
            # each instance on its own node, which keeps its data: a failover changes the roles, never the places
            services[name]["deploy"]["placement"] = {"constraints": [
                "node.labels.%s == true" % REDIS_LABELS[0 if name == primary else 1]]}
    sentinel = copy.deepcopy(services["redis-cache"])
    monitors = "".join(SENTINEL_MONITOR.format(kind=kind, primary=primary, secret=secret)
                       for kind, (primary, _replica, secret, _port) in sorted(REDIS_HA.items()))
    sentinel["command"] = ["sh", "-c", SENTINEL_START.format(monitors=monitors)]
    # (Swarm's template: the same host name, so the same ID, for the task that replaces one in its slot)
    sentinel["hostname"] = "%s-{{.Task.Slot}}" % SENTINEL_SERVICE
    sentinel["healthcheck"] = healthcheck(
        ["CMD-SHELL", 'REDISCLI_AUTH="$$(cat /run/secrets/%s)" redis-cli -p %d ping | grep -q PONG'
         % (SENTINEL_SECRET, SENTINEL_PORT)], interval="5s")
    sentinel["volumes"] = [{"type": "tmpfs", "target": "/run/redis"}]
    sentinel["labels"][LABEL_PREFIX + ".service"] = SENTINEL_SERVICE
    sentinel["deploy"] = {
        "labels": dict(sentinel["labels"]), "endpoint_mode": "dnsrr", "replicas": 3,
        "resources": {"limits": {"pids": 256}},
        # one per node: a node's loss leaves two, a majority of three
        "placement": {"max_replicas_per_node": 1, "preferences": [{"spread": "node.labels.%s" % ZONE_LABEL}]},
        "restart_policy": {"condition": "any", "delay": "5s"},
        "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "rollback"},
    }
    services[SENTINEL_SERVICE] = sentinel
    labels = {LABEL_PREFIX + ".bench": services["db"]["labels"][LABEL_PREFIX + ".bench"],
              LABEL_PREFIX + ".service": PROXY_SERVICE, LABEL_PREFIX + ".role": "queue"}
    services[PROXY_SERVICE] = {
        "image": _image(spec, spec["images"]["haproxy"]),
        "command": ["sh", "-c", HAPROXY_START],
        "networks": ["bench"],
        "healthcheck": healthcheck(["CMD-SHELL", "haproxy -c -q -f /run/haproxy/haproxy.cfg"], interval="10s"),
        "labels": labels,
        "volumes": [{"type": "tmpfs", "target": "/run/haproxy"}],
        # as haproxy, above port 1024, its configuration in the tmpfs: no capability, nothing else written
        "cap_drop": ["ALL"], "read_only": True,
        "deploy": {"labels": dict(labels), "endpoint_mode": "dnsrr", "replicas": 2,
                   "resources": {"limits": {"pids": 256}},
                   "placement": {"preferences": [{"spread": "node.labels.%s" % ZONE_LABEL}]},
                   "restart_policy": {"condition": "any", "delay": "5s"},
                   "update_config": {"parallelism": 1, "order": "start-first", "failure_action": "rollback"}},
    }
    configurator = services["configurator"]
    # Frappe reads from the replica where it allows it (reports, read-only requests) when it has one
    replica = ' | .read_from_replica = 1 | .replica_host = "%s"' % DB_REPLICA_SERVICE if spec.get("db_replica") else ""
    configurator["command"] = [configurator_script(REDIS_SECRET_FILES + (("s", SENTINEL_SECRET),),
                                                   SENTINEL_FILTER + replica,
                                                   mute_emails=bool(spec.get("mute_emails")))]
    configurator["environment"].update({"REDIS_CACHE": "%s:%d" % (PROXY_SERVICE, REDIS_HA["cache"][3]),
                                        "REDIS_QUEUE": "%s:%d" % (PROXY_SERVICE, REDIS_HA["queue"][3])})


def _swarm_traefik(labels, bench):
    """The compose project's Traefik labels for the Swarm provider: its network key and its provider suffix, and a
    sticky cookie on the websocket service (Frappe's Socket.IO server has no cluster adapter: a client's polling
    requests and its upgrade must reach the same replica)."""
    out = {}
    for key, value in labels.items():
        if key == "traefik.docker.network":
            key = "traefik.swarm.network"
        if isinstance(value, str) and "@docker" in value:
            value = value.replace("@docker", "@swarm")
        out[key] = value
    websocket = "traefik.http.services.%s-websocket.loadbalancer" % bench
    if any(key.startswith(websocket) for key in out):
        out.update({
            websocket + ".sticky.cookie": "true",
            websocket + ".sticky.cookie.name": STICKY_COOKIE,
            websocket + ".sticky.cookie.secure": "true",
            websocket + ".sticky.cookie.httponly": "true",
        })
    return out


def swarm_secrets(bench_secrets, bench):
    """Each Docker secret of a bench: its name (the base of the versioned secrets the role creates: a changed value
    becomes ``NAME_v2`` and the stack moves to it, since Docker secrets cannot change in place) and the uid each
    service reads it as."""
    out = {}
    for name in sorted(bench_secrets):
        readers = SECRET_READERS.get(name)
        if readers:
            out[name] = {"external": "%s_%s" % (bench, name), "consumers": dict(
                (service, {"mode": "0444"} if uid == PROXY_UID else {"uid": uid, "gid": uid, "mode": "0400"})
                for service, uid in readers.items())}
    return out
