#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: bench_site
short_description: Create or drop a Frappe site in a Docker Compose bench and install its apps
version_added: 0.1.0
description:
  - Ensures a Frappe/ERPNext site exists (C(bench new-site)) or is dropped (C(bench drop-site)) in the bench
    run by a Docker Compose project, through C(docker compose exec) in one of the project's services.
  - When the site exists, installs the apps of O(apps) that are not installed yet, in the given order
    (C(bench --site SITE install-app)). Apps are never uninstalled.
  - Passwords never appear on a command line; they are written to the standard input of C(bench), which reads
    its C(MySQL root password) and C(Set Administrator password) prompts (and, on Frappe v15,
    C(Re-enter Administrator password)) from there when no terminal is attached.
  - Because those prompts are skipped when the bench configuration already holds C(root_password) or
    C(admin_password), the module refuses to create a site if C(sites/common_site_config.json) sets either.
  - Whether the site exists is decided by the presence of C(sites/SITE/site_config.json) in the bench.
author:
  - erpstack contributors (@erpstack)
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the site.
    support: full
    details:
      - Read-only commands (the existence check, C(bench list-apps) and the look at the bench configuration's
        keys before a creation) still run in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode) when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
options:
  name:
    description:
      - Name of the site, a lower-case DNS host name (for example V(erp.example.com)).
      - Each dot-separated label is 1 to 63 characters of V(a-z), V(0-9) and V(-), not starting or ending with V(-);
        the whole name is at most 253 characters.
    type: str
    required: true
  state:
    description:
      - V(present) creates the site if it does not exist, then installs the missing apps of O(apps).
        A site created by someone else satisfies V(present).
      - V(absent) drops the site (database, database user and site directory) if it exists.
    type: str
    choices: [present, absent]
    default: present
  apps:
    description:
      - Apps to install on the site besides C(frappe), which every site has. Order is kept.
      - The apps must be part of the bench's image.
      - Apps installed on the site but not listed here are left alone.
    type: list
    elements: str
    default: []
  admin_password:
    description:
      - Password of the C(Administrator) user, set when the site is created. Not used for an existing site.
      - Mutually exclusive with O(admin_password_file).
      - One of them is required when O(state=present) and the site has to be created.
    type: str
  admin_password_file:
    description:
      - Path on the managed host of a file holding the C(Administrator) password on its first and only line.
      - Mutually exclusive with O(admin_password).
    type: path
  db_root_username:
    description:
      - Database user with the privileges to create and drop databases and users.
    type: str
    default: root
  db_root_password:
    description:
      - Password of O(db_root_username).
      - Mutually exclusive with O(db_root_password_file).
      - One of them is required to create a site and to drop one; not needed when the site is already in the
        requested state or only apps are installed.
    type: str
  db_root_password_file:
    description:
      - Path on the managed host of a file holding the password of O(db_root_username) on its first and only line.
      - Mutually exclusive with O(db_root_password).
    type: path
  db_host_scope:
    description:
      - Host part of the site's database user, passed as C(--mariadb-user-host-login-scope) when the site is created.
      - The default V(%) lets the user connect from any container of the bench's network; a pattern such as
        V(172.18.%) narrows it to a subnet.
    type: str
    default: '%'
  set_default:
    description:
      - Make the new site the bench's default site (C(sites/currentsite.txt)). Only used when the site is created.
    type: bool
    default: false
  enable_scheduler:
    description:
      - Run C(bench --site SITE enable-scheduler) right after creating the site (Frappe creates sites with the
        scheduler disabled).
      - Only used when this module creates the site; the scheduler of an existing site is left as it is.
    type: bool
    default: true
  drop_backup:
    description:
      - With O(state=absent), let Frappe take its backup of the site (database and files) before dropping it.
      - V(false) passes C(--no-backup).
    type: bool
    default: true
  project_dir:
    description:
      - Directory of the bench's compose project, holding its C(compose.yaml).
    type: path
    required: true
  service:
    description:
      - Compose service whose running container executes C(bench).
    type: str
    default: backend
  docker_cli:
    description:
      - Docker CLI to run. A bare name is looked up in E(PATH).
    type: path
    default: docker
requirements:
  - Docker CLI with the Compose v2 plugin on the managed host
  - The service O(service) of the compose project running
notes:
  - C(drop-site) is run with C(--force), so a site whose database is already gone can still be removed; with
    O(drop_backup=true), a failing pre-drop backup does not stop the drop.
  - Passwords read from files are stripped of their trailing newline and must be a single line.
seealso:
  - module: community.docker.docker_compose_v2
  - name: frappe_docker
    description: The Frappe/ERPNext images and compose services this module runs bench in.
    link: https://github.com/frappe/frappe_docker
'''

EXAMPLES = r'''
- name: Ensure the ERPNext site exists with ERPNext and HR installed
  erpstack.erpnext.bench_site:
    name: erp.example.com
    apps:
      - erpnext
      - hrms
    admin_password_file: /etc/erpstack/prod/secrets/admin_password
    db_root_password_file: /etc/erpstack/prod/secrets/db_root_password
    set_default: true
    project_dir: /opt/erpstack/prod

- name: Ensure the site exists, passing the passwords from the vault
  erpstack.erpnext.bench_site:
    name: erp.example.com
    apps: [erpnext]
    admin_password: "{{ vault_erpnext_admin_password }}"
    db_root_password: "{{ vault_mariadb_root_password }}"
    db_host_scope: 172.18.%
    project_dir: /opt/erpstack/prod

- name: Ensure the test site is dropped, without a final backup
  erpstack.erpnext.bench_site:
    name: test.example.com
    state: absent
    drop_backup: false
    db_root_password_file: /etc/erpstack/prod/secrets/db_root_password
    project_dir: /opt/erpstack/prod
'''

RETURN = r'''
created:
  description: Whether the site was (or, in check mode, would be) created.
  returned: always
  type: bool
  sample: true
dropped:
  description: Whether the site was (or, in check mode, would be) dropped.
  returned: always
  type: bool
  sample: false
apps_installed:
  description:
    - Apps newly installed (or, in check mode, to be installed) on the site, in installation order.
    - When the site is created this includes C(frappe).
  returned: always
  type: list
  elements: str
  sample: [frappe, erpnext, hrms]
apps:
  description:
    - Apps installed on the site after the module ran, in installation order, as C(bench list-apps) reports them.
    - In check mode, the apps the site would have. Empty when the site does not exist.
  returned: always
  type: list
  elements: str
  sample: [frappe, erpnext, hrms]
commands:
  description:
    - Command lines of the mutations that were run (or, in check mode, would be run), in order.
    - Read-only commands are not listed. Passwords are never on command lines and standard input is never returned.
  returned: always
  type: list
  elements: list
  sample:
    - [/usr/bin/docker, compose, --project-directory, /opt/erpstack/prod, exec, -T, -u, frappe,
       -w, /home/frappe/frappe-bench, backend, bench, new-site, erp.example.com, --db-root-username, root,
       --mariadb-user-host-login-scope, '%', --install-app, erpnext, --set-default]
    - [/usr/bin/docker, compose, --project-directory, /opt/erpstack/prod, exec, -T, -u, frappe,
       -w, /home/frappe/frappe-bench, backend, bench, --site, erp.example.com, enable-scheduler]
'''

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.erpstack.erpnext.plugins.module_utils._bench import (
    BenchError,
    BenchRunner,
    bench_argument_spec,
    read_secret_file,
    scrub,
    secret_problem,
    unique,
    validate_app_name,
    validate_site_name,
)


# Config keys that make bench new-site skip its password prompts (Frappe reads
# frappe.conf.root_password and frappe.conf.admin_password before prompting).
PROMPTED_CONFIG_KEYS = ('root_password', 'admin_password')


class BenchSite(object):
    """One Frappe site of one bench: observe it, then bring it to the requested state."""

    def __init__(self, module, runner):
        self.module = module
        self.runner = runner
        params = module.params
        self.name = params['name']
        self.apps = unique(app for app in params['apps'] if app != 'frappe')
        self.check_mode = module.check_mode
        self.changed = False
        self.created = False
        self.dropped = False
        self.apps_installed = []
        self.commands = []
        self.before = {'exists': False, 'apps': []}
        self.after = {'exists': False, 'apps': []}
        self.admin_password = self._secret('admin_password', 'the Administrator password')
        self.db_root_password = self._secret('db_root_password', 'the database root password')

    def _secret(self, option, what):
        """The value of ``option`` or of ``option_file``; ``None`` if neither is set."""
        value = self.module.params[option]
        path = self.module.params[option + '_file']
        if path is not None:
            value = read_secret_file(path, what)
        elif value is not None:
            problem = secret_problem(value, what)
            if problem:
                raise BenchError('%s (option %s)' % (problem, option))
        self.runner.add_secret(value)
        return value

    def _require(self, value, option, action):
        if value is None:
            raise BenchError('%s or %s_file is required to %s site %s.' % (option, option, action, self.name))

    def _mutate(self, argv, stdin_lines=None):
        """Record a mutation and, unless in check mode, run it. Returns ``(rc, out, err)``."""
        self.commands.append(argv)
        self.changed = True
        if self.check_mode:
            return 0, '', ''
        return self.runner.run(argv, stdin_lines)

    def fail_extra(self):
        """What a failure result reports besides the error: what had been done before it."""
        return dict(changed=self.changed, created=self.created, dropped=self.dropped, commands=self.commands)

    def _list_apps(self):
        return self.runner.installed_apps(self.name, **self.fail_extra())

    # ------------------------------------------------------------------ present
    def present(self):
        exists = self.runner.site_exists(self.name, **self.fail_extra())
        installed = self._list_apps() if exists else []
        self.before = {'exists': exists, 'apps': list(installed)}

        if not exists:
            self._create()
            if self.check_mode:
                # Nothing was created, so there is nothing to list: new-site installs
                # frappe and then every --install-app, in that order.
                self.apps_installed = ['frappe'] + self.apps
                self.after = {'exists': True, 'apps': list(self.apps_installed)}
                return
            installed = self._list_apps()
            if self.created:
                self.apps_installed = list(installed)

        missing = [app for app in self.apps if app not in installed]
        if missing:
            installed = self._install_apps(missing, installed)
        self.after = {'exists': True, 'apps': list(installed)}

    def _create(self):
        """Run ``bench new-site``, then ``enable-scheduler``; a concurrent creation counts as success."""
        self._require(self.db_root_password, 'db_root_password', 'create')
        self._require(self.admin_password, 'admin_password', 'create')
        # bench skips a prompt whose answer the bench config already holds; the lines on
        # stdin would then answer the wrong prompt (the root password becoming the
        # Administrator's), so refuse rather than guess.
        preset = self.runner.common_config_keys(PROMPTED_CONFIG_KEYS, **self.fail_extra())
        if preset:
            raise BenchError(
                'sites/common_site_config.json sets %s, so bench new-site would not ask for %s and the passwords '
                'given to this module would answer the wrong prompt. Remove %s from that file '
                '(secrets do not belong in the shared bench configuration) and run again.'
                % (' and '.join(preset), 'it' if len(preset) == 1 else 'them', 'it' if len(preset) == 1 else 'them'))
        params = self.module.params
        args = ['new-site', self.name,
                '--db-root-username', params['db_root_username'],
                '--mariadb-user-host-login-scope', params['db_host_scope']]
        for app in self.apps:
            args += ['--install-app', app]
        if params['set_default']:
            args.append('--set-default')
        argv = self.runner.bench_argv(args)
        # No --db-root-password/--admin-password on the command line: bench prompts for the
        # root password, then the Administrator password, reading stdin. Frappe v15 asks for the
        # Administrator password a second time ("Re-enter"), v16 does not; a surplus line is never read.
        rc, out, err = self._mutate(argv, [self.db_root_password, self.admin_password, self.admin_password])
        if rc != 0:
            if 'Site %s already exists' % self.name in out + '\n' + err:
                # Created by someone else since the existence check: present is satisfied,
                # and the apps are checked like for any existing site.
                self.commands.pop()
                self.changed = False
                return
            self.runner.fail('Creating site %s' % self.name, argv, rc, out, err, **self.fail_extra())
        self.created = True
        if params['enable_scheduler']:
            argv = self.runner.bench_argv(['enable-scheduler'], site=self.name)
            rc, out, err = self._mutate(argv)
            if rc != 0:
                # The site exists now, so a rerun will not retry this step: say so.
                self.runner.fail('Enabling the scheduler of site %s (the site itself was created; run '
                                 '"bench --site %s enable-scheduler" once the cause is fixed)' % (self.name, self.name),
                                 argv, rc, out, err, **self.fail_extra())

    def _install_apps(self, missing, installed):
        """Install ``missing`` apps in one ``bench install-app``; returns the apps installed afterwards."""
        argv = self.runner.bench_argv(['install-app'] + missing, site=self.name)
        rc, out, err = self._mutate(argv)
        if rc != 0:
            self.runner.fail('Installing %s on site %s' % (', '.join(missing), self.name),
                             argv, rc, out, err, **self.fail_extra())
        self.apps_installed += missing
        if self.check_mode:
            return installed + missing
        installed = self._list_apps()
        still_missing = [app for app in missing if app not in installed]
        if still_missing:
            self.module.fail_json(
                msg='bench install-app succeeded but bench list-apps does not show %s on site %s.'
                    % (', '.join(still_missing), self.name),
                **self.fail_extra())
        return installed

    # ------------------------------------------------------------------ absent
    def absent(self):
        exists = self.runner.site_exists(self.name, **self.fail_extra())
        apps = []
        if exists and self.module._diff:
            # Only informative, and a site whose database is already gone must stay droppable.
            apps = self.runner.try_installed_apps(self.name) or []
        self.before = {'exists': exists, 'apps': apps}
        if not exists:
            return
        self._require(self.db_root_password, 'db_root_password', 'drop')
        args = ['drop-site', self.name, '--db-root-username', self.module.params['db_root_username']]
        if not self.module.params['drop_backup']:
            args.append('--no-backup')
        args.append('--force')
        argv = self.runner.bench_argv(args)
        rc, out, err = self._mutate(argv, [self.db_root_password])
        if rc != 0:
            self.runner.fail('Dropping site %s' % self.name, argv, rc, out, err, **self.fail_extra())
        self.dropped = True

    # ------------------------------------------------------------------ result
    def result(self):
        result = dict(
            changed=self.changed,
            created=self.created,
            dropped=self.dropped,
            apps_installed=self.apps_installed,
            apps=self.after['apps'],
            commands=self.commands,
        )
        if self.module._diff:
            result['diff'] = dict(before=self.before, after=self.after)
        return result


def main():
    argument_spec = dict(
        name=dict(type='str', required=True),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        apps=dict(type='list', elements='str', default=[]),
        admin_password=dict(type='str', no_log=True),
        admin_password_file=dict(type='path', no_log=False),
        db_root_username=dict(type='str', default='root'),
        db_root_password=dict(type='str', no_log=True),
        db_root_password_file=dict(type='path', no_log=False),
        db_host_scope=dict(type='str', default='%'),
        set_default=dict(type='bool', default=False),
        enable_scheduler=dict(type='bool', default=True),
        drop_backup=dict(type='bool', default=True),
    )
    argument_spec.update(bench_argument_spec())
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[
            ['admin_password', 'admin_password_file'],
            ['db_root_password', 'db_root_password_file'],
        ],
        supports_check_mode=True,
    )
    params = module.params

    problem = validate_site_name(params['name'])
    for app in params['apps']:
        problem = problem or validate_app_name(app)
    for option in ('db_root_username', 'db_host_scope', 'service'):
        if not problem and not params[option]:
            problem = '%s must not be empty.' % option
    if problem:
        module.fail_json(msg=problem)

    runner = BenchRunner(module, params['project_dir'], service=params['service'], docker_cli=params['docker_cli'])
    site = None
    try:
        runner.check_project()
        site = BenchSite(module, runner)
        if params['state'] == 'present':
            site.present()
        else:
            site.absent()
    except BenchError as exc:
        extra = site.fail_extra() if site is not None else {}
        module.fail_json(msg=scrub(to_native(exc), runner.secrets), **extra)
    module.exit_json(**site.result())


if __name__ == '__main__':
    main()
