# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The typed schema of every public variable, checked before the plan is computed.

The source is the roles' own ``meta/argument_specs.yml`` (what ``ansible-doc -t role`` shows): types, elements,
nested options, choices, required keys, ``no_log``. Ansible's own role validation coerces (``"false"`` is false, the
string ``erpnext`` is the list ``[erpnext]``); this check does not: a value has the declared type or is refused, with
its path (``erpnext_benches[0].sites[1].apps``), the value unless it is secret, and what is expected.

What the argument-spec format cannot say is added here, by path, and nothing else: the shape of the values of
mappings keyed by a name the operator chooses (``MAP_VALUES``), the fixed keys of mappings whose default lists them
all (``CLOSED_MAPS``). ``tests/role_checks/test_schema.py`` checks that every path named here exists in a spec.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import difflib
import os

from ansible.module_utils.six.moves.collections_abc import Mapping

import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils import hardening
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import SERVICES

# The prefixes of the roles' public variables: any other variable with one of these is a mistake
PREFIXES = ("erpnext_", "traefik_", "backup_", "monitoring_", "docker_", "erpstack_", "swarm_")
ROLES = ("deployment", "docker", "erpnext", "backup", "traefik", "monitoring", "swarm")
SECRET = "(secret, not shown)"

# Mappings keyed by a name the operator chooses; the shape of each value. A string names a top-level option whose
# spec the value takes (the per-bench backup settings are the role-wide ones); a dict is an option spec.
_RESOURCE = {"type": "dict", "options": {"cpus": {"type": "float"}, "memory": {"type": "str"}}}
MAP_VALUES = {
    "backup_benches": {"type": "dict", "options": {
        "method": "backup_method", "incremental": "backup_incremental", "full_every_days": "backup_full_every_days",
        "on_calendar": "backup_on_calendar", "cron": "backup_cron", "enabled": {"type": "bool"},
    }},
    "traefik_certificate_resolvers": {"type": "dict", "options": {
        "challenge": {"type": "str", "choices": ["http", "tlsalpn", "dns"]},
        "provider": {"type": "str"},
        "credentials": {"type": "dict", "no_log": True},
        "dns_servers": {"type": "list", "elements": "str"},
        "delay": {"type": "int"},
    }},
    "traefik_resources": _RESOURCE,
    "monitoring_resources": _RESOURCE,
    "monitoring_backup_max_age_overrides": {"type": "int"},
    # one e-mail or webhook, or a list of them (the plan checks the addresses and URLs without repeating them)
    "monitoring_alert_receivers": {"type": "dict", "no_log": True, "options": {
        "email": {"type": "raw"}, "webhook": {"type": "raw"},
    }},
    "erpnext_sizing_overrides": {"type": "dict", "options": dict(
        # a size is a number of MiB or a string such as 512m: the plan parses it and names the path
        [(service, {"type": "dict", "options": {"memory": {"type": "raw"}, "cpus": {"type": "float"},
                                                "reserve_memory": {"type": "raw"}}})
         for service in SERVICES],
        gunicorn_workers={"type": "int"}, gunicorn_threads={"type": "int"}, queue_short_workers={"type": "int"},
        queue_long_workers={"type": "int"}, max_connections={"type": "int"})},
}
# Mappings keyed by a name from a fixed list (not their default's keys: the default is empty)
NAMED_KEYS = {"erpnext_container_hardening": hardening.SERVICES,
              hardening.MONITORING_VARIABLE: hardening.MONITORING_SERVICES}
MAP_VALUES["erpnext_container_hardening"] = MAP_VALUES[hardening.MONITORING_VARIABLE] = {"type": "dict", "options": {
    "no_new_privileges": {"type": "bool"}, "drop_capabilities": {"type": "bool"},
    "add_capabilities": {"type": "list", "elements": "str"}, "read_only": {"type": "bool"},
    "tmpfs": {"type": "list", "elements": "str"}, "pids_limit": {"type": "int"},
}}
# Mappings whose keys are those of their default: an unknown key is a typo. True: every key must be given too (a value
# replaces the whole default, and each component needs its image)
CLOSED_MAPS = {"monitoring_images": True, "monitoring_alerts": False, "monitoring_resources": False,
               "traefik_resources": False}

TYPE_NAMES = {
    "str": "a string", "path": "a path (a string)", "int": "an integer", "float": "a number", "bool": "true or false",
    "list": "a list", "dict": "a mapping", "raw": "any value",
}


def _kind(value):
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "the boolean %s" % ("true" if value else "false")
    if isinstance(value, int):
        return "the integer %d" % value
    if isinstance(value, float):
        return "the number %r" % value
    if isinstance(value, str):
        return "the string %s" % _quote(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "a %s" % type(value).__name__


def _quote(text):
    text = str(text)
    if len(text) > 60:
        text = text[:57] + "..."
    return "'%s'" % text.replace("\n", "\\n")


def _hint(value, kind):
    """What the operator probably meant, for the common slips."""
    if kind == "bool" and isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
        return "; write it without quotes"
    if kind in ("int", "float") and isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return "; write it without quotes"
    if kind in ("str", "path") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return "; quote it, a YAML number is not a string"
    if kind == "list" and isinstance(value, str):
        return "; a one-item list is written [%s] or as '- %s'" % (value, value)
    return ""


def suggestion(name, known):
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return " (did you mean %s?)" % close[0] if close else ""


class SchemaChecker(object):
    """Checks variables against the roles' option specs; collects every error, each naming its path."""

    def __init__(self, options):
        self.options = options
        self.errors = []

    # -- one value against one spec ---------------------------------------------------------------------------------
    def _fail(self, path, spec, value, expected, hint=""):
        shown = SECRET if spec.get("no_log") else _kind(value)
        if spec.get("no_log") and value is not None and str(value) in hint:
            hint = ""
        self.errors.append("%s must be %s (got %s%s)" % (path, expected, shown, hint))

    def _spec(self, spec):
        return self.options[spec] if isinstance(spec, str) else spec

    def value(self, path, spec, value, secret=False):
        spec = dict(self._spec(spec))
        if secret:
            spec["no_log"] = True
        kind = spec.get("type", "str")
        if value is None:
            # an option with no default may be left empty; one with a default ([] and {} included) may not
            if kind != "raw" and (spec.get("required") or spec.get("default") is not None):
                self._fail(path, spec, value, TYPE_NAMES.get(kind, kind), "; the variable is set but empty")
            return
        if not self._type_ok(kind, value):
            self._fail(path, spec, value, TYPE_NAMES.get(kind, kind), _hint(value, kind))
            return
        if kind == "list":
            self.elements(path, spec, value)
        elif spec.get("choices") is not None and value not in spec["choices"]:
            shown = SECRET if spec.get("no_log") else _quote(value)
            self.errors.append("%s must be one of %s (got %s)" % (
                path, ", ".join(str(c) for c in spec["choices"]), shown))
        elif kind == "dict":
            self.dictionary(path, spec, value)

    def elements(self, path, spec, value):
        """A list's items: each of the declared element type (and among the choices, which apply to each item)."""
        elements = spec.get("elements")
        for index, item in enumerate(value):
            where = "%s[%d]" % (path, index)
            if elements == "dict" and spec.get("options") is not None:
                self.mapping(where, spec["options"], item, spec.get("no_log"))
            elif elements:
                self.value(where, {"type": elements, "choices": spec.get("choices"), "no_log": spec.get("no_log")},
                           item)

    @staticmethod
    def _type_ok(kind, value):
        if kind in ("str", "path"):
            return isinstance(value, str)
        if kind == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if kind == "float":
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        if kind == "bool":
            return isinstance(value, bool)
        if kind == "list":
            return isinstance(value, (list, tuple))
        if kind == "dict":
            return isinstance(value, Mapping)
        return True

    def dictionary(self, path, spec, value):
        if spec.get("options") is not None:
            self.mapping(path, spec["options"], value, spec.get("no_log"))
            return
        # the shapes this module adds are those of top-level variables (a nested path is never one of these names)
        if path in CLOSED_MAPS and isinstance(spec.get("default"), Mapping):
            known = list(spec["default"])
            for key in value:
                if key not in known:
                    self.errors.append("%s has no key %s%s; its keys are %s" % (
                        path, _quote(key), suggestion(str(key), known), ", ".join(known)))
            missing = [key for key in known if key not in value]
            if CLOSED_MAPS[path] and missing:
                self.errors.append("%s lacks %s: give every key (a value replaces the whole default)"
                                   % (path, ", ".join(missing)))
        if path in NAMED_KEYS:
            known = NAMED_KEYS[path]
            for key in value:
                if key not in known:
                    self.errors.append("%s has no key %s%s; its keys are %s" % (
                        path, _quote(key), suggestion(str(key), known), ", ".join(known)))
        if path in MAP_VALUES:
            value_spec = MAP_VALUES[path]
            for key in value:
                if path in NAMED_KEYS and key not in NAMED_KEYS[path]:
                    continue
                self.value("%s.%s" % (path, key), value_spec, value[key], spec.get("no_log"))

    def mapping(self, path, options, value, secret=False):
        if not isinstance(value, Mapping):
            self._fail(path, {"no_log": secret}, value, "a mapping")
            return
        for key in value:
            if key not in options:
                self.errors.append("%s has no key %s%s; its keys are %s" % (
                    path, _quote(key), suggestion(str(key), options), ", ".join(sorted(options))))
        for key, option in sorted(options.items()):
            option = self._spec(option)
            if key not in value:
                if option.get("required"):
                    self.errors.append("%s.%s is required (%s)" % (path, key, TYPE_NAMES.get(option.get("type", "str"))))
                continue
            self.value("%s.%s" % (path, key), option, value[key], secret)


def load_options(collection_root, roles=ROLES):
    """Every option of the roles' main entry points, by name (the names are unique across roles)."""
    options = {}
    for role in roles:
        path = os.path.join(collection_root, "roles", role, "meta", "argument_specs.yml")
        with open(path) as handle:
            data = yaml.safe_load(handle)
        options.update(data["argument_specs"]["main"].get("options") or {})
    return options


def unknown_variables(names, options, ignored=()):
    """Errors for the variables with a role's prefix that no role defines."""
    errors = []
    for name in sorted(names):
        if name.startswith(PREFIXES) and name not in options and name not in ignored:
            errors.append("%s is not a variable of any erpstack role%s (list it in erpstack_ignore_variables if it "
                          "is yours)" % (name, suggestion(name, options)))
    return errors


def check_variables(values, options, ignored=()):
    """Check ``values`` (name -> templated value, the variables that are set) and return the errors."""
    checker = SchemaChecker(options)
    for name in sorted(values):
        if name in options:
            checker.value(name, options[name], values[name])
    return unknown_variables(values, options, ignored) + checker.errors
