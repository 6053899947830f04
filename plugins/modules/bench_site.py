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
short_description: Create or drop a Frappe site in a Docker Compose bench, install its apps, rotate its passwords
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
  - For secret rotation, once the new secret files are on the managed host, O(admin_password_update=true) sets
    the C(Administrator) password of an existing site (C(bench set-admin-password --logout-all-sessions), the
    password answering its prompt on standard input), and O(db_password_update=true) writes a new
    C(db_password) into the site's C(site_config.json) with C(jq), the password on standard input; it does not
    use C(bench set-config), whose value would be an argument visible in the host's process list.
  - O(return_db_identity=true) (implied by O(db_password_update=true)) returns the site's database name and
    user, so that a following task can give the database account the new password.
author:
  - erpstack contributors (@erpstack)
attributes:
  check_mode:
    description: Can run in check mode and return a changed status prediction without modifying the site.
    support: full
    details:
      - Read-only commands (the existence check, C(bench list-apps), the look at the bench configuration's
        keys before a creation and the read of C(db_name) and C(db_user) from the site's C(site_config.json))
        still run in check mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check mode) when in diff mode.
    support: full
    details:
      - A rotated password shows up in the diff as a changed C(admin_password) or C(db_password) key whose
        values are placeholders, never the passwords.
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: partial
    details:
      - Creating the site, dropping it and installing apps are idempotent.
      - O(admin_password_update=true) and O(db_password_update=true) report a change on every run, since the
        current passwords cannot be read back to be compared. Set them only when a password is to be rotated.
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
      - Password of the C(Administrator) user, set when the site is created.
      - For an existing site, only used with O(admin_password_update=true).
      - Mutually exclusive with O(admin_password_file).
      - One of them is required when O(state=present) and the site has to be created, and with
        O(admin_password_update=true).
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
  db_name:
    description:
      - Name of the site's database (and database user) when the site is created, passed as C(--db-name).
      - When omitted, Frappe picks V(_) followed by 16 hex characters. Such a name is itself a MariaDB grant pattern
        (V(_) is a wildcard), so only an account with privileges on every database may grant on it; a name without
        V(_) or V(%) lets a site-admin account limited to a prefix (for example C(erp%)) create sites.
      - Letters and digits, at most 64 characters.
    type: str
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
  admin_password_update:
    description:
      - With V(true), set the C(Administrator) password of the site to O(admin_password) (or the content of
        O(admin_password_file)) with C(bench --site SITE set-admin-password --logout-all-sessions), which logs
        every user out. The password is written to the standard input of bench, answering its prompt.
      - Runs on every invocation with V(true) and always reports a change. Meant for rotation, after the new
        password file has been written.
      - Not run when this invocation creates the site, which gets the password from C(bench new-site).
      - Only valid with O(state=present).
    type: bool
    default: false
  db_password_file:
    description:
      - Path on the managed host of a file holding the new database password of the site on its first and only
        line. Required by, and only used with, O(db_password_update=true).
    type: path
  db_password_update:
    description:
      - With V(true), set C(db_password) in C(sites/SITE/site_config.json) to the content of O(db_password_file).
        All other keys of the file and its mode are kept; the file is replaced atomically (a temporary file in the
        same directory, then a rename), so a failure leaves it as it was.
      - Only the site configuration is changed. The database account (returned as RV(db_user)) must be given the
        same password, for example with M(community.mysql.mysql_user); until then the site cannot reach its
        database. This is therefore the last step the module runs.
      - Runs on every invocation with V(true) and always reports a change.
      - The site must exist; the module fails otherwise (C(bench new-site) generates a database password of its
        own). Implies O(return_db_identity=true). Only valid with O(state=present).
      - Needs C(sh), C(mktemp), C(chmod) and C(jq) 1.6 or later in the service's container.
    type: bool
    default: false
  return_db_identity:
    description:
      - With V(true), return RV(db_name) and RV(db_user) of the site, read from its C(site_config.json) with
        C(jq) (only those two keys are read). This read also runs in check mode.
      - Not returned in check mode when the site would be created. Only valid with O(state=present).
    type: bool
    default: false
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
  container:
    description:
      - A running container of the bench's image to execute C(bench) in (C(docker exec)), instead of the compose
        project's O(service). A bench on Docker Swarm has no compose project, so the erpnext role runs its bench
        commands in the bench's admin container, which mounts the shared C(sites/) and joins the stack's network.
      - O(project_dir) then needs no C(compose.yaml).
    type: str
  docker_cli:
    description:
      - Docker CLI to run. A bare name is looked up in E(PATH).
    type: path
    default: docker
requirements:
  - Docker CLI with the Compose v2 plugin on the managed host
  - The service O(service) of the compose project running
notes:
  - A list or mapping option given as a string is refused before anything runs (AnsibleModule would split it at
    its commas or parse it as C(k=v) pairs). Booleans and numbers written as text are converted as usual.
  - C(drop-site) is run with C(--force), so a site whose database is already gone can still be removed; with
    O(drop_backup=true), a failing pre-drop backup does not stop the drop.
  - Passwords read from files are stripped of their trailing newline and must be a single line.
  - Written for Frappe v15 and later, whose C(set-admin-password) prompts for the password when it is not given
    as an argument.
seealso:
  - module: community.docker.docker_compose_v2
  - module: community.mysql.mysql_user
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

# Rotation, after the new secret files have been written on the host.
- name: Set the new Administrator password of the site
  erpstack.erpnext.bench_site:
    name: erp.example.com
    admin_password_file: /etc/erpstack/prod/secrets/admin_password
    admin_password_update: true
    project_dir: /opt/erpstack/prod

- name: Write the new database password into the site configuration
  erpstack.erpnext.bench_site:
    name: erp.example.com
    db_password_file: /etc/erpstack/prod/secrets/db_password
    db_password_update: true
    project_dir: /opt/erpstack/prod
  register: site_db

# vault_erpnext_db_password is the value that was written to the db_password_file above.
- name: Give the site's database account the same password
  community.mysql.mysql_user:
    name: "{{ site_db.db_user }}"
    host: "%"
    password: "{{ vault_erpnext_db_password }}"
    login_user: root
    login_password: "{{ vault_mariadb_root_password }}"
  no_log: true

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
admin_password_updated:
  description: Whether the C(Administrator) password was (or, in check mode, would be) set by O(admin_password_update).
  returned: always
  type: bool
  sample: false
db_password_updated:
  description: Whether C(db_password) was (or, in check mode, would be) written to the site's C(site_config.json).
  returned: always
  type: bool
  sample: true
db_name:
  description: Name of the site's database (C(db_name) of its C(site_config.json)).
  returned: when O(return_db_identity=true) or O(db_password_update=true), and the site exists
  type: str
  sample: _1a2b3c4d5e6f7a8b
db_user:
  description:
    - Database user of the site (C(db_user) of its C(site_config.json)); Frappe uses RV(db_name) when the
      key is not set, and so does this value.
  returned: when O(return_db_identity=true) or O(db_password_update=true), and the site exists
  type: str
  sample: _1a2b3c4d5e6f7a8b
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

import re

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.erpstack.erpnext.plugins.module_utils._strict import refuse_coercions
from ansible_collections.erpstack.erpnext.plugins.module_utils._bench import (
    BenchError,
    BenchRunner,
    bench_argument_spec,
    db_password_script,
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
        self.admin_password_updated = False
        self.db_password_updated = False
        self.db_identity = None
        self.commands = []
        self.before = {'exists': False, 'apps': []}
        self.after = {'exists': False, 'apps': []}
        self.admin_password_update = params['admin_password_update']
        self.db_password_update = params['db_password_update']
        self.return_db_identity = params['return_db_identity'] or self.db_password_update
        self.admin_password = self._secret('admin_password', 'the Administrator password')
        self.db_root_password = self._secret('db_root_password', 'the database root password')
        self.db_password = self._secret('db_password', 'the database password of the site')

    def _secret(self, option, what):
        """The value of ``option`` or of ``option_file``; ``None`` if neither is set."""
        value = self.module.params.get(option)
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

    def _mutate(self, argv, stdin_lines=None, stdin_data=None):
        """Record a mutation and, unless in check mode, run it. Returns ``(rc, out, err)``."""
        self.commands.append(argv)
        self.changed = True
        if self.check_mode:
            return 0, '', ''
        return self.runner.run(argv, stdin_lines, stdin_data=stdin_data)

    def fail_extra(self):
        """What a failure result reports besides the error: what had been done before it."""
        return dict(changed=self.changed, created=self.created, dropped=self.dropped, commands=self.commands,
                    admin_password_updated=self.admin_password_updated,
                    db_password_updated=self.db_password_updated)

    def _list_apps(self):
        return self.runner.installed_apps(self.name, **self.fail_extra())

    # ------------------------------------------------------------------ present
    def present(self):
        exists = self.runner.site_exists(self.name, **self.fail_extra())
        installed = self._list_apps() if exists else []
        self.before = {'exists': exists, 'apps': list(installed)}

        if not exists and self.db_password_update:
            # new-site generates a database password of its own; rotating one that does not
            # exist yet would leave the site configuration and the database account disagreeing.
            raise BenchError('Site %s does not exist, so its database password cannot be updated '
                             '(db_password_update=true). Create the site first, without db_password_update.'
                             % self.name)
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

        if self.return_db_identity:
            # Read before any further change, so a site whose configuration cannot be read
            # is left alone.
            self.db_identity = self.runner.db_identity(self.name, **self.fail_extra())

        missing = [app for app in self.apps if app not in installed]
        if missing:
            installed = self._install_apps(missing, installed)
        self.after = {'exists': True, 'apps': list(installed)}

        # new-site has just set the Administrator password from the same input.
        if self.admin_password_update and not self.created:
            self._update_admin_password()
        # Last: until the database account gets the same password, the site cannot reach
        # its database, so nothing may need it after this step.
        if self.db_password_update:
            self._update_db_password()

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
        if params['db_name']:
            args += ['--db-name', params['db_name']]
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

    # ------------------------------------------------------------------ secrets
    def _mark_rotated(self, key):
        """Show a rotated secret in the diff without its value."""
        self.before[key] = '(previous value, not shown)'
        self.after[key] = '(new value, not shown)'

    def _update_admin_password(self):
        """Run ``bench set-admin-password``, which prompts for the password and reads it from stdin."""
        self._require(self.admin_password, 'admin_password', 'update the Administrator password of')
        argv = self.runner.bench_argv(['set-admin-password', '--logout-all-sessions'], site=self.name)
        rc, out, err = self._mutate(argv, [self.admin_password])
        if rc != 0:
            self.runner.fail('Setting the Administrator password of site %s' % self.name,
                             argv, rc, out, err, **self.fail_extra())
        self.admin_password_updated = True
        self._mark_rotated('admin_password')

    def _update_db_password(self):
        """Set ``db_password`` in the site's ``site_config.json``, the new value going through stdin only.

        ``bench set-config db_password VALUE`` would put the password on a command line,
        which the host's process list shows for processes in containers too.
        """
        argv = self.runner.exec_argv(['sh', '-c', db_password_script(self.name)])
        rc, out, err = self._mutate(argv, stdin_data=self.db_password)
        if rc != 0:
            self.runner.fail('Writing the new db_password to sites/%s/site_config.json (the file is only replaced '
                             'once its new content is complete, so it was left as it was)' % self.name,
                             argv, rc, out, err, **self.fail_extra())
        self.db_password_updated = True
        self._mark_rotated('db_password')

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
            admin_password_updated=self.admin_password_updated,
            db_password_updated=self.db_password_updated,
        )
        if self.db_identity is not None:
            result['db_name'], result['db_user'] = self.db_identity
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
        db_name=dict(type='str'),
        db_host_scope=dict(type='str', default='%'),
        set_default=dict(type='bool', default=False),
        enable_scheduler=dict(type='bool', default=True),
        drop_backup=dict(type='bool', default=True),
        admin_password_update=dict(type='bool', default=False, no_log=False),
        db_password_file=dict(type='path', no_log=False),
        db_password_update=dict(type='bool', default=False, no_log=False),
        return_db_identity=dict(type='bool', default=False),
    )
    argument_spec.update(bench_argument_spec())
    refuse_coercions(argument_spec)
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=[
            ['admin_password', 'admin_password_file'],
            ['db_root_password', 'db_root_password_file'],
        ],
        required_if=[
            ['admin_password_update', True, ['admin_password', 'admin_password_file'], True],
            ['db_password_update', True, ['db_password_file']],
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
    if not problem and params['db_name'] is not None and not re.match(r'^[A-Za-z0-9]{1,64}$', params['db_name']):
        problem = 'db_name must be 1 to 64 letters and digits, got %r.' % params['db_name']
    if not problem and params['state'] == 'absent':
        present_only = [option for option in ('admin_password_update', 'db_password_update', 'return_db_identity')
                        if params[option]]
        if present_only:
            problem = '%s only apply to state=present.' % ', '.join('%s=true' % option for option in present_only)
    if problem:
        module.fail_json(msg=problem)

    runner = BenchRunner(module, params['project_dir'], service=params['service'], docker_cli=params['docker_cli'],
                         container=params['container'])
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
