# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import hmac
import json
import os
import stat
import string

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.erpstack.erpnext.plugins.module_utils import _secrets
from ansible_collections.erpstack.erpnext.plugins.modules import stack_secret


UID = os.getuid()
GID = os.getgid()
SUPPLIED = 'S3cr3t-Value-from-Vault-7fQ'


# --------------------------------------------------------------------------- harness

class ModuleExit(Exception):
    def __init__(self, result):
        super(ModuleExit, self).__init__(result)
        self.result = result


@pytest.fixture(autouse=True)
def module_logs(monkeypatch):
    """Collect what AnsibleModule would send to syslog/journald (invocation + debug lines)."""
    lines = []
    monkeypatch.setattr(basic, 'has_journal', False)
    monkeypatch.setattr(basic.AnsibleModule, '_log_to_syslog', lambda self, msg: lines.append(msg))
    return lines


def _set_args(monkeypatch, args, check_mode=False, diff=False, verbosity=0, debug=False):
    payload = dict(args)
    payload.update({
        '_ansible_check_mode': check_mode,
        '_ansible_diff': diff,
        '_ansible_verbosity': verbosity,
        '_ansible_debug': debug,
        '_ansible_remote_tmp': '/tmp',
        '_ansible_keep_remote_files': False,
    })
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': payload})))
    # ansible-core >= 2.19 also wants the serialization profile the controller would send.
    monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)


def run_module(monkeypatch, capfd, args, **kwargs):
    """Run the module's main() like AnsiballZ does and return its parsed JSON result.

    Everything the process wrote to its stdout and stderr file descriptors is kept in '_stdout'.
    """
    _set_args(monkeypatch, args, **kwargs)
    with pytest.raises(SystemExit):
        stack_secret.main()
    captured = capfd.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    result['_stdout'] = captured.out + captured.err
    return result


@pytest.fixture
def run(monkeypatch, capfd):
    def _run(args, **kwargs):
        return run_module(monkeypatch, capfd, args, **kwargs)
    return _run


@pytest.fixture
def project(tmp_path):
    path = tmp_path / 'erpnext'
    path.mkdir()
    return path


def base_args(project, **extra):
    args = {'project_dir': str(project), 'name': 'db_root_password', 'owner': str(UID), 'group': str(GID)}
    args.update(extra)
    return args


def secret_file(project, name='db_root_password'):
    return project / 'secrets' / name


def read_salt(project):
    return (project / 'secrets' / '.fingerprint-salt').read_bytes().strip()


def expected_fingerprint(project, data):
    return hmac.new(read_salt(project), to_bytes(data), hashlib.sha256).hexdigest()[:16]


def file_mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def snapshot(root):
    """Every path under root with its type, mode, owner, mtime and content: 'touch nothing' means equal."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for entry in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            st = os.lstat(entry)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(entry, 'rb') as handle:
                    content = handle.read()
            state[entry] = (st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, st.st_ino, content)
    return state


# --------------------------------------------------------------------------- generate

@pytest.mark.parametrize('charset', sorted(_secrets.CHARSETS))
@pytest.mark.parametrize('length', [16, 32, 1024])
def test_generate_creates_secret_of_length_and_charset(run, project, charset, length):
    result = run(base_args(project, length=length, charset=charset))

    path = secret_file(project)
    content = path.read_bytes().decode('ascii')
    assert result['changed'] is True
    assert result['created'] is True
    assert result['rotated'] is False
    assert result['path'] == str(path)
    assert len(content) == length
    assert set(content) <= set(_secrets.CHARSETS[charset])
    assert file_mode(path) == 0o400
    assert file_mode(project / 'secrets') == 0o700
    assert file_mode(project / 'secrets' / '.fingerprint-salt') == 0o400
    assert result['fingerprint'] == expected_fingerprint(project, content)
    assert (result['uid'], result['gid'], result['mode']) == (UID, GID, '0400')
    # Only the salt and the secret: no temp file left behind.
    assert sorted(os.listdir(str(project / 'secrets'))) == ['.fingerprint-salt', 'db_root_password']


def test_charsets_are_what_the_documentation_says():
    assert _secrets.CHARSETS['alnum'] == string.ascii_letters + string.digits
    assert set(_secrets.CHARSETS['urlsafe']) == set(string.ascii_letters + string.digits + '-_')
    assert set(_secrets.CHARSETS['hex']) == set('0123456789abcdef')
    printable = set(_secrets.CHARSETS['ascii_printable'])
    assert not printable & set('\'"`\\ \t\r\n\x0b\x0c')
    assert printable == set(chr(c) for c in range(0x21, 0x7f)) - set('\'"`\\')


def test_generated_secrets_use_the_whole_alphabet_and_differ():
    first = _secrets.generate_secret(1024, 'hex')
    second = _secrets.generate_secret(1024, 'hex')
    # 1024 draws from 16 symbols miss one with probability ~1e-27: a broken generator fails here.
    assert set(first) == set('0123456789abcdef')
    assert first != second


@pytest.mark.parametrize('length', [0, 15, 1025])
def test_generate_length_out_of_range_fails(run, project, length):
    result = run(base_args(project, length=length))
    assert result['failed'] is True
    assert 'length must be between 16 and 1024' in result['msg']
    assert not (project / 'secrets').exists()


def test_generated_secret_is_not_overwritten_without_rotate(run, project):
    first = run(base_args(project))
    content = secret_file(project).read_bytes()
    inode = os.stat(str(secret_file(project))).st_ino

    second = run(base_args(project, length=64, charset='hex'))

    assert second['changed'] is False
    assert second['created'] is False and second['rotated'] is False
    assert second['actions'] == []
    assert secret_file(project).read_bytes() == content
    assert os.stat(str(secret_file(project))).st_ino == inode
    assert second['fingerprint'] == first['fingerprint']


def test_empty_secret_file_is_regenerated(run, project):
    (project / 'secrets').mkdir(mode=0o700)
    secret_file(project).write_bytes(b'')

    result = run(base_args(project), diff=True)

    assert result['changed'] is True and result['created'] is True
    assert len(secret_file(project).read_bytes()) == 32
    assert result['diff']['before'] == {'fingerprint': None}


def test_rotate_replaces_a_generated_secret(run, project):
    first = run(base_args(project))
    old = secret_file(project).read_bytes()

    rotated = run(base_args(project, rotate=True))

    new = secret_file(project).read_bytes()
    assert rotated['changed'] is True
    assert rotated['rotated'] is True and rotated['created'] is False
    assert new != old and len(new) == 32
    assert rotated['fingerprint'] != first['fingerprint']
    assert rotated['fingerprint'] == expected_fingerprint(project, new)
    assert file_mode(secret_file(project)) == 0o400


# --------------------------------------------------------------------------- supplied value

def test_value_is_written_then_unchanged_then_replaced(run, project):
    args = base_args(project, name='admin_password', source='value', value=SUPPLIED)
    path = secret_file(project, 'admin_password')

    created = run(args)
    assert created['changed'] is True and created['created'] is True and created['rotated'] is False
    assert path.read_bytes() == to_bytes(SUPPLIED)  # exactly the secret, no trailing newline

    again = run(args)
    assert again['changed'] is False
    assert again['fingerprint'] == created['fingerprint']

    other = SUPPLIED + '-v2'
    replaced = run(dict(args, value=other))
    assert replaced['changed'] is True and replaced['rotated'] is True and replaced['created'] is False
    assert path.read_bytes() == to_bytes(other)
    assert replaced['fingerprint'] != created['fingerprint']
    assert replaced['fingerprint'] == expected_fingerprint(project, other)


def test_value_with_rotate_rewrites_the_same_content(run, project):
    args = base_args(project, source='value', value=SUPPLIED)
    first = run(args)
    inode = os.stat(str(secret_file(project))).st_ino

    again = run(dict(args, rotate=True))

    assert again['changed'] is True and again['rotated'] is True
    assert os.stat(str(secret_file(project))).st_ino != inode
    assert secret_file(project).read_bytes() == to_bytes(SUPPLIED)
    assert again['fingerprint'] == first['fingerprint']


@pytest.mark.parametrize('value, needle', [
    ('', 'is empty'),
    ('short-pw', 'shorter than min_length (12 characters)'),
    ('line-one-long-enough\nline-two', 'contains a newline'),
    ('trailing-newline-value\n', "use '|-' instead"),
    ('carriage-return-value\r', 'contains a carriage return'),
    ('nul-in-the-middle\x00value', 'contains a NUL character'),
])
def test_bad_values_are_refused_without_echoing_them(run, project, value, needle):
    result = run(base_args(project, source='value', value=value))

    assert result['failed'] is True
    assert needle in result['msg']
    assert 'value' in result['msg']
    if value:
        assert value not in result['_stdout']
        assert value.strip() not in result['_stdout']
    assert not (project / 'secrets').exists()


def test_min_length_is_configurable(run, project):
    result = run(base_args(project, source='value', value='abcdefgh', min_length=8))
    assert result['changed'] is True
    assert secret_file(project).read_bytes() == b'abcdefgh'


# --------------------------------------------------------------------------- file source

def test_file_source_strips_one_trailing_newline(run, project, tmp_path):
    src = tmp_path / 'token.txt'
    src.write_bytes(b'token-from-another-tool-123\n')
    args = base_args(project, name='backup_token', source='file', src=str(src))

    created = run(args)
    assert created['changed'] is True and created['created'] is True
    assert secret_file(project, 'backup_token').read_bytes() == b'token-from-another-tool-123'

    again = run(args)
    assert again['changed'] is False

    src.write_bytes(b'token-from-another-tool-456\r\n')
    replaced = run(args)
    assert replaced['changed'] is True and replaced['rotated'] is True
    assert secret_file(project, 'backup_token').read_bytes() == b'token-from-another-tool-456'


@pytest.mark.parametrize('content, needle', [
    (b'token-long-enough\n\n', 'contains a newline'),
    (b'first-line-long\nsecond-line-long\n', 'contains a newline'),
    (b'tiny\n', 'shorter than min_length'),
    (b'\n', 'is empty'),
    (b'\xff\xfe-not-utf8-at-all', 'not valid UTF-8'),
])
def test_bad_file_sources_are_refused(run, project, tmp_path, content, needle):
    src = tmp_path / 'token.txt'
    src.write_bytes(content)

    result = run(base_args(project, source='file', src=str(src)))

    assert result['failed'] is True
    assert needle in result['msg']
    assert str(src) in result['msg']
    assert not (project / 'secrets').exists()


def test_file_source_must_exist_and_be_a_regular_file(run, project, tmp_path):
    missing = run(base_args(project, source='file', src=str(tmp_path / 'nope')))
    assert missing['failed'] is True and 'does not exist' in missing['msg']

    real = tmp_path / 'real'
    real.write_text('a-perfectly-fine-token')
    link = tmp_path / 'link'
    link.symlink_to(real)
    linked = run(base_args(project, source='file', src=str(link)))
    assert linked['failed'] is True and 'symbolic link' in linked['msg']

    directory = run(base_args(project, source='file', src=str(tmp_path)))
    assert directory['failed'] is True and 'not a regular file' in directory['msg']


# --------------------------------------------------------------------------- argument validation

@pytest.mark.parametrize('name', ['', 'Upper', '-leading-dash', '.hidden', '_under', 'a/b', '../escape',
                                  'sp ace', 'x' * 201, 'tab\tname'])
def test_bad_names_are_refused(run, project, name):
    result = run(base_args(project, name=name))
    assert result['failed'] is True
    assert 'is not a valid secret name' in result['msg']
    assert not (project / 'secrets').exists()


@pytest.mark.parametrize('name', ['a', '0', 'db_root_password', 'redis.cache-password_2', 'x' * 200, 'admin_password.erp.example.com'])
def test_good_names_are_accepted(run, project, name):
    result = run(base_args(project, name=name))
    assert result['changed'] is True
    assert secret_file(project, name).is_file()


@pytest.mark.parametrize('mode', ['0644', '0444', '0700', '0600x', 'u=r', '', 400, 0o644, True])
def test_bad_modes_are_refused(run, project, mode):
    result = run(base_args(project, mode=mode))
    assert result['failed'] is True
    assert 'mode must be one of 0400, 0440, 0600, 0640' in result['msg']
    assert not (project / 'secrets').exists()


@pytest.mark.parametrize('mode, expected', [('0440', 0o440), ('640', 0o640), ('0o600', 0o600), (0o400, 0o400)])
def test_good_modes_are_applied(run, project, mode, expected):
    result = run(base_args(project, mode=mode))
    assert result['mode'] == '{0:04o}'.format(expected)
    assert file_mode(secret_file(project)) == expected


def test_unknown_owner_and_group_are_refused(run, project):
    owner = run(base_args(project, owner='no-such-user-erpstack'))
    assert owner['failed'] is True and 'neither a numeric uid nor a user' in owner['msg']
    group = run(base_args(project, group='no-such-group-erpstack'))
    assert group['failed'] is True and 'neither a numeric gid nor a group' in group['msg']


def test_owner_and_group_accept_names(run, project):
    import grp
    import pwd
    result = run(base_args(project, owner=pwd.getpwuid(UID).pw_name, group=grp.getgrgid(GID).gr_name))
    st = os.stat(str(secret_file(project)))
    assert (st.st_uid, st.st_gid) == (UID, GID) == (result['uid'], result['gid'])


@pytest.mark.parametrize('extra, needle', [
    ({'value': SUPPLIED}, 'value is only used with source=value'),
    ({'src': '/etc/hostname'}, 'src is only used with source=file'),
    ({'source': 'value'}, 'source is value but all of the following are missing: value'),
    ({'source': 'file'}, 'source is file but all of the following are missing: src'),
    ({'source': 'value', 'value': SUPPLIED, 'src': '/etc/hostname'}, 'mutually exclusive'),
])
def test_inconsistent_source_options_are_refused(run, project, extra, needle):
    result = run(base_args(project, **extra))
    assert result['failed'] is True
    assert needle in result['msg']
    assert SUPPLIED not in result['_stdout']
    assert not (project / 'secrets').exists()


def test_missing_project_dir_fails_outside_check_mode(run, tmp_path):
    result = run(base_args(tmp_path / 'absent'))
    assert result['failed'] is True
    assert 'does not exist' in result['msg']
    assert not (tmp_path / 'absent').exists()


def test_symlinked_secret_is_refused(run, project, tmp_path):
    run(base_args(project, name='other'))
    target = tmp_path / 'elsewhere'
    target.write_text('not-a-secret-of-ours')
    secret_file(project).symlink_to(target)

    result = run(base_args(project))

    assert result['failed'] is True
    assert 'symbolic link' in result['msg']
    assert target.read_text() == 'not-a-secret-of-ours'


# --------------------------------------------------------------------------- permissions

def test_mode_drift_is_fixed_without_touching_content(run, project):
    first = run(base_args(project))
    path = secret_file(project)
    content = path.read_bytes()
    os.chmod(str(path), 0o644)
    before = os.stat(str(path))

    fixed = run(base_args(project))

    after = os.stat(str(path))
    assert fixed['changed'] is True
    assert fixed['created'] is False and fixed['rotated'] is False
    assert fixed['actions'] == ['set mode of {0} to 0400 (was 0644)'.format(path)]
    assert file_mode(path) == 0o400
    assert path.read_bytes() == content
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert fixed['fingerprint'] == first['fingerprint']
    assert run(base_args(project))['changed'] is False


def test_mode_change_requested_on_existing_secret(run, project):
    run(base_args(project))
    result = run(base_args(project, mode='0440'))
    assert result['changed'] is True
    assert file_mode(secret_file(project)) == 0o440


@pytest.mark.skipif(os.geteuid() != 0, reason='changing the owner of a file needs root')
def test_owner_drift_is_fixed_without_touching_content(run, project):
    run(base_args(project, owner='0', group='0'))
    path = secret_file(project)
    content = path.read_bytes()
    os.chown(str(path), 12345, 12345)

    fixed = run(base_args(project, owner='0', group='0'))

    st = os.stat(str(path))
    assert fixed['changed'] is True
    assert fixed['actions'] == ['set owner of {0} to 0:0 (was 12345:12345)'.format(path)]
    assert (st.st_uid, st.st_gid) == (0, 0)
    assert path.read_bytes() == content


def test_restrictive_umask_or_permissive_umask_does_not_matter(run, project):
    old = os.umask(0)
    try:
        run(base_args(project))
    finally:
        os.umask(old)
    assert file_mode(project / 'secrets') == 0o700
    assert file_mode(secret_file(project)) == 0o400
    assert file_mode(project / 'secrets' / '.fingerprint-salt') == 0o400


def test_final_mode_is_set_before_content_is_written(monkeypatch, tmp_path):
    seen = []
    real_write = os.write

    def spying_write(fd, data):
        st = os.fstat(fd)
        seen.append((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid, st.st_size))
        return real_write(fd, data)

    monkeypatch.setattr(_secrets.os, 'write', spying_write)
    _secrets.atomic_write(str(tmp_path / 'secret'), b'x' * 40, 0o440, UID, GID)

    assert seen and seen[0] == (0o440, UID, GID, 0)
    assert (tmp_path / 'secret').read_bytes() == b'x' * 40
    assert os.listdir(str(tmp_path)) == ['secret']


def test_failed_write_keeps_the_old_secret_and_leaves_no_temp_file(run, project, monkeypatch):
    run(base_args(project, source='value', value=SUPPLIED))

    def broken_fsync(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(_secrets.os, 'fsync', broken_fsync)
    result = run(base_args(project, source='value', value=SUPPLIED + '-new'))

    assert result['failed'] is True
    assert 'No space left on device' in result['msg']
    assert secret_file(project).read_bytes() == to_bytes(SUPPLIED)
    assert sorted(os.listdir(str(project / 'secrets'))) == ['.fingerprint-salt', 'db_root_password']
    assert SUPPLIED not in result['_stdout']


def test_create_exclusive_never_clobbers(tmp_path):
    path = str(tmp_path / 'salt')
    assert _secrets.create_exclusive(path, b'first', 0o400, UID, GID) is True
    assert _secrets.create_exclusive(path, b'second', 0o400, UID, GID) is False
    assert (tmp_path / 'salt').read_bytes() == b'first'
    assert os.listdir(str(tmp_path)) == ['salt']


# --------------------------------------------------------------------------- check mode and diff

def test_check_mode_on_a_fresh_project_touches_nothing(run, project):
    before = snapshot(project)

    result = run(base_args(project), check_mode=True, diff=True)

    assert snapshot(project) == before
    assert result['changed'] is True and result['created'] is True
    assert result['fingerprint'] is None
    assert result['diff'] == {'before': {'fingerprint': None}, 'after': {'fingerprint': None}}
    assert [a.split(' ')[0:2] for a in result['actions']] == [
        ['create', 'directory'], ['create', 'fingerprint'], ['create', 'secret']]


def test_check_mode_with_missing_project_dir_reports_change(run, tmp_path):
    result = run(base_args(tmp_path / 'absent'), check_mode=True)
    assert result['changed'] is True and result['created'] is True
    assert not (tmp_path / 'absent').exists()


def test_check_mode_predicts_without_touching_existing_secrets(run, project):
    run(base_args(project, name='admin_password', source='value', value=SUPPLIED))
    generated = run(base_args(project))
    os.chmod(str(secret_file(project)), 0o600)
    before = snapshot(project)

    rotate = run(base_args(project, rotate=True), check_mode=True)
    drift = run(base_args(project), check_mode=True)
    replace = run(base_args(project, name='admin_password', source='value', value=SUPPLIED + '-v2'),
                  check_mode=True, diff=True)
    same = run(base_args(project, name='admin_password', source='value', value=SUPPLIED), check_mode=True)

    assert snapshot(project) == before
    assert rotate['changed'] is True and rotate['rotated'] is True and rotate['fingerprint'] is None
    assert drift['changed'] is True and drift['rotated'] is False
    assert drift['fingerprint'] == generated['fingerprint']
    assert replace['changed'] is True and replace['rotated'] is True
    assert same['changed'] is False

    # The check mode prediction of a supplied value is the fingerprint the real run returns.
    real = run(base_args(project, name='admin_password', source='value', value=SUPPLIED + '-v2'))
    assert replace['fingerprint'] == real['fingerprint']
    assert replace['diff']['after']['fingerprint'] == real['fingerprint']


def test_diff_contains_fingerprints_only(run, project):
    created = run(base_args(project, source='value', value=SUPPLIED), diff=True)
    changed = run(base_args(project, source='value', value=SUPPLIED + '-v2'), diff=True)
    unchanged = run(base_args(project, source='value', value=SUPPLIED + '-v2'), diff=True)

    assert created['diff'] == {'before': {'fingerprint': None},
                               'after': {'fingerprint': created['fingerprint']}}
    assert changed['diff'] == {'before': {'fingerprint': created['fingerprint']},
                               'after': {'fingerprint': changed['fingerprint']}}
    assert unchanged['diff']['before'] == unchanged['diff']['after']
    for result in (created, changed, unchanged):
        assert SUPPLIED not in json.dumps(result['diff'])


def test_no_diff_key_without_diff_mode(run, project):
    assert 'diff' not in run(base_args(project))


# --------------------------------------------------------------------------- fingerprints

def test_fingerprint_is_stable_and_tracks_the_value(run, project):
    args = base_args(project, source='value', value=SUPPLIED)
    first = run(args)
    second = run(args)
    other = run(base_args(project, name='other', source='value', value=SUPPLIED + 'x'))

    assert first['fingerprint'] == second['fingerprint']
    assert len(first['fingerprint']) == 16 and int(first['fingerprint'], 16) >= 0
    assert other['fingerprint'] != first['fingerprint']
    # Keyed: it is not a plain hash of the secret.
    assert first['fingerprint'] != hashlib.sha256(to_bytes(SUPPLIED)).hexdigest()[:16]


def test_fingerprint_is_salted_per_project(run, tmp_path):
    one, two = tmp_path / 'one', tmp_path / 'two'
    one.mkdir()
    two.mkdir()
    first = run(base_args(one, source='value', value=SUPPLIED))
    second = run(base_args(two, source='value', value=SUPPLIED))
    assert read_salt(one) != read_salt(two)
    assert first['fingerprint'] != second['fingerprint']


def test_salt_is_kept_and_recreated_when_removed(run, project):
    first = run(base_args(project, source='value', value=SUPPLIED))
    salt = read_salt(project)
    assert len(salt) == 64
    run(base_args(project, name='second'))
    assert read_salt(project) == salt

    os.unlink(str(project / 'secrets' / '.fingerprint-salt'))
    again = run(base_args(project, source='value', value=SUPPLIED))

    assert again['changed'] is True
    assert again['created'] is False and again['rotated'] is False
    assert again['fingerprint'] != first['fingerprint']
    assert again['fingerprint'] == expected_fingerprint(project, SUPPLIED)
    assert run(base_args(project, source='value', value=SUPPLIED))['changed'] is False


# --------------------------------------------------------------------------- leaks

def _leak_cases(tmp_path):
    src = tmp_path / 'src-token'
    src.write_text('file-sourced-token-Zq81xL\n')
    return [
        ('value', {'source': 'value', 'value': SUPPLIED}),
        ('file', {'source': 'file', 'src': str(src)}),
        ('generate', {'charset': 'ascii_printable', 'length': 48}),
    ]


@pytest.mark.parametrize('case', ['value', 'file', 'generate'])
def test_secret_never_leaks_in_output_or_debug_log(run, project, tmp_path, module_logs, case):
    extra = dict(_leak_cases(tmp_path))[case]
    args = base_args(project, **extra)
    noisy = dict(verbosity=4, debug=True, diff=True)

    outputs = [
        run(args, check_mode=True, **noisy)['_stdout'],
        run(args, **noisy)['_stdout'],
        run(args, **noisy)['_stdout'],
        run(dict(args, rotate=True, mode='0440'), **noisy)['_stdout'],
        run(dict(args, rotate=True), check_mode=True, **noisy)['_stdout'],
    ]
    secret = secret_file(project).read_text()
    everything = '\n'.join(outputs + module_logs)

    # The harness really saw the run: the invocation and the module's own debug lines were captured.
    assert any(line.startswith('Invoked with') for line in module_logs)
    assert any('[debug] stack_secret: writing' in line for line in module_logs)
    assert len(secret) >= 12
    assert secret not in everything
    assert SUPPLIED not in everything
    assert 'file-sourced-token-Zq81xL' not in everything


@pytest.mark.parametrize('case', ['value', 'file', 'generate'])
def test_raw_result_holds_no_secret_before_any_masking(monkeypatch, project, tmp_path, case):
    """AnsibleModule masks no_log values on exit; the result the class builds must be clean on its own."""
    extra = dict(_leak_cases(tmp_path))[case]
    _set_args(monkeypatch, base_args(project, **extra), diff=True)
    module = stack_secret.create_module()
    result = stack_secret.run_all(module)
    secret = secret_file(project).read_text()

    assert result['changed'] is True
    assert secret not in json.dumps(result)
    assert secret not in repr(result)


# --------------------------------------------------------------------------- several secrets in one run

def test_several_secrets_in_one_run_take_the_top_level_options_they_leave_out(run, project):
    args = {'project_dir': str(project), 'owner': str(UID), 'group': str(GID), 'mode': '0440', 'secrets': [
        {'name': 'db_root_password', 'length': 40},
        {'name': 'redis_password', 'charset': 'hex', 'mode': '0400'},
        {'name': 'admin_password', 'source': 'value', 'value': SUPPLIED},
    ]}
    first = run(args, diff=True)
    assert first['changed'] is True
    assert [r['created'] for r in first['results']] == [True, True, True]
    assert [r['mode'] for r in first['results']] == ['0440', '0400', '0440']
    assert len(secret_file(project).read_text()) == 40
    assert set(secret_file(project, 'redis_password').read_text()) <= set('0123456789abcdef')
    assert secret_file(project, 'admin_password').read_text() == SUPPLIED
    assert sorted(first['diff']['after']) == ['admin_password', 'db_root_password', 'redis_password']
    assert SUPPLIED not in first['_stdout'] and secret_file(project).read_text() not in first['_stdout']
    again = run(args, diff=True)
    assert again['changed'] is False
    assert [r['actions'] for r in again['results']] == [[], [], []]
    assert again['diff']['before'] == again['diff']['after'] == first['diff']['after']


def test_several_secrets_are_all_checked_before_any_is_written(run, project):
    result = run({'project_dir': str(project), 'secrets': [
        {'name': 'db_root_password'}, {'name': 'admin_password', 'source': 'value'}]})
    assert result['failed'] is True
    assert result['msg'] == 'secret admin_password: source is value but all of the following are missing: value'
    assert not (project / 'secrets').exists()
    twice = run({'project_dir': str(project), 'secrets': [{'name': 'a_secret'}, {'name': 'a_secret'}]})
    assert twice['msg'] == 'secrets names a secret twice: a_secret'


def test_name_and_secrets_exclude_each_other(run, project):
    result = run({'project_dir': str(project), 'name': 'x_secret', 'secrets': [{'name': 'y_secret'}]})
    assert result['failed'] is True and 'mutually exclusive: name|secrets' in result['msg']
    neither = run({'project_dir': str(project)})
    assert neither['failed'] is True and 'one of the following is required: name, secrets' in neither['msg']


def test_an_empty_list_of_secrets_changes_nothing(run, project):
    result = run({'project_dir': str(project), 'secrets': []})
    assert (result['changed'], result['results']) == (False, [])
    assert not (project / 'secrets').exists()
