#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


DOCUMENTATION = r"""
---
module: managed_files
short_description: Ensure a list of directories and files, with their content, owner and mode, in one run
version_added: 0.5.0
description:
  - Ensures, in the order given, a list of directories, files with the content given, and absent paths on the
    managed host, in one module run. A role applies the files of its part of the deployment plan with one task
    instead of one M(ansible.builtin.file), M(ansible.builtin.copy) or M(ansible.builtin.template) task (two or more
    remote runs each) per file.
  - A file is only written when its content differs; it is written to a temporary file in the destination's
    directory, which gets its final owner and mode first, is checked by the O(entries[].validate) command when one
    is given, and then replaces the destination atomically. Owner and mode drift is fixed without rewriting.
  - The content of a file is given as text (O(entries[].content)), as a template of the role that is rendered on
    the controller as M(ansible.builtin.template) renders it (O(entries[].template)), or as a file of the role
    (O(entries[].src)).
author:
  - erpstack contributors (@erpstack)
attributes:
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    details:
      - Templates are rendered and role files read on the controller.
  async:
    support: none
    description: Supports being used with the C(async) keyword.
  bypass_host_loop:
    support: none
    description: Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
      throttle and other loop considerations.
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - Validate commands are not run in check mode.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details:
      - One diff per changed path. The content of an entry with O(entries[].secret=true) is never part of it.
  idempotent:
    support: full
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  entries:
    description:
      - The paths to ensure, applied in this order (a directory before the files in it).
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Absolute path on the managed host. Symbolic links are refused, never followed.
        type: path
        required: true
      state:
        description:
          - V(directory) creates the directory (and missing parents, with the same owner and mode).
          - V(file) writes O(entries[].content) to the file.
          - V(absent) removes a file, or a directory with its content.
        type: str
        choices: [directory, file, absent]
        default: file
      content:
        description:
          - The whole content of the file, exactly (no newline is added).
          - With O(entries[].state=file), exactly one of O(entries[].content), O(entries[].template) and
            O(entries[].src) is required.
        type: str
      template:
        description:
          - A template of the role (its C(templates/) directory) or a path, rendered on the controller with the
            task's variables as M(ansible.builtin.template) renders it (C(ansible_managed), the trailing newline
            kept); the result is the file's content.
        type: str
      template_vars:
        description:
          - Variables for O(entries[].template) only, over the task's.
        type: dict
      src:
        description:
          - A file of the role (its C(files/) directory) or a path on the controller whose text is the file's content.
        type: str
      owner:
        description: Owner, as a user name or a numeric uid.
        type: str
        default: root
      group:
        description: Group, as a group name or a numeric gid.
        type: str
        default: root
      mode:
        description:
          - Permissions as an octal string such as V('0644'). Required with O(entries[].state=directory) and
            O(entries[].state=file).
        type: str
      validate:
        description:
          - Command run on the temporary file before it replaces the destination; V(%s) stands for its path. The
            file is not written when the command fails, and the module fails with its output.
          - Split as a shell would, but not run by a shell.
        type: str
      secret:
        description:
          - The content is a secret. It never appears in a diff, a result or the output of a failing validate
            command.
        type: bool
        default: false
notes:
  - A list or mapping option given as a string is refused before anything runs (AnsibleModule would split it at
    its commas or parse it as C(k=v) pairs). Booleans and numbers written as text are converted as usual.
  - Only C(root) can give a path to another owner; run the module through C(become).
seealso:
  - module: ansible.builtin.copy
  - module: ansible.builtin.file
"""

EXAMPLES = r"""
---
- name: Ensure the backup tool's directories, program and configuration
  erpstack.erpnext.managed_files:
    entries:
      - {path: /var/backups/erpstack, state: directory, mode: "0700"}
      - {path: /usr/local/lib/erpstack, state: directory, mode: "0755"}
      - path: /usr/local/lib/erpstack/erpstack_backup.py
        src: erpstack_backup.py
        mode: "0644"
      - path: /etc/erpstack/backup/config.json
        content: "{{ backup_config | to_nice_json(indent=2) }}\n"
        mode: "0644"
        validate: /usr/local/sbin/erpstack-backup --config %s check
      - path: /etc/systemd/system/erpstack-backup-alpha.timer
        template: erpstack.timer.j2
        template_vars: {bench: alpha}
        mode: "0644"
      - {path: /etc/cron.d/erpstack-backup, state: absent}
  register: __backup_files

- name: Reload systemd when a unit changed
  ansible.builtin.systemd_service:
    daemon_reload: true
  when: __backup_files.changed_paths | select('match', '/etc/systemd/system/') | list | length > 0
"""

RETURN = r"""
changed_paths:
  description: The paths that were (or, in check mode, would be) created, rewritten, re-owned or removed, in order.
  returned: always
  type: list
  elements: str
  sample: [/etc/erpstack/backup/config.json]
actions:
  description: What was done (or would be done in check mode), in order. Never contains a secret.
  returned: always
  type: list
  elements: str
  sample:
    - write /etc/erpstack/backup/config.json (content changed)
    - set mode of /var/backups/erpstack to 0700 (was 0755)
"""

import os
import re
import shlex
import shutil
import stat
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native, to_text

from ansible_collections.erpstack.erpnext.plugins.module_utils._strict import refuse_coercions
from ansible_collections.erpstack.erpnext.plugins.module_utils._secrets import (
    SecretError,
    atomic_replace,
    fix_ownership_and_mode,
    format_mode,
    lstat_or_none,
    read_regular_file,
    resolve_gid,
    resolve_uid,
    write_temp,
)

MODE_RE = re.compile(r'^0[0-7]{3}$')


class FilesError(SecretError):
    """A user-facing error about one entry."""


class Entry(object):
    """One path of the list: inspect it, say what differs, apply it."""

    def __init__(self, module, index, spec):
        self.module = module
        self.spec = spec
        self.path = spec['path']
        self.state = spec['state']
        self.where = 'entries[{0}] ({1})'.format(index, self.path)
        if not os.path.isabs(self.path):
            raise FilesError('{0}: path must be absolute'.format(self.where))
        for key in ('template', 'template_vars', 'src'):
            if spec[key] is not None:
                raise FilesError('{0}: {1} is resolved by the action on the controller, it never reaches the module'
                                 .format(self.where, key))
        if self.state == 'absent':
            return
        if spec['mode'] is None or not MODE_RE.match(spec['mode']):
            raise FilesError('{0}: mode must be an octal string such as "0644", got {1!r}'.format(
                self.where, spec['mode']))
        self.mode = int(spec['mode'], 8)
        self.uid = resolve_uid(spec['owner'])
        self.gid = resolve_gid(spec['group'])
        if self.state == 'file':
            if spec['content'] is None:
                raise FilesError('{0}: a file needs its content'.format(self.where))
            if spec['secret']:
                module.no_log_values.add(spec['content'])
            self.content = to_bytes(spec['content'], errors='surrogate_or_strict')
            if spec['validate'] is not None and '%s' not in spec['validate']:
                raise FilesError('{0}: validate must contain %s, the path of the file to check'.format(self.where))
        elif spec['content'] is not None or spec['validate'] is not None:
            raise FilesError('{0}: content and validate are only for files'.format(self.where))

    def _attribute_drift(self, st):
        drift = []
        if (st.st_uid, st.st_gid) != (self.uid, self.gid):
            drift.append('set owner of {0} to {1}:{2} (was {3}:{4})'.format(
                self.path, self.uid, self.gid, st.st_uid, st.st_gid))
        if stat.S_IMODE(st.st_mode) != self.mode:
            drift.append('set mode of {0} to {1} (was {2})'.format(
                self.path, format_mode(self.mode), format_mode(stat.S_IMODE(st.st_mode))))
        return drift

    def _state_diff(self, before, after):
        return {'before_header': self.path, 'after_header': self.path, 'before': before, 'after': after}

    def apply(self, check_mode):
        """Returns (actions, diff or None)."""
        return getattr(self, '_apply_' + self.state)(check_mode)

    def _apply_directory(self, check_mode):
        st = lstat_or_none(self.path)
        if st is None:
            missing = []
            parent = self.path
            while lstat_or_none(parent) is None:
                missing.insert(0, parent)
                parent = os.path.dirname(parent)
            if not check_mode:
                for path in missing:
                    os.mkdir(path, self.mode)
                    os.chown(path, self.uid, self.gid)
                    # mkdir honours the umask: set the mode explicitly
                    os.chmod(path, self.mode)
            return (['create directory {0} ({1})'.format(p, format_mode(self.mode)) for p in missing],
                    self._state_diff('absent\n', 'directory\n'))
        if not stat.S_ISDIR(st.st_mode):
            raise FilesError('{0}: exists and is not a directory (symbolic links are refused)'.format(self.where))
        drift = self._attribute_drift(st)
        if drift and not check_mode:
            os.chown(self.path, self.uid, self.gid)
            os.chmod(self.path, self.mode)
        return drift, self._attributes_diff(st) if drift else None

    def _attributes_diff(self, st):
        return self._state_diff(
            {'owner': st.st_uid, 'group': st.st_gid, 'mode': format_mode(stat.S_IMODE(st.st_mode))},
            {'owner': self.uid, 'group': self.gid, 'mode': format_mode(self.mode)})

    def _apply_file(self, check_mode):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory) and not check_mode:
            raise FilesError('{0}: the directory {1} does not exist'.format(self.where, directory))
        found = read_regular_file(self.path, what=self.where) if lstat_or_none(directory) else None
        if found is not None and found[0] == self.content:
            drift = self._attribute_drift(found[1])
            if drift and not check_mode:
                fix_ownership_and_mode(self.path, self.uid, self.gid, self.mode)
            return drift, self._attributes_diff(found[1]) if drift else None
        action = '{0} {1} ({2})'.format('write' if found else 'create', self.path,
                                        'content changed' if found else 'owner {0}:{1}, mode {2}'.format(
                                            self.uid, self.gid, format_mode(self.mode)))
        if not check_mode:
            self._write()
        if self.spec['secret']:
            diff = self._state_diff('(secret)\n' if found else 'absent\n', '(secret, changed)\n')
        else:
            diff = self._state_diff(to_text(found[0], errors='surrogate_or_replace') if found else '',
                                    to_text(self.content, errors='surrogate_or_replace'))
        return [action], diff

    def _write(self):
        tmp_path = write_temp(self.path, self.content, self.mode, self.uid, self.gid)
        try:
            if self.spec['validate'] is not None:
                argv = [tmp_path if word == '%s' else word.replace('%s', tmp_path)
                        for word in shlex.split(self.spec['validate'])]
                rc, out, err = self.module.run_command(argv)
                if rc != 0:
                    detail = '' if self.spec['secret'] else ': {0}'.format((out + err).strip())
                    raise FilesError('{0}: the validate command failed (rc {1}){2}'.format(self.where, rc, detail))
            atomic_replace(tmp_path, self.path)
        finally:
            if os.path.lexists(tmp_path):
                os.unlink(tmp_path)

    def _apply_absent(self, check_mode):
        st = lstat_or_none(self.path)
        if st is None:
            return [], None
        if not check_mode:
            if stat.S_ISDIR(st.st_mode):
                shutil.rmtree(self.path)
            else:
                os.unlink(self.path)
        return ['remove {0}'.format(self.path)], self._state_diff('present\n', 'absent\n')


def run(module):
    entries = [Entry(module, index, spec) for index, spec in enumerate(module.params['entries'])]
    result = {'changed': False, 'changed_paths': [], 'actions': []}
    diffs = []
    for entry in entries:
        actions, diff = entry.apply(module.check_mode)
        if actions:
            result['changed'] = True
            result['changed_paths'].append(entry.path)
            result['actions'].extend(actions)
        if diff is not None:
            diffs.append(diff)
    if module._diff:
        result['diff'] = diffs
    return result


def create_module():
    return AnsibleModule(
        argument_spec=refuse_coercions(dict(
            entries=dict(type='list', elements='dict', required=True, options=dict(
                path=dict(type='path', required=True),
                state=dict(type='str', default='file', choices=['directory', 'file', 'absent']),
                content=dict(type='str'),
                template=dict(type='str'),
                template_vars=dict(type='dict'),
                src=dict(type='str'),
                owner=dict(type='str', default='root'),
                group=dict(type='str', default='root'),
                mode=dict(type='str'),
                validate=dict(type='str'),
                secret=dict(type='bool', default=False),
            )),
        )),
        supports_check_mode=True,
    )


def main():
    module = create_module()
    try:
        result = run(module)
    except SecretError as exc:
        module.fail_json(msg=to_native(exc))
    except (OSError, IOError) as exc:
        module.fail_json(msg='managed_files failed: {0}'.format(to_native(exc)), exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
