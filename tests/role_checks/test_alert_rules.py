# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring role's alert rules (roles/monitoring/templates/alerts.yml.j2), checked without Docker.

Every alert has a `for`, a severity and annotations that name what it is about, and is covered by the promtool unit
tests (tests/promtool/*.test.yml; run them with tests/promtool/run.sh) both firing and not firing: an alert added
without tests fails here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import importlib.util
import json
import os
import re
import subprocess
import sys

import jinja2
import jinja2.meta
import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
_SPEC = importlib.util.spec_from_file_location("promtool_render", os.path.join(ROOT, "tests", "promtool", "render.py"))
render = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(render)

TEST_FILES = sorted(glob.glob(os.path.join(ROOT, "tests", "promtool", "*.test.yml")))
GROUPS = ["erpstack-sites", "erpstack-backups", "erpstack-host", "erpstack-containers", "erpstack-mariadb",
          "erpstack-redis", "erpstack-queues", "erpstack-certificates", "erpstack-targets"]
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def rules(document):
    return [rule for group in document["groups"] for rule in group["rules"]]


RENDERED = yaml.safe_load(render.render())
ALERTS = {rule["alert"]: rule for rule in rules(RENDERED) if "alert" in rule}


def promtool_cases():
    """alertname -> {"firing": [where], "quiet": [where]} over every alert_rule_test of the promtool tests."""
    cases = {}
    for path in TEST_FILES:
        with open(path) as handle:
            document = yaml.safe_load(handle)
        for number, test in enumerate(document.get("tests") or []):
            for case in test.get("alert_rule_test") or []:
                kind = "firing" if case.get("exp_alerts") else "quiet"
                where = "%s test %d at %s" % (os.path.basename(path), number, case["eval_time"])
                cases.setdefault(case["alertname"], {"firing": [], "quiet": []})[kind].append(where)
    return cases


CASES = promtool_cases()


def test_the_groups_are_the_documented_ones():
    assert [group["name"] for group in RENDERED["groups"]] == GROUPS
    assert len(ALERTS) == len([rule for rule in rules(RENDERED) if "alert" in rule]), "an alert name is repeated"


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_alert_has_for_severity_and_annotations(name):
    rule = ALERTS[name]
    assert DURATION.match(str(rule.get("for", ""))), "for: %r" % rule.get("for")
    assert rule.get("labels", {}).get("severity") in ("critical", "warning")
    annotations = rule.get("annotations", {})
    assert sorted(annotations) == ["description", "summary"]
    for text in annotations.values():
        assert "$labels." in text, "the annotation names nothing it is about: %r" % text
        assert "{%" not in text and "%}" not in text, "Jinja left in %r" % text
    assert "{{" not in rule["expr"] and "{%" not in rule["expr"], "Jinja left in the expression"


@pytest.mark.parametrize("name", sorted(ALERTS))
def test_alert_is_tested_firing_and_not_firing(name):
    cases = CASES.get(name, {"firing": [], "quiet": []})
    assert cases["firing"], "no promtool test in tests/promtool expects %s to fire" % name
    assert cases["quiet"], "no promtool test in tests/promtool expects %s to stay quiet (exp_alerts: [])" % name


def test_promtool_tests_name_existing_alerts():
    # promtool passes a test with exp_alerts: [] for an alert that does not exist: a typo would test nothing
    assert sorted(set(CASES) - set(ALERTS)) == []


def test_every_promtool_test_file_renders_the_rules_beside_it():
    assert TEST_FILES
    for path in TEST_FILES:
        with open(path) as handle:
            assert yaml.safe_load(handle)["rule_files"] == ["alerts.yml"], path


def test_one_max_age_recording_rule_per_scheduled_bench():
    document = yaml.safe_load(render.render(benches=[{"name": "alpha", "max_age_hours": 26},
                                                     {"name": "weekly", "max_age_hours": 170}]))
    recorded = [(rule["labels"], rule["expr"]) for rule in rules(document) if "record" in rule]
    assert recorded == [({"bench": "alpha"}, "vector(26 * 3600)"), ({"bench": "weekly"}, "vector(170 * 3600)")]
    assert {rule["record"] for rule in rules(document) if "record" in rule} == {"erpstack:backup_max_age_seconds"}


def test_one_max_lag_recording_rule_per_bench_whose_binary_logs_are_shipped():
    document = yaml.safe_load(render.render())
    recorded = [(rule["labels"], rule["expr"]) for rule in rules(document)
                if rule.get("record") == "erpstack:binlog_max_lag_seconds"]
    assert recorded == [({"bench": "alpha"}, "vector(900)"), ({"bench": "beta"}, "vector(900)")]


def test_no_scheduled_bench_leaves_the_alerts():
    document = yaml.safe_load(render.render(benches=[]))
    assert not [rule for rule in rules(document) if "record" in rule]
    assert sorted(rule["alert"] for rule in rules(document) if "alert" in rule) == sorted(ALERTS)


def test_thresholds_come_from_monitoring_alerts():
    document = yaml.safe_load(render.render(alerts_extension={"site_down_for": "7m", "http_5xx_ratio": 0.25}))
    alerts = {rule["alert"]: rule for rule in rules(document) if "alert" in rule}
    assert alerts["SiteDown"]["for"] == "7m"
    assert alerts["SiteHttp5xxRatioHigh"]["expr"].endswith("> 0.25")


def test_every_threshold_is_used_and_no_other_variable():
    with open(os.path.join(render.ROLE, "templates", render.TEMPLATE)) as handle:
        source = handle.read()
    used = set(re.findall(r"_monitoring_alerts\.([a-z0-9_]+)", source))
    assert sorted(used ^ set(render.defaults()["monitoring_alerts"])) == [], \
        "keys of monitoring_alerts the template does not use, or uses without a default"
    variables = jinja2.meta.find_undeclared_variables(render.environment().parse(source))
    assert variables == {"ansible_managed", "_monitoring_alerts", "_monitoring_backup_benches",
                         "_monitoring_binlog_benches", "monitoring_backup_max_age_hours"}


def test_ansible_renders_what_the_tests_render(tmp_path):
    """The promtool tests run on plain Jinja2's rendering: Ansible's template module must produce the same rules."""
    context = render.variables()
    extra = {key: context[key] for key in ("_monitoring_alerts", "_monitoring_backup_benches",
                                           "_monitoring_binlog_benches")}
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    dest = tmp_path / "alerts.yml"
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"))
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible"), "localhost", "-c", "local",
            "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable, "-e", "ansible_become=false",
            "-e", "@" + os.path.join(render.ROLE, "defaults", "main.yml"), "-e", "@" + str(tmp_path / "vars.json"),
            "-m", "ansible.builtin.template",
            "-a", "src=%s dest=%s mode=0644" % (os.path.join(render.ROLE, "templates", render.TEMPLATE), dest)]
    result = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout
    ansible = dest.read_text().split("\n", 1)
    plain = render.render().split("\n", 1)
    assert ansible[0].startswith("# ") and plain[0] == "# " + render.ANSIBLE_MANAGED
    assert ansible[1] == plain[1]
