# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import stat
import sys

import pytest

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

from ansible_collections.erpstack.erpnext.plugins.modules import managed_files


UID = os.getuid()
GID = os.getgid()
SECRET = 'webhook-T0KEN-from-the-vault'


def run(monkeypatch, capfd, entries, check_mode=False, diff=False):
    """main() as AnsiballZ runs it; the parsed JSON result, with everything printed in '_stdout'."""
    payload = {'entries': entries, '_ansible_check_mode': check_mode, '_ansible_diff': diff,
               '_ansible_verbosity': 0, '_ansible_debug': False, '_ansible_remote_tmp': '/tmp',
               '_ansible_keep_remote_files': False}
    monkeypatch.setattr(basic, 'has_journal', False)
    monkeypatch.setattr(basic.AnsibleModule, '_log_to_syslog', lambda self, msg: None)
    monkeypatch.setattr(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': payload})))
    monkeypatch.setattr(basic, '_ANSIBLE_PROFILE', 'legacy', raising=False)
    with pytest.raises(SystemExit):
        managed_files.main()
    captured = capfd.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    result['_stdout'] = captured.out + captured.err
    return result


def mine(**entry):
    """An entry owned by the user running the tests (who cannot give files away)."""
    return dict({'owner': str(UID), 'group': str(GID)}, **entry)


def tree(root):
    """Every path under root with its kind, mode and content."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(str(root)):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            content = None
            if stat.S_ISREG(st.st_mode):
                with open(path, 'rb') as handle:
                    content = handle.read()
            found[os.path.relpath(path, str(root))] = (oct(stat.S_IMODE(st.st_mode)), content)
    return found


@pytest.fixture
def layout(tmp_path):
    base = tmp_path / 'project'
    return base, [
        mine(path=str(base), state='directory', mode='0750'),
        mine(path=str(base / 'conf' / 'deep'), state='directory', mode='0755'),
        mine(path=str(base / 'conf' / 'deep' / 'a.yml'), content='a: 1\n', mode='0644'),
        mine(path=str(base / 'secret'), content=SECRET, mode='0400', secret=True),
        mine(path=str(base / 'gone'), state='absent'),
    ]


def test_creates_everything_in_order_then_changes_nothing(monkeypatch, capfd, layout):
    base, entries = layout
    first = run(monkeypatch, capfd, entries)
    assert first['changed'] is True
    assert first['changed_paths'] == [str(base), str(base / 'conf' / 'deep'), str(base / 'conf' / 'deep' / 'a.yml'),
                                      str(base / 'secret')]
    assert tree(base) == {'conf': ('0o755', None), 'conf/deep': ('0o755', None),
                          'conf/deep/a.yml': ('0o644', b'a: 1\n'), 'secret': ('0o400', to_bytes(SECRET))}
    assert stat.S_IMODE(os.stat(str(base)).st_mode) == 0o750
    again = run(monkeypatch, capfd, entries, diff=True)
    assert (again['changed'], again['changed_paths'], again['actions'], again['diff']) == (False, [], [], [])


def test_check_mode_reports_and_touches_nothing(monkeypatch, capfd, layout):
    base, entries = layout
    result = run(monkeypatch, capfd, entries, check_mode=True, diff=True)
    assert result['changed'] is True and len(result['changed_paths']) == 4
    assert not os.path.exists(str(base))
    assert [d['after'] for d in result['diff']] == ['directory\n', 'directory\n', 'a: 1\n', '(secret, changed)\n']


def test_a_changed_file_is_rewritten_with_a_diff_and_drift_is_fixed_in_place(monkeypatch, capfd, layout):
    base, entries = layout
    run(monkeypatch, capfd, entries)
    target = base / 'conf' / 'deep' / 'a.yml'
    target.write_text('a: 0\n')
    os.chmod(str(base / 'secret'), 0o600)
    inode = os.stat(str(base / 'secret')).st_ino
    result = run(monkeypatch, capfd, entries, diff=True)
    assert result['changed_paths'] == [str(target), str(base / 'secret')]
    assert result['actions'] == ['write %s (content changed)' % target,
                                 'set mode of %s to 0400 (was 0600)' % (base / 'secret')]
    assert result['diff'][0]['before'] == 'a: 0\n' and result['diff'][0]['after'] == 'a: 1\n'
    assert result['diff'][1]['after']['mode'] == '0400'
    assert target.read_text() == 'a: 1\n'
    assert os.stat(str(base / 'secret')).st_ino == inode


def test_a_secret_never_shows(monkeypatch, capfd, layout):
    base, entries = layout
    result = run(monkeypatch, capfd, entries, diff=True)
    (base / 'secret').write_text('an older value of the secret')
    changed = run(monkeypatch, capfd, entries, diff=True)
    assert changed['changed_paths'] == [str(base / 'secret')]
    assert SECRET not in result['_stdout'] + changed['_stdout']
    assert 'older value' not in changed['_stdout']


def test_absent_removes_a_file_or_a_directory(monkeypatch, capfd, tmp_path):
    (tmp_path / 'dir' / 'sub').mkdir(parents=True)
    (tmp_path / 'file').write_text('x')
    result = run(monkeypatch, capfd, [{'path': str(tmp_path / 'dir'), 'state': 'absent'},
                                      {'path': str(tmp_path / 'file'), 'state': 'absent'}])
    assert result['actions'] == ['remove %s' % (tmp_path / 'dir'), 'remove %s' % (tmp_path / 'file')]
    assert os.listdir(str(tmp_path)) == []


def _checker(tmp_path, refuse):
    script = tmp_path / 'check.py'
    script.write_text('import sys\ntext = open(sys.argv[1]).read()\n'
                      'sys.exit("refused: " + text.strip()) if %r in text else None\n' % refuse)
    return '%s %s %%s' % (sys.executable, script)


def test_validate_checks_the_new_content_before_it_replaces_the_file(monkeypatch, capfd, tmp_path):
    check = _checker(tmp_path, 'bad')
    path = tmp_path / 'conf.yml'
    ok = run(monkeypatch, capfd, [mine(path=str(path), content='good\n', mode='0644', validate=check)])
    assert ok['changed'] and path.read_text() == 'good\n'
    bad = run(monkeypatch, capfd, [mine(path=str(path), content='bad\n', mode='0644', validate=check)])
    assert bad['failed'] is True
    assert bad['msg'].startswith('entries[0] (%s): the validate command failed (rc 1): refused: bad' % path)
    assert path.read_text() == 'good\n'
    assert sorted(os.listdir(str(tmp_path))) == ['check.py', 'conf.yml']


def test_a_failing_validate_of_a_secret_does_not_print_it(monkeypatch, capfd, tmp_path):
    check = _checker(tmp_path, 'T0KEN')
    result = run(monkeypatch, capfd, [mine(path=str(tmp_path / 's'), content=SECRET, mode='0400', secret=True,
                                           validate=check)])
    assert result['msg'] == 'entries[0] (%s): the validate command failed (rc 1)' % (tmp_path / 's')
    assert 'T0KEN' not in result['_stdout']


@pytest.mark.parametrize('entry, message', [
    ({'path': 'relative/file', 'content': 'x', 'mode': '0644'}, 'entries[0] (relative/file): path must be absolute'),
    ({'path': '/x/file', 'content': 'x', 'mode': '420'}, 'mode must be an octal string such as "0644", got \'420\''),
    ({'path': '/x/file', 'content': 'x'}, 'mode must be an octal string such as "0644", got None'),
    ({'path': '/x/file', 'mode': '0644'}, 'entries[0] (/x/file): a file needs its content'),
    ({'path': '/x', 'state': 'directory', 'mode': '0755', 'content': 'x'}, 'content and validate are only for files'),
    ({'path': '/x/file', 'content': 'x', 'mode': '0644', 'validate': 'true'}, 'validate must contain %s'),
    ({'path': '/x/file', 'content': 'x', 'mode': '0644', 'owner': 'no-such-user-here'},
     "owner 'no-such-user-here' is neither a numeric uid nor a user known on this host"),
])
def test_bad_entries_are_refused_before_anything_changes(monkeypatch, capfd, tmp_path, entry, message):
    first = mine(path=str(tmp_path / 'first'), state='directory', mode='0755')
    result = run(monkeypatch, capfd, [entry] if entry['path'].startswith('relative') else [first, entry])
    assert result['failed'] is True
    assert message in result['msg'].replace('entries[1]', 'entries[0]')
    assert not os.path.exists(str(tmp_path / 'first'))


def test_a_symbolic_link_is_refused(monkeypatch, capfd, tmp_path):
    (tmp_path / 'real').write_text('x')
    os.symlink(str(tmp_path / 'real'), str(tmp_path / 'link'))
    result = run(monkeypatch, capfd, [mine(path=str(tmp_path / 'link'), content='y', mode='0644')])
    assert result['failed'] is True and 'symbolic link' in result['msg']
    assert (tmp_path / 'real').read_text() == 'x'
