# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The example inventories parse, and the prod vault opens with its documented example password."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import subprocess

import pytest

from _preflight import ANSIBLE_BIN, EXTRA_COLLECTIONS

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = ANSIBLE_BIN
VAULT_PASS = os.path.join(ROOT, "inventories", "prod", "vault-password.example")


def run(*argv):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.pathsep.join([os.path.join(ROOT, "collections")] + EXTRA_COLLECTIONS))
    return subprocess.run([os.path.join(BIN, argv[0])] + list(argv[1:]), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)


@pytest.mark.parametrize("name", ["local", "dev", "staging", "prod"])
def test_inventory_lists_an_erpnext_group(name):
    result = run("ansible-inventory", "-i", "inventories/%s" % name, "--list")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["erpnext"]["hosts"]


def test_prod_vault_opens_with_the_documented_example_password():
    result = run("ansible", "localhost", "-i", "inventories/prod", "--vault-password-file", VAULT_PASS,
                 "-e", "@inventories/prod/group_vars/erpnext/vault.yml", "-m", "ansible.builtin.debug",
                 "-a", "msg={{ vault_erpnext_admin_password_erp | length }}")
    assert result.returncode == 0, result.stderr
    # 'msg: 29' from ansible-core 2.19 on (native types), "msg: '29'" before
    assert re.search(r"msg: '?29'?\n", result.stdout), result.stdout


def test_prod_vault_is_encrypted_on_disk():
    with open(os.path.join(ROOT, "inventories", "prod", "group_vars", "erpnext", "vault.yml")) as handle:
        text = handle.read()
    assert "vault_erpnext_admin_password_erp: !vault |" in text
    assert "$ANSIBLE_VAULT;1.1;AES256" in text
    assert "Example-Only" not in text


def test_prod_vault_value_needs_the_vault_password():
    result = run("ansible", "localhost", "-i", "inventories/prod", "-e", "@inventories/prod/group_vars/erpnext/vault.yml",
                 "-m", "ansible.builtin.debug", "-a", "msg={{ vault_erpnext_admin_password_erp | length }}")
    assert result.returncode != 0
    assert "Example-Only" not in result.stdout + result.stderr


def test_dev_staging_and_prod_share_one_group_vars_all():
    shared = os.path.realpath(os.path.join(ROOT, "inventories", "shared", "group_vars", "all.yml"))
    for name in ("dev", "staging", "prod"):
        assert os.path.realpath(os.path.join(ROOT, "inventories", name, "group_vars", "all.yml")) == shared


def test_envdiff_prints_the_settings_that_differ_in_kind():
    result = subprocess.run([os.path.join(BIN, "python"), os.path.join(ROOT, "scripts", "envdiff.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert result.returncode == 0, result.stderr
    rows = dict((line.split()[0], " ".join(line.split()[1:])) for line in result.stdout.splitlines()[1:])
    assert result.stdout.splitlines()[0].split()[1:] == ["dev", "|", "staging", "|", "prod"]
    assert rows["erpnext_mode"] == "development | production (default) | production (default)"
    assert rows["erpstack_environment"] == "dev | staging | prod"
    assert rows["traefik_acme_staging"] == "false (default) | true | false (default)"
    assert rows["erpnext_mute_emails"] == "false (default) | true | false (default)"
    # the shared settings are not differences, and no encrypted value is opened
    assert "erpnext_version" not in rows and "traefik_acme_email" not in rows
    assert rows["vault_erpnext_admin_password_erp"].endswith("| (vault)")
