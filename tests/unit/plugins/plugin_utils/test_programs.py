# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's programs run on candidate files: what counts as accepted, the exact command, the temporary file
gone afterwards, and no value of a secret file in a refusal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest
import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils import programs

SECRETS = ["pa/ss@wo:rd'\"x", "line1\nline2-secret", "https://user:tok/en@hooks.example.net/path"]


def fake(tmp_path, name, script):
    """A program NAME on a PATH of its own that logs its argv and the file it was given, then runs SCRIPT."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    path = bindir / name
    path.write_text("#!/bin/sh\necho \"$@\" > %s/argv\nfor a; do case $a in *erpstack-check-*) f=${a#--configFile=};; "
                    "esac; done\ncp \"$f\" %s/seen; ls -l \"$f\" | cut -c1-10 > %s/mode\n%s\n"
                    % (tmp_path, tmp_path, tmp_path, script))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(bindir)


@pytest.mark.parametrize("check, argv", [
    ("prometheus_rules", "check rules {file}"),
    ("prometheus_config", "check config --syntax-only {file}"),
    ("alertmanager_config", "check-config {file}"),
    ("traefik_static", "healthcheck --configFile={file}"),
])
def test_the_exact_command_on_a_private_file_removed_afterwards(tmp_path, monkeypatch, check, argv):
    monkeypatch.setattr(programs.sys, "executable", str(tmp_path / "no-venv" / "python"))
    path = fake(tmp_path, programs.CHECKS[check][0], "exit 0")
    status, message = programs.run_check(check, "a: 1\n", path=path)
    assert status == "ok", message
    logged = (tmp_path / "argv").read_text().split()
    name = [arg for arg in logged if "erpstack-check-" in arg][0].replace("--configFile=", "")
    assert " ".join(logged) == argv.format(file=name)
    assert not os.path.exists(name)
    assert (tmp_path / "seen").read_text() == "a: 1\n"
    assert (tmp_path / "mode").read_text().strip() == "-rw-------"


def test_traefik_accepts_a_file_it_parsed_before_the_ping_failed(tmp_path, monkeypatch):
    monkeypatch.setattr(programs.sys, "executable", str(tmp_path / "no-venv" / "python"))
    path = fake(tmp_path, "traefik", "echo 'Error calling healthcheck: Get \"http://:8082/ping\": refused'; exit 1")
    assert programs.run_check("traefik_static", "log: {}\n", path=path)[0] == "ok"
    path = fake(tmp_path, "traefik", "echo 'command traefik error: field not found, node: levl'; exit 1")
    status, message = programs.run_check("traefik_static", "log: {levl: x}\n", path=path)
    assert (status, message) == ("failed", "traefik refuses Traefik's static configuration: "
                                           "command traefik error: field not found, node: levl")


def test_a_refusal_names_the_file_by_its_kind_not_its_temporary_path(tmp_path, monkeypatch):
    monkeypatch.setattr(programs.sys, "executable", str(tmp_path / "no-venv" / "python"))
    path = fake(tmp_path, "promtool", 'echo "Checking $3"; echo "  FAILED: $3: 1:2: parse error" >&2; exit 1')
    status, message = programs.run_check("prometheus_rules", "groups: []\n", path=path)
    assert (status, message) == ("failed", "promtool refuses the Prometheus alert rules: Checking <prometheus_rules> "
                                           "FAILED: <prometheus_rules>: 1:2: parse error")


def test_no_value_of_a_secret_file_is_repeated_even_when_the_program_prints_the_whole_file(tmp_path, monkeypatch):
    monkeypatch.setattr(programs.sys, "executable", str(tmp_path / "no-venv" / "python"))
    data = {"global": {"smtp_auth_password": SECRETS[0]},
            "receivers": [{"name": "ops", "webhook_configs": [{"url": SECRETS[2]}]}],
            "templates": [SECRETS[1]]}
    content = yaml.safe_dump(data)
    path = fake(tmp_path, "amtool", 'cat "$2"; echo "$2" | base64; exit 1')
    status, message = programs.run_check("alertmanager_config", content, data=data, secret=True, path=path)
    assert status == "failed" and message.startswith("amtool refuses Alertmanager's configuration: ")
    for piece in ("pa/ss@wo:rd", "line1", "line2-secret", "user:tok", "tok/en@hooks"):
        assert piece not in message
    assert programs.MASK in message


def test_without_the_program_the_check_says_what_checked_instead(tmp_path, monkeypatch):
    monkeypatch.setattr(programs.sys, "executable", str(tmp_path / "no-venv" / "python"))
    status, message = programs.run_check("alertmanager_config", "route: {}\n", path=str(tmp_path / "empty"))
    assert (status, message) == ("absent", "amtool is not on the controller: Alertmanager's configuration was checked "
                                           "by the documented grammar only here; the configured image's amtool checks "
                                           "it on the host before it goes live")


def test_the_program_beside_the_controllers_python_comes_first(tmp_path, monkeypatch):
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "traefik").write_text("#!/bin/sh\nexit 0\n")
    (venv / "traefik").chmod(0o755)
    monkeypatch.setattr(programs.sys, "executable", str(venv / "python"))
    other = fake(tmp_path, "traefik", "exit 0")
    assert programs.find_program("traefik", path=other) == str(venv / "traefik")
