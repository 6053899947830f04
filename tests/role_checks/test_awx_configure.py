# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/awx_configure.yml's payloads, checked as data: no AWX can be installed here (PyPI's `awx` is a
placeholder, the real one ships as container images from a registry this machine cannot reach). Each task's
arguments, rendered for every item of playbooks/vars/awx_controller.yml, must pass the awx.awx module's own argument
spec; the surveys must pass AWX's survey rules and ask exactly what the playbooks read; the injectors must render."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os
import re

import jinja2.sandbox
import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.deployment import BENCH_SECRETS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOADER = DataLoader()
PLAYBOOK = LOADER.load_from_file(os.path.join(ROOT, "playbooks", "awx_configure.yml"), trusted_as_template=True)
DATA = LOADER.load_from_file(os.path.join(ROOT, "playbooks", "vars", "awx_controller.yml"), trusted_as_template=True)
# what an operator passes on the command line (the playbook's first task requires them)
OPERATOR = {
    "awx_project_scm_url": "https://git.example.com/ops/erp.git",
    "awx_ee_image": "registry.example.com/erpstack/erpnext-ee:0.4.0",
    "awx_credentials": [{"name": "erpstack restic", "credential_type": "erpstack restic repository",
                         "inputs": {"repository": "/srv/restic", "password": "not-a-real-password"}}],
}
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


class _Captured(Exception):
    pass


def module_argument_spec(fqcn):
    """The argument spec an awx.awx module builds in main(), with the controller authentication options."""
    name = fqcn.split(".")[-1]
    module = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name)
    real = module.ControllerAPIModule
    captured = {}

    class Fake(object):  # pylint: disable=too-few-public-methods
        def __init__(self, argument_spec, **kwargs):
            captured.update(real.AUTH_ARGSPEC)
            captured.update(argument_spec)
            captured["__kwargs__"] = kwargs
            raise _Captured()
    module.ControllerAPIModule = Fake
    try:
        module.main()
    except _Captured:
        pass
    finally:
        module.ControllerAPIModule = real
    kwargs = captured.pop("__kwargs__")
    return captured, kwargs


def awx_tasks():
    tasks = [t for play in PLAYBOOK for t in play["tasks"]]
    return [(t["name"], next(k for k in t if k.startswith("awx.awx.")), t) for t in tasks
            if any(k.startswith("awx.awx.") for k in t)]


def rendered_calls(task, module):
    variables = dict(DATA, **OPERATOR)
    templar = Templar(loader=LOADER, variables=variables)
    items = templar.template(task["loop"]) if "loop" in task else [None]
    calls = []
    for item in items:
        templar = Templar(loader=LOADER, variables=dict(variables, item=item))
        args = templar.template(task[module])
        calls.append((item, {k: v for k, v in args.items() if not _omitted(v)}))
    return calls


def _omitted(value):
    return type(value).__name__ == "Omit" or (isinstance(value, str) and value.startswith("__omit_place_holder__"))


@pytest.mark.parametrize("name,module,task", awx_tasks(), ids=[t[0] for t in awx_tasks()])
def test_each_task_passes_the_awx_module_argument_spec(name, module, task):
    spec, kwargs = module_argument_spec(module)
    calls = rendered_calls(task, module)
    assert calls, name
    for item, args in calls:
        result = ArgumentSpecValidator(spec, mutually_exclusive=kwargs.get("mutually_exclusive"),
                                       required_if=kwargs.get("required_if")).validate(args)
        assert not result.error_messages, (name, (item or {}).get("name"), result.error_messages)
        # a value the module would coerce is a mistake in the data: types must already be right
        for key, value in args.items():
            wanted = spec[key].get("type", "str")
            if wanted == "bool":
                assert isinstance(value, bool), (name, key, value)
            if wanted == "dict":
                assert isinstance(value, dict), (name, key, value)


def test_every_job_template_names_a_playbook_of_the_project_and_an_inventory():
    inventories = {i["name"] for i in DATA["awx_inventories"]}
    for template in DATA["awx_job_templates"]:
        assert os.path.isfile(os.path.join(ROOT, template["playbook"])), template["name"]
        assert template["inventory"] in inventories, template["name"]
    for inv in DATA["awx_inventories"]:
        assert os.path.isfile(os.path.join(ROOT, inv["path"])), inv["name"]
    wanted = {"deploy", "upgrade", "backup now", "restore", "restore drill", "rotate secret", "refresh staging"}
    assert {t["name"].replace("erpstack ", "") for t in DATA["awx_job_templates"]} == wanted


def _playbook_vars(path):
    """The play variables a playbook declares, and the extra variables its play variables read with a default (a
    task keyword's name, such as until, cannot be declared)."""
    names = set()
    for play in LOADER.load_from_file(os.path.join(ROOT, path)):
        names.update((play.get("vars") or {}).keys())
        for value in (play.get("vars") or {}).values():
            names.update(re.findall(r"\{\{\s*([a-z][a-z0-9_]*)\s*\|\s*default\(", value if isinstance(value, str) else ""))
    return {n for n in names if not n.startswith("_")}


@pytest.mark.parametrize("template", [t for t in DATA["awx_job_templates"] if t.get("survey")],
                         ids=lambda t: t["name"])
def test_each_survey_passes_awx_rules_and_asks_what_the_playbook_reads(template):
    seen = set()
    reads = _playbook_vars(template["playbook"]) | {"erpnext_rotate"}
    for q in template["survey"]:
        assert set(q) <= {"variable", "question_name", "question_description", "type", "required", "default",
                          "min", "max", "choices"}, q
        assert q["type"] in SURVEY_TYPES, q
        assert re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", q["variable"]) and q["variable"] not in seen, q
        seen.add(q["variable"])
        assert q["variable"] in reads, (template["playbook"], q["variable"])
        assert isinstance(q["required"], bool) and isinstance(q["question_name"], str), q
        if q["type"] in ("multiplechoice", "multiselect"):
            choices = q["choices"]
            assert isinstance(choices, list) and all(isinstance(c, str) for c in choices), q
            defaults = q["default"].split("\n") if q["type"] == "multiselect" else [q["default"]]
            assert all(d in choices for d in defaults if d), q
        if q["type"] in ("text", "textarea", "password"):
            assert isinstance(q["min"], int) and isinstance(q["max"], int) and q["min"] <= q["max"], q
            # an empty default of a required question is one the operator must answer
            assert not q["default"] or q["min"] <= len(q["default"]) <= q["max"], q
        # a secret is asked as a password (never echoed) or, better, comes from a credential
        if re.search(r"password|secret|token|key", q["variable"]):
            assert q["type"] == "password" and not q.get("default"), q


def test_the_rotate_survey_offers_exactly_the_bench_secrets_the_playbook_rotates():
    survey = next(t for t in DATA["awx_job_templates"] if t["name"] == "erpstack rotate secret")["survey"]
    assert survey[0]["choices"] == list(BENCH_SECRETS)


def test_the_survey_sources_are_the_ones_the_playbooks_accept():
    restore = open(os.path.join(ROOT, "playbooks", "restore.yml")).read()
    drill = open(os.path.join(ROOT, "playbooks", "restore_drill.yml")).read()
    templates = {t["name"]: t for t in DATA["awx_job_templates"]}
    source = {q["variable"]: q for q in templates["erpstack restore"]["survey"]}["source"]
    assert "source in %s" % str(source["choices"]) in restore
    source = {q["variable"]: q for q in templates["erpstack restore drill"]["survey"]}["source"]
    assert "source in %s" % str(source["choices"]) in drill


def test_the_credential_types_render_as_awx_renders_them_and_keep_secrets_secret():
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.ChainableUndefined)
    for ctype in DATA["awx_credential_types"]:
        fields = {f["id"]: f for f in ctype["inputs"]["fields"]}
        assert set(ctype["inputs"]["required"]) <= set(fields), ctype["name"]
        for field in fields.values():
            if re.search(r"password|secret|token|value", field["id"]):
                assert field.get("secret") is True, (ctype["name"], field["id"])
        inputs = {k: "v-" + k for k in fields}
        for kind in ("extra_vars", "env"):
            for key, value in _flatten(ctype["injectors"].get(kind, {})):
                rendered = env.from_string(str(value)).render(**inputs)
                assert "{{" not in rendered and rendered, (ctype["name"], key)
    acme = next(t for t in DATA["awx_credential_types"] if t["name"] == "erpstack ACME DNS provider")
    template = str(acme["injectors"]["extra_vars"]["awx_acme_dns_credentials_json"])
    one = env.from_string(template).render(provider="cloudflare", variable_1="CF_DNS_API_TOKEN", value_1='a"b',
                                           variable_2="", value_2="")
    assert yaml.safe_load(one) == {"CF_DNS_API_TOKEN": 'a"b'}


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, sub in value.items():
            yield from _flatten(sub, prefix + "." + key)
    else:
        yield prefix, value


def test_the_workflow_runs_the_drill_after_a_successful_backup_and_is_scheduled():
    workflow = DATA["awx_workflows"][0]
    nodes = {n["identifier"]: n for n in workflow["nodes"]}
    assert nodes["backup"]["unified_job_template"]["name"] == "erpstack backup now"
    assert nodes["backup"]["related"]["success_nodes"] == [{"identifier": "drill"}]
    assert nodes["drill"]["unified_job_template"]["name"] == "erpstack restore drill"
    assert DATA["awx_schedules"][0]["workflow"] == workflow["name"]
    assert re.match(r"^DTSTART;TZID=UTC:\d{8}T\d{6} RRULE:FREQ=DAILY;INTERVAL=1$", DATA["awx_nightly_rrule"])


def _run_configure(tmp_path, *extra):
    import subprocess
    from _preflight import ANSIBLE_BIN
    # a controller address where nothing listens: the run must get as far as the first controller call
    env = dict(os.environ, CONTROLLER_HOST="https://127.0.0.1:9", CONTROLLER_OAUTH_TOKEN="not-a-real-token-2f8e",
               ANSIBLE_COLLECTIONS_PATH="", ANSIBLE_LOCAL_TEMP=str(tmp_path), ANSIBLE_NOCOLOR="1")
    result = subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "localhost,", "--check",
                             "playbooks/awx_configure.yml"] + list(extra), cwd=ROOT, env=env, check=False,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return result.returncode, re.sub(r"\s+", " ", result.stdout.decode())


def test_a_check_mode_run_passes_its_checks_and_the_module_arguments_then_needs_the_controller(tmp_path):
    # AnsibleModule validates the arguments before the module connects: a connection error at the first controller
    # task means the playbook's own checks passed and that task's arguments were accepted by the real module
    rc, out = _run_configure(tmp_path, "-e", "awx_project_scm_url=" + OPERATOR["awx_project_scm_url"],
                             "-e", "awx_ee_image=" + OPERATOR["awx_ee_image"])
    assert rc == 2, out
    assert "TASK [Create the execution environment]" in out, out
    assert "Connection refused" in out and "Unsupported parameters" not in out, out
    assert "not-a-real-token-2f8e" not in out


def test_a_missing_project_url_is_refused_before_the_controller_is_called(tmp_path):
    rc, out = _run_configure(tmp_path, "-e", "awx_ee_image=registry.example.com/erpstack/erpnext-ee:latest")
    assert rc == 2, out
    assert "Set awx_project_scm_url (the git URL AWX syncs the project from) and awx_ee_image" in out, out
    assert "Traceback" not in out and "TASK [Create the execution environment]" not in out, out
