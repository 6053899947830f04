# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every option the collection passes to `bench`, against the options Frappe's click commands define; and the test
stand-in's `bench`, which must accept no option the real one lacks.

FRAPPE lists, per command, the option spellings of frappe/frappe's click decorators (the group options of
frappe/utils/bench_helper.py's `app_group` apart), read from:
  v15: frappe/commands/site.py, utils.py, scheduler.py at upstream 15.50.0 (e6e3cc1413827247c0887808c6e155bd7f8351e6),
       the same at 15.63.0 (c3cb49105f6d6b5ca6bfa76ca30ccbb17bc598de);
  v16: the same files at 16.10.4 (a copy of the release) and upstream develop of May 2025
       (ca6c57faacb5bd539b0dd9bfb90e5efe8010a369).
v16 adds new-site --db-user, migrate --skip-fixtures and build --using-cached; set-config lost --as-dict (v14) and
worker --noreload (v13) long before either.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys
import types

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STANDIN = os.path.join(ROOT, "tests", "images", "erpnext-standin", "bench", "apps", "frappe", "frappe", "commands.py")

_V15 = {
    "new-site": {"--db-name", "--db-password", "--db-type", "--db-host", "--db-port", "--db-root-username",
                 "--mariadb-root-username", "--db-root-password", "--mariadb-root-password", "--db-socket",
                 "--mariadb-db-socket", "--no-mariadb-socket", "--mariadb-user-host-login-scope", "--admin-password",
                 "--verbose", "--force", "--source-sql", "--source_sql", "--install-app", "--set-default",
                 "--setup-db", "--no-setup-db"},
    "restore": {"--db-root-username", "--mariadb-root-username", "--db-root-password", "--mariadb-root-password",
                "--db-name", "--admin-password", "--install-app", "--with-public-files", "--with-private-files",
                "--force", "--encryption-key"},
    "drop-site": {"--db-root-username", "--mariadb-root-username", "--root-login", "--db-root-password",
                  "--mariadb-root-password", "--root-password", "--archived-sites-path", "--no-backup", "--force"},
    "install-app": {"--force"},
    "list-apps": {"--format", "-f"},
    "migrate": {"--skip-failing", "--skip-search-index"},
    "ready-for-migration": {"--site"},
    "version": {"-f", "--format"},
    "build": {"--app", "--apps", "--hard-link", "--production", "--verbose", "--force", "--save-metafiles"},
    "watch": {"--apps"},
    "backup": {"--with-files", "--include", "--only", "-i", "--exclude", "-e", "--backup-path", "--backup-path-db",
               "--backup-path-files", "--backup-path-private-files", "--backup-path-conf", "--ignore-backup-conf",
               "--verbose", "--compress", "--old-backup-metadata"},
    "set-config": {"-g", "--global", "-p", "--parse"},
    "use": set(),
    "set-maintenance-mode": {"--site"},
    "enable-scheduler": set(),
    "disable-scheduler": set(),
    "clear-cache": set(),
    "set-admin-password": {"--logout-all-sessions"},
    "worker": {"--queue", "--quiet", "-u", "--rq-username", "-p", "--rq-password", "--burst", "--strategy"},
    "schedule": set(),
    "serve": {"--port", "--profile", "--proxy", "--noreload", "--nothreading", "--with-coverage"},
}
_V16_ADDS = {"new-site": {"--db-user"}, "migrate": {"--skip-fixtures"}, "build": {"--using-cached"}}
FRAPPE = {15: _V15, 16: {cmd: opts | _V16_ADDS.get(cmd, set()) for cmd, opts in _V15.items()}}
# frappe/utils/bench_helper.py, app_group: the options before the command
GROUP = {"--site", "--profile", "--verbose", "--force"}

# Every bench call of the collection: (command, its options, where). Top-level --site is GROUP's.
USED = [
    ("new-site", ["--db-root-username", "--mariadb-user-host-login-scope", "--db-name", "--install-app",
                  "--set-default"], "plugins/modules/bench_site.py (BenchSite.create)"),
    ("new-site", ["--db-name", "--db-root-username", "--mariadb-user-host-login-scope"],
     "roles/backup/files/erpstack_backup.py (Drill: the scratch site)"),
    ("enable-scheduler", [], "plugins/modules/bench_site.py"),
    ("install-app", [], "plugins/modules/bench_site.py"),
    ("set-admin-password", ["--logout-all-sessions"], "plugins/modules/bench_site.py, erpstack_backup.py (drill, refresh)"),
    ("drop-site", ["--db-root-username", "--no-backup", "--force"], "plugins/modules/bench_site.py, erpstack_backup.py"),
    ("list-apps", ["--format"], "plugins/module_utils/_bench.py, roles/erpnext/tasks/upgrade.yml"),
    ("ready-for-migration", [], "roles/erpnext/tasks/upgrade.yml"),
    ("backup", ["--backup-path"], "roles/erpnext/tasks/upgrade.yml"),
    ("backup", ["--with-files", "--compress", "--backup-path"], "roles/backup/files/erpstack_backup.py (Bench.backup)"),
    ("migrate", [], "roles/erpnext/tasks/upgrade.yml, erpstack_backup.py (restore)"),
    ("clear-cache", [], "roles/erpnext/tasks/upgrade.yml, upgrade_rollback.yml, erpstack_backup.py"),
    ("restore", ["--force", "--db-root-username"], "roles/erpnext/tasks/upgrade_rollback.yml"),
    ("restore", ["--with-public-files", "--with-private-files", "--db-root-username", "--force"],
     "roles/backup/files/erpstack_backup.py (Restore.site)"),
    ("set-maintenance-mode", [], "roles/backup/files/erpstack_backup.py"),
    ("set-config", ["-p"], "roles/erpnext/tasks/upgrade_maintenance.yml, erpstack_backup.py (mute_emails)"),
    ("set-config", ["-g", "-p"], "plugins/plugin_utils/compose.py (the configurator: -g, -gp)"),
    ("worker", ["--queue"], "plugins/plugin_utils/compose.py (queue-short, queue-long)"),
    ("worker", [], "plugins/plugin_utils/compose.py (the development Procfile)"),
    ("schedule", [], "plugins/plugin_utils/compose.py"),
    ("serve", ["--port"], "plugins/plugin_utils/compose.py (the development Procfile)"),
    ("watch", [], "plugins/plugin_utils/compose.py (the development Procfile)"),
]


@pytest.mark.parametrize("version", [15, 16])
@pytest.mark.parametrize("command,options,where", USED, ids=["%s %s" % (c, " ".join(o)) for c, o, w in USED])
def test_each_option_the_collection_passes_is_one_frappe_defines(version, command, options, where):
    assert command in FRAPPE[version], (command, where)
    unknown = sorted(set(options) - FRAPPE[version][command])
    assert not unknown, "%s passes bench %s %s, which Frappe v%d does not define" % (where, command, unknown, version)


def _standin(version):
    """The stand-in's commands module with its imports stubbed, as the image's Frappe VERSION says."""
    stubs = {name: types.ModuleType(name) for name in (
        "pymysql", "frappe", "frappe.auth", "frappe.conf", "frappe.database", "frappe.installer", "frappe.utils",
        "frappe.utils.redis_wrapper")}
    stubs["frappe"].__version__ = "%d.0.0" % version

    class BenchError(Exception):
        def __init__(self, message, exit_code=1, stream="stderr"):
            super(BenchError, self).__init__(message)
            self.message, self.exit_code, self.stream = message, exit_code, stream
    stubs["frappe.conf"].BenchError = BenchError
    stubs["frappe.installer"].AppInstallError = Exception
    stubs["frappe.installer"].db_error = None
    stubs["frappe.installer"].out = print
    for name in ("auth", "conf", "database", "installer", "utils"):
        setattr(stubs["frappe"], name, stubs["frappe." + name])
    stubs["frappe.utils"].redis_wrapper = stubs["frappe.utils.redis_wrapper"]
    saved = {name: sys.modules.get(name) for name in stubs}
    sys.modules.update(stubs)
    try:
        spec = importlib.util.spec_from_file_location("standin_commands_%d" % version, STANDIN)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return module, BenchError


@pytest.mark.parametrize("version", [15, 16])
def test_the_standin_accepts_no_option_frappe_lacks(version):
    module, _error = _standin(version)
    for command, (parser, _handler) in module.build_parsers().items():
        accepted = {s for a in parser._actions for s in a.option_strings} - {"--help"}  # pylint: disable=protected-access
        assert command in FRAPPE[version], command
        extra = sorted(accepted - FRAPPE[version][command])
        assert not extra, "the stand-in's bench %s accepts %s, which Frappe v%d refuses" % (command, extra, version)


@pytest.mark.parametrize("argv,message", [
    (["new-site", "--db-root-password-file", "/run/secrets/x", "s2"],
     "Error: No such option: --db-root-password-file (Possible options: --db-password, --db-root-password, "
     "--mariadb-root-password)"),
    (["restore", "db.sql", "--encryption-keys", "k"], "Error: No such option: --encryption-keys Did you mean --encryption-key?"),
    (["worker", "--dequeue-strategy", "x"], "Error: No such option: --dequeue-strategy Did you mean --strategy?"),
    (["set-config", "--as-dict", "k", "v"], "Error: No such option: --as-dict"),
    (["backup", "-x"], "Error: No such option: -x"),
    (["new-site"], "Error: Missing argument 'SITE'."),
])
def test_the_standin_refuses_as_click_does(argv, message):
    # the messages of the real v15 and v16 commands under click 8.1.7, 8.2.1 and 8.3.1 (the same in all three)
    module, error = _standin(16)
    parser = module.build_parsers()[argv[0]][0]
    with pytest.raises(error) as raised:
        parser.parse_args(argv[1:])
    assert raised.value.exit_code == 2
    lines = raised.value.message.splitlines()
    assert lines[0].startswith("Usage: bench  %s [OPTIONS]" % argv[0])
    assert lines[1] == "Try 'bench  %s --help' for help." % argv[0]
    assert lines[-1] == message


@pytest.mark.parametrize("version,argv,message", [
    (15, ["--bogus", "migrate"], "Error: No such option: --bogus Did you mean --verbose?"),
    (15, ["new-sit"], "Error: No such command 'new-sit'."),
    (16, ["new-sit"], "Error: No such command: new-sit. Did you mean new-site?"),
])
def test_the_standin_group_refuses_as_frappe_does(version, argv, message, capsys):
    module, _error = _standin(version)
    assert module.main(argv) == 2
    assert capsys.readouterr().err.splitlines()[-1] == message


def test_the_standin_group_takes_frappes_group_options():
    module, _error = _standin(16)
    assert set(module.GROUP_OPTIONS) - {"--help"} == GROUP
