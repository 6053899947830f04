# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of erpstack.erpnext.bench_site and its helper module_utils._bench.

Module flows are data (fixtures/bench_site/cases.yaml): each case lists the exact
commands the module must run, with their standard input and captured outputs.
``AnsibleModule.run_command`` is replaced by a fake that checks every call against
that list, so a missing, extra or reordered command, or a password on a command
line, fails the test.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.erpstack.erpnext.plugins.module_utils import _bench
from ansible_collections.erpstack.erpnext.plugins.modules import bench_site


FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'bench_site')

# Distinctive values, so any leak is found by a plain substring search.
ROOT_PASSWORD = 'R00t-pw/Zq8%x7'
ADMIN_PASSWORD = 'Adm1n pw!Kd93'
SECRETS = (ROOT_PASSWORD, ADMIN_PASSWORD)

EXEC_PREFIX = ['/testbin/docker', 'compose', '--project-directory', '@PROJECT@', 'exec', '-T',
               '-u', 'frappe', '-w', '/home/frappe/frappe-bench', 'backend']


def _load_cases():
    with open(os.path.join(FIXTURES, 'cases.yaml')) as handle:
        return yaml.safe_load(handle)


CASES = _load_cases()


def _fixture_text(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


class ExitJson(Exception):
    def __init__(self, result):
        super(ExitJson, self).__init__(result)
        self.result = result


class FailJson(Exception):
    def __init__(self, result):
        super(FailJson, self).__init__(result.get('msg'))
        self.result = result


def expand(value, subs):
    """Replace the placeholders of cases.yaml; ``@EXEC@`` as a list item is spliced."""
    if isinstance(value, list):
        expanded = []
        for item in value:
            if item == '@EXEC@':
                expanded.extend(expand(EXEC_PREFIX, subs))
            else:
                expanded.append(expand(item, subs))
        return expanded
    if isinstance(value, dict):
        return dict((key, expand(item, subs)) for key, item in value.items())
    if isinstance(value, str):
        for placeholder, replacement in subs.items():
            value = value.replace(placeholder, replacement)
    return value


class FakeRunCommand(object):
    """Stands in for AnsibleModule.run_command; serves and checks the expected calls in order."""

    def __init__(self, calls):
        self.expected = list(calls)
        self.seen = []

    def __call__(self, module, args, check_rc=False, data=None, binary_data=False, **kwargs):
        index = len(self.seen)
        assert isinstance(args, list), 'commands must be argv lists (no shell), got %r' % (args,)
        self.seen.append({'argv': list(args), 'data': data})
        assert index < len(self.expected), 'unexpected command #%d: %r' % (index, args)
        call = self.expected[index]
        assert args == call['argv'], 'command #%d differs' % index
        # What the process really receives: run_command appends a newline unless binary_data.
        stdin = None
        if data:
            stdin = data if binary_data else data + '\n'
        assert stdin == call.get('stdin'), 'standard input of command #%d differs' % index
        assert not check_rc, 'the module must handle exit codes itself'
        out = call.get('out', '')
        if 'out_file' in call:
            out = call['out_file']
        err = call.get('err', '')
        if 'err_file' in call:
            err = call['err_file']
        return call['rc'], out, err

    def assert_done(self):
        assert len(self.seen) == len(self.expected), 'expected commands not run: %r' % (
            [call['argv'] for call in self.expected[len(self.seen):]],)


@pytest.fixture
def module_env(monkeypatch):
    """Patch AnsibleModule so results and failures are raised with the raw (unmasked) values."""
    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        kwargs['failed'] = True
        raise FailJson(kwargs)

    def get_bin_path(self, arg, required=False, opt_dirs=None):
        return '/testbin/' + arg

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setattr(basic.AnsibleModule, 'get_bin_path', get_bin_path)
    return monkeypatch


def run_module(monkeypatch, args, calls):
    fake = FakeRunCommand(calls)

    def run_command(self, *args, **kwargs):
        return fake(self, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    with patch_module_args(args):
        with pytest.raises((ExitJson, FailJson)) as excinfo:
            bench_site.main()
    return excinfo.value, fake


def prepare_case(case, tmp_path):
    """Materialise a case: project directory, password files, expanded args and calls."""
    project = tmp_path / 'project'
    project.mkdir()
    if case.get('compose_file', True):
        (project / 'compose.yaml').write_text('services: {}\n')
    secrets_dir = tmp_path / 'secrets'
    secrets_dir.mkdir()
    subs = {
        '@PROJECT@': str(project),
        '@TMP@': str(secrets_dir),
        '@ROOT_PASSWORD@': ROOT_PASSWORD,
        '@ADMIN_PASSWORD@': ADMIN_PASSWORD,
    }
    for name, content in (case.get('files') or {}).items():
        (secrets_dir / name).write_bytes(expand(content, subs).encode('utf-8'))
    args = dict(project_dir=str(project))
    args.update(expand(case['input'], subs))
    calls = []
    for call in expand(case['calls'], subs):
        for key in ('out_file', 'err_file'):
            if key in call:
                call[key] = expand(_fixture_text(call[key]), subs)
        calls.append(call)
    return args, calls, subs


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_module_flow(case, module_env, tmp_path):
    args, calls, subs = prepare_case(case, tmp_path)
    outcome, fake = run_module(module_env, args, calls)
    fake.assert_done()
    result = outcome.result

    if case.get('failed', False):
        assert isinstance(outcome, FailJson), 'expected a failure, got %r' % (result,)
        for fragment in case.get('msg_contains', []):
            assert expand(fragment, subs) in result['msg']
    else:
        assert isinstance(outcome, ExitJson), 'unexpected failure: %s' % result.get('msg')
    for key, expected in expand(case.get('output') or {}, subs).items():
        assert result[key] == expected, 'result[%r]' % key


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_secrets_never_leak(case, module_env, tmp_path):
    """No password in any argv, in the whole result, or in the failure message; stdin is the only channel."""
    args, calls, dummy = prepare_case(case, tmp_path)
    outcome, fake = run_module(module_env, args, calls)
    dumped = json.dumps(outcome.result)
    for secret in SECRETS:
        assert secret not in dumped
        assert secret not in str(outcome)
        for seen in fake.seen:
            assert all(secret not in arg for arg in seen['argv'])
    for seen, expected in zip(fake.seen, calls):
        if seen['data'] is not None:
            assert 'stdin' in expected, 'data sent to a command that should get none: %r' % (seen['argv'],)


# ---------------------------------------------------------------------------- site names
VALID_NAMES = [
    'erp.example.com',
    'localhost',
    'a',
    'erp-1.example-2.com',
    'x' * 63 + '.example.com',
    '.'.join(['a' * 63] * 3 + ['b' * 61]),  # 253 characters
]

INVALID_NAMES = [
    '',
    'ERP.example.com',
    'erp_site.example.com',
    '-erp.example.com',
    'erp-.example.com',
    'erp..example.com',
    '.erp.example.com',
    'erp.example.com.',
    'x' * 64 + '.example.com',
    '.'.join(['a' * 63] * 3 + ['b' * 62]),  # 254 characters
    '../etc',
    'erp.example.com/../../etc',
    'erp example.com',
    'assets',
    'érp.example.com',
]


@pytest.mark.parametrize('name', VALID_NAMES)
def test_valid_site_names(name):
    assert _bench.validate_site_name(name) is None


@pytest.mark.parametrize('name', INVALID_NAMES)
def test_invalid_site_names(name):
    assert _bench.validate_site_name(name)


def test_site_name_length_limits_are_exact():
    assert len(VALID_NAMES[-1]) == 253
    assert len(INVALID_NAMES[9]) == 254


@pytest.mark.parametrize('name', INVALID_NAMES)
def test_module_rejects_bad_site_name_before_running_anything(name, module_env, tmp_path):
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'compose.yaml').write_text('services: {}\n')
    outcome, fake = run_module(module_env, dict(name=name, project_dir=str(project)), [])
    assert isinstance(outcome, FailJson)
    assert fake.seen == []
    assert 'Site name' in outcome.result['msg']
    if name:
        assert repr(name) in outcome.result['msg']


def test_label_error_names_the_offending_label():
    msg = _bench.validate_site_name('erp.-bad.example.com')
    assert "offending label: '-bad'" in msg


# ---------------------------------------------------------------------------- list-apps parsing
def test_parse_list_apps_real_format():
    text = _fixture_text('list-apps-frappe-erpnext-hrms.json')
    assert _bench.parse_list_apps(text, 'erp.example.com') == ['frappe', 'erpnext', 'hrms']


def test_parse_list_apps_skips_banner_and_unrelated_json():
    text = ('{"level": "warning", "msg": "not the document"}\n'
            + _fixture_text('list-apps-editable-banner.stdout')
            + 'trailing line\n')
    assert _bench.parse_list_apps(text, 'erp.example.com') == ['frappe', 'erpnext', 'hrms']


def test_parse_list_apps_other_site_is_an_error():
    text = _fixture_text('list-apps-frappe.json')
    with pytest.raises(_bench.BenchError, match='for site other.example.com'):
        _bench.parse_list_apps(text, 'other.example.com')


@pytest.mark.parametrize('text', ['', 'Traceback (most recent call last):\n  boom\n', '{"erp.example.com": [',
                                  _fixture_text('list-apps-text-format.stdout')])
def test_parse_list_apps_rejects_junk(text):
    with pytest.raises(_bench.BenchError, match='Could not find the JSON list'):
        _bench.parse_list_apps(text, 'erp.example.com')


@pytest.mark.parametrize('value', ['"frappe"', '[1, 2]', '{"frappe": true}'])
def test_parse_list_apps_rejects_wrong_shape(value):
    with pytest.raises(_bench.BenchError, match='expected a list of app names'):
        _bench.parse_list_apps('{"erp.example.com": %s}' % value, 'erp.example.com')


# ---------------------------------------------------------------------------- text helpers
def test_scrub_masks_every_secret_longest_first():
    text = 'a=abc123 b=abc c=xabc123y'
    assert _bench.scrub(text, ['abc', 'abc123', None, '']) == 'a=******** b=******** c=x********y'


def test_output_tail_keeps_stdout_then_stderr_and_limits_lines():
    out = '\n'.join('out %d' % i for i in range(5))
    err = '\n'.join('err %d' % i for i in range(30))
    tail = _bench.output_tail(out, err, lines=3).splitlines()
    assert tail == ['err 27', 'err 28', 'err 29']
    assert _bench.output_tail('Site x already exists\n', '\n\n') == 'Site x already exists'


def test_strip_compose_noise():
    err = (_fixture_text('compose-warning.stderr')
           + 'WARN[0000] The "FOO" variable is not set. Defaulting to a blank string.\n')
    assert _bench.strip_compose_noise(err) == ''
    assert _bench.strip_compose_noise(err + 'service "backend" is not running\n') == 'service "backend" is not running'


# ---------------------------------------------------------------------------- secret files
def test_read_secret_file_strips_only_the_line_ending(tmp_path):
    path = tmp_path / 'pw'
    path.write_bytes(b'  spaced pw \r\n')
    assert _bench.read_secret_file(str(path), 'the password') == '  spaced pw '


def test_read_secret_file_rejects_non_utf8_without_showing_it(tmp_path):
    path = tmp_path / 'pw'
    path.write_bytes(b'\xff\xfe Kd93-latin1')
    with pytest.raises(_bench.BenchError) as excinfo:
        _bench.read_secret_file(str(path), 'the password')
    assert 'The password in %s is not valid UTF-8.' % path == str(excinfo.value)
    assert 'Kd93' not in str(excinfo.value)


def test_add_secret_registers_with_ansible_masking():
    class Module(object):
        no_log_values = set()

    runner = _bench.BenchRunner(Module(), '/nonexistent')
    runner.add_secret('from-a-file')
    runner.add_secret(None)
    assert runner.secrets == set(['from-a-file'])
    assert Module.no_log_values == set(['from-a-file'])


def test_file_passwords_are_registered_as_no_log_values(module_env, tmp_path):
    """Secrets read from files are masked by Ansible too, not only by the module's own scrubbing."""
    case = dict((c['id'], c) for c in CASES)['create_with_password_files']
    args, calls, dummy = prepare_case(case, tmp_path)
    captured = {}
    original_init = basic.AnsibleModule.__init__

    def init(self, *a, **kw):
        original_init(self, *a, **kw)
        captured['module'] = self

    module_env.setattr(basic.AnsibleModule, '__init__', init)
    outcome, fake = run_module(module_env, args, calls)
    assert isinstance(outcome, ExitJson)
    assert set(SECRETS) <= captured['module'].no_log_values


# ---------------------------------------------------------------------------- docker CLI
def test_docker_cli_not_on_path_fails_clearly(monkeypatch, tmp_path):
    project = tmp_path / 'project'
    project.mkdir()
    (project / 'compose.yaml').write_text('services: {}\n')

    def exit_json(self, **kwargs):
        raise ExitJson(kwargs)

    def fail_json(self, msg, **kwargs):
        raise FailJson(dict(kwargs, msg=msg))

    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)
    monkeypatch.setenv('PATH', str(tmp_path))
    outcome, fake = run_module(monkeypatch, dict(name='erp.example.com', project_dir=str(project)), [])
    assert isinstance(outcome, FailJson)
    assert 'docker' in outcome.result['msg']
    assert fake.seen == []


def test_project_dir_that_is_not_a_directory(module_env, tmp_path):
    outcome, fake = run_module(module_env, dict(name='erp.example.com', project_dir=str(tmp_path / 'nope')), [])
    assert isinstance(outcome, FailJson)
    assert 'does not exist or is not a directory' in outcome.result['msg']
    assert fake.seen == []


def test_common_config_keys_only_accepts_identifiers():
    class Module(object):
        no_log_values = set()

    runner = _bench.BenchRunner(Module(), '/nonexistent')
    with pytest.raises(ValueError):
        runner.common_config_keys(['root_password', 'x|.*'])
