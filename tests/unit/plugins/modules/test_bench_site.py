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

import contextlib
import json
import os
import shutil
import stat
import subprocess

import pytest
import yaml

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core before 2.19 reads the arguments from basic._ANSIBLE_ARGS
    @contextlib.contextmanager
    def patch_module_args(args):
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

from ansible_collections.erpstack.erpnext.plugins.module_utils import _bench
from ansible_collections.erpstack.erpnext.plugins.modules import bench_site


FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'bench_site')

# Distinctive values, so any leak is found by a plain substring search.
ROOT_PASSWORD = 'R00t-pw/Zq8%x7'
ADMIN_PASSWORD = 'Adm1n pw!Kd93'
# Shell and jq syntax, so a password that reached a shell or a jq program would break the test.
# No character that json.dumps or repr() would escape, so the plain substring searches stay exact.
DB_PASSWORD = "Db pw$(id)'.db_password'|;Vn5"
SECRETS = (ROOT_PASSWORD, ADMIN_PASSWORD, DB_PASSWORD)

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
        '@DB_PASSWORD@': DB_PASSWORD,
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
    for key in case.get('output_absent') or []:
        assert key not in result, 'result[%r] should not be returned' % key


def _strings(value):
    """Every string in a result: keys, values, items of nested lists and dicts."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


@pytest.mark.parametrize('case', CASES, ids=[case['id'] for case in CASES])
def test_secrets_never_leak(case, module_env, tmp_path):
    """No password in any argv, in the whole result, or in the failure message; stdin is the only channel."""
    args, calls, dummy = prepare_case(case, tmp_path)
    outcome, fake = run_module(module_env, args, calls)
    dumped = json.dumps(outcome.result)
    strings = list(_strings(outcome.result))
    for secret in SECRETS:
        assert secret not in dumped
        assert secret not in str(outcome)
        assert not [text for text in strings if secret in text]
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


@pytest.mark.parametrize('case_id, secrets', [
    ('create_with_password_files', (ROOT_PASSWORD, ADMIN_PASSWORD)),
    ('rotate_both_passwords_in_order', (ADMIN_PASSWORD, DB_PASSWORD)),
])
def test_file_passwords_are_registered_as_no_log_values(case_id, secrets, module_env, tmp_path):
    """Secrets read from files are masked by Ansible too, not only by the module's own scrubbing."""
    case = dict((c['id'], c) for c in CASES)[case_id]
    args, calls, dummy = prepare_case(case, tmp_path)
    captured = {}
    original_init = basic.AnsibleModule.__init__

    def init(self, *a, **kw):
        original_init(self, *a, **kw)
        captured['module'] = self

    module_env.setattr(basic.AnsibleModule, '__init__', init)
    outcome, fake = run_module(module_env, args, calls)
    assert isinstance(outcome, ExitJson)
    assert set(secrets) <= captured['module'].no_log_values


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


def test_run_refuses_both_kinds_of_stdin():
    class Module(object):
        no_log_values = set()

    runner = _bench.BenchRunner(Module(), '/nonexistent')
    with pytest.raises(ValueError):
        runner.run(['true'], ['line'], stdin_data='data')


# ---------------------------------------------------------------------------- db_password rotation
def test_db_password_script_is_the_documented_constant():
    assert _bench.db_password_script('erp.example.com') == (
        'set -eu; f=sites/erp.example.com/site_config.json; t=$(mktemp "$f.XXXXXX"); trap \'rm -f "$t"\' EXIT; '
        'jq --rawfile pw /dev/stdin \'.db_password = $pw\' "$f" > "$t"; '
        'chmod --reference="$f" "$t"; mv "$t" "$f"')


def test_db_password_script_quotes_the_path():
    # Site names are validated before; quoting is a second line of defence.
    assert "f='sites/a b$(x)/site_config.json';" in _bench.db_password_script('a b$(x)')


@pytest.mark.parametrize('output, expected', [
    ('{"db_name":"_1a2b3c4d5e6f7a8b","db_user":null}\n', ('_1a2b3c4d5e6f7a8b', '_1a2b3c4d5e6f7a8b')),
    ('{"db_name":"_1a2b3c4d5e6f7a8b"}\n', ('_1a2b3c4d5e6f7a8b', '_1a2b3c4d5e6f7a8b')),
    ('{"db_name":"_1a2b3c4d5e6f7a8b","db_user":"erp_user"}\n', ('_1a2b3c4d5e6f7a8b', 'erp_user')),
    ('noise\n{"db_name":"_x","db_user":"u"}\n', ('_x', 'u')),
])
def test_parse_db_identity(output, expected):
    assert _bench.parse_db_identity(output, 'erp.example.com') == expected


@pytest.mark.parametrize('output, message', [
    ('', 'did not yield a JSON object'),
    ('null\n', 'did not yield a JSON object'),
    ('{"db_name":\n', 'did not yield a JSON object'),
    ('{"db_name":null,"db_user":null}\n', 'no usable db_name (found null)'),
    ('{"db_name":"","db_user":null}\n', 'no usable db_name (found "")'),
    ('{"db_name":"_x","db_user":7}\n', 'no usable db_user (found 7)'),
])
def test_parse_db_identity_rejects(output, message):
    with pytest.raises(_bench.BenchError, match=message.replace('(', r'\(').replace(')', r'\)')):
        _bench.parse_db_identity(output, 'erp.example.com')


# The script really run, with the jq and sh of this machine (the image has jq >= 1.6 and a POSIX sh).
needs_jq = pytest.mark.skipif(not (shutil.which('jq') and shutil.which('sh')), reason='needs jq and sh')

SITE_CONFIG = {
    'db_name': '_1a2b3c4d5e6f7a8b',
    'db_password': 'old password',
    'db_type': 'mariadb',
    'encryption_key': 'Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmE=',
    'user_type_doctype_limit': {'employee_self_service': 40},
    'host_name': 'https://erp.example.com',
}


def _bench_dir(tmp_path, site, content, mode=0o640):
    site_dir = tmp_path / 'sites' / site
    site_dir.mkdir(parents=True)
    config = site_dir / 'site_config.json'
    config.write_text(content)
    config.chmod(mode)
    return site_dir, config


def _run_script(tmp_path, site, password):
    return subprocess.run(['sh', '-c', _bench.db_password_script(site)], cwd=str(tmp_path),
                          input=password.encode('utf-8'), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          check=False)


@needs_jq
@pytest.mark.parametrize('password', [
    DB_PASSWORD,
    'quote" back\\slash \\n tab\t ünï€ode',
    ' leading and trailing spaces ',
])
def test_db_password_script_rewrites_only_db_password(tmp_path, password):
    site_dir, config = _bench_dir(tmp_path, 'erp.example.com', json.dumps(SITE_CONFIG, indent=1))
    proc = _run_script(tmp_path, 'erp.example.com', password)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(config.read_text())
    assert document['db_password'] == password
    assert dict(document, db_password='old password') == SITE_CONFIG
    assert list(document) == list(SITE_CONFIG), 'key order changed'
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert sorted(os.listdir(str(site_dir))) == ['site_config.json'], 'temporary file left behind'


@needs_jq
def test_db_password_script_adds_a_missing_key(tmp_path):
    site_dir, config = _bench_dir(tmp_path, 'erp.example.com', '{"db_name": "_x"}\n', mode=0o600)
    assert _run_script(tmp_path, 'erp.example.com', 'new').returncode == 0
    assert json.loads(config.read_text()) == {'db_name': '_x', 'db_password': 'new'}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@needs_jq
def test_db_password_script_failure_leaves_the_file_alone(tmp_path):
    broken = '{\n "db_name": "_x"\n "db_password": "old"\n}\n'
    site_dir, config = _bench_dir(tmp_path, 'erp.example.com', broken)
    proc = _run_script(tmp_path, 'erp.example.com', DB_PASSWORD)
    assert proc.returncode != 0
    assert b'parse error' in proc.stderr
    assert DB_PASSWORD.encode('utf-8') not in proc.stderr + proc.stdout
    assert config.read_text() == broken
    assert sorted(os.listdir(str(site_dir))) == ['site_config.json'], 'temporary file left behind'


@needs_jq
def test_db_password_script_takes_the_site_name_literally(tmp_path):
    site = "we ird$(touch pwned)'x"
    site_dir, config = _bench_dir(tmp_path, site, '{"db_name": "_x", "db_password": "old"}')
    proc = _run_script(tmp_path, site, 'new')
    assert proc.returncode == 0, proc.stderr
    assert json.loads(config.read_text())['db_password'] == 'new'
    assert not (tmp_path / 'pwned').exists()


def test_a_container_runs_bench_by_docker_exec_with_stdin_and_no_compose_project(tmp_path):
    class Module(object):
        no_log_values = set()

        def get_bin_path(self, name, required=False):
            return '/testbin/' + name

    runner = _bench.BenchRunner(Module(), str(tmp_path), container='main_admin')
    runner.check_project()  # a Swarm bench's directory holds no compose.yaml
    assert runner.bench_argv(['list-apps'], site='erp.example.com') == [
        '/testbin/docker', 'exec', '-i', '-u', 'frappe', '-w', '/home/frappe/frappe-bench', 'main_admin',
        'bench', '--site', 'erp.example.com', 'list-apps']
