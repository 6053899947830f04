# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/schema.py against the roles' real argument specs: strict types, unknown names and keys, secrets."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils import schema

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
OPTIONS = schema.load_options(ROOT)
SITE = {"name": "erp.example.com", "apps": ["erpnext"]}

# Secrets with every character a naive mask or a message format would trip on
SECRETS = ["pa/ss@wo:rd'\"x\ny" + "z" * 8, "1234567890123456", "s3cr3t-with/slash@and:colon"]

# name -> (variables, the one expected error, exactly)
BAD = {
    "string for a list": ({"docker_users": "root"},
                          "docker_users must be a list (got the string 'root'; a one-item list is written [root] or "
                          "as '- root')"),
    "string for a list of apps": ({"erpnext_sites": [dict(SITE, apps="erpnext")]},
                                  "erpnext_sites[0].apps must be a list (got the string 'erpnext'; a one-item list is "
                                  "written [erpnext] or as '- erpnext')"),
    "quoted boolean": ({"erpstack_monitoring": "false"},
                       "erpstack_monitoring must be true or false (got the string 'false'; write it without quotes)"),
    "quoted integer": ({"erpnext_gunicorn_timeout": "120"},
                       "erpnext_gunicorn_timeout must be an integer (got the string '120'; write it without quotes)"),
    "boolean for an integer": ({"erpnext_gunicorn_timeout": True},
                               "erpnext_gunicorn_timeout must be an integer (got the boolean true)"),
    "number for a string": ({"erpnext_version": 15},
                            "erpnext_version must be a string (got the integer 15; quote it, a YAML number is not a "
                            "string)"),
    "list for a mapping": ({"traefik_certificate_resolvers": ["letsencrypt"]},
                           "traefik_certificate_resolvers must be a mapping (got a list)"),
    "string for a resolver mapping": ({"traefik_certificate_resolvers": {"letsencrypt": "http"}},
                                      "traefik_certificate_resolvers.letsencrypt must be a mapping (got the string "
                                      "'http')"),
    "unknown resolver key": ({"traefik_certificate_resolvers": {"le": {"chalenge": "http"}}},
                             "traefik_certificate_resolvers.le has no key 'chalenge' (did you mean challenge?); its "
                             "keys are challenge, credentials, delay, dns_servers, provider"),
    "site state typo": ({"erpnext_sites": [dict(SITE, state="abesnt")]},
                        "erpnext_sites[0].state must be one of present, absent (got 'abesnt')"),
    "unknown site key": ({"erpnext_benches": [{"name": "a", "sites": [dict(SITE, domain=["x.example.com"])]}]},
                         "erpnext_benches[0].sites[0] has no key 'domain' (did you mean domains?); its keys are "
                         "admin_password, apps, default, domains, name, state, tls_resolver"),
    "site without a name": ({"erpnext_sites": [{"apps": []}]}, "erpnext_sites[0].name is required (a string)"),
    "site that is a string": ({"erpnext_sites": ["erp.example.com"]},
                              "erpnext_sites[0] must be a mapping (got the string 'erp.example.com')"),
    "proxy typo": ({"erpnext_proxy": "trafik"}, "erpnext_proxy must be one of traefik, none (got 'trafik')"),
    "empty variable with a default": ({"erpnext_benches": None},
                                      "erpnext_benches must be a list (got nothing (null); the variable is set but "
                                      "empty)"),
    "backup bench key typo": ({"backup_benches": {"erpnext": {"methd": "native"}}},
                              "backup_benches.erpnext has no key 'methd' (did you mean method?); its keys are cron, "
                              "enabled, full_every_days, incremental, method, on_calendar"),
    "backup bench method like the role-wide one": ({"backup_benches": {"erpnext": {"method": "rsync"}}},
                                                   "backup_benches.erpnext.method must be one of logical, physical "
                                                   "(got 'rsync')"),
    "alert threshold typo": ({"monitoring_alerts": {"site_down": "1m"}},
                             "monitoring_alerts has no key 'site_down' (did you mean site_down_for?); its keys are "
                             + ", ".join(OPTIONS["monitoring_alerts"]["default"])),
    "resources for a component as text": ({"monitoring_resources": {"prometheus": {"cpus": "1", "memory": "1G"}}},
                                          "monitoring_resources.prometheus.cpus must be a number (got the string "
                                          "'1'; write it without quotes)"),
    "unknown variable": ({"erpnext_bench": [{"name": "a"}]},
                         "erpnext_bench is not a variable of any erpstack role (did you mean erpnext_benches?) (list "
                         "it in erpstack_ignore_variables if it is yours)"),
    "unknown backup variable": ({"backup_keep_dayly": 7},
                                "backup_keep_dayly is not a variable of any erpstack role (did you mean "
                                "backup_keep_daily?) (list it in erpstack_ignore_variables if it is yours)"),
}


@pytest.mark.parametrize("variables, expected", list(BAD.values()), ids=list(BAD))
def test_a_bad_input_is_refused_with_its_path_and_what_is_expected(variables, expected):
    assert schema.check_variables(variables, OPTIONS) == [expected]


GOOD = {
    "every default": dict((name, spec["default"]) for name, spec in OPTIONS.items() if "default" in spec),
    "benches with sites": {"erpnext_benches": [
        {"name": "a", "sites": [dict(SITE, domains=["erp.example.com"], default=True, state="present")]},
        {"name": "b", "network_subnet": "172.30.11.0/24", "gunicorn_workers": 2, "sites": []}]},
    "resolvers": {"traefik_certificate_resolvers": {
        "le": {"challenge": "dns", "provider": "cloudflare", "credentials": {"CF_DNS_API_TOKEN": "x"}, "delay": 5}}},
    "an integer where a number is expected": {"monitoring_resources": {"prometheus": {"cpus": 1, "memory": "1G"}}},
    "a name the inventory owns": {"erpnext_customer_code": "ACME", "erpstack_ignore_variables": ["erpnext_customer_code"]},
    "an option with no default left empty": {"erpnext_sites": [dict(SITE, domains=None)]},
}


@pytest.mark.parametrize("variables", list(GOOD.values()), ids=list(GOOD))
def test_good_inputs_pass(variables):
    assert schema.check_variables(variables, OPTIONS, variables.get("erpstack_ignore_variables", ())) == []


@pytest.mark.parametrize("secret", SECRETS)
def test_a_secret_never_appears_in_a_refusal(secret):
    variables = {
        "erpnext_sites": [dict(SITE, admin_password=int(secret) if secret.isdigit() else [secret])],
        "backup_restic_password": [secret],
        "traefik_certificate_resolvers": {"le": {"challenge": "dns", "provider": "x", "credentials": secret}},
    }
    errors = schema.check_variables(variables, OPTIONS)
    assert len(errors) == 3
    assert all(schema.SECRET in error for error in errors), errors
    for error in errors:
        for piece in [secret] + [part for part in secret.replace("\n", "/").split("/") if len(part) >= 4]:
            assert piece not in error


def _wrong_values(spec):
    """Values of every type but the declared one (an int is a float's, anything is raw's)."""
    kind = spec.get("type", "str")
    samples = {"str": "text", "int": 7, "float": 0.5, "bool": True, "list": ["x"], "dict": {"k": "v"}}
    accepted = {"str": ("str",), "path": ("str",), "int": ("int",), "float": ("int", "float"), "bool": ("bool",),
                "list": ("list",), "dict": ("dict",), "raw": tuple(samples)}[kind]
    return [value for name, value in samples.items() if name not in accepted]


def _paths(options, prefix=""):
    """(variable, path inside it, spec) for every option of every nesting level."""
    for name, spec in sorted(options.items()):
        yield prefix + name, spec
        if spec.get("options"):
            inner = "%s%s[0]." % (prefix, name) if spec.get("type") == "list" else "%s%s." % (prefix, name)
            yield from _paths(spec["options"], inner)


def _place(path, value):
    """A variable holding ``value`` at ``path`` (a.b[0].c), with the required keys around it filled in."""
    tokens = path.replace("[0]", ".[0]").split(".")
    for index in range(len(tokens) - 1, 0, -1):
        if tokens[index] == "[0]":
            value = [value]
        else:
            value = dict(_required_siblings(tokens[:index]), **{tokens[index]: value})
    return tokens[0], value


def _required_siblings(tokens):
    spec = {"options": OPTIONS}
    for token in tokens:
        if token != "[0]":
            spec = (spec.get("options") or {}).get(token) or {}
    result = {}
    for key, option in (spec.get("options") or {}).items():
        if option.get("required"):
            result[key] = "x"
    return result


def _map_paths():
    """The values of the mappings keyed by the operator's names (schema.MAP_VALUES), under a key 'k' (or the first
    name of a fixed list, schema.NAMED_KEYS)."""
    for name, value_spec in sorted(schema.MAP_VALUES.items()):
        value_spec = dict(value_spec, options=dict(
            (key, OPTIONS[option] if isinstance(option, str) else option)
            for key, option in (value_spec.get("options") or {}).items()) or None)
        key = schema.NAMED_KEYS[name][0] if name in schema.NAMED_KEYS else "k"
        yield "%s.%s" % (name, key), value_spec
        yield from _paths(value_spec.get("options") or {}, "%s.%s." % (name, key))


PATHS = list(_paths(OPTIONS)) + list(_map_paths())


@pytest.mark.parametrize("path, spec", PATHS, ids=[p for p, _s in PATHS])
def test_every_key_refuses_every_wrong_type_cleanly(path, spec):
    for wrong in _wrong_values(spec):
        top, value = _place(path, wrong)
        errors = schema.check_variables({top: value}, OPTIONS)
        expected_path = path
        assert any(error.startswith(expected_path + " must be") for error in errors), (path, wrong, errors)
        if spec.get("no_log"):
            assert all(repr(wrong) not in error and str(wrong) not in error for error in errors if "must be" in error)


def test_a_mapping_keyed_by_a_fixed_list_refuses_another_key_and_suggests_the_closest():
    errors = schema.check_variables({"erpnext_container_hardening": {"backnd": {"read_only": False}}}, OPTIONS)
    assert errors == ["erpnext_container_hardening has no key 'backnd' (did you mean backend?); its keys are "
                      + ", ".join(schema.NAMED_KEYS["erpnext_container_hardening"])]


def test_every_path_named_by_the_schema_exists_in_a_spec():
    for name in list(schema.MAP_VALUES) + list(schema.CLOSED_MAPS):
        assert OPTIONS[name]["type"] == "dict" and "options" not in OPTIONS[name], name
    for name in schema.CLOSED_MAPS:
        assert isinstance(OPTIONS[name].get("default"), dict) and OPTIONS[name]["default"], name
    for value_spec in schema.MAP_VALUES.values():
        for option in (value_spec.get("options") or {}).values():
            if isinstance(option, str):
                assert option in OPTIONS, option


def test_every_role_default_is_a_spec_option_of_its_type():
    for role in schema.ROLES:
        with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml")) as handle:
            defaults = yaml.safe_load(handle) or {}
        errors = schema.check_variables(defaults, OPTIONS)
        assert errors == [], (role, errors)
        for name in defaults:
            assert name in OPTIONS, name


def _spec_at(path):
    """The option spec at a dotted path; ``name.*`` is the value spec of a mapping keyed by the operator's names."""
    tokens = path.split(".")
    spec = OPTIONS[tokens[0]]
    for token in tokens[1:]:
        if token == "*":
            spec = schema.MAP_VALUES[tokens[0]]
        else:
            spec = spec["options"][token]
            spec = OPTIONS[spec] if isinstance(spec, str) else spec
    return spec


def test_the_tables_the_filters_keep_for_their_direct_callers_are_the_specs():
    """The filters (public plugins) still check their own input for callers that skip the plan; their tables must
    say what the specs say, or the two would drift."""
    from ansible_collections.erpstack.erpnext.plugins.plugin_utils import backup, monitoring, plan, sizing, traefik

    assert sorted(_spec_at("traefik_certificate_resolvers.*.challenge")["choices"]) == sorted(traefik.CHALLENGES)
    assert sorted(_spec_at("traefik_certificate_resolvers.*")["options"]) == sorted(traefik.RESOLVER_KEYS)
    assert sorted(_spec_at("backup_method")["choices"]) == sorted(backup.METHODS)
    assert sorted(_spec_at("monitoring_logs_backend")["choices"]) == sorted(monitoring.LOG_BACKENDS)
    assert sorted(_spec_at("erpnext_sizing_profile")["choices"]) == sorted(["auto"] + list(sizing.PROFILES))
    assert sorted(_spec_at("erpnext_benches")["options"]) == sorted(("name", "sites") + plan.BENCH_OVERRIDES)
    assert sorted(_spec_at("erpnext_benches.sites")["options"]) == sorted(plan.SITE_KEYS)
    assert sorted(_spec_at("erpnext_sites")["options"]) == sorted(plan.SITE_KEYS)
    assert sorted(_spec_at("monitoring_images")["default"]) == sorted(monitoring.COMPONENTS)
