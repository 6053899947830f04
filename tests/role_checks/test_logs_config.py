# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loki's and Alloy's configurations, checked structurally: neither program runs in this project's CI.

Alloy's configuration is parsed with tests/role_checks/_alloy_syntax.py and checked against what Alloy's reference
says of each component used (arguments, blocks, exports); the pipeline is followed from every source to Loki and the
relabeling rules are applied to the labels Docker discovery and file matching produce. Loki's configuration is read
back as YAML and checked for the settings retention depends on. Both filters also run through Ansible once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import posixpath
import re
import subprocess
import sys

import pytest
import yaml

from _alloy_syntax import AlloySyntaxError, Attribute, Block, literal, parse, reference, references, walk
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.logs import alloy_config, loki_config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PUSH_URL = "http://loki:3100/loki/api/v1/push"
HTTP_CLIENT = {"bearer_token", "bearer_token_file", "proxy_url", "no_proxy", "proxy_from_environment",
               "proxy_connect_header", "follow_redirects", "enable_http2"}
HTTP_BLOCKS = {"basic_auth", "authorization", "oauth2", "tls_config"}
RULE = {"source_labels", "separator", "regex", "modulus", "target_label", "replacement", "action"}
# What Alloy's reference documents for the components the configuration may use:
# (required arguments, optional arguments, blocks, exports)
COMPONENTS = {
    "discovery.docker": ({"host"}, {"port", "host_networking_host", "refresh_interval", "match_first_network"}
                         | HTTP_CLIENT, {"filter"} | HTTP_BLOCKS, {"targets"}),
    "discovery.relabel": ({"targets"}, set(), {"rule"}, {"output", "rules"}),
    "loki.source.docker": ({"host", "targets", "forward_to"}, {"labels", "relabel_rules", "refresh_interval"},
                           {"client"}, set()),
    "local.file_match": ({"path_targets"}, {"sync_period", "ignore_older_than"}, set(), {"targets"}),
    "loki.source.file": ({"targets", "forward_to"}, {"encoding", "tail_from_end", "legacy_positions_file"},
                         {"decompression", "file_watch"}, set()),
    "loki.relabel": ({"forward_to"}, {"max_cache_size"}, {"rule"}, {"receiver", "rules"}),
    "loki.process": ({"forward_to"}, set(), None, {"receiver"}),
    "loki.write": (set(), {"external_labels", "max_streams"}, {"endpoint", "wal"}, {"receiver"}),
}
ENDPOINT = ({"url"}, {"name", "headers", "batch_wait", "batch_size", "remote_timeout", "tenant_id",
                      "min_backoff_period", "max_backoff_period", "max_backoff_retries", "retry_on_http_429"}
            | HTTP_CLIENT)
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
BENCHES = [{"name": "alpha", "sites": []}, {"name": "beta-2", "sites": []}]
SERVICES = ("backend", "frontend", "websocket", "queue-short", "queue-long", "scheduler", "db", "redis-cache",
            "redis-queue", "configurator")


# The parser ------------------------------------------------------------------------------------------------------

SAMPLE = r'''
// a comment
logging { level = "info" } // after a block

/* a block
   comment */
prometheus.exporter.self "default" {}

local.file "key" {
  filename = "/tmp/\"key\"\n\t\\ \x41\u00e9\101"
  raw = `C:\no\escapes`
  numbers = [1, 2.5, -3, 1e3]
  flags = {on = true, "off" = false, nothing = null,}
  nested = [
    {"__path__" = "/a/*.log"},
    {a = [1, [2]], b = sys.env("HOME")},
  ]
  math = (1 + 2) * 3 == 9 && !false || 2 ^ 3 >= 8
  indexed = local.file.other.content[0]
  inner {
    ref = discovery.docker.containers.targets
  }
}
'''


def test_parser_reads_every_construct():
    items = parse(SAMPLE)
    assert [(b.name, b.label) for b in items] == [
        ("logging", None), ("prometheus.exporter.self", "default"), ("local.file", "key")]
    attrs = items[2].attributes
    assert literal(attrs["filename"]) == '/tmp/"key"\n\t\\ A\u00e9A'
    assert literal(attrs["raw"]) == "C:\\no\\escapes"
    assert literal(attrs["numbers"]) == [1, 2.5, -3, 1000.0] and attrs["numbers"].items[2].kind == "unary"
    assert literal(attrs["flags"]) == {"on": True, "off": False, "nothing": None}
    assert literal(attrs["nested"].items[0]) == {"__path__": "/a/*.log"}
    assert references(attrs["nested"]) == []  # sys.env is a function: a call, not a component reference
    assert references(attrs["indexed"]) == ["local.file.other.content"]
    assert attrs["math"].kind == "binary" and attrs["math"].op == "||"
    assert reference(items[2].blocks("inner")[0].attributes["ref"]) == "discovery.docker.containers.targets"
    assert [attribute.name for _path, attribute in walk(items)] == [
        "level", "filename", "raw", "numbers", "flags", "nested", "math", "indexed", "ref"]


@pytest.mark.parametrize("text, message", [
    ('a = [\n  1,\n  2\n]\n', "line 3: expected ',' or ']', got a newline (a multi-line list or object needs a"),
    ('a = {\n  k = 1\n}\n', "line 2: expected ',' or '}', got a newline"),
    ('a = "open\n', "line 1: unterminated string"),
    ('a = "\\q"\n', "unknown escape sequence \\q"),
    ('a = 1 b = 2\n', "line 1: expected a newline after the statement, got 'b'"),
    ('loki.write default {\n}\n', "expected '{' or '=' after loki.write, got 'default'"),
    ('loki.write "x" {\n  url = \n}\n', "line 3: expected an expression, got '}'"),
    ('block {\n', "line 2: expected an attribute or block name, got the end of the file"),
    ('a = 1 # hash\n', "unexpected character '#'"),
    ('/* never closed\n', "unterminated block comment"),
])
def test_parser_refusals(text, message):
    with pytest.raises(AlloySyntaxError) as err:
        parse(text)
    assert message in str(err.value)


# Alloy's configuration -------------------------------------------------------------------------------------------

def _components(items):
    assert all(isinstance(item, Block) for item in items), "top-level attributes in the configuration"
    return items


def _check_block_arguments(block, required, optional, blocks, where):
    attrs = set(block.attributes)
    names = [item.name for item in block.body if isinstance(item, Attribute)]
    assert len(names) == len(set(names)), "%s sets an argument twice: %s" % (where, names)
    assert required <= attrs, "%s lacks %s" % (where, sorted(required - attrs))
    assert attrs <= required | optional, "%s has unknown arguments %s" % (where, sorted(attrs - required - optional))
    if blocks is not None:
        unknown = set(b.name for b in block.blocks()) - blocks
        assert not unknown, "%s has unknown blocks %s" % (where, sorted(unknown))


def _check_rule(rule, where):
    _check_block_arguments(rule, set(), RULE, set(), where)
    attrs = dict((name, literal(value)) for name, value in rule.attributes.items())
    action = attrs.get("action", "replace")
    assert action in ("replace", "keep", "drop", "labelmap", "labeldrop", "labelkeep", "hashmod", "lowercase",
                      "uppercase", "keepequal", "dropequal"), where
    if action == "replace":
        assert LABEL_NAME.match(attrs.get("target_label", "")), "%s: replace needs a valid target_label" % where
    for label in attrs.get("source_labels", []):
        assert LABEL_NAME.match(label), "%s: invalid source label %r" % (where, label)
    re.compile("^(?:%s)$" % attrs.get("regex", "(.*)"))


def check_alloy(text):
    """Every structural rule the configuration must follow; returns {component name: {label: Block}}."""
    items = _components(parse(text))
    defined = {}
    for block in items:
        where = "%s %r (line %d)" % (block.name, block.label, block.line)
        assert block.name in COMPONENTS, "%s: not a component the checks know" % where
        assert block.label is not None and IDENTIFIER.match(block.label), "%s: needs an identifier label" % where
        assert block.label not in defined.setdefault(block.name, {}), "%s: label used twice" % where
        defined[block.name][block.label] = block
        required, optional, blocks, _exports = COMPONENTS[block.name]
        _check_block_arguments(block, required, optional, blocks, where)
        for rule in block.blocks("rule"):
            _check_rule(rule, where)
        for endpoint in block.blocks("endpoint"):
            _check_block_arguments(endpoint, ENDPOINT[0], ENDPOINT[1], {"queue_config"} | HTTP_BLOCKS, where)
    if "loki.write" in defined:
        assert all(block.blocks("endpoint") for block in defined["loki.write"].values()), "loki.write: no endpoint"
    # Every reference names an export of a component defined in the file
    for block in items:
        for _path, attribute in walk(block.body):
            for ref in references(attribute.value):
                parts = ref.split(".")
                matches = [(name, parts[len(name.split("."))], parts[len(name.split(".")) + 1:])
                           for name in defined if ref.startswith(name + ".") and len(parts) > len(name.split("."))]
                assert matches, "%s: %s refers to no defined component" % (block.name, ref)
                name, label, export = matches[0]
                assert label in defined[name], "%s: %s refers to an undefined %s %r" % (block.name, ref, name, label)
                assert export and export[0] in COMPONENTS[name][3], \
                    "%s: %s is not an export of %s" % (block.name, ref, name)
    return defined


def forward_graph(defined):
    """component id -> the component ids its forward_to sends to."""
    graph = {}
    for name, blocks in defined.items():
        for label, block in blocks.items():
            targets = block.attributes.get("forward_to")
            if targets is not None:
                assert targets.kind == "list", "%s.%s: forward_to must be a list" % (name, label)
                graph["%s.%s" % (name, label)] = []
                for item in targets.items:
                    ref = reference(item)
                    assert ref and ref.endswith(".receiver"), "%s.%s: forward_to holds %r" % (name, label, item)
                    graph["%s.%s" % (name, label)].append(ref[:-len(".receiver")])
    return graph


def relabel(labels, rules):
    """Prometheus's relabeling (replace, keep, drop) as Alloy applies it to a label set."""
    labels = dict(labels)
    for rule in rules:
        attrs = dict((name, literal(value)) for name, value in rule.attributes.items())
        action = attrs.get("action", "replace")
        value = attrs.get("separator", ";").join(labels.get(name, "") for name in attrs.get("source_labels", []))
        match = re.match("^(?:%s)$" % attrs.get("regex", "(.*)"), value)
        if action == "keep" and not match or action == "drop" and match:
            return None
        if action == "replace" and match:
            result = re.sub(r"\$\{?(\d+)\}?", lambda m: match.group(int(m.group(1))) or "",
                            attrs.get("replacement", "$1"))
            if result:
                labels[attrs["target_label"]] = result
            else:
                labels.pop(attrs["target_label"], None)
    return labels


def _public(labels):
    return dict((k, v) for k, v in labels.items() if not k.startswith("__"))


@pytest.fixture(scope="module")
def two_benches():
    text = alloy_config(BENCHES)
    return text, check_alloy(text)


def test_required_components_exist(two_benches):
    _text, defined = two_benches
    assert set(defined["discovery.docker"]) == {"containers"}
    assert set(defined["discovery.relabel"]) == {"containers"}
    assert set(defined["loki.source.docker"]) == {"containers"}
    assert set(defined["local.file_match"]) == set(defined["loki.source.file"]) == {"bench_alpha", "bench_beta_2"}
    assert set(defined["loki.write"]) == {"default"}
    endpoint = defined["loki.write"]["default"].blocks("endpoint")
    assert len(endpoint) == 1 and literal(endpoint[0].attributes["url"]) == PUSH_URL


def test_docker_is_read_through_the_mounted_socket(two_benches):
    _text, defined = two_benches
    for block in (defined["discovery.docker"]["containers"], defined["loki.source.docker"]["containers"]):
        assert literal(block.attributes["host"]) == "unix:///var/run/docker.sock"
    source = defined["loki.source.docker"]["containers"].attributes
    assert reference(source["targets"]) == "discovery.docker.containers.targets"
    assert reference(source["relabel_rules"]) == "discovery.relabel.containers.rules"


def check_pipeline(defined):
    """Every loki.source.* reaches loki.write.default; every processing component and file match is used."""
    graph = forward_graph(defined)
    for source in [node for node in graph if node.startswith("loki.source.")]:
        seen, todo = set(), [source]
        while todo:
            node = todo.pop()
            seen.add(node)
            todo.extend(n for n in graph.get(node, []) if n not in seen)
        assert "loki.write.default" in seen, "%s never reaches loki.write.default" % source
    used = set(n for targets in graph.values() for n in targets)
    for name in ("loki.relabel", "loki.process", "loki.write"):
        for label in defined.get(name, {}):
            assert "%s.%s" % (name, label) in used, "%s.%s receives nothing" % (name, label)
    read = set(reference(block.attributes["targets"]) for block in defined.get("loki.source.file", {}).values())
    for label in defined.get("local.file_match", {}):
        assert "local.file_match.%s.targets" % label in read, "local.file_match.%s feeds no source" % label


def test_every_source_reaches_loki_and_nothing_dangles(two_benches):
    check_pipeline(two_benches[1])


def _container(project=None, service=None, name="x", stream="stdout"):
    labels = {"__meta_docker_container_id": "0123abcd", "__meta_docker_container_name": "/" + name,
              "__meta_docker_container_log_stream": stream}
    if project:
        labels["__meta_docker_container_label_com_docker_compose_project"] = project
    if service:
        labels["__meta_docker_container_label_com_docker_compose_service"] = service
    return labels


@pytest.mark.parametrize("service", SERVICES)
def test_a_bench_container_is_labelled_with_its_bench_and_service(two_benches, service):
    _text, defined = two_benches
    rules = defined["discovery.relabel"]["containers"].blocks("rule")
    labels = relabel(_container("beta-2", service, "beta-2-%s-1" % service, "stderr"), rules)
    assert _public(labels) == {"container": "beta-2-%s-1" % service, "project": "beta-2", "bench": "beta-2",
                               "service": service, "stream": "stderr"}


@pytest.mark.parametrize("container, expected", [
    (_container("monitoring", "loki", "monitoring-loki-1"),
     {"container": "monitoring-loki-1", "project": "monitoring", "service": "loki", "stream": "stdout"}),
    (_container("alpha-old", "backend", "alpha-old-backend-1"),
     {"container": "alpha-old-backend-1", "project": "alpha-old", "service": "backend", "stream": "stdout"}),
    (_container(name="adhoc", stream="stderr"), {"container": "adhoc", "stream": "stderr"}),
])
def test_other_containers_keep_their_logs_without_a_bench_label(two_benches, container, expected):
    _text, defined = two_benches
    assert _public(relabel(container, defined["discovery.relabel"]["containers"].blocks("rule"))) == expected


@pytest.mark.parametrize("path, labels", [
    ("/frappe/alpha/logs/frappe.log", {"bench": "alpha", "service": "frappe-files"}),
    ("/frappe/alpha/logs/web.error.log", {"bench": "alpha", "service": "frappe-files"}),
    ("/frappe/beta-2/logs/worker.error.log", {"bench": "beta-2", "service": "frappe-files"}),
    ("/frappe/beta-2/sites/shop.example.com/logs/frappe.log",
     {"bench": "beta-2", "service": "frappe-files", "site": "shop.example.com"}),
    ("/frappe/alpha/sites/erp.example.com/logs/scheduler.log",
     {"bench": "alpha", "service": "frappe-files", "site": "erp.example.com"}),
    ("/frappe/alpha/logs/frappe.log.1", None),
    ("/frappe/alpha/sites/assets/frappe/dist/x.log", None),
    ("/frappe/alpha/sites/erp.example.com/private/backups/x.log", None),
])
def test_frappe_files_and_their_labels(two_benches, path, labels):
    _text, defined = two_benches
    found = []
    for label, block in defined["local.file_match"].items():
        for target in literal(block.attributes["path_targets"]):
            pattern = target["__path__"]
            depth = pattern.count("/") == path.count("/")
            if depth and all(re.match("^%s$" % re.escape(p).replace("\\*", "[^/]*"), s)
                             for p, s in zip(pattern.split("/"), path.split("/"))):
                found.append((label, target))
    if labels is None:
        assert not found, "%s must not be shipped" % path
        return
    assert len(found) == 1, "%s matched %d path targets" % (path, len(found))
    label, target = found[0]
    # loki.source.file adds filename; its forward_to leads through loki.relabel to Loki
    entry = dict(_public(target), filename=path)
    for hop in forward_graph(defined)["loki.source.file.%s" % label]:
        name, hop_label = hop.rsplit(".", 1)
        if name == "loki.relabel":
            entry = relabel(entry, defined[name][hop_label].blocks("rule"))
    assert entry == dict(labels, filename=path)
    assert posixpath.dirname(path).startswith("/frappe/%s/" % labels["bench"])


def test_bench_label_rule_matches_whole_project_names_only(two_benches):
    _text, defined = two_benches
    rules = defined["discovery.relabel"]["containers"].blocks("rule")
    for project in ("alpha", "beta-2"):
        assert relabel(_container(project), rules)["bench"] == project
    for project in ("alpha2", "xalpha", "beta", "beta-2x", "alpha|beta-2"):
        assert "bench" not in relabel(_container(project), rules)


@pytest.mark.parametrize("old, new, message", [
    ("forward_to = [loki.write.default.receiver]", "forward_to = [loki.write.main.receiver]",
     "refers to an undefined loki.write 'main'"),
    ("relabel_rules = discovery.relabel.containers.rules", "relabel_rules = discovery.relable.containers.rules",
     "refers to no defined component"),
    ("targets = local.file_match.bench_alpha.targets", "targets = local.file_match.bench_alpha.output",
     "is not an export of local.file_match"),
    ('local.file_match "bench_beta_2"', 'local.file_match "bench_alpha"', "label used twice"),
    ('loki.relabel "frappe_files"', "loki.relabel", "needs an identifier label"),
    ('loki.relabel "frappe_files"', 'loki.relabel "frappe-files"', "needs an identifier label"),
    ("sync_period =", "sync_periode =", "has unknown arguments ['sync_periode']"),
    ("host = \"unix:///var/run/docker.sock\"\n  refresh", "refresh", "discovery.docker 'containers' (line 4) lacks"),
    ('target_label = "site"', 'target_label = "site-name"', "replace needs a valid target_label"),
    ('"service" = "frappe-files"},\n  ]', '"service" = "frappe-files"}\n  ]', "needs a trailing comma"),
])
def test_the_checks_catch_broken_configurations(two_benches, old, new, message):
    text, _defined = two_benches
    assert old in text
    with pytest.raises((AssertionError, AlloySyntaxError)) as err:
        check_alloy(text.replace(old, new, 1))
    assert message in str(err.value)


def test_a_pipeline_that_stops_short_is_caught(two_benches):
    text, _defined = two_benches
    broken = text.replace("forward_to = [loki.write.default.receiver]\n  rule {\n    source_labels = [\"filename\"]",
                          "forward_to = []\n  rule {\n    source_labels = [\"filename\"]")
    assert broken != text
    with pytest.raises(AssertionError, match="never reaches loki.write.default"):
        check_pipeline(check_alloy(broken))


def test_no_benches_still_ships_container_output():
    defined = check_alloy(alloy_config([]))
    check_pipeline(defined)
    assert set(defined) == {"discovery.docker", "discovery.relabel", "loki.source.docker", "loki.write"}
    rules = defined["discovery.relabel"]["containers"].blocks("rule")
    assert "bench" not in relabel(_container("alpha", "backend"), rules)


def test_many_benches_keep_labels_unique():
    names = ["b%02d" % i for i in range(30)] + ["x-1", "y_2"]
    defined = check_alloy(alloy_config(names))
    check_pipeline(defined)
    assert len(defined["local.file_match"]) == len(defined["loki.source.file"]) == 32


# Loki's configuration --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def loki():
    # As the role renders it: to_nice_yaml, then read back
    from ansible.plugins.filter.core import to_nice_yaml
    return yaml.safe_load(to_nice_yaml(loki_config("31d"), indent=2))


def test_loki_has_every_required_section(loki):
    assert set(loki) >= {"auth_enabled", "server", "common", "schema_config", "limits_config", "compactor",
                         "analytics"}
    assert loki["auth_enabled"] is False and loki["server"]["http_listen_port"] == 3100
    assert loki["analytics"] == {"reporting_enabled": False}
    assert loki["common"]["replication_factor"] == 1 and loki["common"]["ring"]["kvstore"]["store"] == "inmemory"


def test_loki_keeps_everything_under_its_volume(loki):
    paths = [loki["common"]["path_prefix"], loki["compactor"]["working_directory"]]
    paths += list(loki["common"]["storage"]["filesystem"].values())
    assert all(path == "/loki" or path.startswith("/loki/") for path in paths), paths


def test_loki_retention_is_applied_by_the_compactor(loki):
    assert loki["limits_config"]["retention_period"] == "744h"
    assert loki["compactor"]["retention_enabled"] is True
    # Loki 3 refuses retention without a store for delete requests; it is the object store in use
    assert loki["compactor"]["delete_request_store"] == "filesystem"
    assert set(loki["common"]["storage"]) == {"filesystem"}


def test_loki_schema_config_is_sane(loki):
    configs = loki["schema_config"]["configs"]
    dates = [str(config["from"]) for config in configs]
    assert all(re.match(r"^\d{4}-\d{2}-\d{2}$", date) for date in dates) and dates == sorted(set(dates))
    assert all(isinstance(config["from"], str) for config in configs), "from must stay a string, not a YAML date"
    last = configs[-1]
    assert (last["store"], last["schema"], last["object_store"]) == ("tsdb", "v13", "filesystem")
    # The compactor applies retention to 24h index tables only
    assert last["index"] == {"prefix": "index_", "period": "24h"}


# Through Ansible -------------------------------------------------------------------------------------------------

def test_the_filters_through_ansible(tmp_path):
    out = tmp_path / "out.json"
    playbook = [{"name": "Logs filters", "hosts": "localhost", "connection": "local", "gather_facts": False,
                 "vars": {"plan": BENCHES},
                 "tasks": [
                     {"name": "Render both configurations", "ansible.builtin.copy": {
                         "dest": str(out), "mode": "0600",
                         "content": "{{ {'alloy': plan | erpstack.erpnext.alloy_config,"
                                    " 'loki': '4w3d' | erpstack.erpnext.loki_config} | to_json }}"}},
                     {"name": "Refuse a bad retention", "block": [
                         {"name": "Render Loki's configuration", "ansible.builtin.debug": {
                             "msg": "{{ '12h' | erpstack.erpnext.loki_config }}"}},
                         {"name": "Never reached", "ansible.builtin.fail": {"msg": "12h was accepted"}}],
                      "rescue": [{"name": "Keep the refusal", "ansible.builtin.copy": {
                          "dest": str(tmp_path / "refusal.txt"), "mode": "0600",
                          "content": "{{ ansible_failed_result.msg }}"}}]},
                 ]}]
    (tmp_path / "play.yml").write_text(json.dumps(playbook))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         "-e", "ansible_python_interpreter=" + sys.executable, str(tmp_path / "play.yml")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
        check=False)
    assert proc.returncode == 0, proc.stdout
    result = json.loads(out.read_text())
    assert result["alloy"] == alloy_config(BENCHES)
    check_pipeline(check_alloy(result["alloy"]))
    assert result["loki"] == loki_config("744h")
    refusal = (tmp_path / "refusal.txt").read_text()
    assert "monitoring logs: monitoring_loki_retention must be at least 24h" in refusal, refusal
