# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every file the roles write, rendered from each example inventory and Molecule scenario, equals its golden.

tests/golden/render.yml renders the files on the controller with fixed host facts (16 GB, 4 CPUs). The goldens under
tests/golden/<case>/ were committed before the plan was rebuilt (issue 14): what users see must not change unless a
change is meant. After a meant change: ``ERPSTACK_UPDATE_GOLDENS=1 pytest tests/role_checks/test_rendered_goldens.py``
and review the diff.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import filecmp
import os
import shutil
import subprocess

import pytest
import yaml

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "tests", "golden")
VAULT_PASS = os.path.join(ROOT, "inventories", "prod", "vault-password.example")
# staging reads its passwords from a live HashiCorp Vault: its layout is dev's
INVENTORIES = ["local", "dev", "prod"]
SCENARIOS = sorted(name for name in os.listdir(os.path.join(ROOT, "molecule"))
                   if os.path.isfile(os.path.join(ROOT, "molecule", name, "molecule.yml")))


def _scenario_inventory(name, directory):
    """The scenario's inventory as Molecule writes it: its platforms in their groups, the base config's and the
    scenario's group_vars, and each platform's host_vars."""
    platforms = [{"name": "erpstack-%s" % name, "groups": ["erpnext"]}]
    group_vars = {}
    host_vars = {}
    for path in (os.path.join(ROOT, ".config", "molecule", "config.yml"),
                 os.path.join(ROOT, "molecule", name, "molecule.yml")):
        with open(path) as handle:
            config = yaml.safe_load(handle)
        inventory = (config.get("provisioner") or {}).get("inventory") or {}
        for group in ("all", "erpnext"):
            group_vars.update((inventory.get("group_vars") or {}).get(group) or {})
        for host, values in ((inventory.get("host_vars") or {}).items()):
            host_vars.setdefault(host, {}).update(values or {})
        if path.endswith(os.path.join(name, "molecule.yml")) and config.get("platforms"):
            platforms = config["platforms"]
    # values the scenario reads from its test images at run time (only their presence shapes the files)
    if "traefik_acme_ca_bundle" in group_vars:
        group_vars["traefik_acme_ca_bundle"] = "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n"
    groups = {}
    for platform in platforms:
        values = dict(group_vars, **host_vars.get(platform["name"], {}))
        for group in platform.get("groups") or ["erpnext"]:
            groups.setdefault(group, {"hosts": {}})["hosts"][platform["name"]] = values
    path = os.path.join(directory, "hosts.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(groups, handle)
    return path


def _render(case, directory):
    if case.startswith("molecule/"):
        inventory = _scenario_inventory(case.split("/", 1)[1], directory)
    else:
        inventory = os.path.join(ROOT, "inventories", case)
    out = os.path.join(directory, "out")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS))
    result = subprocess.run(
        [os.path.join(ANSIBLE_BIN, "ansible-playbook"), os.path.join(GOLDEN, "render.yml"), "-i", inventory,
         "--vault-password-file", VAULT_PASS, "-e", "golden_dir=%s" % out,
         "-e", "ansible_python_interpreter={{ ansible_playbook_python }}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
        check=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    return out


def _files(top):
    return sorted(os.path.relpath(os.path.join(d, f), top) for d, _dirs, files in os.walk(top) for f in files)


@pytest.mark.parametrize("case", INVENTORIES + ["molecule/%s" % s for s in SCENARIOS])
def test_rendered_files_equal_their_goldens(case, tmp_path):
    out = _render(case, str(tmp_path))
    golden = os.path.join(GOLDEN, case.replace("/", "-"))
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(out, golden)
    assert _files(out) == _files(golden)
    differ = [name for name in _files(out) if not filecmp.cmp(os.path.join(out, name), os.path.join(golden, name),
                                                              shallow=False)]
    assert differ == [], "rendered files differ from tests/golden/%s: %s" % (case.replace("/", "-"), differ)
