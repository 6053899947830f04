# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The managed_files action renders a role's templates and reads its files on the controller exactly as the template
and copy modules do (the roles moved from those modules to it: users must see the same bytes), then applies every
entry in one module run: changed once, then not, in check mode neither."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess
import sys

import pytest

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

TEMPLATE = """# {{ ansible_managed }}
[Unit]
Description=thing {{ bench }}
{% if bench == 'alpha' %}
Alpha=yes
{% endif %}
Value={{ plain }}


"""


def _role(base):
    for sub in ("tasks", "templates", "files"):
        (base / "roles" / "probe" / sub).mkdir(parents=True)
    (base / "roles" / "probe" / "templates" / "unit.j2").write_text(TEMPLATE)
    (base / "roles" / "probe" / "files" / "tool.py").write_text("#!/usr/bin/python3\nprint('tool')\n\n")
    out = str(base / "out")
    tasks = [
        {"name": "Render with the template module", "ansible.builtin.template": {
            "src": "unit.j2", "dest": out + "/by-template", "mode": "0644"}, "vars": {"bench": "alpha"}},
        {"name": "Copy with the copy module", "ansible.builtin.copy": {
            "src": "tool.py", "dest": out + "/by-copy", "mode": "0644"}},
        {"name": "Apply the entries", "erpstack.erpnext.managed_files": {"entries": [
            {"path": out + "/dir", "state": "directory", "mode": "0750"},
            {"path": out + "/dir/by-managed", "template": "unit.j2", "template_vars": {"bench": "alpha"},
             "mode": "0644"},
            {"path": out + "/dir/by-managed-src", "src": "tool.py", "mode": "0755"},
            {"path": out + "/dir/text", "content": "plain {{ plain }}\n", "mode": "0600"},
        ]}},
    ]
    with open(str(base / "roles" / "probe" / "tasks" / "main.yml"), "w") as handle:
        json.dump(tasks, handle)
    play = [{"name": "Probe", "hosts": "localhost", "connection": "local", "gather_facts": False,
             "vars": {"plain": "v{{ 1 + 1 }}"}, "roles": ["probe"]}]
    (base / "play.yml").write_text(json.dumps(play))
    (base / "out").mkdir()
    two_sources = {"name": "Two sources", "erpstack.erpnext.managed_files": {"entries": [
        {"path": out + "/x", "content": "x", "template": "unit.j2", "mode": "0644"}]}}
    (base / "bad.yml").write_text(json.dumps([{"name": "Bad", "hosts": "localhost", "connection": "local",
                                               "gather_facts": False, "tasks": [two_sources]}]))


def _run(base, playbook, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_ROLES_PATH=str(base / "roles"),
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS))
    return subprocess.run([os.path.join(ANSIBLE_BIN, "ansible-playbook"), "-i", "localhost,",
                           "-e", "ansible_python_interpreter=" + sys.executable, str(base / playbook)] + list(args),
                          cwd=str(base), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)


def _changed(output):
    return int(re.search(r"localhost\s+: ok=\d+\s+changed=(\d+)", output).group(1))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("managed_files")
    _role(base)
    return base, [_run(base, "play.yml"), _run(base, "play.yml", "--diff"), _run(base, "play.yml", "--check", "--diff"),
                  _run(base, "bad.yml")]


def _read(path):
    with open(str(path), "rb") as handle:
        return handle.read()


def test_templates_and_files_come_out_as_the_template_and_copy_modules_write_them(runs):
    base, (first, _again, _check, _bad) = runs
    assert first.returncode == 0, first.stdout[-3000:]
    assert _read(base / "out" / "dir" / "by-managed") == _read(base / "out" / "by-template")
    assert _read(base / "out" / "dir" / "by-managed-src") == _read(base / "out" / "by-copy")
    assert _read(base / "out" / "dir" / "text") == b"plain v2\n"
    assert oct(os.stat(str(base / "out" / "dir")).st_mode & 0o777) == "0o750"
    assert oct(os.stat(str(base / "out" / "dir" / "by-managed-src")).st_mode & 0o777) == "0o755"


def test_a_second_run_and_check_mode_change_nothing(runs):
    _base, (first, again, check, _bad) = runs
    assert _changed(first.stdout) == 3
    assert again.returncode == 0 and _changed(again.stdout) == 0, again.stdout[-3000:]
    assert check.returncode == 0 and _changed(check.stdout) == 0, check.stdout[-3000:]


def test_an_entry_with_two_sources_is_refused_with_its_path(runs):
    base, (_first, _again, _check, bad) = runs
    assert bad.returncode != 0
    # (the YAML result format folds long lines: compare with the whitespace collapsed)
    assert "entries[0] (%s/out/x): give one of content, template and src, not content and template" % base \
        in " ".join(bad.stdout.split())
    assert not os.path.exists(str(base / "out" / "x"))
