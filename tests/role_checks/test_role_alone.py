# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each role runs alone: with no plan in the run, its checks compute the same plan site.yml's first play does."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INVENTORY = {
    "erpnext_benches": [{"name": "main", "sites": [{"name": "erp.example.com"}]},
                        {"name": "shop", "network_subnet": "172.30.11.0/24", "sites": [{"name": "shop.example.com"}]}],
    "traefik_acme_email": "ops@erpstack-test.net",
    "monitoring_grafana_host": "grafana.example.com",
    "backup_benches": {"shop": {"method": "physical"}},
}


def _play(tasks, out):
    facts = {"ansible_facts": {"memtotal_mb": 16384, "processor_vcpus": 4}}
    return [{"name": "Compute the plan", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": INVENTORY,
             "tasks": [{"name": "Pretend the host facts", "ansible.builtin.set_fact": facts}] + tasks + [
                 {"name": "Save the plan", "ansible.builtin.copy": {
                     "content": "{{ deployment_plan | to_json }}", "dest": out, "mode": "0600"}}]}]


def _plan_after(tasks, tmp_path, name):
    out = str(tmp_path / ("%s.json" % name))
    playbook = tmp_path / ("%s.yml" % name)
    playbook.write_text(json.dumps(_play(tasks, out)))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS))
    result = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "localhost,",
                             "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    with open(out) as handle:
        return json.load(handle)


@pytest.fixture(scope="module")
def first_play_plan(tmp_path_factory):
    tasks = [{"name": "Check the plan as site.yml does", "ansible.builtin.import_tasks": os.path.join(
        ROOT, "playbooks", "tasks", "check_plan.yml")}]
    return _plan_after(tasks, tmp_path_factory.mktemp("first_play"), "first")


@pytest.mark.parametrize("role", ["erpnext", "traefik", "backup", "monitoring"])
def test_a_role_alone_computes_the_plan_of_the_whole_host(role, first_play_plan, tmp_path):
    tasks = [{"name": "Run the role's checks alone", "ansible.builtin.include_role": {
        "name": "erpstack.erpnext.%s" % role, "tasks_from": "validate"}}]
    assert _plan_after(tasks, tmp_path, role) == first_play_plan
    assert [b["name"] for b in first_play_plan["benches"]] == ["main", "shop"]
    assert first_play_plan["backup"]["config"]["benches"]["shop"]["method"] == "physical"


def test_a_role_included_again_with_other_vars_gets_the_plan_of_those_vars(tmp_path):
    """Outside site.yml (which computes the plan once and reuses it), a role recomputes it from its own vars."""
    include = {"name": "erpstack.erpnext.erpnext", "tasks_from": "validate"}
    tasks = [{"name": "Run the checks with 3 gunicorn workers", "ansible.builtin.include_role": include,
              "vars": {"erpnext_gunicorn_workers": 3}},
             {"name": "Run the checks again with the inventory's", "ansible.builtin.include_role": include}]
    plan = _plan_after(tasks, tmp_path, "twice")
    assert plan["benches"][0]["compose"]["services"]["backend"]["environment"]["GUNICORN_WORKERS"] != "3"
    first = _plan_after(tasks[:1], tmp_path, "once")
    assert first["benches"][0]["compose"]["services"]["backend"]["environment"]["GUNICORN_WORKERS"] == "3"
