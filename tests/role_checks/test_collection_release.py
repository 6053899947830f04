# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as Galaxy users get it: its changelog agrees with galaxy.yml, and the built tarball holds what
they run, not the project's tests, benchmarks or CI files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)


def _yaml(path):
    with open(os.path.join(ROOT, path)) as f:
        return yaml.safe_load(f)


def _version(text):
    return tuple(int(part) for part in str(text).split("."))


def test_the_newest_released_changelog_version_is_the_galaxy_version():
    galaxy = _yaml("galaxy.yml")["version"]
    releases = _yaml("changelogs/changelog.yaml")["releases"] or {}
    assert releases, "changelogs/changelog.yaml has no release: run `make changelog`"
    newest = max(releases, key=_version)
    assert newest == galaxy, "changelog's newest release %s, galaxy.yml's version %s" % (newest, galaxy)
    assert releases[newest].get("release_date"), "release %s has no date" % newest


def test_the_changelog_and_its_fragments_pass_antsibull_changelog_lint():
    result = subprocess.run([os.path.join(BIN, "antsibull-changelog"), "lint"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_the_rendered_changelog_names_the_galaxy_version():
    with open(os.path.join(ROOT, "CHANGELOG.rst")) as f:
        text = f.read()
    assert "\nv%s\n" % _yaml("galaxy.yml")["version"] in text


@pytest.fixture(scope="module")
def tarball_members(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(out), ROOT],
                   cwd=ROOT, check=True, capture_output=True)
    (path,) = list(out.glob("erpstack-erpnext-*.tar.gz"))
    with tarfile.open(str(path)) as tar:
        return [m.name for m in tar.getmembers()]


@pytest.mark.parametrize("left_out", [
    "tests/", "benchmarks/", "molecule/", ".ci/", ".config/", "scripts/", "changelogs/fragments/",
    "inventories/prod/vault-password.example", "Makefile", "make", "requirements-test.txt", "ansible.cfg",
    "prod", "staging", "dev", "local", "collections/",
])
def test_the_built_collection_leaves_out_what_users_do_not_run(tarball_members, left_out):
    found = [m for m in tarball_members if m == left_out.rstrip("/") or m.startswith(left_out.rstrip("/") + "/")]
    assert not found, "%s is in the built collection: %s" % (left_out, found[:5])


@pytest.mark.parametrize("kept", [
    "MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.rst", "changelogs/changelog.yaml",
    "meta/runtime.yml", "playbooks/site.yml", "playbooks/inventory_check.yml", "roles/erpnext/tasks/main.yml",
    "plugins/modules/bench_site.py", "docs/testing.md", "inventories/prod/hosts.yml",
])
def test_the_built_collection_keeps_what_users_run(tarball_members, kept):
    assert kept in tarball_members
