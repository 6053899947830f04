# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring role's Grafana dashboards, checked without Grafana (no image of it is obtainable here).

Structure: valid JSON, unique uids and titles, unique panel ids, a grid position for every panel inside the 24
columns and without overlaps, data sources only by the uids Grafana is provisioned with, template variables defined
before use. Queries: every metric name in every PromQL expression (panels and template variables) is one the real
exporters expose (tests/fixtures/metrics/*.txt, captured by capture.sh there; cAdvisor's from its documentation) and,
where the selector names its scrape job, one of that job's; with Docker and the Prometheus test image, every
expression also parses with promtool. The alert rules of the role are held to the same metric names.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grafana import grafana_datasources

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARDS = os.path.join(ROOT, "roles", "monitoring", "files", "dashboards")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "metrics")
PROMETHEUS_IMAGE = os.environ.get("PROMETHEUS_IMAGE", "erpstack-test/prometheus:v2.42.0")
EXPECTED = ("containers", "erpnext-overview", "host", "logs", "mariadb", "redis", "traefik")
GRID_COLUMNS = 24
# Scrape jobs of the monitoring role's Prometheus, and the fixture files of the names each job has
JOB_FIXTURES = {
    "prometheus": ("prometheus",), "alertmanager": ("alertmanager",), "node": ("node", "backup"),
    "cadvisor": ("cadvisor",), "traefik": ("traefik",), "mysqld": ("mysqld", "mysqld-replica"), "redis": ("redis",),
    "site-probe": ("blackbox",), "grafana": (), "loki": (), "alloy": (),
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
GRAFANA_VARIABLES = {"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms", "__auto",
                     "__from", "__to", "__dashboard", "__org", "__user", "timeFilter", "__timeFilter"}
RANGE_VARIABLES = ("__rate_interval", "__interval", "__range", "__auto")

# PromQL (Prometheus 2.x): functions, aggregation operators, keywords
FUNCTIONS = set("""
abs absent absent_over_time acos acosh asin asinh atan atanh avg_over_time ceil changes clamp clamp_max clamp_min cos
cosh count_over_time day_of_month day_of_week day_of_year days_in_month deg delta deriv exp floor histogram_count
histogram_fraction histogram_quantile histogram_stddev histogram_stdvar histogram_sum holt_winters hour idelta increase
irate label_join label_replace last_over_time ln log10 log2 mad_over_time max_over_time min_over_time minute month pi
predict_linear present_over_time quantile_over_time rad rate resets round scalar sgn sin sinh sort sort_by_label
sort_by_label_desc sort_desc sqrt stddev_over_time stdvar_over_time sum_over_time tan tanh time timestamp vector year
start end
""".split())
AGGREGATIONS = set("sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio"
                   .split())
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "offset", "bool", "inf", "nan", "atan2"}
BINARY_KEYWORDS = {"and", "or", "unless", "atan2"}
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_NUMBER = re.compile(r"(0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z][a-zA-Z0-9]*)?")
_VARIABLE = re.compile(r"\$(?:\{[^}]*\}|\w+)|\[\[\w+\]\]")
_MATCHER = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|`[^`]*`)"
                      r"\s*(,|$)")
_LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.*),)?\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$", re.S)

Selector = collections.namedtuple("Selector", "name matchers")


def _string_end(text, start):
    """Index after the string literal starting at ``start``."""
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == "\\" and quote != "`":
            index += 2
            continue
        if text[index] == quote:
            return index + 1
        index += 1
    raise ValueError("unterminated string at %d: %s" % (start, text))


def _closing(text, start, close):
    """Index of ``close`` ending the block that opens at ``start``, skipping string literals."""
    index = start + 1
    while index < len(text):
        if text[index] in "\"'`":
            index = _string_end(text, index)
            continue
        if text[index] == close:
            return index
        index += 1
    raise ValueError("%r opened at %d is never closed: %s" % (text[start], start, text))


def _matchers(block):
    matchers, position = [], 0
    while block[position:].strip():
        match = _MATCHER.match(block, position)
        if not match:
            raise ValueError("cannot read the label matchers {%s}" % block)
        value = match.group(3)[1:-1]
        if match.group(3)[0] != "`":
            value = re.sub(r"\\(.)", r"\1", value)
        matchers.append((match.group(1), match.group(2), value))
        position = match.end()
    return matchers


def _next_char(text, index):
    while index < len(text) and text[index].isspace():
        index += 1
    return (text[index], index) if index < len(text) else ("", index)


def promql_selectors(expr):
    """The vector selectors of a PromQL expression, as ``Selector(name, [(label, op, value)])``.

    A small scanner, not a parser: string literals, range and subquery brackets (``[5m]``, ``[1h:1m]``), numbers and
    durations, Grafana variables, and the label lists of ``by``/``without``/``on``/``ignoring``/``group_left``/
    ``group_right`` are skipped; an identifier followed by ``(`` must be a PromQL function or aggregation (which may
    also come before ``by``/``without``); keywords are skipped; every other identifier is a metric name, with the
    label matchers that follow it. Raises ValueError on an unknown function, unbalanced parentheses or unreadable
    matchers.
    """
    selectors, depth, index = [], 0, 0
    while index < len(expr):
        char = expr[index]
        if char.isspace() or char in ",+-*/%^=!<>@":
            index += 1
        elif char in "\"'`":
            index = _string_end(expr, index)
        elif char == "[":
            index = _closing(expr, index, "]") + 1
        elif char == "(":
            depth += 1
            index += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("unbalanced ')' at %d: %s" % (index, expr))
            index += 1
        elif char == "{":
            end = _closing(expr, index, "}")
            matchers = _matchers(expr[index + 1:end])
            names = [value for label, op, value in matchers if label == "__name__" and op == "="]
            selectors.append(Selector(names[0] if names else None, matchers))
            index = end + 1
        elif char == "$" or expr.startswith("[[", index):
            match = _VARIABLE.match(expr, index)
            if not match:
                raise ValueError("unreadable variable at %d: %s" % (index, expr))
            index = match.end()
        elif char.isdigit() or (char == "." and expr[index + 1:index + 2].isdigit()):
            index = _NUMBER.match(expr, index).end()
        elif _IDENTIFIER.match(expr, index):
            word = _IDENTIFIER.match(expr, index).group(0)
            after, position = _next_char(expr, index + len(word))
            index += len(word)
            if word in GROUPING:
                if after == "(":
                    index = _closing(expr, position, ")") + 1
            elif word.lower() in BINARY_KEYWORDS:
                # a set or arithmetic operator, which a parenthesised operand may follow: "a or (b unless c)"
                continue
            elif after == "(":
                if word not in FUNCTIONS | AGGREGATIONS:
                    raise ValueError("unknown PromQL function %s: %s" % (word, expr))
            elif word in AGGREGATIONS and re.match(r"(by|without)\b", expr[position:]):
                continue
            elif word.lower() in KEYWORDS:
                continue
            elif after == "{":
                end = _closing(expr, position, "}")
                selectors.append(Selector(word, _matchers(expr[position + 1:end])))
                index = end + 1
            else:
                selectors.append(Selector(word, []))
        else:
            raise ValueError("unexpected %r at %d: %s" % (char, index, expr))
    if depth:
        raise ValueError("unbalanced '(': %s" % expr)
    return selectors


def metric_names(expr):
    return {selector.name for selector in promql_selectors(expr)}


def load_names(names):
    known = set()
    for name in names:
        with open(os.path.join(FIXTURES, name + ".txt")) as handle:
            known.update(line.strip() for line in handle if line.strip() and not line.startswith("#"))
    return known


def fixture_names():
    return sorted(os.path.basename(path)[:-4] for path in glob.glob(os.path.join(FIXTURES, "*.txt")))


def is_known(name, known):
    """Exposed as is, or a histogram's/summary's series of a documented base name."""
    return name in known or any(name.endswith(suffix) and name[:-len(suffix)] in known
                                for suffix in HISTOGRAM_SUFFIXES)


def unknown_metrics(expr, extra=()):
    """The metric names of ``expr`` no exporter exposes, and those its selector's job does not have."""
    everything = load_names(fixture_names()) | set(extra)
    problems = []
    for selector in promql_selectors(expr):
        if selector.name is None:
            problems.append("a selector without a metric name")
            continue
        if not is_known(selector.name, everything):
            problems.append("%s is exposed by no exporter" % selector.name)
            continue
        for label, op, value in selector.matchers:
            if label != "job" or op != "=":
                continue
            if value not in JOB_FIXTURES:
                problems.append("job %r is no scrape job of the role" % value)
            elif JOB_FIXTURES[value] and not is_known(selector.name, load_names(JOB_FIXTURES[value])):
                problems.append("job %r has no %s" % (value, selector.name))
    return problems


# ----------------------------------------------------------------------------------------------------------------------
# dashboards

def load_dashboards():
    dashboards = {}
    for path in sorted(glob.glob(os.path.join(DASHBOARDS, "*.json"))):
        with open(path) as handle:
            dashboards[os.path.basename(path)[:-5]] = json.load(handle)
    return dashboards


def all_panels(dashboard):
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def datasource_type(dashboard, panel, target=None):
    source = (target or {}).get("datasource") or panel.get("datasource") or {}
    return source.get("type")


def queries(dashboard):
    """(where, data source type, expression) of every panel target and template variable query."""
    for panel in all_panels(dashboard):
        for target in panel.get("targets", []):
            yield ("panel %s target %s" % (panel["id"], target.get("refId")), datasource_type(dashboard, panel, target),
                   target.get("expr", ""))
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            query = query.get("query", "") if isinstance(query, dict) else query
            yield ("variable %s" % variable["name"], (variable.get("datasource") or {}).get("type"), query)


def promql_of(query, where):
    """The PromQL of a panel query, or the selector inside a variable's label_values()."""
    if not where.startswith("variable"):
        return query
    match = _LABEL_VALUES.match(query)
    assert match, "%s: only label_values([selector,] label) queries are used, got %r" % (where, query)
    return match.group(1) or ""


DASHBOARD_DATA = load_dashboards()
PROMQL = [(name, where, promql_of(expr, where)) for name, dashboard in sorted(DASHBOARD_DATA.items())
          for where, kind, expr in queries(dashboard) if kind == "prometheus"]


def test_the_expected_dashboards_exist():
    assert tuple(sorted(DASHBOARD_DATA)) == EXPECTED


def test_uids_and_titles_are_unique():
    uids = [d["uid"] for d in DASHBOARD_DATA.values()]
    titles = [d["title"] for d in DASHBOARD_DATA.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)
    for uid in uids:
        assert re.match(r"^erpstack-[a-z0-9-]+$", uid) and len(uid) <= 40, uid


@pytest.mark.parametrize("name", sorted(DASHBOARD_DATA))
def test_dashboard_model(name):
    dashboard = DASHBOARD_DATA[name]
    # provisioned dashboards carry no numeric id (Grafana assigns it) and are not edited in the UI
    assert dashboard.get("id") is None
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["editable"] is False
    assert "erpstack" in dashboard["tags"]
    assert dashboard["panels"] and dashboard["time"]["from"].startswith("now-")


@pytest.mark.parametrize("name", sorted(DASHBOARD_DATA))
def test_panels_have_unique_ids_and_fit_the_grid(name):
    panels = list(all_panels(DASHBOARD_DATA[name]))
    ids = [panel["id"] for panel in panels]
    assert len(set(ids)) == len(ids), "duplicate panel ids in %s" % name
    cells = {}
    for panel in panels:
        grid = panel["gridPos"]
        assert set(grid) >= {"h", "w", "x", "y"}, panel["id"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] >= 0 and grid["y"] >= 0, panel["id"]
        assert grid["x"] + grid["w"] <= GRID_COLUMNS, "panel %s is wider than the grid" % panel["id"]
        assert panel.get("title"), panel["id"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, "panels %s and %s overlap" % (cells.get((x, y)), panel["id"])
                cells[(x, y)] = panel["id"]


@pytest.mark.parametrize("name", sorted(DASHBOARD_DATA))
def test_data_sources_are_the_provisioned_ones(name):
    provisioned = {(d["type"], d["uid"]) for d in grafana_datasources(True)["datasources"]}
    dashboard = DASHBOARD_DATA[name]
    sources = [("variable " + v["name"], v["datasource"]) for v in dashboard["templating"]["list"] if "datasource" in v]
    for panel in all_panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel.get("datasource"), "panel %s has no data source" % panel["id"]
        sources.append(("panel %s" % panel["id"], panel["datasource"]))
        for target in panel.get("targets", []):
            assert target.get("expr"), "panel %s target %s has no expression" % (panel["id"], target.get("refId"))
            if "datasource" in target:
                sources.append(("panel %s target %s" % (panel["id"], target["refId"]), target["datasource"]))
        ref_ids = [target["refId"] for target in panel.get("targets", [])]
        assert len(set(ref_ids)) == len(ref_ids), "panel %s repeats a refId" % panel["id"]
    for where, source in sources:
        assert isinstance(source, dict), "%s: data sources are referred to by {type, uid}, not by name" % where
        assert (source.get("type"), source.get("uid")) in provisioned, "%s: %r is not provisioned" % (where, source)


@pytest.mark.parametrize("name", sorted(DASHBOARD_DATA))
def test_variables_are_defined_before_use(name):
    dashboard = DASHBOARD_DATA[name]
    defined = set()
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query", "")
        for used in re.findall(r"\$(\w+)", query if isinstance(query, str) else json.dumps(query)):
            assert used in defined or used in GRAFANA_VARIABLES, "variable %s uses $%s first" % (variable["name"], used)
        defined.add(variable["name"])
    for where, kind, expr in queries(dashboard):
        for used in re.findall(r"\$\{?([A-Za-z_]\w*)", expr):
            assert used in defined or used in GRAFANA_VARIABLES, "%s: $%s is not defined" % (where, used)


@pytest.mark.parametrize("name", sorted(DASHBOARD_DATA))
def test_loki_selectors_never_match_only_empty_labels(name):
    # Loki refuses a stream selector whose matchers all match the empty string, which {bench=~".*"} (All) would be
    dashboard = DASHBOARD_DATA[name]
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    for where, kind, expr in queries(dashboard):
        if kind != "loki":
            continue
        for used in re.findall(r"\$(\w+)", expr):
            if variables.get(used, {}).get("includeAll"):
                assert variables[used].get("allValue") == ".+", "%s: All of $%s must be .+" % (where, used)


@pytest.mark.parametrize("name, where, expr", PROMQL, ids=["%s %s" % (n, w) for n, w, e in PROMQL])
def test_metric_names_are_exposed_by_the_exporters(name, where, expr):
    assert unknown_metrics(expr) == []


def test_every_dashboard_has_promql_checked():
    assert {name for name, where, expr in PROMQL} == set(EXPECTED) - {"logs"}


def _promtool_available():
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "image", "inspect", PROMETHEUS_IMAGE], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False).returncode == 0


@pytest.mark.skipif(not _promtool_available(), reason="needs Docker and %s" % PROMETHEUS_IMAGE)
def test_every_expression_parses_with_promtool(tmp_path):
    # Grafana's variables replaced as Grafana would: ranges by a duration, the others by a regular expression
    def concrete(expr):
        expr = re.sub(r"\$\{?(%s)\}?" % "|".join(RANGE_VARIABLES), "5m", expr)
        return re.sub(r"\$\{?[A-Za-z_]\w*\}?", ".*", expr)
    checked = [(name, where, expr) for name, where, expr in PROMQL if expr]
    rules = [{"record": "dashboard:check_%d" % number, "expr": concrete(expr)}
             for number, (name, where, expr) in enumerate(checked, 1)]
    (tmp_path / "dashboards.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    os.chmod(str(tmp_path), 0o755)
    os.chmod(str(tmp_path / "dashboards.yml"), 0o644)
    result = subprocess.run(["docker", "run", "--rm", "--network", "none", "--entrypoint", "promtool",
                             "-v", "%s:/w:ro" % tmp_path, "-w", "/w", PROMETHEUS_IMAGE, "check", "rules",
                             "dashboards.yml"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    failed = ["%s %s: %s" % checked[int(number) - 1] for number in re.findall(r"rule (\d+),", result.stdout)]
    assert result.returncode == 0, "\n".join(failed + [result.stdout])
    assert "SUCCESS: %d rules found" % len(rules) in result.stdout


# ----------------------------------------------------------------------------------------------------------------------
# the alert rules use the same names

def _render_alerts():
    path = os.path.join(ROOT, "tests", "promtool", "render.py")
    spec = importlib.util.spec_from_file_location("promtool_render", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return yaml.safe_load(module.render())


def test_alert_rules_use_exposed_metric_names():
    rules = [rule for group in _render_alerts()["groups"] for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    problems = {rule.get("alert") or rule["record"]: unknown_metrics(rule["expr"], recorded) for rule in rules}
    assert {name: found for name, found in problems.items() if found} == {}


# ----------------------------------------------------------------------------------------------------------------------
# the fixtures and the scanner

@pytest.mark.parametrize("name", fixture_names())
def test_fixture_lists_are_sorted_names(name):
    with open(os.path.join(FIXTURES, name + ".txt")) as handle:
        lines = handle.read().splitlines()
    assert lines[0].startswith("# "), "%s.txt starts with a comment saying where its names come from" % name
    names = [line for line in lines if not line.startswith("#")]
    assert names == sorted(set(names)) and names
    assert all(re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", line) for line in names)


def test_every_job_with_names_has_its_fixture():
    assert {f for files in JOB_FIXTURES.values() for f in files} == set(fixture_names())


@pytest.mark.parametrize("expr, names", [
    ('rate(http_requests_total{job="api", code=~"5.."}[5m])', {"http_requests_total"}),
    ("histogram_quantile(0.95, sum by (le, bench) (rate(x_seconds_bucket{a='}'}[$__rate_interval])))",
     {"x_seconds_bucket"}),
    ("sum(rate(a_total[5m])) by (job) / on(job) group_left(instance) b offset 1h", {"a_total", "b"}),
    ('label_replace(x{key=~"rq:queue:.+"}, "queue", "$2", "key", "rq:queue:(.*:)?([^:]+)")', {"x"}),
    ("changes(max by (name) (start_seconds)[15m:1m]) > bool 0 and on() vector(1)", {"start_seconds"}),
    ("time() - last_success @ end() > 26 * 3600 unless ignoring (site) other", {"last_success", "other"}),
    ('{__name__="up", job="node"} == 1e3 or -.5 > Inf', {"up"}),
    ("erpstack:backup_max_age_seconds + x without (a, b) - y", {"erpstack:backup_max_age_seconds", "x", "y"}),
    ("a == 0 or (b == 1 unless on(bench) c) and (d)", {"a", "b", "c", "d"}),
])
def test_the_scanner_finds_the_metric_names(expr, names):
    assert metric_names(expr) == names


def test_the_scanner_reads_label_matchers():
    assert promql_selectors('up{job="node", path!~"a\\"b", x!=`c`}') == [
        Selector("up", [("job", "=", "node"), ("path", "!~", 'a"b'), ("x", "!=", "c")])]


@pytest.mark.parametrize("expr, message", [
    ("rat(x[5m])", "unknown PromQL function rat"),
    ("sum(x", "unbalanced '('"),
    ("x)", "unbalanced ')'"),
    ("x{job=node}", "cannot read the label matchers"),
    ('x{job="a}', "unterminated string"),
    ("x[5m", "never closed"),
])
def test_the_scanner_refuses(expr, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        promql_selectors(expr)


def test_unknown_names_and_wrong_jobs_are_reported():
    assert unknown_metrics('node_load1{job="node"} + nonexistent_metric') == [
        "nonexistent_metric is exposed by no exporter"]
    assert unknown_metrics('node_load1{job="redis"}') == ["job 'redis' has no node_load1"]
    assert unknown_metrics('up{job="nginx"}') == ["job 'nginx' is no scrape job of the role"]
    assert unknown_metrics("traefik_service_request_duration_seconds_bucket") == []
