# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make envdiff`: the settings in which the environments' inventories differ.

    scripts/envdiff.py [INVENTORY ...]        (default: inventories/dev inventories/staging inventories/prod)

Each inventory's variables for its erpnext group are its group_vars/all (the shared file) under its group_vars/erpnext,
as Ansible layers them; a setting an inventory does not give shows the roles' default, marked "(default)". Only the
settings whose values differ are printed, one per line. Values are read as written, never templated, so no vault or
lookup is opened: an encrypted value prints as "(vault)", a templated one as its expression.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
ROLES = ("erpnext", "backup", "traefik", "monitoring", "docker", "swarm")
DEFAULT = object()


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!vault", lambda loader, node: "(vault)")


def _load(path):
    with open(path) as handle:
        return yaml.load(handle, Loader=_Loader) or {}


def _layer(directory):
    """The files of a group_vars entry: a file (all.yml) or a directory of them (erpnext/main.yml, vault.yml)."""
    out = {}
    for path in sorted(glob.glob(directory + ".yml") + glob.glob(directory + ".yaml")
                       + glob.glob(os.path.join(directory, "*.yml")) + glob.glob(os.path.join(directory, "*.yaml"))):
        out.update(_load(path))
    return out


def inventory_vars(inventory):
    values = _layer(os.path.join(inventory, "group_vars", "all"))
    values.update(_layer(os.path.join(inventory, "group_vars", "erpnext")))
    return values


def role_defaults():
    """The roles' defaults, and the erpstack_* settings' (which span the roles: the deployment role's specs)."""
    specs = _load(os.path.join(ROOT, "roles", "deployment", "meta", "argument_specs.yml"))
    out = dict((name, spec.get("default")) for name, spec in specs["argument_specs"]["main"]["options"].items())
    for role in ROLES:
        path = os.path.join(ROOT, "roles", role, "defaults", "main.yml")
        if os.path.exists(path):
            out.update(_load(path))
    return out


def _show(value):
    if value == "":
        return '""'
    if isinstance(value, str):
        return value if "\n" not in value else " ".join(value.split())
    return json.dumps(value, sort_keys=True)


def differences(inventories):
    """[(setting, [shown value per inventory])] for the settings whose values differ."""
    defaults = role_defaults()
    layers = [inventory_vars(path) for path in inventories]
    rows = []
    for name in sorted(set().union(*layers)):
        values = [layer.get(name, DEFAULT) for layer in layers]
        effective = [defaults.get(name) if value is DEFAULT else value for value in values]
        if all(value == effective[0] for value in effective):
            continue
        rows.append((name, [_show(value) if value is not DEFAULT
                            else "%s (default)" % _show(defaults[name]) if name in defaults else "(unset)"
                            for value in values]))
    return rows


def main(argv):
    inventories = argv or [os.path.join(ROOT, "inventories", name) for name in ("dev", "staging", "prod")]
    names = [os.path.basename(os.path.normpath(path)) for path in inventories]
    rows = differences(inventories)
    width = max([len("setting")] + [len(name) for name, _values in rows])
    print("%-*s  %s" % (width, "setting", " | ".join(names)))
    for name, values in rows:
        print("%-*s  %s" % (width, name, " | ".join(values)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
