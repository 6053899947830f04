# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: centralized logs -> Loki's configuration (a dict) and Grafana Alloy's configuration (text).

Alloy collects two kinds of logs and pushes both to the Loki of the monitoring project:

* the output of every container on the host, read through the Docker socket. Labels: ``container`` (name),
  ``project`` and ``service`` (the compose project and service labels, when the container has them), ``bench``
  (only for the projects that are benches of the plan, so the proxy and monitoring projects never pose as one) and
  ``stream`` (stdout or stderr). Containers outside any compose project are kept, with ``container`` and ``stream``
  only: one-off ``docker run`` containers are exactly the ones nobody else records.
* the log files Frappe writes into each bench's ``logs`` volume (``frappe.log``, ``web.error.log``,
  ``worker.error.log``, ``scheduler.log``, ...) and into each site's ``logs`` directory of the ``sites`` volume,
  mounted into the Alloy container at ``/frappe/BENCH/logs`` and ``/frappe/BENCH/sites``. Labels: ``bench``,
  ``service="frappe-files"``, ``filename`` (the path inside the Alloy container) and, for a site's files, ``site``
  (taken from the path by a ``loki.relabel`` rule, so sites created after the configuration was written are
  covered as well).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import NAME_RE as BENCH_NAME_RE, BenchSpecError

LOKI_DIR = "/loki"
LOKI_PUSH_URL = "http://loki:3100/loki/api/v1/push"
DOCKER_HOST = "unix:///var/run/docker.sock"
FRAPPE_DIR = "/frappe"
FILES_SERVICE = "frappe-files"
# The first day of the index schema. Never change it: Loki finds the stored data through it. A new schema is a new
# entry with a later date.
SCHEMA_FROM = "2024-04-01"
MIN_RETENTION_SECONDS = 24 * 3600
# Prometheus's duration syntax (the one Loki parses): each unit at most once, largest first
_DURATION_RE = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$")
_UNITS = (31536000000, 604800000, 86400000, 3600000, 60000, 1000, 1)
_IDENTIFIER_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def duration_milliseconds(value):
    """Milliseconds of a Prometheus duration (``744h``, ``31d``, ``1w2d``); None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    if value == "0":
        return 0
    match = _DURATION_RE.match(value)
    if not match:
        return None
    return sum(int(match.group(2 * i + 2) or 0) * unit for i, unit in enumerate(_UNITS))


def _hours(milliseconds):
    """A duration as Loki prints it back: hours, then minutes and seconds when there are any (``744h``)."""
    seconds, rest = divmod(milliseconds, 1000)
    text = ""
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            text += "%d%s" % (count, unit)
    return (text + ("%dms" % rest if rest else "")) or "0s"


def loki_retention(retention):
    """``monitoring_loki_retention`` checked and written in hours; "0s" keeps logs forever."""
    milliseconds = duration_milliseconds(retention)
    if milliseconds is None:
        raise BenchSpecError("monitoring_loki_retention must be a duration such as 744h, 31d or 4w3d "
                             "(units y, w, d, h, m, s, ms, largest first), got %r" % (retention,))
    if 0 < milliseconds < MIN_RETENTION_SECONDS * 1000:
        raise BenchSpecError("monitoring_loki_retention must be at least 24h (Loki's minimum) or 0s to keep logs "
                             "forever, got %r" % (retention,))
    return _hours(milliseconds)


def loki_config(retention):
    """Single-binary Loki 3.x on the local filesystem under /loki, deleting logs older than ``retention``."""
    return {
        "auth_enabled": False,
        "server": {"http_listen_port": 3100, "grpc_listen_port": 9096, "log_level": "info"},
        "common": {
            "instance_addr": "127.0.0.1",
            "path_prefix": LOKI_DIR,
            "storage": {"filesystem": {"chunks_directory": LOKI_DIR + "/chunks",
                                       "rules_directory": LOKI_DIR + "/rules"}},
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
        },
        "schema_config": {"configs": [{
            "from": SCHEMA_FROM, "store": "tsdb", "object_store": "filesystem", "schema": "v13",
            "index": {"prefix": "index_", "period": "24h"},
        }]},
        "query_range": {"results_cache": {"cache": {"embedded_cache": {"enabled": True, "max_size_mb": 100}}}},
        "limits_config": {"retention_period": loki_retention(retention)},
        "compactor": {
            "working_directory": LOKI_DIR + "/compactor",
            "compaction_interval": "10m",
            "retention_enabled": True,
            "retention_delete_delay": "2h",
            "delete_request_store": "filesystem",
        },
        "analytics": {"reporting_enabled": False},
    }


# Alloy's configuration syntax -----------------------------------------------------------------------------------

class Expr(object):
    """An expression written as is (a reference to another component's export)."""

    def __init__(self, text):
        self.text = text


class Block(object):
    """``name "label" { body }``; body: list of (attribute name, value) pairs and nested Blocks, in order."""

    def __init__(self, name, label=None, body=None):
        self.name = name
        self.label = label
        self.body = body or []


def alloy_string(value):
    """A string literal of Alloy's syntax (Go's escapes)."""
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7f:
            out.append("\\x%02x" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)


def _value(value, indent):
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return alloy_string(value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s = %s" % (alloy_string(key), _value(item, indent)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        if len(value) <= 1 and not any(isinstance(item, dict) for item in value):
            return "[%s]" % ", ".join(_value(item, indent) for item in value)
        inner = "  " * (indent + 1)
        return "[\n%s%s]" % ("".join("%s%s,\n" % (inner, _value(item, indent + 1)) for item in value), "  " * indent)
    raise TypeError("no Alloy syntax for %r" % (value,))


def render_alloy(blocks):
    """Blocks -> the text of an Alloy configuration file, one blank line between top-level blocks."""
    def block(item, indent):
        pad = "  " * indent
        head = item.name + ("" if item.label is None else " " + alloy_string(item.label))
        lines = ["%s%s {" % (pad, head)]
        for entry in item.body:
            if isinstance(entry, Block):
                lines.extend(block(entry, indent + 1))
            else:
                key, value = entry
                lines.append("%s  %s = %s" % (pad, key, _value(value, indent + 1)))
        lines.append(pad + "}")
        return lines
    return "\n\n".join("\n".join(block(item, 0)) for item in blocks) + "\n"


def _rule(source_labels, target_label, regex=None):
    body = [("source_labels", list(source_labels))]
    if regex is not None:
        body.append(("regex", regex))
    body.append(("target_label", target_label))
    return Block("rule", body=body)


def _bench_names(benches):
    if not isinstance(benches, (list, tuple)):
        raise BenchSpecError("the benches must be a list (the erpnext role's plan), got %r" % (benches,))
    errors, names = [], []
    for index, bench in enumerate(benches):
        name = bench.get("name") if isinstance(bench, dict) else bench
        if not isinstance(name, str) or not BENCH_NAME_RE.match(name):
            errors.append("bench #%d: name %r must match %s" % (index + 1, name, BENCH_NAME_RE.pattern))
        elif name in names:
            errors.append("bench %r is listed twice" % name)
        else:
            names.append(name)
    labels = {}
    for name in names:
        labels.setdefault(component_label(name), []).append(name)
    for label, clash in sorted(labels.items()):
        if len(clash) > 1:
            errors.append("benches %s differ only in '-' and '_', which Alloy's component labels cannot tell apart"
                          " (%s)" % (" and ".join(repr(name) for name in sorted(clash)), label))
    if errors:
        raise BenchSpecError("; ".join(errors))
    return sorted(names)


def component_label(bench):
    """The label of a bench's components: an identifier (letters, digits, '_'), e.g. bench_my_erp for my-erp."""
    label = "bench_" + bench.replace("-", "_")
    if not _IDENTIFIER_RE.match(label):
        raise BenchSpecError("bench %r makes no Alloy identifier" % (bench,))
    return label


def alloy_blocks(benches):
    """The components of Alloy's configuration for the benches (their dicts of the plan, or their names)."""
    names = _bench_names(benches)
    meta = "__meta_docker_container_"
    compose = meta + "label_com_docker_compose_"
    container_rules = [
        _rule([meta + "name"], "container", "/(.*)"),
        _rule([compose + "project"], "project"),
        _rule([compose + "service"], "service"),
        _rule([meta + "log_stream"], "stream"),
    ]
    if names:
        # Only the planned benches' projects get a bench label (the relabel regex is anchored at both ends)
        container_rules.insert(2, _rule([compose + "project"], "bench", "(%s)" % "|".join(names)))
    blocks = [
        Block("discovery.docker", "containers", [("host", DOCKER_HOST), ("refresh_interval", "15s")]),
        # Applied by loki.source.docker to each container's entries: the __meta_ labels are gone after it
        Block("discovery.relabel", "containers", [("targets", [])] + container_rules),
        Block("loki.source.docker", "containers", [
            ("host", DOCKER_HOST),
            ("targets", Expr("discovery.docker.containers.targets")),
            ("relabel_rules", Expr("discovery.relabel.containers.rules")),
            ("forward_to", [Expr("loki.write.default.receiver")]),
        ]),
    ]
    for name in names:
        label = component_label(name)
        static = {"bench": name, "service": FILES_SERVICE}
        blocks.append(Block("local.file_match", label, [
            ("path_targets", [
                dict([("__path__", "%s/%s/logs/*.log" % (FRAPPE_DIR, name))] + sorted(static.items())),
                dict([("__path__", "%s/%s/sites/*/logs/*.log" % (FRAPPE_DIR, name))] + sorted(static.items())),
            ]),
            ("sync_period", "30s"),
        ]))
        blocks.append(Block("loki.source.file", label, [
            ("targets", Expr("local.file_match.%s.targets" % label)),
            ("forward_to", [Expr("loki.relabel.frappe_files.receiver")]),
        ]))
    if names:
        blocks.append(Block("loki.relabel", "frappe_files", [
            ("forward_to", [Expr("loki.write.default.receiver")]),
            # A site's own files: /frappe/BENCH/sites/SITE/logs/FILE; the bench's files keep no site label
            _rule(["filename"], "site", "%s/[^/]+/sites/([^/]+)/logs/[^/]+" % FRAPPE_DIR),
        ]))
    blocks.append(Block("loki.write", "default", [Block("endpoint", body=[("url", LOKI_PUSH_URL)])]))
    return blocks


def alloy_config(benches):
    """Grafana Alloy's configuration (text) shipping every container's output and the benches' Frappe log files."""
    header = ("// Grafana Alloy: container output and Frappe's log files -> Loki. Written by the erpstack.erpnext\n"
              "// monitoring role (alloy_config filter); local changes are overwritten.\n\n")
    return header + render_alloy(alloy_blocks(benches))
