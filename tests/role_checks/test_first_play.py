# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad inventories are refused by the first play of site.yml (playbooks/tasks/check_plan.yml), before any change.

The cases are in first_play_cases.yml. They run in one ansible-playbook process, each in a block around the task
file the first play runs, on a pretended host; the outcome is "passed" or the refusal's message. Every refusal must
contain its expected piece, read as a sentence (no Python traceback, no Jinja error text), and no secret of its case.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
import yaml

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The secret values of the cases, new every run (first_play_cases.yml names them by placeholder): no password is
# written in the repository, and none of them can appear in a message by chance
_DIGITS = str(secrets.randbelow(9 * 10 ** 14) + 10 ** 14)
GENERATED = {
    "@PASSWORD@": "pw-" + secrets.token_urlsafe(18),                        # long enough for every rule
    "@SHORT_PASSWORD@": secrets.token_hex(5),                               # 10 characters: below the minimum of 12
    "@URL_PASSWORD@": secrets.token_hex(4) + "/" + secrets.token_hex(4),    # a '/' inside, as masks used to stop there
    "@TOKEN@": "tk-" + secrets.token_hex(8),
    "@NUMBER_TEXT@": _DIGITS,                                               # a numeric password, quoted
}


def _generated(value):
    """The cases' variables with each placeholder replaced; '@NUMBER@' alone is the unquoted number itself."""
    if isinstance(value, dict):
        return dict((key, _generated(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_generated(item) for item in value]
    if value == "@NUMBER@":
        return int(_DIGITS)
    if isinstance(value, str):
        for placeholder, secret in GENERATED.items():
            value = value.replace(placeholder, secret)
    return value


with open(os.path.join(os.path.dirname(__file__), "first_play_cases.yml")) as _handle:
    CASES = _generated(yaml.safe_load(_handle))
CONTROLS = dict((case["id"], case) for case in CASES["controls"])
REFUSED = dict((case["id"], case) for case in CASES["refused"])

# A valid inventory with Traefik and monitoring on, under every case
TOOLS = os.path.join(ROOT, ".cache", "tools", "bin")
BASE = {"traefik_acme_email": "ops@erpstack-test.net", "monitoring_grafana_host": "grafana.erpstack-test.net"}
FACTS = {"ansible_memtotal_mb": 16384, "ansible_processor_vcpus": 4, "ansible_service_mgr": "systemd",
         "ansible_distribution": "Debian", "ansible_distribution_release": "bookworm"}
# Values the cases give to secret-bearing settings, and each half of the one with a '/': none may appear anywhere
SECRETS = tuple(GENERATED.values()) + tuple(GENERATED["@URL_PASSWORD@"].split("/"))
# What never belongs in a refusal an operator reads
NOISE = ("Traceback", "object has no attribute", "is undefined", "TemplateSyntaxError", "unexpected char",
         "unexpected end of template", "expected token", "Jinja")


def _playbook(results):
    tasks = [{"name": "Pretend the host facts", "ansible.builtin.set_fact": dict(FACTS, cacheable=True)},
             {"name": "Start with no results", "ansible.builtin.set_fact": {"results": {}}}]
    record = "{{ results | combine({%s: %s}) }}"
    for name, case in sorted(list(CONTROLS.items()) + list(REFUSED.items())):
        tasks.append({
            "name": name,
            "block": [
                {"name": "Run the first play's checks", "ansible.builtin.include_tasks": os.path.join(
                    ROOT, "playbooks", "tasks", "check_plan.yml"),
                 "vars": dict(BASE, deployment_plan_reuse=True, **case["vars"])},
                {"name": "Record a pass", "ansible.builtin.set_fact": {"results": record % (json.dumps(name), "'passed'")}},
            ],
            "rescue": [{"name": "Record the refusal", "ansible.builtin.set_fact": {
                "results": record % (json.dumps(name), "([ansible_failed_result.msg | default('')] + "
                                                       "ansible_failed_result.results | default([]) | "
                                                       "map(attribute='msg', default='') | list + "
                                                       "[ansible_failed_result.stderr | default('')]) | select | join(' ')")}}],
        })
    tasks.append({"name": "Save the results", "ansible.builtin.copy": {
        "content": "{{ results | to_json }}", "dest": results, "mode": "0600"}})
    return [{"name": "The first play's checks, case by case", "hosts": "localhost", "connection": "local",
             "gather_facts": False, "tasks": tasks}]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("first_play")
    results = tmp / "results.json"
    playbook = tmp / "first_play.yml"
    playbook.write_text(json.dumps(_playbook(str(results)), indent=1))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_ROLES_PATH=os.path.join(ROOT, "roles"), ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS),
               # the controller's promtool and amtool, as tests/harness/images.sh copies them from the suite image
               PATH=os.pathsep.join([TOOLS, os.environ.get("PATH", "")]))
    proc = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "localhost,", "-e",
                           "ansible_python_interpreter=" + sys.executable, str(playbook)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=900, check=False)
    assert proc.returncode == 0 and results.exists(), proc.stdout[-4000:]
    with open(str(results)) as handle:
        return json.load(handle), proc.stdout


def test_there_are_at_least_150_bad_inputs_across_every_role():
    assert len(REFUSED) >= 150
    prefixes = set()
    for case in REFUSED.values():
        prefixes.update(name.split("_", 1)[0] for name in case["vars"])
    assert prefixes >= {"erpnext", "traefik", "backup", "monitoring", "docker", "erpstack"}


@pytest.mark.parametrize("case", sorted(CONTROLS))
def test_a_good_inventory_passes(outcomes, case):
    assert outcomes[0][case] == "passed"


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_bad_inventory_is_refused_in_the_first_play(outcomes, case):
    outcome = outcomes[0][case]
    assert outcome != "passed", "accepted"
    assert REFUSED[case]["refused"] in outcome, outcome
    for noise in NOISE:
        assert noise not in outcome, outcome


def test_no_secret_of_any_case_is_printed(outcomes):
    text = json.dumps(outcomes[0]) + outcomes[1]
    for secret in SECRETS:
        assert secret not in text, secret


def test_the_controllers_programs_checked_every_case(outcomes):
    """The refusals that only Traefik, promtool and amtool give are real: no check was skipped for want of them."""
    assert os.path.isfile(os.path.join(TOOLS, "promtool")), "run tests/harness/images.sh first"
    statuses = re.findall(r"^TASK \[[^\]]*with the controller's (\w+)\] \**\n(\w+):", outcomes[1], re.M)
    ran = collections.Counter(program for program, status in statuses if status in ("ok", "fatal"))
    assert not [status for program, status in statuses if status not in ("ok", "fatal")], statuses
    assert min(ran["Traefik"], ran["promtool"], ran["amtool"]) >= 5, ran
