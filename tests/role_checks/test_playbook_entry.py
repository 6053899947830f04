# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How users start the playbooks: `ansible-playbook site.yml -i prod` as typed, a clear refusal (non-zero exit,
one reason) for an inventory without `erpnext` hosts or a path that does not parse, and the image list that the
README and the air-gap message point to."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = ANSIBLE_BIN
# awx_configure.yml acts on an AWX controller from localhost, never on the erpnext hosts: no inventory to check
PLAYBOOKS = sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "playbooks", "*.yml"))
                   if os.path.basename(p) not in ("inventory_check.yml", "awx_configure.yml")) + ["site.yml"]


def run(*argv, **env_extra):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS), **env_extra)
    return subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]), cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.mark.parametrize("name", ["prod", "staging", "dev", "local"])
def test_the_top_level_inventory_name_is_the_example_inventory(name):
    assert os.path.realpath(os.path.join(ROOT, name)) == os.path.join(ROOT, "inventories", name)
    result = run("ansible-playbook", "site.yml", "-i", name, "--list-hosts")
    assert result.returncode == 0, result.stderr
    hosts = set(yaml.safe_load(open(os.path.join(ROOT, "inventories", name, "hosts.yml")))["erpnext"]["hosts"])
    listed = set(re.findall(r"^\s{6}(\S+)$", result.stdout, re.M))
    assert hosts <= listed, result.stdout


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_every_playbook_checks_the_inventory_first(playbook):
    with open(os.path.join(ROOT, playbook)) as f:
        plays = yaml.safe_load(f)
    first = plays[0]
    if playbook == "site.yml":
        assert first["ansible.builtin.import_playbook"] == "playbooks/site.yml"
        return
    assert first.get("ansible.builtin.import_playbook") == "inventory_check.yml", first


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_an_inventory_without_erpnext_hosts_stops_every_playbook(playbook, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("webservers:\n  hosts:\n    web1.example.com:\n")
    result = run("ansible-playbook", playbook, "-i", str(inventory))
    assert result.returncode != 0, result.stdout
    assert "The inventory has no host in the group `erpnext` (inventory sources: %s)" % inventory in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_an_inventory_path_that_does_not_exist_stops_the_run():
    result = run("ansible-playbook", "site.yml", "-i", "inventories/prdo")
    assert result.returncode != 0
    # ansible-core 2.16 wraps warnings at the terminal width, so the path may break a line.
    stderr = " ".join(result.stderr.split())
    assert "Unable to parse %s/inventories/prdo as an inventory source" % ROOT in stderr
    assert "No inventory was parsed" in stderr
    assert "PLAY [" not in result.stdout


def _images_of(inventory):
    result = run("ansible-playbook", "playbooks/images.yml", "-i", inventory,
                 ANSIBLE_STDOUT_CALLBACK="ansible.posix.json")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    plays = json.loads(result.stdout)["plays"]
    task = [t for t in plays[-1]["tasks"] if t["task"]["name"].startswith("Show the images")][0]
    return {host: res["msg"] for host, res in task["hosts"].items()}


def test_the_readme_lists_the_images_of_the_local_inventory():
    (images,) = _images_of("inventories/local").values()
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    table = dict(re.findall(r"^\| `(\w+_image_archives)` \| (.+) \|$", readme, re.M))
    listed = {var: sorted(re.findall(r"`([^`]+)`", cell)) for var, cell in table.items()}
    assert listed == {var: sorted(names) for var, names in images.items()}


def test_the_image_list_follows_the_inventory(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"erpnext": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}, "vars": {
        "erpstack_monitoring": False, "traefik_certificate_resolvers": {}, "traefik_default_certresolver": "",
        "erpnext_benches": [{"name": "one", "sites": [{"name": "a.localhost"}]},
                            {"name": "two", "version": "v15.85.1", "network_subnet": "172.30.11.0/24",
                             "sites": [{"name": "b.localhost"}]}]}}}))
    (images,) = _images_of(str(inventory)).values()
    assert images["monitoring_image_archives"] == []
    assert images["traefik_image_archives"] == ["traefik:v3.7.15"]
    assert images["erpnext_image_archives"][:2] == ["frappe/erpnext:v16.32.3", "frappe/erpnext:v15.85.1"]


def test_the_image_list_names_the_base_of_a_bench_with_custom_apps(tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"erpnext": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable}}, "vars": {
        "erpstack_monitoring": False, "traefik_certificate_resolvers": {}, "traefik_default_certresolver": "",
        "erpnext_apps": [{"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": "v16.4.1"}],
        "erpnext_sites": [{"name": "a.localhost", "apps": ["erpnext", "hrms"]}]}}}))
    (images,) = _images_of(str(inventory)).values()
    built, base = images["erpnext_image_archives"][:2]
    assert built.startswith("erpstack/erpnext-apps:v16.32.3-") and base == "frappe/erpnext:v16.32.3"
