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
import subprocess

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
