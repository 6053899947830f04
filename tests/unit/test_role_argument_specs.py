# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role's meta/argument_specs.yml documents exactly its defaults: same variables, same default values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLES = sorted(
    name for name in os.listdir(os.path.join(ROOT, "roles"))
    if os.path.isdir(os.path.join(ROOT, "roles", name))
)


# The settings that span every role (erpstack_monitoring, the safety policy's overrides, ...): documented with their
# defaults in the deployment role's specs, which every role includes, and set by no role's defaults (each reader
# applies the documented default)
CROSS_ROLE = ("deployment", "erpstack_")


def _own(role, options):
    return dict((k, v) for k, v in options.items() if not (role == CROSS_ROLE[0] and k.startswith(CROSS_ROLE[1])))


def load(role, *path):
    if path == ("defaults", "main.yml") and not os.path.isfile(os.path.join(ROOT, "roles", role, *path)):
        return {}
    with open(os.path.join(ROOT, "roles", role, *path)) as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles():
    assert "erpnext" in ROLES


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_defaults_and_argument_specs(role):
    assert os.path.isfile(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"))
    # a role without options (erpstack.erpnext.deployment) has no defaults
    if load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]:
        assert os.path.isfile(os.path.join(ROOT, "roles", role, "defaults", "main.yml"))


@pytest.mark.parametrize("role", ROLES)
def test_argument_specs_equal_defaults(role):
    defaults = load(role, "defaults", "main.yml")
    options = _own(role, load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"])
    assert sorted(defaults) == sorted(k for k, v in options.items() if not v.get("required")), \
        "variables in defaults but not in argument_specs, or the reverse"
    for name, value in defaults.items():
        assert options[name].get("default") == value, name


@pytest.mark.parametrize("role", ROLES)
def test_public_variables_are_prefixed_with_the_role_name(role):
    for name in load(role, "defaults", "main.yml"):
        assert name.startswith(role + "_"), name
    for name in _own(role, load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]):
        assert name.startswith(role + "_"), name
