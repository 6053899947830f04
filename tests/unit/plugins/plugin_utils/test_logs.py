# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""loki_config and alloy_config: goldens, retention durations, bench names, Alloy string literals."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.logs import (
    alloy_config,
    alloy_string,
    component_label,
    loki_config,
    loki_retention,
)

GOLDEN = os.path.join(os.path.dirname(__file__), "golden")
UPDATE = os.environ.get("ERPSTACK_UPDATE_GOLDEN") == "1"
# Two benches as the erpnext role's plan has them (only the name matters here)
PLAN = [
    {"name": "beta", "sites": [{"name": "shop.example.com", "domains": ["shop.example.com"], "state": "present"}]},
    {"name": "alpha", "sites": [{"name": "erp.example.com", "domains": ["erp.example.com"], "state": "present"},
                                {"name": "hr.example.com", "domains": ["hr.example.com"], "state": "absent"}]},
]


class _IndentedDumper(yaml.SafeDumper):
    """Sequences indented under their key, as yamllint's default configuration wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(_IndentedDumper, self).increase_indent(flow, False)


def _golden_path(name, value):
    path = os.path.join(GOLDEN, name)
    if UPDATE:
        with open(path, "w") as handle:
            handle.write(value)
    with open(path) as handle:
        return handle.read()


def test_alloy_golden_two_benches():
    text = alloy_config(PLAN)
    assert _golden_path("alloy_two_benches.alloy", text) == text, \
        "golden alloy_two_benches.alloy differs (ERPSTACK_UPDATE_GOLDEN=1)"


def test_loki_golden():
    config = loki_config("31d")
    text = yaml.dump(config, Dumper=_IndentedDumper, explicit_start=True, default_flow_style=False, sort_keys=True)
    assert yaml.safe_load(_golden_path("loki_config.yml", text)) == config, \
        "golden loki_config.yml differs (ERPSTACK_UPDATE_GOLDEN=1)"


def test_alloy_config_does_not_depend_on_the_order_or_form_of_the_benches():
    assert alloy_config(PLAN) == alloy_config(list(reversed(PLAN))) == alloy_config(["alpha", "beta"])


def test_alloy_config_without_benches_ships_container_output_only():
    text = alloy_config([])
    assert 'loki.source.docker "containers"' in text and 'loki.write "default"' in text
    assert "local.file_match" not in text and "loki.relabel" not in text and '"bench"' not in text


@pytest.mark.parametrize("retention, expected", [
    ("744h", "744h"), ("31d", "744h"), ("4w3d", "744h"), ("1y", "8760h"), ("24h", "24h"), ("36h30m", "36h30m"),
    ("1d12h", "36h"), ("0s", "0s"), ("0", "0s"), ("90d", "2160h"),
])
def test_retention_is_written_in_hours(retention, expected):
    assert loki_retention(retention) == expected
    assert loki_config(retention)["limits_config"]["retention_period"] == expected


@pytest.mark.parametrize("retention, message", [
    ("", "must be a duration such as 744h"),
    ("31 days", "must be a duration such as 744h"),
    ("3d1w", "must be a duration such as 744h"),
    ("1d1d", "must be a duration such as 744h"),
    ("1.5d", "must be a duration such as 744h"),
    ("-31d", "must be a duration such as 744h"),
    (744, "must be a duration such as 744h, 31d or 4w3d (units y, w, d, h, m, s, ms, largest first), got 744"),
    (None, "must be a duration such as 744h"),
    ("12h", "must be at least 24h (Loki's minimum) or 0s to keep logs forever, got '12h'"),
    ("23h59m59s", "must be at least 24h"),
])
def test_retention_refusals(retention, message):
    with pytest.raises(BenchSpecError, match="^monitoring_loki_retention ") as err:
        loki_config(retention)
    assert message in str(err.value)


@pytest.mark.parametrize("benches, message", [
    ("alpha", "the benches must be a list"),
    ([{"name": "Alpha"}], "bench #1: name 'Alpha' must match"),
    ([{"sites": []}], "bench #1: name None must match"),
    ([{"name": "alpha"}, {"name": "al pha"}, "-x"],
     "bench #2: name 'al pha' must match ^[a-z0-9][a-z0-9_-]{0,62}$; bench #3: name '-x' must match"),
    (["alpha", {"name": "alpha"}], "bench 'alpha' is listed twice"),
    (["my-erp", "my_erp"], "benches 'my-erp' and 'my_erp' differ only in '-' and '_'"),
])
def test_bench_refusals(benches, message):
    with pytest.raises(BenchSpecError) as err:
        alloy_config(benches)
    assert message in str(err.value)


def test_component_labels_are_identifiers():
    assert component_label("alpha") == "bench_alpha"
    assert component_label("my-erp-2") == "bench_my_erp_2"
    assert component_label("0day") == "bench_0day"


@pytest.mark.parametrize("value, literal", [
    ("plain", '"plain"'),
    ('say "hi"', '"say \\"hi\\""'),
    ("back\\slash", '"back\\\\slash"'),
    ("two\nlines\ttab\r", '"two\\nlines\\ttab\\r"'),
    ("bell\x07del\x7f", '"bell\\x07del\\x7f"'),
    ("süß ✓", '"süß ✓"'),
])
def test_alloy_string_literals(value, literal):
    assert alloy_string(value) == literal
