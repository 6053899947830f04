#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


DOCUMENTATION = r"""
---
module: stack_secret
short_description: Ensure a file-based secret exists for a Docker Compose project
version_added: 0.1.0
description:
  - Ensures that one named secret exists for a Compose project on the managed host, stored as the file
    C(<project_dir>/secrets/<name>). Compose hands it to containers through a top-level C(secrets:) entry with
    C(file:), which is a read-only bind mount of that file, so O(owner), O(group) and O(mode) must let the
    consuming uid inside the container read it.
  - The secret is either generated on the managed host with a cryptographically secure random generator, supplied
    as a value (for example from Ansible Vault or a C(community.hashi_vault) lookup), or copied from a file that
    already exists on the managed host.
  - The file content is the secret exactly, without a trailing newline. Writes are atomic, the temporary file gets
    its final owner and mode before any content is written.
  - The secret is never returned nor logged. To let callers notice a change and restart consumers, the module
    returns a salted fingerprint instead, the first 16 hex digits of HMAC-SHA256 of the secret keyed with a random
    per-project salt stored in C(<project_dir>/secrets/.fingerprint-salt) (mode C(0400)).
  - The C(secrets) directory is created mode C(0700) if it is missing (owned by C(root:root) when the module runs
    as root).
author:
  - erpstack contributors (@erpstack)
attributes:
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - In check mode nothing is created, not even the C(secrets) directory or the salt file.
      - The fingerprint of a secret that would be generated is returned as V(null), and so is any fingerprint when
        the salt file does not exist yet.
  diff_mode:
    support: full
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    details:
      - The diff only contains the fingerprints before and after, never the secret.
  idempotent:
    support: partial
    description: When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
    details:
      - With O(rotate=true) the secret is rewritten on every run.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
options:
  project_dir:
    description:
      - Directory of the Compose project, for example C(/opt/erpstack/erpnext).
      - It must exist, except in check mode where a missing directory is reported as a change.
    type: path
    required: true
  name:
    description:
      - Name of the secret, used as the file name in C(<project_dir>/secrets/).
      - 1 to 200 characters, lower-case letters, digits, V(_), V(.) and V(-), starting with a letter or a digit.
      - Exactly one of O(name) and O(secrets) is required.
    type: str
  secrets:
    description:
      - Several secrets of the project, ensured in one module run, in this order. Each entry takes the per-secret
        options (O(name), O(source), O(value), O(src), O(length), O(charset), O(min_length), O(rotate), O(owner),
        O(group), O(mode)); an option an entry leaves out takes the top-level value (or its default).
      - The options of every entry are checked before the first secret is written.
      - Top-level O(name), O(value) and O(src) are not allowed with it.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the secret, as O(name).
        type: str
        required: true
      source:
        description: As O(source).
        type: str
        choices: [generate, value, file]
      value:
        description: As O(value).
        type: str
      src:
        description: As O(src).
        type: path
      length:
        description: As O(length).
        type: int
      charset:
        description: As O(charset).
        type: str
        choices: [alnum, urlsafe, hex, ascii_printable]
      min_length:
        description: As O(min_length).
        type: int
      rotate:
        description: As O(rotate).
        type: bool
      owner:
        description: As O(owner).
        type: str
      group:
        description: As O(group).
        type: str
      mode:
        description: As O(mode).
        type: raw
  source:
    description:
      - Where the secret comes from.
      - V(generate) creates a random secret when the file does not exist yet, or when O(rotate=true). An existing
        secret is otherwise never changed.
      - V(value) stores O(value), replacing the stored secret when it differs.
      - V(file) stores the content of O(src), a file on the managed host, replacing the stored secret when it
        differs. One trailing newline is removed from that content.
    type: str
    choices: [generate, value, file]
    default: generate
  value:
    description:
      - The secret to store when O(source=value).
      - Must be a single line, at least O(min_length) characters long.
      - Required if O(source=value), not allowed otherwise.
    type: str
  src:
    description:
      - Path of a regular file on the managed host whose content is the secret, when O(source=file).
      - Symbolic links are refused. The content must be UTF-8 text, one line (one trailing newline is removed),
        at least O(min_length) characters long.
      - Required if O(source=file), not allowed otherwise.
    type: path
  length:
    description:
      - Number of characters of a generated secret.
      - Only used when O(source=generate).
    type: int
    default: 32
  charset:
    description:
      - Characters a generated secret is drawn from.
      - V(alnum) is ASCII letters and digits, V(urlsafe) adds V(-) and V(_), V(hex) is lower-case hexadecimal
        digits, V(ascii_printable) is every printable ASCII character except single, double and back quotes,
        the backslash and whitespace.
      - Only used when O(source=generate).
    type: str
    choices: [alnum, urlsafe, hex, ascii_printable]
    default: alnum
  min_length:
    description:
      - Minimum length, in characters, of a supplied secret (O(source=value) or O(source=file)).
      - Empty secrets are always refused.
    type: int
    default: 12
  rotate:
    description:
      - Replace the stored secret even when it exists and matches.
      - With O(source=generate) a new random secret is generated. With O(source=value) or O(source=file) the file
        is rewritten even if the content is unchanged (so the fingerprint stays the same).
      - Consumers keep the old secret until their containers are recreated, a file bind mount pins the replaced
        file.
    type: bool
    default: false
  owner:
    description:
      - Owner of the secret file, as a user name or a numeric uid.
      - Use the uid of the consuming container process, for example V(999) for the MariaDB image or V(1000) for
        Frappe, with O(mode=0400) or O(mode=0600).
    type: str
    default: root
  group:
    description:
      - Group of the secret file, as a group name or a numeric gid.
    type: str
    default: root
  mode:
    description:
      - Permissions of the secret file, one of V(0400), V(0440), V(0600) or V(0640).
      - Always quote it in YAML. An unquoted integer is taken as the permission bits (as M(ansible.builtin.file)
        does), so an unquoted V(0400) still works but an unquoted V(400) (decimal) is refused.
      - Drift of owner, group or mode on an existing file is fixed without touching its content.
    type: raw
    default: '0400'
notes:
  - A list or mapping option given as a string is refused before anything runs (AnsibleModule would split it at
    its commas or parse it as C(k=v) pairs). Booleans and numbers written as text are converted as usual.
  - Only C(root) can give the file to another owner; run the module with O(owner) and O(group) other than the
    connecting user through C(become).
  - If the salt file is removed, a new salt is created on the next run and every fingerprint of the project changes.
seealso:
  - name: Compose file reference, secrets
    description: How Compose mounts file-based secrets into services.
    link: https://docs.docker.com/reference/compose-file/secrets/
  - module: community.docker.docker_secret
    description: Swarm secrets, which store a hash of the data in a label for the same idempotency problem.
"""

EXAMPLES = r"""
---
- name: Ensure the bench's secrets exist, each readable only by its consumer, in one module run
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    secrets:
      - {name: db_root_password, owner: "999", group: "999"}
      - {name: db_admin_password}
      - {name: redis_password, charset: hex, mode: "0440", group: "1000"}

- name: Ensure the MariaDB root password exists, readable by the mariadb image user only
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    name: db_root_password
    length: 40
    owner: 999
    group: 999
    mode: '0400'
  register: __erpnext_db_root_password

- name: Ensure the administrator password is the one kept in Ansible Vault
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    name: admin_password
    source: value
    value: "{{ vault_erpnext_admin_password }}"
    owner: 1000
    group: 1000

- name: Ensure the SMTP password from HashiCorp Vault is stored for the project
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    name: smtp_password
    source: value
    value: "{{ lookup('community.hashi_vault.vault_kv2_get', 'erpnext/smtp').secret.password }}"
    owner: 1000
    group: 1000

- name: Ensure an API token dropped by another tool on the host is stored as a secret
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    name: backup_token
    source: file
    src: /root/backup-token.txt
    min_length: 24

- name: Rotate the Redis password, then recreate the consumers when it changed
  erpstack.erpnext.stack_secret:
    project_dir: /opt/erpstack/erpnext
    name: redis_password
    charset: hex
    rotate: true
  register: __erpnext_redis_password
  notify: Recreate the ERPNext stack
"""

RETURN = r"""
path:
  description: Path of the secret file.
  returned: unless O(secrets) is given
  type: str
  sample: /opt/erpstack/erpnext/secrets/db_root_password
created:
  description: Whether the secret file was (or, in check mode, would be) created.
  returned: unless O(secrets) is given
  type: bool
  sample: true
rotated:
  description:
    - Whether an existing secret was (or, in check mode, would be) replaced, by O(rotate=true) or because the
      supplied secret differed from the stored one.
  returned: unless O(secrets) is given
  type: bool
  sample: false
fingerprint:
  description:
    - Salted fingerprint of the stored secret, the first 16 hex digits of HMAC-SHA256 keyed with the project salt.
    - Stable across runs while the secret and the salt do not change, so it can be put into a container label or
      compared to decide whether consumers must be restarted.
    - V(null) in check mode when the secret would be generated or when the salt does not exist yet.
  returned: unless O(secrets) is given
  type: str
  sample: 3f9c1e0b7a52d4e8
uid:
  description: Numeric owner of the secret file.
  returned: unless O(secrets) is given
  type: int
  sample: 999
gid:
  description: Numeric group of the secret file.
  returned: unless O(secrets) is given
  type: int
  sample: 999
mode:
  description: Permissions of the secret file.
  returned: unless O(secrets) is given
  type: str
  sample: '0400'
results:
  description:
    - With O(secrets), one result per secret, in order, each with the keys returned for one secret (RV(path),
      RV(created), RV(rotated), RV(fingerprint), RV(uid), RV(gid), RV(mode), RV(actions)); those keys are then not
      returned at the top level.
  returned: when O(secrets) is given
  type: list
  elements: dict
  sample:
    - {path: /opt/erpstack/erpnext/secrets/db_root_password, created: false, rotated: false,
       fingerprint: 3f9c1e0b7a52d4e8, uid: 999, gid: 999, mode: '0400', actions: []}
actions:
  description: What was done (or would be done in check mode), in order. Never contains the secret.
  returned: unless O(secrets) is given
  type: list
  elements: str
  sample:
    - create directory /opt/erpstack/erpnext/secrets (0700)
    - create fingerprint salt /opt/erpstack/erpnext/secrets/.fingerprint-salt
    - create secret /opt/erpstack/erpnext/secrets/db_root_password (generated, 40 characters, alnum)
"""

import os
import stat
import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.erpstack.erpnext.plugins.module_utils._strict import refuse_coercions
from ansible_collections.erpstack.erpnext.plugins.module_utils._secrets import (
    MAX_SUPPLIED_BYTES,
    SALT_FILE_NAME,
    SALT_MODE,
    SECRETS_DIR_MODE,
    SecretError,
    atomic_write,
    check_generate_options,
    check_supplied,
    create_exclusive,
    decode_file_secret,
    fingerprint,
    fix_ownership_and_mode,
    format_mode,
    generate_secret,
    lstat_or_none,
    new_salt,
    parse_mode,
    read_regular_file,
    resolve_gid,
    resolve_uid,
    same_secret,
    validate_name,
)


class SecretModule(AnsibleModule):
    """AnsibleModule without the automatic stat() of a returned ``path``.

    The base class adds owner/group/mode/size of any returned ``path``; ``size`` is the length of the
    secret, which is not something to hand out. uid, gid and mode are returned explicitly instead, as the
    desired state, which is also what check mode predicts.
    """

    def add_path_info(self, kwargs):
        return kwargs


class StackSecret(object):
    """One secret file of one Compose project: inspect, plan, apply."""

    def __init__(self, module, params):
        self.module = module
        self.check_mode = module.check_mode
        self.params = params
        self.project_dir = params['project_dir']
        self.name = validate_name(params['name'])
        self.source = params['source']
        self.rotate = params['rotate']
        self.mode = parse_mode(params['mode'])
        self.uid = resolve_uid(params['owner'])
        self.gid = resolve_gid(params['group'])
        self.secrets_dir = os.path.join(self.project_dir, 'secrets')
        self.path = os.path.join(self.secrets_dir, self.name)
        self.salt_path = os.path.join(self.secrets_dir, SALT_FILE_NAME)
        self.actions = []
        self._check_source_options(params)

    def _check_source_options(self, params):
        # A forgotten "source: value" would otherwise silently generate a random secret instead.
        if self.source != 'value' and params['value'] is not None:
            raise SecretError('value is only used with source=value (source is {0})'.format(self.source))
        if self.source != 'file' and params['src'] is not None:
            raise SecretError('src is only used with source=file (source is {0})'.format(self.source))
        if params['min_length'] < 0:
            raise SecretError('min_length must not be negative')
        if self.source == 'generate':
            # Validate length and charset up front, even when nothing will be generated.
            check_generate_options(params['length'], params['charset'])

    def _supplied_secret(self):
        """The secret given by the user, as bytes, validated. None for generated secrets."""
        params = self.params
        if self.source == 'value':
            text = check_supplied(params['value'], params['min_length'], 'value')
        elif self.source == 'file':
            origin = 'the content of {0}'.format(params['src'])
            found = read_regular_file(params['src'], max_bytes=MAX_SUPPLIED_BYTES, what='src')
            if found is None:
                raise SecretError('src {0} does not exist on the managed host'.format(params['src']))
            text = check_supplied(decode_file_secret(found[0], origin), params['min_length'], origin)
        else:
            return None
        # Defence in depth: mask the secret in anything AnsibleModule prints or logs.
        self.module.no_log_values.add(text)
        return to_bytes(text, errors='strict')

    def _inspect_secrets_dir(self):
        """True if the secrets directory exists, False if it (or the project directory) is missing."""
        if not os.path.isdir(self.project_dir):
            if os.path.lexists(self.project_dir):
                raise SecretError('project_dir {0} is not a directory'.format(self.project_dir))
            if not self.check_mode:
                raise SecretError('project_dir {0} does not exist'.format(self.project_dir))
            # In check mode the task that creates the project directory did not really run either.
            return False
        st = lstat_or_none(self.secrets_dir)
        if st is None:
            return False
        if not stat.S_ISDIR(st.st_mode):
            raise SecretError('{0} exists but is not a directory (symbolic links are refused)'.format(self.secrets_dir))
        return True

    def _read_salt(self):
        found = read_regular_file(self.salt_path, max_bytes=4096, what='fingerprint salt')
        if found is None:
            return None
        salt = found[0].strip()
        if len(salt) < 16:
            raise SecretError('fingerprint salt {0} is too short; remove it to let a new one be created'.format(
                self.salt_path))
        return salt

    def run(self):
        supplied = self._supplied_secret()
        dir_exists = self._inspect_secrets_dir()
        existing = read_regular_file(self.path, what='secret') if dir_exists else None
        salt = self._read_salt() if dir_exists else None
        # An empty file is no secret (a stray touch, a failed manual edit): treat it as missing.
        stored = existing[0] if existing and existing[0] else None

        write_reason = self._write_reason(stored, supplied)
        perms_drift = self._perms_drift(existing[1]) if stored is not None and write_reason is None else []

        before = fingerprint(salt, stored) if (stored is not None and salt is not None) else None

        # Record the plan; it is also what check mode reports.
        if not dir_exists:
            self.actions.append('create directory {0} ({1})'.format(self.secrets_dir, format_mode(SECRETS_DIR_MODE)))
        if salt is None:
            self.actions.append('create fingerprint salt {0}'.format(self.salt_path))
        if write_reason is not None:
            self.actions.append('{0} secret {1} ({2}, owner {3}:{4}, mode {5})'.format(
                write_reason, self.path, self._describe_source(), self.uid, self.gid, format_mode(self.mode)))
        self.actions.extend(perms_drift)

        new_content = supplied
        if not self.check_mode:
            if not dir_exists:
                self._create_secrets_dir()
            if salt is None:
                salt = self._ensure_salt()
            if write_reason is not None:
                if new_content is None:
                    generated = generate_secret(self.params['length'], self.params['charset'])
                    self.module.no_log_values.add(generated)
                    new_content = to_bytes(generated)
                self.module.debug('stack_secret: writing {0} ({1})'.format(self.path, write_reason))
                atomic_write(self.path, new_content, self.mode, self.uid, self.gid)
            elif perms_drift:
                self.module.debug('stack_secret: fixing ownership/mode of {0}'.format(self.path))
                fix_ownership_and_mode(self.path, self.uid, self.gid, self.mode)

        final_content = new_content if write_reason is not None else stored
        after = None
        if final_content is not None and salt is not None:
            after = fingerprint(salt, final_content)

        result = dict(
            changed=bool(self.actions),
            path=self.path,
            created=write_reason == 'create',
            rotated=write_reason in ('rotate', 'replace'),
            fingerprint=after,
            uid=self.uid,
            gid=self.gid,
            mode=format_mode(self.mode),
            actions=self.actions,
        )
        if self.module._diff:
            result['diff'] = dict(before=dict(fingerprint=before), after=dict(fingerprint=after))
        return result

    def _write_reason(self, stored, supplied):
        """Why the content must be written ('create', 'rotate', 'replace'), or None to keep it."""
        if stored is None:
            return 'create'
        if self.rotate:
            return 'rotate'
        if supplied is not None and not same_secret(stored, supplied):
            return 'replace'
        return None

    def _perms_drift(self, st):
        """Actions needed to bring owner, group and mode of the existing file in line."""
        drift = []
        if (st.st_uid, st.st_gid) != (self.uid, self.gid):
            drift.append('set owner of {0} to {1}:{2} (was {3}:{4})'.format(
                self.path, self.uid, self.gid, st.st_uid, st.st_gid))
        current_mode = stat.S_IMODE(st.st_mode)
        if current_mode != self.mode:
            drift.append('set mode of {0} to {1} (was {2})'.format(
                self.path, format_mode(self.mode), format_mode(current_mode)))
        return drift

    def _describe_source(self):
        params = self.params
        if self.source == 'generate':
            return 'generated, {0} characters, {1}'.format(params['length'], params['charset'])
        if self.source == 'file':
            return 'from {0}'.format(params['src'])
        return 'from value'

    def _create_secrets_dir(self):
        try:
            os.mkdir(self.secrets_dir, SECRETS_DIR_MODE)
        except FileExistsError:
            # Created concurrently; it is inspected again below.
            pass
        st = os.lstat(self.secrets_dir)
        if not stat.S_ISDIR(st.st_mode):
            raise SecretError('{0} exists but is not a directory'.format(self.secrets_dir))
        if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
            os.chown(self.secrets_dir, 0, 0)
        # mkdir() honours the umask and a setgid parent may add bits: set the mode explicitly.
        os.chmod(self.secrets_dir, SECRETS_DIR_MODE)

    def _ensure_salt(self):
        euid, egid = os.geteuid(), os.getegid()
        if not create_exclusive(self.salt_path, new_salt(), SALT_MODE, euid, egid):
            self.module.debug('stack_secret: fingerprint salt created concurrently, reusing it')
        salt = self._read_salt()
        if salt is None:
            raise SecretError('fingerprint salt {0} vanished while being created'.format(self.salt_path))
        return salt


SOURCES = ['generate', 'value', 'file']
CHARSETS = ['alnum', 'urlsafe', 'hex', 'ascii_printable']
PER_SECRET = ('name', 'source', 'value', 'src', 'length', 'charset', 'min_length', 'rotate', 'owner', 'group', 'mode')


def create_module():
    return SecretModule(
        argument_spec=refuse_coercions(dict(
            project_dir=dict(type='path', required=True),
            name=dict(type='str'),
            source=dict(type='str', default='generate', choices=SOURCES),
            value=dict(type='str', no_log=True),
            src=dict(type='path'),
            length=dict(type='int', default=32),
            charset=dict(type='str', default='alnum', choices=CHARSETS),
            min_length=dict(type='int', default=12),
            rotate=dict(type='bool', default=False),
            owner=dict(type='str', default='root'),
            group=dict(type='str', default='root'),
            mode=dict(type='raw', default='0400'),
            # the list itself is no secret; each entry's value is (no_log below)
            secrets=dict(type='list', elements='dict', no_log=False, options=dict(
                name=dict(type='str', required=True),
                source=dict(type='str', choices=SOURCES),
                value=dict(type='str', no_log=True),
                src=dict(type='path'),
                length=dict(type='int'),
                charset=dict(type='str', choices=CHARSETS),
                min_length=dict(type='int'),
                rotate=dict(type='bool'),
                owner=dict(type='str'),
                group=dict(type='str'),
                mode=dict(type='raw'),
            )),
        )),
        required_one_of=[
            ('name', 'secrets'),
        ],
        mutually_exclusive=[
            ('value', 'src'),
            ('name', 'secrets'),
            ('value', 'secrets'),
            ('src', 'secrets'),
        ],
        supports_check_mode=True,
    )


def secret_params(module):
    """The options of each secret to ensure: the top-level ones, or each entry of secrets over them."""
    params = module.params
    entries = [{}] if params['secrets'] is None else params['secrets']
    found = []
    for entry in entries:
        merged = dict((key, params[key] if entry.get(key) is None else entry[key]) for key in PER_SECRET)
        where = '' if params['secrets'] is None else 'secret {0}: '.format(merged['name'])
        for source, needed in (('value', 'value'), ('file', 'src')):
            if merged['source'] == source and merged[needed] is None:
                raise SecretError('{0}source is {1} but all of the following are missing: {2}'.format(
                    where, source, needed))
        found.append(merged)
    names = [entry['name'] for entry in found]
    if len(set(names)) != len(names):
        raise SecretError('secrets names a secret twice: {0}'.format(
            ', '.join(sorted(set(n for n in names if names.count(n) > 1)))))
    return found


def run_all(module):
    """Ensure every secret; with secrets, one result per secret under results."""
    # every secret's options are checked before the first one is written
    secrets = [StackSecret(module, dict(params, project_dir=module.params['project_dir']))
               for params in secret_params(module)]
    if module.params['secrets'] is None:
        return secrets[0].run()
    results = [secret.run() for secret in secrets]
    result = dict(changed=any(r['changed'] for r in results), results=results)
    if module._diff:
        result['diff'] = dict(
            before=dict((s.name, r['diff']['before']['fingerprint']) for s, r in zip(secrets, results)),
            after=dict((s.name, r['diff']['after']['fingerprint']) for s, r in zip(secrets, results)))
        for r in results:
            del r['diff']
    return result


def main():
    module = create_module()

    try:
        result = run_all(module)
    except SecretError as exc:
        module.fail_json(msg=to_native(exc))
    except (OSError, IOError) as exc:
        # OSError messages carry paths and errno text, never file contents.
        module.fail_json(msg='stack_secret failed: {0}'.format(to_native(exc)), exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == '__main__':
    main()
