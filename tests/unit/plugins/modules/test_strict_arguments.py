# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module refuses a string given for a list or a mapping, which AnsibleModule would split at its commas or
parse as k=v pairs, before it does anything; the faithful conversions (a quoted boolean, a numeric string) stay."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.erpstack.erpnext.plugins.modules import bench_site, compose_state, managed_files, stack_secret


def run(monkeypatch, capfd, module, args):
    payload = dict(args, _ansible_check_mode=True, _ansible_diff=False, _ansible_verbosity=0, _ansible_debug=False,
                   _ansible_remote_tmp='/tmp', _ansible_keep_remote_files=False)
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': payload})))
    monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)
    monkeypatch.setattr(basic, 'has_journal', False)
    monkeypatch.setattr(basic.AnsibleModule, '_log_to_syslog', lambda self, msg: None)
    with pytest.raises(SystemExit):
        module.main()
    return json.loads(capfd.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize('module, args, message', [
    (bench_site, {'name': 'erp.example.net', 'apps': 'erpnext,hrms', 'project_dir': '/nonexistent'},
     "apps must be a list, not str 'erpnext,hrms': write [erpnext,hrms] for one item"),
    (compose_state, {'project_dir': '/nonexistent', 'images': 'frappe/erpnext:v16.32.3'},
     "images must be a list, not str 'frappe/erpnext:v16.32.3': write [frappe/erpnext:v16.32.3] for one item"),
    (stack_secret, {'project_dir': '/nonexistent', 'secrets': 'db_root_password'},
     "secrets must be a list, not str 'db_root_password': write [db_root_password] for one item"),
    (stack_secret, {'project_dir': '/nonexistent', 'secrets': ['db_root_password']},
     'secrets[0] must be a dict, not a string'),
    (managed_files, {'entries': [{'path': '/nonexistent/x', 'template_vars': 'a=1'}]},
     "entries[0].template_vars must be a mapping, not str 'a=1'"),
])
def test_a_string_for_a_list_or_a_mapping_is_refused(monkeypatch, capfd, module, args, message):
    result = run(monkeypatch, capfd, module, args)
    assert result.get('failed') and result['msg'] == message


def test_a_secret_given_in_place_of_a_list_is_not_shown(monkeypatch, capfd):
    spec = {'tokens': {'type': 'list', 'no_log': True}}
    from ansible_collections.erpstack.erpnext.plugins.module_utils import _strict
    problems = _strict._problems(spec, {'tokens': 'pa/ss@wo:rd'}, '')
    assert problems == ['tokens must be a list, not str (secret, not shown): write [ITEM] for one item']


def test_booleans_and_numbers_written_as_text_still_convert(monkeypatch, capfd, tmp_path):
    result = run(monkeypatch, capfd, stack_secret, {'project_dir': str(tmp_path), 'name': 'x', 'rotate': 'false',
                                                    'length': '40', 'owner': '0', 'group': '0'})
    assert not result.get('failed'), result
