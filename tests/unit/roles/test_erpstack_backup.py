# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The backup tool (roles/backup/files/erpstack_backup.py) without a bench: retention, sets, metrics, failures.

The commands it runs are replaced by a fake that answers exactly the argument lists the tool must send.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.util
import json
import os
import fcntl
import subprocess
import threading
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SPEC = importlib.util.spec_from_file_location("erpstack_backup",
                                              os.path.join(ROOT, "roles", "backup", "files", "erpstack_backup.py"))
eb = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(eb)


def days(start, count, hour="02:30:00"):
    first = datetime.datetime.strptime(start + " " + hour, "%Y-%m-%d %H:%M:%S")
    return [(first + datetime.timedelta(days=i)).strftime(eb.SET_FORMAT) for i in range(count)]


# --- retention ------------------------------------------------------------------------------------------------

GOLDEN = {
    # (policy) -> sets kept out of one set a day from 2025-01-01 to 2025-04-10
    (7, 0, 0): days("2025-04-04", 7),
    # ISO weeks: Apr 7-13 (newest Apr 10), Mar 31-Apr 6, Mar 24-30, Mar 17-23
    (0, 4, 0): ["20250323T023000Z", "20250330T023000Z", "20250406T023000Z", "20250410T023000Z"],
    (0, 0, 3): ["20250228T023000Z", "20250331T023000Z", "20250410T023000Z"],
    (7, 4, 3): ["20250228T023000Z", "20250323T023000Z", "20250330T023000Z", "20250331T023000Z"]
    + days("2025-04-04", 7),
}


@pytest.mark.parametrize("policy", sorted(GOLDEN))
def test_retention_golden(policy):
    sets = dict.fromkeys(days("2025-01-01", 100))
    keep = eb.retention_keep(sets, dict(zip(("daily", "weekly", "monthly"), policy)))
    assert sorted(keep) == sorted(GOLDEN[policy])


def test_retention_always_keeps_the_newest_set():
    assert eb.retention_keep(dict.fromkeys(days("2025-01-01", 3)), {"daily": 0}) == {"20250103T023000Z"}


def test_retention_keeps_only_the_newest_set_of_a_day():
    sets = dict.fromkeys(["20250101T010000Z", "20250101T020000Z", "20250102T010000Z"])
    assert eb.retention_keep(sets, {"daily": 2}) == {"20250101T020000Z", "20250102T010000Z"}


def test_retention_keeps_the_whole_chain_of_a_kept_incremental():
    names = days("2025-01-01", 10)
    sets = {names[0]: None}
    for previous, name in zip(names, names[1:]):
        sets[name] = previous if name != names[5] else None
    keep = eb.retention_keep(sets, {"daily": 1})
    # the newest is an incremental on Jan 9, ... on the full of Jan 6
    assert sorted(keep) == names[5:]


def test_retention_of_nothing():
    assert eb.retention_keep({}, {"daily": 7}) == set()


# --- the store ------------------------------------------------------------------------------------------------

def make_set(root, bench, name, base=None, files=None):
    path = os.path.join(root, bench, name)
    os.makedirs(os.path.join(path, "site.test"))
    digests = {}
    for rel, data in (files or {"site.test/database.sql.gz": b"dump"}).items():
        with open(os.path.join(path, rel), "wb") as f:
            f.write(data)
        digests[rel] = eb.hashlib.sha256(data).hexdigest()
    with open(os.path.join(path, eb.MANIFEST), "w") as f:
        json.dump({"set": name, "base": base, "method": "logical", "kind": "incremental" if base else "full",
                   "sha256": digests, "sites": {"site.test": {}}}, f)
    return path


@pytest.fixture
def config(tmp_path):
    return {"host": "h1", "backup_dir": str(tmp_path / "backups"), "state_dir": str(tmp_path / "state"),
            "textfile_dir": str(tmp_path / "textfile"), "retention": {"daily": 2},
            "benches": {"alpha": {"project_dir": str(tmp_path / "alpha"), "sites": ["site.test"], "method": "logical",
                                  "images": {}, "db_scope": "172.30.10.%", "db_prefix": "erp",
                                  "db_admin_user": "admin", "db_backup_user": "backup", "db_accounts": {}}}}


def test_store_lists_only_complete_sets(config):
    make_set(config["backup_dir"], "alpha", "20250101T000000Z")
    os.makedirs(os.path.join(config["backup_dir"], "alpha", ".partial-20250102T000000Z"))
    os.makedirs(os.path.join(config["backup_dir"], "alpha", "20250103T000000Z"))  # no manifest: incomplete
    assert list(eb.Store(config, "alpha").sets()) == ["20250101T000000Z"]


def test_store_verify_finds_a_damaged_file(config):
    path = make_set(config["backup_dir"], "alpha", "20250101T000000Z")
    store = eb.Store(config, "alpha")
    store.verify("20250101T000000Z")
    with open(os.path.join(path, "site.test", "database.sql.gz"), "ab") as f:
        f.write(b"x")
    with pytest.raises(eb.BackupError, match="database.sql.gz does not match its SHA-256"):
        store.verify("20250101T000000Z")


def test_store_chain_fails_on_a_missing_base(config):
    make_set(config["backup_dir"], "alpha", "20250102T000000Z", base="20250101T000000Z")
    with pytest.raises(eb.BackupError, match="20250101T000000Z is missing"):
        eb.Store(config, "alpha").chain("20250102T000000Z")


def test_prune_removes_what_the_policy_does_not_keep(config):
    for name in days("2025-01-01", 4):
        make_set(config["backup_dir"], "alpha", name)
    removed = eb.Tool(config).prune("alpha")
    assert removed == ["20250101T023000Z", "20250102T023000Z"]
    assert list(eb.Store(config, "alpha").sets()) == ["20250103T023000Z", "20250104T023000Z"]


# --- a failing run --------------------------------------------------------------------------------------------

class FakeRun(object):
    """subprocess.run for the tool: answers the exact argument lists it knows, fails the rest."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv, **kwargs):
        self.calls.append(argv)
        for prefix, (rc, out) in self.answers:
            if argv[:len(prefix)] == prefix:
                if kwargs.get("universal_newlines"):
                    return subprocess.CompletedProcess(argv, rc, out, "error text" if rc else "")
                return subprocess.CompletedProcess(argv, rc, out.encode(), b"error text" if rc else b"")
        raise AssertionError("unexpected command %r" % (argv,))


def test_failed_run_leaves_no_partial_set_and_reports_it(config, monkeypatch):
    make_set(config["backup_dir"], "alpha", "20250101T000000Z")
    compose = ["docker", "compose", "--ansi", "never", "--project-directory", config["benches"]["alpha"]["project_dir"]]
    fake = FakeRun([
        (compose + ["ps", "--status", "running", "--services"], (0, "backend\nfrontend\n")),  # db is down
    ])
    monkeypatch.setattr(eb.subprocess, "run", fake)
    with pytest.raises(eb.BackupError, match="backup failed, previous sets are untouched: the bench's backend and db"):
        eb.Tool(config).backup("alpha")
    assert sorted(os.listdir(os.path.join(config["backup_dir"], "alpha"))) == ["20250101T000000Z"]
    with open(os.path.join(config["textfile_dir"], "erpstack_backup_alpha.prom")) as f:
        text = f.read()
    assert 'erpstack_backup_last_run_success{bench="alpha"} 0' in text
    assert "# TYPE erpstack_backup_last_run_success gauge" in text


def test_main_exits_non_zero_with_one_clear_line(config, tmp_path, capsys, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    monkeypatch.setattr(eb.subprocess, "run", FakeRun([
        (["docker", "compose"], (0, "")),
    ]))
    assert eb.main(["--config", str(path), "run", "alpha"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["erpstack-backup: FAILED: bench alpha: backup failed, previous sets are untouched: "
                   "the bench's backend and db services must be running"]


def test_unknown_bench_is_refused(config, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert eb.main(["--config", str(path), "run", "beta"]) == 1
    assert "no bench beta here (benches: alpha)" in capsys.readouterr().err


def test_check_refuses_an_incomplete_configuration(tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"host": "h", "backup_dir": "/b", "state_dir": "/s", "textfile_dir": "/t",
                                "benches": {"a": {"method": "copy"}}}))
    assert eb.main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert "bench a lacks project_dir" in err and "bench a: method must be logical or physical" in err


# --- metrics --------------------------------------------------------------------------------------------------

def test_metrics_golden(config):
    metrics = eb.Metrics(config, "alpha")
    metrics.state = {
        "run": {"ended": 1764037800, "success": 1, "duration": 12.5},
        "success": {"ended": 1764037800, "set": "20251125T023000Z", "kind": "full", "bytes": 2048, "sets": 3,
                    "sites": {"site.test": {"ended": 1764037800, "bytes": 1024}}},
        "offsite": {"success": 1, "last_success": 1764037810, "data_added": 512},
        "drill": {"site.test": {"success": 0, "ended": 1764040000, "duration": 30.0}},
    }
    metrics.save()
    with open(os.path.join(config["textfile_dir"], "erpstack_backup_alpha.prom")) as f:
        text = f.read()
    golden = os.path.join(os.path.dirname(__file__), "golden", "erpstack_backup_alpha.prom")
    with open(golden) as f:
        assert text == f.read()


# --- secrets stay off argument lists --------------------------------------------------------------------------

def test_database_password_goes_to_standard_input(config, tmp_path, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    os.makedirs(os.path.join(project, "secrets"))
    with open(os.path.join(project, "secrets", "db_backup_password"), "w") as f:
        f.write("s3cret-value")
    fake = FakeRun([(["docker", "compose"], (0, "tabToDo\t3\n"))])
    fake.answers.insert(0, (["docker", "compose", "--ansi", "never", "--project-directory", project, "exec", "-T", "db",
                             "sh", "-c", eb.Bench.DB_SH + 'exec mariadb --defaults-extra-file="$f" -N -B -e "$1"', "sh",
                             "backup", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'erp0123' "
                             "AND TABLE_NAME IN ('tabToDo')"], (0, "tabToDo\n")))
    monkeypatch.setattr(eb.subprocess, "run", fake)
    seen = {}
    original = fake.__call__

    def spy(argv, **kwargs):
        seen["input"] = kwargs.get("input")
        return original(argv, **kwargs)
    monkeypatch.setattr(eb.subprocess, "run", spy)
    bench = eb.Tool(config).bench("alpha")
    assert bench.counts("site.test", "erp0123") == {"tabToDo": 3}
    assert not any("s3cret-value" in arg for call in fake.calls for arg in call)
    assert seen["input"] == "s3cret-value\n"
    assert fake.calls[1][-1] == "SELECT 'tabToDo', COUNT(*) FROM `erp0123`.`tabToDo`"


# --- restore and drill: the exact command sequence ------------------------------------------------------------

class Script(object):
    """subprocess.run for the tool that expects exactly these calls, in this order: (argv, rc, stdout). An extra, a
    missing or a different call fails the test; the standard input each call got is kept for the test to check."""

    def __init__(self, expected):
        self.expected = list(expected)
        self.inputs = []
        self.position = 0

    def __call__(self, argv, **kwargs):
        assert self.position < len(self.expected), "unexpected extra command %r" % (argv,)
        want, rc, out = self.expected[self.position]
        assert argv == want, "command %d:\n  got  %r\n  want %r" % (self.position, argv, want)
        self.position += 1
        self.inputs.append(kwargs.get("input"))
        if kwargs.get("stdout") not in (None, subprocess.PIPE):
            kwargs["stdout"].write(out.encode())
            out = None
        elif not kwargs.get("universal_newlines"):
            out = out.encode()
        return subprocess.CompletedProcess(argv, rc, out, "" if kwargs.get("universal_newlines") else b"")

    def done(self):
        assert self.position == len(self.expected), "missing commands: %r" % (self.expected[self.position:],)


ADMIN_PW = "adm1n-s3cret"
KEY = "k3y-of-the-source-site"


@pytest.fixture
def restorable(config, monkeypatch):
    """A complete logical set of site.test (with its encryption key and counts), the site-admin password, and a
    frontend that answers (the HTTP side is not what these tests check)."""
    project = config["benches"]["alpha"]["project_dir"]
    os.makedirs(os.path.join(project, "secrets"))
    for name, value in (("db_admin_password", ADMIN_PW), ("db_backup_password", "b4ckup-s3cret")):
        with open(os.path.join(project, "secrets", name), "w") as f:
            f.write(value)
    config["benches"]["alpha"]["db_admin_user"] = "erpstack_admin"
    files = {"site.test/%s" % name: data for name, data in (
        ("database.sql.gz", b"dump"), ("files.tgz", b"public"), ("private-files.tgz", b"private"),
        ("site_config.json", json.dumps({"db_name": "erp0123", "encryption_key": KEY}).encode()))}
    path = make_set(config["backup_dir"], "alpha", "20250101T000000Z", files=files)
    with open(os.path.join(path, eb.MANIFEST)) as f:
        manifest = json.load(f)
    manifest["sites"]["site.test"] = {"db_name": "erp0123", "counts": {"tabToDo": [3, 3]}}
    with open(os.path.join(path, eb.MANIFEST), "w") as f:
        json.dump(manifest, f)

    def http(bench, site, path, data=None, cookie=None):
        return (200, "Logged In", []) if data else (200, '{"message": "pong"}', [])
    monkeypatch.setattr(eb.Bench, "http", http)
    return path


def commands(project):
    compose = ["docker", "compose", "--ansi", "never", "--project-directory", project]

    def bench(*args, **kw):
        site = ["--site", kw["site"]] if kw.get("site") else []
        return compose + ["exec", "-T", "-u", "frappe", "-w", eb.BENCH_DIR, "backend", "bench"] + site + list(args)

    def sh(script, *args):
        return compose + ["exec", "-T", "-u", "frappe", "-w", eb.BENCH_DIR, "backend", "sh", "-c", script, "sh"] + list(args)

    def sql(user, statement):
        return compose + ["exec", "-T", "db", "sh", "-c", eb.Bench.DB_SH + 'exec mariadb --defaults-extra-file="$f" -N -B -e "$1"',
                          "sh", user, statement]
    return compose, bench, sh, sql


def restore_site_calls(project, site):
    """What Frappe's restore of one site from a logical set runs, into the site ``site``."""
    _compose, bench, sh, _sql = commands(project)
    stage = "%s/sites/%s/private/backups/erpstack-restore" % (eb.BENCH_DIR, site)
    return [
        (bench("set-maintenance-mode", "on", site=site), 0, ""),
        (sh('rm -rf "$1"; mkdir -p "$1"', stage), 0, ""),
        (sh('cat >"$1/$2"', stage, "database.sql.gz"), 0, ""),
        (sh('cat >"$1/$2"', stage, "files.tgz"), 0, ""),
        (sh('cat >"$1/$2"', stage, "private-files.tgz"), 0, ""),
        (bench("restore", stage + "/database.sql.gz", "--with-public-files", stage + "/files.tgz",
               "--with-private-files", stage + "/private-files.tgz", "--db-root-username", "erpstack_admin", "--force",
               site=site), 0, ""),
        (sh('set -e; f="sites/$1/site_config.json"; t="$f.tmp"; umask 077; '
            'jq --rawfile k /dev/stdin \'.encryption_key = ($k | rtrimstr("\\n"))\' "$f" >"$t"; mv "$t" "$f"', site), 0, ""),
        (bench("migrate", site=site), 0, ""),
        (bench("set-maintenance-mode", "off", site=site), 0, ""),
        (bench("clear-cache", site=site), 0, ""),
        (sh('rm -rf "$1"', stage), 0, ""),
    ]


def test_restore_of_a_site_runs_exactly_frappe_s_restore_sequence(config, restorable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    compose, _bench, _sh, _sql = commands(project)
    script = Script([(compose + ["up", "-d", "--wait"], 0, "")] + restore_site_calls(project, "site.test"))
    monkeypatch.setattr(eb.subprocess, "run", script)
    assert eb.Restore(eb.Context(config)).run("alpha", ["site.test"], safety=False) == "20250101T000000Z"
    script.done()
    # the database dump and the files go in on standard input; bench reads the site-admin password there; the
    # source's encryption key reaches site_config.json through jq's standard input
    assert script.inputs[3:6] == [b"dump", b"public", b"private"]
    assert script.inputs[6] == ADMIN_PW + "\n"
    assert script.inputs[7] == KEY + "\n"
    assert not any(ADMIN_PW in arg or KEY in arg for argv, _rc, _out in script.expected for arg in argv)


def test_a_failed_restore_names_the_set_and_leaves_the_staged_copy_removed(config, restorable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    compose, _bench, _sh, _sql = commands(project)
    calls = [(compose + ["up", "-d", "--wait"], 0, "")] + restore_site_calls(project, "site.test")
    calls[6] = (calls[6][0], 1, "")  # bench restore fails: the key, migrate and maintenance off never run
    script = Script(calls[:7] + calls[-1:])
    monkeypatch.setattr(eb.subprocess, "run", script)
    with pytest.raises(eb.BackupError, match=r"bench alpha: restore from set 20250101T000000Z failed \(bench restore "
                                             r"of site.test failed \(exit 1\).*no safety backup was taken"):
        eb.Restore(eb.Context(config)).run("alpha", ["site.test"], safety=False)
    script.done()


SCRATCH = "restore-drill.alpha.invalid"


def drill_calls(project, counted):
    """What a drill of site.test runs: clear leftovers, new-site, the restore into it, its password, the counts
    (``counted`` rows of tabToDo), and the drop."""
    _compose, bench, sh, sql = commands(project)
    db_name = "erp" + eb.hashlib.sha1(SCRATCH.encode()).hexdigest()[:16]
    drop = [
        (sh('rm -rf "sites/$1"', SCRATCH), 0, ""),
        (sql("erpstack_admin", "DROP DATABASE IF EXISTS `%s`; DROP USER IF EXISTS '%s'@'172.30.10.%%'"
             % (db_name, db_name)), 0, ""),
    ]
    return drop + [
        (bench("new-site", SCRATCH, "--db-name", db_name, "--db-root-username", "erpstack_admin",
               "--mariadb-user-host-login-scope", "172.30.10.%"), 0, ""),
    ] + restore_site_calls(project, SCRATCH) + [
        (bench("set-admin-password", "--logout-all-sessions", site=SCRATCH), 0, ""),
        (sql("backup", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s' AND TABLE_NAME IN "
             "('tabToDo')" % db_name), 0, "tabToDo\n"),
        (sql("backup", "SELECT 'tabToDo', COUNT(*) FROM `%s`.`tabToDo`" % db_name), 0, "tabToDo\t%d\n" % counted),
    ] + drop


def test_drill_restores_into_a_scratch_site_checks_it_and_drops_it(config, restorable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    script = Script(drill_calls(project, 3))
    monkeypatch.setattr(eb.subprocess, "run", script)
    result = eb.Drill(eb.Context(config)).run("alpha")
    script.done()
    assert result == {"site": "site.test", "set": "20250101T000000Z", "counts": {"tabToDo": 3}}
    # new-site reads the site-admin password, then the scratch Administrator's; set-admin-password the latter twice
    new_site, set_admin = script.inputs[2], script.inputs[3 + len(restore_site_calls(project, SCRATCH))]
    admin, drill = new_site.split("\n")[:2]
    assert admin == ADMIN_PW and len(drill) == 24 and set_admin == drill + "\n" + drill + "\n"
    with open(os.path.join(config["textfile_dir"], "erpstack_backup_alpha.prom")) as f:
        assert 'erpstack_restore_drill_success{bench="alpha",site="site.test"} 1' in f.read()


def test_a_drill_whose_counts_differ_fails_records_it_and_still_drops_the_scratch_site(config, restorable, monkeypatch):
    script = Script(drill_calls(config["benches"]["alpha"]["project_dir"], 2))
    monkeypatch.setattr(eb.subprocess, "run", script)
    with pytest.raises(eb.BackupError, match="restore drill failed: tabToDo has 2 rows in the restored site, 3 at "
                                             "backup time"):
        eb.Drill(eb.Context(config)).run("alpha")
    script.done()
    with open(os.path.join(config["textfile_dir"], "erpstack_backup_alpha.prom")) as f:
        assert 'erpstack_restore_drill_success{bench="alpha",site="site.test"} 0' in f.read()


# --- a staging refresh: production's set restored into another site, scrubbed before it leaves maintenance ------

STAGING = "staging.test"
STAGING_PW = "st4ging-4dmin"
STAGING_DB = "_5tag1ng"


@pytest.fixture
def refreshable(config, restorable, monkeypatch):
    """Staging's bench alpha with the site staging.test (and its Administrator password); the source's set is what
    fetch brings from the restic repository (into the refresh's own store)."""
    config["benches"]["alpha"]["sites"].append(STAGING)
    with open(os.path.join(config["benches"]["alpha"]["project_dir"], "secrets", "admin_password." + STAGING), "w") as f:
        f.write(STAGING_PW)
    fetched = []

    def fetch(self, name, wanted="latest", source_host=None, store=None):
        fetched.append((name, wanted, source_host, store.root))
        eb.shutil.copytree(restorable, store.path("20250101T000000Z"))
        return "20250101T000000Z"
    monkeypatch.setattr(eb.Restore, "fetch", fetch)
    return fetched


def refresh_calls(project, tables):
    """What a refresh of staging.test from site.test runs: Frappe's restore up to bench restore, the scrub (the tables
    ``tables`` exist), then migrate and out of maintenance mode, without the source's encryption key."""
    compose, bench, sh, sql = commands(project)
    restore = restore_site_calls(project, STAGING)
    statements = [q for table, q in eb.SCRUB if table in tables]
    scrub = [
        (sh('cat "sites/$1/site_config.json"', STAGING), 0, json.dumps({"db_name": STAGING_DB})),
        (sql("erpstack_admin", "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '%s'"
             % STAGING_DB), 0, "".join(t + "\n" for t in tables)),
    ]
    if all(t in tables for t in eb.SCRUB_REQUIRED):
        scrub += [
            (sql("erpstack_admin", "USE `%s`; %s;" % (STAGING_DB, "; ".join(statements))), 0, ""),
            (bench("set-config", "-p", "mute_emails", "1", site=STAGING), 0, ""),
            (bench("set-admin-password", "--logout-all-sessions", site=STAGING), 0, ""),
        ]
        return [(compose + ["up", "-d", "--wait"], 0, "")] + restore[:6] + scrub + restore[7:]
    return [(compose + ["up", "-d", "--wait"], 0, "")] + restore[:6] + scrub + restore[-1:]


FRAPPE_TABLES = ["__Auth", "tabContact", "tabDefaultValue", "tabEmail Account", "tabEmail Queue", "tabSessions",
                 "tabToDo", "tabUser"]


def test_refresh_scrubs_the_restored_site_before_it_leaves_maintenance_mode(config, refreshable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    script = Script(refresh_calls(project, FRAPPE_TABLES))
    monkeypatch.setattr(eb.subprocess, "run", script)
    result = eb.Refresh(eb.Context(config)).run("alpha", STAGING, "site.test", "prod1", safety=False)
    script.done()
    assert result == {"site": STAGING, "from_site": "site.test", "set": "20250101T000000Z", "source_host": "prod1"}
    # the source's sets were fetched beside staging's own, and are gone afterwards
    store_root = os.path.join(config["backup_dir"], ".refresh-alpha")
    assert refreshable == [("alpha", "latest", "prod1", store_root)]
    assert not os.path.exists(store_root)
    assert list(eb.Store(config, "alpha").sets()) == ["20250101T000000Z"]
    # bench restore reads the site-admin password, set-admin-password staging's own Administrator password; the
    # source's encryption key is written nowhere, and no secret is an argument
    assert script.inputs[6] == ADMIN_PW + "\n"
    assert script.inputs[11] == STAGING_PW + "\n"
    assert not any(KEY in (i.decode() if isinstance(i, bytes) else i or "") for i in script.inputs)
    assert not any(s in arg for s in (ADMIN_PW, STAGING_PW, KEY) for argv, _rc, _out in script.expected for arg in argv)


def test_the_scrub_covers_every_credential_and_leaves_out_tables_the_site_lacks(config, refreshable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    script = Script(refresh_calls(project, ["__Auth", "tabUser", "tabEmail Account"]))
    monkeypatch.setattr(eb.subprocess, "run", script)
    eb.Refresh(eb.Context(config)).run("alpha", STAGING, "site.test", "prod1", safety=False)
    script.done()
    statement = script.expected[9][0][-1]
    assert statement == (
        "USE `_5tag1ng`; UPDATE `tabUser` SET `email` = CONCAT('masked-', LEFT(SHA2(LOWER(`email`), 256), 16), "
        "'@staging.invalid') WHERE `name` NOT IN ('Administrator', 'Guest') AND IFNULL(`email`, '') <> ''; "
        "UPDATE `tabUser` SET `api_key` = NULL WHERE `api_key` IS NOT NULL; DELETE FROM `__Auth`; "
        "UPDATE `tabEmail Account` SET `enable_outgoing` = 0, `enable_incoming` = 0, `default_outgoing` = 0;")


def test_a_refresh_into_a_database_that_is_not_frappe_s_stays_in_maintenance_mode(config, refreshable, monkeypatch):
    project = config["benches"]["alpha"]["project_dir"]
    script = Script(refresh_calls(project, ["tabToDo"]))
    monkeypatch.setattr(eb.subprocess, "run", script)
    with pytest.raises(eb.BackupError, match=r"refresh of staging.test from set 20250101T000000Z failed \(the restored "
                                             r"staging.test has no tabUser and no __Auth table.*stays in maintenance "
                                             r"mode\); no safety backup was taken"):
        eb.Refresh(eb.Context(config)).run("alpha", STAGING, "site.test", "prod1", safety=False)
    script.done()
    assert not os.path.exists(os.path.join(config["backup_dir"], ".refresh-alpha"))


@pytest.mark.parametrize("site, from_site, host, message", [
    ("nowhere.test", "site.test", "prod1", "bench alpha has no site nowhere.test: create it with site.yml first"),
    (STAGING, "other.test", "prod1", "set 20250101T000000Z of bench alpha has no site other.test"),
    (STAGING, "site.test", "", "name the host whose sets to refresh from"),
])
def test_a_refresh_is_refused_before_anything_changes(config, refreshable, monkeypatch, site, from_site, host, message):
    script = Script([])
    monkeypatch.setattr(eb.subprocess, "run", script)
    with pytest.raises(eb.BackupError, match=message):
        eb.Refresh(eb.Context(config)).run("alpha", site, from_site, host, safety=False)
    script.done()


# --- a bench on Swarm: backed up from the replica's task on this node ----------------------------------------------

@pytest.fixture
def swarm_config(config, tmp_path):
    sites = tmp_path / "gluster" / "alpha" / "sites"
    for rel in ("site.test/public/files", "site.test/private/files"):
        (sites / rel).mkdir(parents=True)
    (sites / "site.test" / "public" / "files" / "logo.png").write_bytes(b"png")
    (sites / "site.test" / "site_config.json").write_text(json.dumps({"db_name": "_1a2b", "encryption_key": "k"}))
    config["benches"]["alpha"].update({"engine": "swarm", "stack": "alpha", "db_service": "db-replica",
                                       "sites_dir": str(sites), "db_nodes": ["n1", "n2"],
                                       "admin_container": "alpha_admin",
                                       "max_replica_lag_seconds": 300})
    return config


REPLICA_PS = ["docker", "ps", "-q", "--filter", "status=running", "--filter",
              "label=com.docker.swarm.service.name=alpha_db-replica"]


def replica_exec(script, *args):
    return (["docker", "exec", "-i", "c0ffee", "sh", "-c", eb.SwarmBench.DB_SH + script, "sh", "backup", "db-replica"]
            + list(args))


def replica_status(io="Yes", sql="Yes", lag="0", error=""):
    return ("*************************** 1. row ***************************\n"
            "   Slave_IO_Running: %s\n  Slave_SQL_Running: %s\n Seconds_Behind_Master: %s\n"
            "     Last_SQL_Error: %s\n         Using_Gtid: Slave_Pos\n" % (io, sql, lag, error))


class SwarmRun(FakeRun):
    """The fake, with tar run for real (the sites' files are read from the shared storage on the host)."""

    real = staticmethod(subprocess.run)

    def __call__(self, argv, **kwargs):
        if argv[0] == "tar":
            self.calls.append(argv)
            return self.real(argv, **kwargs)
        return super().__call__(argv, **kwargs)


def query(sql):
    return replica_exec('exec mariadb --defaults-extra-file="$f" -N -B -e "$1"', sql)


def test_a_swarm_bench_is_backed_up_by_the_node_that_runs_the_replica(swarm_config, monkeypatch):
    fake = SwarmRun([
        (REPLICA_PS, (0, "c0ffee\n")),
        (replica_exec('exec mariadb --defaults-extra-file="$f" -e "SHOW SLAVE STATUS\\G"'), (0, replica_status(lag="2"))),
        (query("SELECT @@gtid_slave_pos"), (0, "0-1-42\n")),
        (query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '_1a2b' AND TABLE_NAME IN "
               "('tabToDo')"), (0, "tabToDo\n")),
        (query("SELECT 'tabToDo', COUNT(*) FROM `_1a2b`.`tabToDo`"), (0, "tabToDo\t7\n")),
        (replica_exec('exec mariadb-dump --defaults-extra-file="$f" --single-transaction --quick --lock-tables=false '
                      '--routines --triggers --events "$1"', "_1a2b"), (0, "")),
        (query("SELECT app_name, app_version, git_branch FROM `_1a2b`.`tabInstalled Application` "
               "WHERE parent = 'Installed Applications' ORDER BY idx"), (0, "frappe\t16.0.0\tversion-16\n")),
    ])
    monkeypatch.setattr(eb.subprocess, "run", fake)
    set_id = eb.Tool(swarm_config).backup("alpha", offsite=False)
    path = os.path.join(swarm_config["backup_dir"], "alpha", set_id)
    assert sorted(os.listdir(os.path.join(path, "site.test"))) == sorted(eb.SITE_FILES)
    with open(os.path.join(path, eb.MANIFEST)) as f:
        manifest = json.load(f)
    assert manifest["engine"] == "swarm" and manifest["method"] == "logical"
    assert manifest["source"] == {"service": "db-replica", "lag_seconds": 2, "gtid_slave_pos": "0-1-42"}
    assert manifest["sites"]["site.test"]["apps"] == [{"name": "frappe", "version": "16.0.0", "branch": "version-16"}]
    assert manifest["sites"]["site.test"]["counts"] == {"tabToDo": [7, 7]}
    listing = subprocess.run(["tar", "-tzf", os.path.join(path, "site.test", "files.tgz")], stdout=subprocess.PIPE,
                             universal_newlines=True, check=True).stdout.split()
    assert "./site.test/public/files/logo.png" in listing
    # the host never reads the database password: the task's Docker secret is the only copy used
    assert not any("secrets" in arg and "cat" not in arg for call in fake.calls for arg in call)


def test_a_node_without_the_replica_s_task_takes_no_backup(swarm_config, monkeypatch):
    fake = SwarmRun([(REPLICA_PS, (0, ""))])
    monkeypatch.setattr(eb.subprocess, "run", fake)
    assert eb.Tool(swarm_config).backup("alpha") is None
    assert not os.path.exists(os.path.join(swarm_config["backup_dir"], "alpha"))
    assert not os.path.exists(swarm_config["textfile_dir"])


@pytest.mark.parametrize("status, message", [
    (replica_status(sql="No", error="Duplicate entry"), "the replica does not replicate \\(Duplicate entry\\)"),
    (replica_status(lag="900"), "the replica is 900 s behind its primary \\(max_replica_lag_seconds: 300\\)"),
    (replica_status(lag="NULL"), "the replica is an unknown time behind its primary"),
    ("", "the replica does not replicate: a backup"),
])
def test_a_replica_that_lags_or_stopped_fails_the_backup(swarm_config, monkeypatch, status, message):
    fake = SwarmRun([
        (REPLICA_PS, (0, "c0ffee\n")),
        (replica_exec('exec mariadb --defaults-extra-file="$f" -e "SHOW SLAVE STATUS\\G"'), (0, status)),
    ])
    monkeypatch.setattr(eb.subprocess, "run", fake)
    with pytest.raises(eb.BackupError, match="bench alpha: backup failed, previous sets are untouched: " + message):
        eb.Tool(swarm_config).backup("alpha")
    assert os.listdir(os.path.join(swarm_config["backup_dir"], "alpha")) == []


def test_a_drill_of_a_swarm_bench_is_refused_with_the_way_to_do_it(swarm_config, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(swarm_config))
    assert eb.main(["--config", str(path), "drill", "alpha"]) == 1
    assert ("bench alpha runs on Swarm: the drill restores into a scratch site of a compose project"
            in capsys.readouterr().err)


ADMIN_PS = ["docker", "inspect", "--format", "{{.State.Running}}", "alpha_admin"]


def swarm_commands():
    def bench(*args, **kw):
        stdin = ["-i"] if kw.get("stdin") else []
        site = ["--site", kw["site"]] if kw.get("site") else []
        return (["docker", "exec"] + stdin + ["-u", "frappe", "-w", eb.BENCH_DIR, "alpha_admin", "bench"] + site
                + list(args))

    def sh(script, *args, **kw):
        stdin = ["-i"] if kw.get("stdin", True) else []
        return (["docker", "exec"] + stdin + ["-u", "frappe", "-w", eb.BENCH_DIR, "alpha_admin", "sh", "-c", script, "sh"]
                + list(args))
    return bench, sh


def swarm_restore_calls(site):
    """Frappe's restore of one site of a bench on Swarm: the same sequence as on Compose, in the admin container."""
    bench, sh = swarm_commands()
    stage = "%s/sites/%s/private/backups/erpstack-restore" % (eb.BENCH_DIR, site)
    return [
        (bench("set-maintenance-mode", "on", site=site), 0, ""),
        (sh('rm -rf "$1"; mkdir -p "$1"', stage, stdin=False), 0, ""),
        (sh('cat >"$1/$2"', stage, "database.sql.gz"), 0, ""),
        (sh('cat >"$1/$2"', stage, "files.tgz"), 0, ""),
        (sh('cat >"$1/$2"', stage, "private-files.tgz"), 0, ""),
        (bench("restore", stage + "/database.sql.gz", "--with-public-files", stage + "/files.tgz",
               "--with-private-files", stage + "/private-files.tgz", "--db-root-username", "erpstack_admin", "--force",
               site=site, stdin=True), 0, ""),
        (sh('set -e; f="sites/$1/site_config.json"; t="$f.tmp"; umask 077; '
            'jq --rawfile k /dev/stdin \'.encryption_key = ($k | rtrimstr("\\n"))\' "$f" >"$t"; mv "$t" "$f"', site),
         0, ""),
        (bench("migrate", site=site), 0, ""),
        (bench("set-maintenance-mode", "off", site=site), 0, ""),
        (bench("clear-cache", site=site), 0, ""),
        (sh('rm -rf "$1"', stage, stdin=False), 0, ""),
        (["docker", "exec", "-u", "frappe", "-w", eb.BENCH_DIR, "alpha_admin", "env/bin/python", "-c",
          eb.SwarmBench.HTTP_PY, site, "/api/method/ping"], 0, '200\n{"message":"pong"}\n'),
    ]


def test_restore_of_a_swarm_site_runs_frappe_s_sequence_in_the_admin_container(swarm_config, restorable, monkeypatch):
    swarm_config["benches"]["alpha"].update({"admin_container": "alpha_admin", "first_manager": "n1"})
    script = Script([(ADMIN_PS, 0, "true\n")] + swarm_restore_calls("site.test"))
    monkeypatch.setattr(eb.subprocess, "run", script)
    assert eb.Restore(eb.Context(swarm_config)).run("alpha", ["site.test"], safety=False) == "20250101T000000Z"
    script.done()
    # no compose project is started; the dump and files, the site-admin password and the key go on standard input
    assert script.inputs[3:6] == [b"dump", b"public", b"private"]
    assert script.inputs[6] == ADMIN_PW + "\n" and script.inputs[7] == KEY + "\n"
    assert not any(ADMIN_PW in arg or KEY in arg for argv, _rc, _out in script.expected for arg in argv)


def test_a_swarm_restore_away_from_the_admin_container_names_the_first_manager(swarm_config, restorable, monkeypatch):
    swarm_config["benches"]["alpha"].update({"admin_container": "alpha_admin", "first_manager": "n1"})
    script = Script([(ADMIN_PS, 1, "")])
    monkeypatch.setattr(eb.subprocess, "run", script)
    with pytest.raises(eb.BackupError, match=r"bench alpha runs on Swarm: restore it on its first manager \(n1\), "
                                             r"where its admin container alpha_admin runs"):
        eb.Restore(eb.Context(swarm_config)).run("alpha", ["site.test"], safety=False)
    script.done()


def test_the_safety_backup_before_a_swarm_restore_is_taken_from_the_local_primary(swarm_config, monkeypatch):
    swarm_config["benches"]["alpha"]["admin_container"] = "alpha_admin"
    primary_ps = REPLICA_PS[:-1] + ["label=com.docker.swarm.service.name=alpha_db"]
    fake = SwarmRun([(REPLICA_PS, (0, "")), (primary_ps, (0, "")), ])
    monkeypatch.setattr(eb.subprocess, "run", fake)
    with pytest.raises(eb.BackupError, match="no database task of bench alpha runs on this node to take the safety "
                                             "backup from: .* restore with --no-safety-backup"):
        eb.Backup(eb.Context(swarm_config)).run("alpha", offsite=False, reason="pre-restore")
    bench = eb.Context(swarm_config).bench("alpha")
    monkeypatch.setattr(eb.subprocess, "run", SwarmRun([(REPLICA_PS, (0, "")), (primary_ps, (0, "beef\n"))]))
    bench.use_local_database()
    assert bench.db_service == "db" and bench.source() == {}


def test_a_swarm_bench_without_its_stack_is_refused_by_check(swarm_config, tmp_path, capsys):
    del swarm_config["benches"]["alpha"]["sites_dir"]
    swarm_config["benches"]["alpha"]["method"] = "physical"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(swarm_config))
    assert eb.main(["--config", str(path), "check"]) == 1
    err = capsys.readouterr().err
    assert "bench alpha (on Swarm) lacks sites_dir" in err and "bench alpha: on Swarm the method must be logical" in err


def test_restic_errors_name_neither_the_repository_nor_a_credential(tmp_path, monkeypatch):
    # restic names its repository in its errors; the location and the credentials are secret files' values
    (tmp_path / "repository").write_text("rest:https://backup:hunter2-secret@restic.example.net/erp\n")
    (tmp_path / "password").write_text("repo-password-1\n")
    (tmp_path / "key").write_text("AKIAEXAMPLEKEY\n")
    restic = eb.Restic({"enabled": True, "password_file": str(tmp_path / "password"),
                        "repository_file": str(tmp_path / "repository"),
                        "env_files": {"AWS_ACCESS_KEY_ID": str(tmp_path / "key")}})

    def failing(argv, **kwargs):
        assert argv[0] == "restic"
        return subprocess.CompletedProcess(argv, 1, "", "Fatal: unable to open config file: "
                                           "rest:https://backup:hunter2-secret@restic.example.net/erp/config "
                                           "(key AKIAEXAMPLEKEY)\n")
    monkeypatch.setattr(eb.subprocess, "run", failing)
    with pytest.raises(eb.BackupError) as raised:
        restic.run("snapshots", "snapshots", "--json")
    message = str(raised.value)
    assert message == ("restic snapshots failed (exit 1): Fatal: unable to open config file: <restic repository>/config "
                       "(key <restic credential>)")


# --- binary-log shipping --------------------------------------------------------------------------------------

class BinlogServer(object):
    """subprocess.run for the shipping: a server whose binary logs are ``files`` (name -> bytes, the last one open);
    FLUSH BINARY LOGS opens a new one. restic answers when the repository is configured."""

    def __init__(self, project, files):
        self.compose = ["docker", "compose", "--ansi", "never", "--project-directory", project]
        self.files = dict(files)
        self.calls = []
        self.clock, self.sequence = 1764037800, 42

    def __call__(self, argv, **kwargs):
        self.calls.append(list(argv))
        if argv[:len(self.compose) + 3] == self.compose + ["exec", "-T", "db"]:
            rest = argv[len(self.compose) + 3:]
            if rest[0] == "cat":
                kwargs["stdout"].write(self.files[os.path.basename(rest[1])])
                return subprocess.CompletedProcess(argv, 0, None, b"")
            sql = rest[-1]
            assert kwargs["input"] == "backup-secret\n"  # the password on standard input, never an argument
            if sql == "SELECT UNIX_TIMESTAMP(), @@gtid_binlog_pos; FLUSH BINARY LOGS":
                last = max(self.files)
                self.files["mariadb-bin.%06d" % (int(last.rsplit(".", 1)[1]) + 1)] = b""
                return subprocess.CompletedProcess(argv, 0, "%d\t0-1-%d\n" % (self.clock, self.sequence), "")
            if sql == "SHOW BINARY LOGS":
                out = "".join("%s\t%d\n" % (name, len(data)) for name, data in sorted(self.files.items()))
                return subprocess.CompletedProcess(argv, 0, out, "")
        if argv[0] == "restic":
            if argv[1] == "backup":
                return subprocess.CompletedProcess(argv, 0, json.dumps(
                    {"message_type": "summary", "data_added": 123}) + "\n", "")
            return subprocess.CompletedProcess(argv, 0, "", "")
        raise AssertionError("unexpected command %r" % (argv,))


@pytest.fixture
def binlog_config(config, tmp_path):
    config["benches"]["alpha"]["binlog"] = True
    secrets = tmp_path / "alpha" / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "db_backup_password").write_text("backup-secret")
    return config


def test_shipping_copies_every_closed_binary_log_once_and_never_the_open_one(binlog_config, monkeypatch):
    server = BinlogServer(binlog_config["benches"]["alpha"]["project_dir"],
                          {"mariadb-bin.000001": b"one", "mariadb-bin.000002": b"two"})
    monkeypatch.setattr(eb.subprocess, "run", server)
    tool = eb.Tool(binlog_config)
    first = tool.ship_binlogs("alpha")
    # the flush closed 000002: both are shipped, 000003 (open) is not
    assert [key.split("/")[1] for key in first] == ["mariadb-bin.000001", "mariadb-bin.000002"]
    lineage = first[0].split("/")[0]
    directory = os.path.join(binlog_config["backup_dir"], "alpha", "binlog", lineage)
    assert sorted(os.listdir(directory)) == ["mariadb-bin.000001", "mariadb-bin.000002"]
    assert open(os.path.join(directory, "mariadb-bin.000002"), "rb").read() == b"two"
    assert oct(os.stat(os.path.join(directory, "mariadb-bin.000001")).st_mode & 0o777) == "0o600"
    server.files["mariadb-bin.000003"] = b"three"
    second = tool.ship_binlogs("alpha")
    assert second == ["%s/mariadb-bin.000003" % lineage]
    with open(os.path.join(binlog_config["textfile_dir"], "erpstack_binlog_alpha.prom")) as f:
        text = f.read()
    assert 'erpstack_binlog_last_run_success{bench="alpha"} 1' in text
    assert 'erpstack_binlog_files{bench="alpha"} 3' in text
    assert 'erpstack_binlog_bytes{bench="alpha"} 11' in text
    assert "erpstack_binlog_last_success_timestamp_seconds" in text


def test_a_server_whose_numbering_went_back_starts_a_new_lineage(binlog_config, monkeypatch):
    server = BinlogServer(binlog_config["benches"]["alpha"]["project_dir"],
                          {"mariadb-bin.000007": b"old", "mariadb-bin.000008": b""})
    monkeypatch.setattr(eb.subprocess, "run", server)
    tool = eb.Tool(binlog_config)
    old = tool.ship_binlogs("alpha")
    # a physical restore: a new data directory, numbered from 1 again
    server.files = {"mariadb-bin.000001": b"new"}
    monkeypatch.setattr(eb, "utcnow", lambda: datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc))
    new = tool.ship_binlogs("alpha")
    assert new == ["20300101T000000Z/mariadb-bin.000001"]
    assert old[0].split("/")[0] != "20300101T000000Z"


def test_shipping_copies_offsite_with_its_own_tag_and_counts_the_bytes(binlog_config, monkeypatch, tmp_path):
    for name in ("password", "repository"):
        (tmp_path / name).write_text("x")
    binlog_config["restic"] = {"enabled": True, "password_file": str(tmp_path / "password"),
                               "repository_file": str(tmp_path / "repository")}
    server = BinlogServer(binlog_config["benches"]["alpha"]["project_dir"], {"mariadb-bin.000001": b"one"})
    monkeypatch.setattr(eb.subprocess, "run", server)
    eb.Tool(binlog_config).ship_binlogs("alpha")
    backups = [c for c in server.calls if c[:2] == ["restic", "backup"]]
    assert backups == [["restic", "backup", "--json", "--host", "h1", "--tag", "erpstack-binlog", "--tag",
                        "bench=alpha", "alpha/binlog"]]
    assert any(c[:2] == ["restic", "forget"] and "erpstack-binlog,bench=alpha" in c for c in server.calls)
    with open(os.path.join(binlog_config["textfile_dir"], "erpstack_binlog_alpha.prom")) as f:
        assert 'erpstack_binlog_offsite_data_added_bytes_total{bench="alpha"} 123' in f.read()


def test_a_failed_shipping_run_is_a_metric_and_a_clear_error(binlog_config, monkeypatch):
    def down(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "ERROR 2002 (HY000): Can't connect to server on 'db'")
    monkeypatch.setattr(eb.subprocess, "run", down)
    with pytest.raises(eb.BackupError, match="closing the current binary log failed"):
        eb.Tool(binlog_config).ship_binlogs("alpha")
    with open(os.path.join(binlog_config["textfile_dir"], "erpstack_binlog_alpha.prom")) as f:
        assert 'erpstack_binlog_last_run_success{bench="alpha"} 0' in f.read()


def test_a_bench_without_binary_logs_is_refused(config):
    with pytest.raises(eb.BackupError, match="bench alpha does not archive its binary logs"):
        eb.Tool(config).ship_binlogs("alpha")


def test_binlog_metrics_golden(config):
    state = {
        "run": {"ended": 1764037800, "success": 1, "duration": 1.5}, "last_success": 1764037800,
        "files": {"20251125T000000Z/mariadb-bin.000001": {"lineage": "20251125T000000Z", "bytes": 4096,
                                                          "sha256": "x", "shipped": 1764037500}},
        "offsite": {"success": 1, "last_success": 1764037801, "data_added": 512, "bytes_total": 2048},
    }
    eb.Binlog(eb.Context(config)).metrics("alpha", state)
    with open(os.path.join(config["textfile_dir"], "erpstack_binlog_alpha.prom")) as f:
        text = f.read()
    golden = os.path.join(os.path.dirname(__file__), "golden", "erpstack_binlog_alpha.prom")
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        with open(golden, "w") as f:
            f.write(text)
    with open(golden) as f:
        assert text == f.read()


def test_shipping_writes_the_index_a_restore_on_another_host_reads(binlog_config, monkeypatch):
    server = BinlogServer(binlog_config["benches"]["alpha"]["project_dir"], {"mariadb-bin.000001": b"one"})
    monkeypatch.setattr(eb.subprocess, "run", server)
    shipped = eb.Tool(binlog_config).ship_binlogs("alpha")
    path = os.path.join(binlog_config["backup_dir"], "alpha", "binlog", "index.json")
    with open(path) as f:
        index = json.load(f)
    lineage = shipped[0].split("/")[0]
    # what the flush closed: the server's clock and GTID position just before it
    assert index["flushed"] == {"lineage": lineage, "time": 1764037800, "gtid": "0-1-42"}
    assert index["files"][shipped[0]]["sha256"] == eb.hashlib.sha256(b"one").hexdigest()
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


# --- point-in-time restore ---------------------------------------------------------------------------------------

NOW = datetime.datetime(2026, 12, 6, 12, 0, 0, tzinfo=datetime.timezone.utc)


def epoch(text):
    return int(datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp())


@pytest.mark.parametrize("text, message", [
    ("2026-12-06 12:00:01", r"until 2026-12-06 12:00:01 is in the future \(it is 2026-12-06 12:00:00 UTC now\)"),
    ("2026-02-30 10:00:00", "until 2026-02-30 10:00:00 is not a date and time"),
    ("2026-12-06T10:00:00", "until must be a moment 'YYYY-MM-DD HH:MM:SS' \\(UTC\\) or a GTID"),
    ("yesterday", "until must be a moment"),
    ("0-1", "until must be a moment"),
])
def test_a_bad_until_is_refused(text, message):
    with pytest.raises(eb.BackupError, match=message):
        eb.Until(text, now=NOW)


def test_until_orders_moments_and_gtids():
    moment = eb.Until("2026-12-06 10:00:00", now=NOW)
    assert moment.after({"at": epoch("2026-12-06 10:00:00")})
    assert not moment.after({"at": epoch("2026-12-06 10:00:01")})
    assert not moment.after({})  # a set without its time cannot be placed
    assert moment.reached_by({"time": epoch("2026-12-06 10:00:00")})
    assert not moment.reached_by({"time": epoch("2026-12-06 09:59:59")})
    gtid = eb.Until("0-1-100", now=NOW)
    assert gtid.after({"gtid": "0-1-100"}) and not gtid.after({"gtid": "0-1-101"})
    assert not gtid.after({"gtid": "1-1-5"})  # another domain says nothing of domain 0
    assert gtid.reached_by({"gtid": "1-1-3,0-1-100"}) and not gtid.reached_by({"gtid": "0-1-99"})


def binlog_index(directory, lineage, files, flushed_at, gtid="0-1-90"):
    """Shipped binary logs ``files`` (name -> bytes) of ``lineage`` in ``directory``, and their index."""
    os.makedirs(os.path.join(directory, lineage), exist_ok=True)
    entries = {}
    for name, data in files.items():
        with open(os.path.join(directory, lineage, name), "wb") as f:
            f.write(data)
        entries["%s/%s" % (lineage, name)] = {"lineage": lineage, "bytes": len(data), "shipped": flushed_at,
                                              "sha256": eb.hashlib.sha256(data).hexdigest()}
    index = {"format": 1, "lineage": lineage, "files": entries,
             "flushed": {"lineage": lineage, "time": flushed_at, "gtid": gtid}}
    with open(os.path.join(directory, "index.json"), "w") as f:
        json.dump(index, f)
    return index


LINEAGE = "20261201T000000Z"
POSITION = {"file": "mariadb-bin.000003", "position": 1234, "gtid": "0-1-50", "at": epoch("2026-12-06 09:00:00"),
            "lineage": LINEAGE}


def test_a_replay_takes_the_set_s_file_from_its_position_then_every_later_one(tmp_path):
    directory = str(tmp_path / "binlog")
    index = binlog_index(directory, LINEAGE, {"mariadb-bin.%06d" % n: b"x" * n for n in range(1, 6)},
                         epoch("2026-12-06 11:55:00"))
    replay = eb.Replay(eb.Until("2026-12-06 11:00:00", now=NOW), "20261206T085500Z", POSITION, index, directory)
    assert replay.argv() == ["mariadb-binlog", "--no-defaults", "--start-position=1234", "--stop-datetime=2026-12-06 11:00:00",
                             "/work/binlog/mariadb-bin.000003", "/work/binlog/mariadb-bin.000004",
                             "/work/binlog/mariadb-bin.000005"]
    assert replay.bytes == 12
    # one site: the events of its database only; a GTID: both ends are GTIDs (a byte offset would void the stop)
    gtid = eb.Replay(eb.Until("0-1-77", now=NOW), "20261206T085500Z", POSITION, index, directory)
    assert gtid.argv(database="erp0123")[:5] == ["mariadb-binlog", "--no-defaults", "--database=erp0123", "--start-position=0-1-50",
                                                 "--stop-position=0-1-77"]
    staged = replay.stage(str(tmp_path / "work"))
    assert sorted(os.listdir(staged)) == ["mariadb-bin.000003", "mariadb-bin.000004", "mariadb-bin.000005"]


@pytest.mark.parametrize("damage, until, message", [
    ("gap", "2026-12-06 11:00:00", r"binary log\(s\) 000004 of lineage 20261201T000000Z are missing"),
    ("first", "2026-12-06 11:00:00", "the binary log mariadb-bin.000003, where set 20261206T085500Z ends, was not shipped"),
    ("checksum", "2026-12-06 11:00:00", "the binary log 20261201T000000Z/mariadb-bin.000005 is missing or damaged"),
    (None, "2026-12-06 11:56:00", r"the shipped binary logs reach only to 2026-12-06 11:55:00 UTC \(GTID 0-1-90\): "
                                  "until 2026-12-06 11:56:00 is after them"),
    (None, "0-1-91", "reach only to .* until 0-1-91 is after them"),
    ("lineage", "2026-12-06 11:00:00", "reach only to a later lineage"),
])
def test_a_replay_that_would_lose_or_invent_changes_is_refused(tmp_path, damage, until, message):
    directory = str(tmp_path / "binlog")
    index = binlog_index(directory, LINEAGE, {"mariadb-bin.%06d" % n: b"x" * n for n in range(1, 6)},
                         epoch("2026-12-06 11:55:00"))
    if damage == "gap":
        del index["files"][LINEAGE + "/mariadb-bin.000004"]
    elif damage == "first":
        del index["files"][LINEAGE + "/mariadb-bin.000003"]
    elif damage == "checksum":
        with open(os.path.join(directory, LINEAGE, "mariadb-bin.000005"), "wb") as f:
            f.write(b"y" * 5)
    elif damage == "lineage":
        index["flushed"]["lineage"] = "20261206T100000Z"
    with pytest.raises(eb.BackupError, match=message):
        eb.Replay(eb.Until(until, now=NOW), "20261206T085500Z", POSITION, index, directory)


def test_a_set_taken_before_the_first_shipping_finds_the_lineage_that_started_after_it(tmp_path):
    directory = str(tmp_path / "binlog")
    index = binlog_index(directory, "20261206T090500Z", {"mariadb-bin.000003": b"abc"}, epoch("2026-12-06 11:55:00"))
    older = binlog_index(directory, "20261101T000000Z", {"mariadb-bin.000003": b"old"}, 0)
    index["files"].update(older["files"])
    position = dict(POSITION, lineage=None)
    replay = eb.Replay(eb.Until("2026-12-06 11:00:00", now=NOW), "20261206T085500Z", position, index, directory)
    assert replay.lineage == "20261206T090500Z"


def physical_set(root, name, at, gtid, lineage=LINEAGE):
    path = make_set(root, "alpha", name)
    with open(os.path.join(path, eb.MANIFEST)) as f:
        manifest = json.load(f)
    manifest.update({"method": "physical", "mariadb": {"to_lsn": "1", "binlog": {
        "file": "mariadb-bin.000003", "position": 1234, "gtid": gtid, "at": at, "lineage": lineage}}})
    manifest["sites"]["site.test"] = {"db_name": "erp0123"}
    with open(os.path.join(path, eb.MANIFEST), "w") as f:
        json.dump(manifest, f)


@pytest.fixture
def pitr(config, monkeypatch):
    """Two physical sets of alpha and its shipped binary logs; the bench's database is down (a disaster), so the
    restore uses the logs shipped before."""
    config["benches"]["alpha"].update({"method": "physical", "binlog": True, "images": {"mariadb": "mariadb:11.8.3"}})
    physical_set(config["backup_dir"], "20261205T020000Z", epoch("2026-12-05 02:05:00"), "0-1-20")
    physical_set(config["backup_dir"], "20261206T020000Z", epoch("2026-12-06 02:05:00"), "0-1-50")
    binlog_index(os.path.join(config["backup_dir"], "alpha", "binlog"), LINEAGE,
                 {"mariadb-bin.000003": b"three", "mariadb-bin.000004": b"four"}, epoch("2026-12-06 11:55:00"))
    compose = ["docker", "compose", "--ansi", "never", "--project-directory", config["benches"]["alpha"]["project_dir"]]
    monkeypatch.setattr(eb.subprocess, "run", FakeRun([(compose + ["ps", "--status", "running", "--services"],
                                                        (0, "backend\n"))]))
    monkeypatch.setattr(eb, "utcnow", lambda: NOW)
    return config


@pytest.mark.parametrize("until, chosen", [
    ("2026-12-06 11:00:00", "20261206T020000Z"),
    ("2026-12-06 02:04:59", "20261205T020000Z"),  # the newer set's backup ended after it
    ("0-1-49", "20261205T020000Z"),
    ("0-1-50", "20261206T020000Z"),
])
def test_a_point_in_time_restore_starts_from_the_newest_set_before_until(pitr, until, chosen):
    restore = eb.Restore(eb.Context(pitr))
    set_id, replay = restore.point_in_time(restore.context.bench("alpha"), eb.Store(pitr, "alpha"),
                                           eb.Until(until), "local")
    assert set_id == chosen
    assert replay.paths[-1].endswith("mariadb-bin.000004")


def test_an_until_before_the_oldest_set_is_refused_with_that_set(pitr):
    restore = eb.Restore(eb.Context(pitr))
    with pytest.raises(eb.BackupError, match=r"until 2026-12-05 02:00:00 is before the oldest set of bench alpha here "
                                             r"\(set 20261205T020000Z, its state at 2026-12-05 02:05:00 UTC\)"):
        restore.point_in_time(restore.context.bench("alpha"), eb.Store(pitr, "alpha"),
                              eb.Until("2026-12-05 02:00:00"), "local")


def test_a_point_in_time_restore_of_a_logical_bench_is_refused_before_anything_runs(config, monkeypatch):
    script = Script([])
    monkeypatch.setattr(eb.subprocess, "run", script)
    monkeypatch.setattr(eb, "utcnow", lambda: NOW)
    with pytest.raises(eb.BackupError, match="bench alpha takes logical backups: a point-in-time restore replays"):
        eb.Restore(eb.Context(config)).run("alpha", ["site.test"], until="2026-12-06 11:00:00")
    script.done()


def test_a_future_until_fails_the_command_before_anything_runs(pitr, tmp_path, capsys, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(pitr))
    script = Script([])
    monkeypatch.setattr(eb.subprocess, "run", script)
    assert eb.main(["--config", str(path), "restore", "alpha", "--site", "all", "--until", "2026-12-07 00:00:00"]) == 1
    assert capsys.readouterr().err == ("erpstack-backup: FAILED: until 2026-12-07 00:00:00 is in the future "
                                       "(it is 2026-12-06 12:00:00 UTC now)\n")
    script.done()


def test_a_site_s_point_in_time_restore_replays_its_database_only_into_the_scratch_server(pitr, monkeypatch):
    bench = eb.Context(pitr).bench("alpha")
    store = eb.Store(pitr, "alpha")
    restore = eb.Restore(eb.Context(pitr))
    set_id, replay = restore.point_in_time(bench, store, eb.Until("2026-12-06 11:00:00"), "local")
    manifest = store.sets()[set_id]
    monkeypatch.setattr(eb.Restore, "_prepare", lambda self, bench, store, chain, workdir: None)
    calls = []

    def docker(argv, **kwargs):
        calls.append(argv)
        work = argv[argv.index("-v") + 1].split(":")[0]
        assert sorted(os.listdir(os.path.join(work, "binlog"))) == ["mariadb-bin.000003", "mariadb-bin.000004"]
        with open(os.path.join(work, "dump.gz"), "wb") as f:
            f.write(b"dump")
        return subprocess.CompletedProcess(argv, 0, "replayed 1500 ms\n", "")
    monkeypatch.setattr(eb.subprocess, "run", docker)
    work = str(store.root) + "/work"
    os.makedirs(work)
    dump = restore._site_dump(bench, store, [set_id], manifest, "site.test", work, replay)
    assert open(dump, "rb").read() == b"dump"
    argv = calls[0]
    # mariadb-binlog reads --stop-datetime in its own time zone: UTC, as until is
    assert argv[:6] == ["docker", "run", "--rm", "--entrypoint", "sh", "-e"] and argv[6] == "TZ=UTC"
    assert argv[argv.index("mariadb:11.8.3") + 4:] == [
        "erp0123", "mariadb-binlog", "--no-defaults", "--database=erp0123", "--start-position=1234",
        "--stop-datetime=2026-12-06 11:00:00", "/work/binlog/mariadb-bin.000003", "/work/binlog/mariadb-bin.000004"]


def test_a_full_backup_volume_fails_the_run_with_one_clear_line_and_a_metric(config, tmp_path, capsys, monkeypatch):
    def full(self, bench, store, reason, lineage):
        raise OSError(28, "No space left on device", os.path.join(store.root, ".partial-x", "site.test", "files.tgz"))
    monkeypatch.setattr(eb.Backup, "_take", full)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert eb.main(["--config", str(path), "run", "alpha"]) == 1
    err = capsys.readouterr().err
    assert err == ("erpstack-backup: FAILED: bench alpha: backup failed, previous sets are untouched: No space left on "
                   "device: %s/alpha/.partial-x/site.test/files.tgz\n" % config["backup_dir"])
    with open(os.path.join(config["textfile_dir"], "erpstack_backup_alpha.prom")) as f:
        assert 'erpstack_backup_last_run_success{bench="alpha"} 0' in f.read()


def test_the_fetched_binary_logs_outlive_the_safety_backup_s_clean_up(config):
    store = eb.Store(config, "alpha")
    for name in (eb.Restore.BINLOG_STAGE, ".fetch-20261206T000000Z", ".partial-20261206T000000Z"):
        os.makedirs(os.path.join(store.root, name))
    store.clean_partials()
    assert os.listdir(store.root) == [eb.Restore.BINLOG_STAGE]


def test_restic_commands_on_one_host_wait_for_each_other(config, tmp_path, monkeypatch):
    """A forget --prune (an exclusive repository lock) and a backup starting at the same second: the second waits."""
    for name in ("password", "repository"):
        (tmp_path / name).write_text("x")
    config["restic"] = {"enabled": True, "password_file": str(tmp_path / "password"),
                        "repository_file": str(tmp_path / "repository")}
    restic = eb.Context(config).restic
    started = []
    monkeypatch.setattr(eb.subprocess, "run", lambda argv, **kw: started.append(time.time()) or
                        subprocess.CompletedProcess(argv, 0, "", ""))
    os.makedirs(os.path.dirname(restic.lock_path))
    holder = open(restic.lock_path, "w")
    fcntl.flock(holder, fcntl.LOCK_EX)
    released = []

    def release():
        time.sleep(0.3)
        released.append(time.time())
        fcntl.flock(holder, fcntl.LOCK_UN)
    threading.Thread(target=release).start()
    restic.run("backup", "backup", "x")
    assert started and started[0] >= released[0]
    # nested use (the repository check, then its init) does not wait for itself
    restic.ensure_repository()
    holder.close()


def test_a_repository_locked_by_another_host_is_tried_again(config, tmp_path, monkeypatch, capsys):
    for name in ("password", "repository"):
        (tmp_path / name).write_text("x")
    config["restic"] = {"enabled": True, "password_file": str(tmp_path / "password"),
                        "repository_file": str(tmp_path / "repository")}
    restic = eb.Context(config).restic
    answers = [1, 1, 0]

    def locked(argv, **kwargs):
        rc = answers.pop(0)
        return subprocess.CompletedProcess(argv, rc, "" if rc else "done", "unable to create lock in backend: "
                                           "repository is already locked by PID 148 on erp2" if rc else "")
    monkeypatch.setattr(eb.subprocess, "run", locked)
    waits = []
    monkeypatch.setattr(eb.time, "sleep", waits.append)
    assert restic.run("backup", "backup", "x") == "done"
    assert waits == [5, 10]
    assert capsys.readouterr().err == ("erpstack-backup: restic backup: the repository is locked by another restic "
                                       "(another host's); trying again\n")
    # any other failure is not tried again
    monkeypatch.setattr(eb.subprocess, "run", lambda argv, **kwargs: subprocess.CompletedProcess(
        argv, 1, "", "Fatal: unable to open config file: <not found>"))
    with pytest.raises(eb.BackupError, match="restic backup failed"):
        restic.run("backup", "backup", "x")
    assert waits == [5, 10]
