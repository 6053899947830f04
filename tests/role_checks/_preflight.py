# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a role's preflight for many cases in one ansible-playbook process and return how each case ended.

Each case is a block/rescue around ``include_role: tasks_from: preflight`` with the case's host facts and role
variables; the result is "passed" or the message of the assertion that refused it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


PLAN_FACTS = {"ansible_memtotal_mb": 16384, "ansible_processor_vcpus": 4}


def _playbook(role, cases, base_facts, results, base_vars=None, plan=True):
    """With ``plan``, each case first computes the host's plan from its variables, as site.yml's first play does
    (erpstack.erpnext.deployment): a role's checks run on a plan of the whole host."""
    tasks = [{"name": "Start with no results", "ansible.builtin.set_fact": {"results": {}}}]
    for name, (facts, role_vars) in cases.items():
        record = "{{ results | combine({%s: %s}) }}"
        case_facts = dict(PLAN_FACTS if plan else {}, **base_facts)
        case_facts.update(facts)
        case_vars = dict(base_vars or {}, **role_vars)
        block = [{"name": "Pretend the host facts of the case",
                  "ansible.builtin.set_fact": dict(case_facts, cacheable=True)}] if case_facts else []
        if plan:
            block.append({"name": "Compute the plan of the case", "ansible.builtin.include_role": {
                "name": "erpstack.erpnext.deployment"}, "vars": case_vars})
        tasks.append({
            "name": name,
            "block": block + [
                {"name": "Run the preflight", "ansible.builtin.include_role": {
                    "name": role, "tasks_from": "preflight"}, "vars": case_vars},
                {"name": "Record a pass", "ansible.builtin.set_fact": {
                    "results": record % (json.dumps(name), "'passed'")}},
            ],
            "rescue": [{"name": "Record the refusal", "ansible.builtin.set_fact": {
                "results": record % (json.dumps(name), "([ansible_failed_result.msg] + ansible_failed_result.results"
                                                       " | default([]) | map(attribute='msg', default='') | list)"
                                                       " | select | join(' ')")}}],
        })
    tasks.append({"name": "Save the results", "ansible.builtin.copy": {
        "content": "{{ results | to_json }}", "dest": results, "mode": "0600"}})
    return [{"name": "%s role preflight cases" % role, "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": tasks}]


# The matrix (tests/harness/matrix.sh) runs these checks with another ansible-core: its venv's bin directory, and the
# collections of this venv's `ansible` package (the dependencies at their tested versions)
ANSIBLE_BIN = os.environ.get("ERPSTACK_ANSIBLE_BIN") or os.path.dirname(sys.executable)
EXTRA_COLLECTIONS = [p for p in os.environ.get("ERPSTACK_EXTRA_COLLECTIONS", "").split(os.pathsep) if p]


def run_preflight(role, cases, base_facts, tmp, base_vars=None, plan=True):
    """cases: name -> (facts overriding base_facts, role variables over base_vars). Returns name -> "passed" or the
    refusal."""
    results = tmp / "results.json"
    playbook = tmp / "preflight.yml"
    playbook.write_text(json.dumps(_playbook(role, cases, base_facts, str(results), base_vars, plan), indent=1))
    env = dict(os.environ,
               ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_ROLES_PATH=os.path.join(ROOT, "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS),
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
               ANSIBLE_NOCOLOR="1")
    playbook_bin = os.path.join(ANSIBLE_BIN, "ansible-playbook")
    proc = subprocess.run(
        [playbook_bin, "-i", "localhost,", "-e", "ansible_python_interpreter=" + sys.executable, str(playbook)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
        check=False)
    assert proc.returncode == 0, proc.stdout
    with open(str(results)) as handle:
        return json.load(handle)


def check_outcome(outcome, expected):
    """expected None: the preflight passed; else it refused the case with a message containing expected."""
    if expected is None:
        assert outcome == "passed"
    else:
        assert outcome != "passed", "preflight accepted a case it must refuse"
        assert expected in outcome, outcome
