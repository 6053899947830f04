# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""erpstack-backup: back up, restore and drill the ERPNext benches of this host.

Installed by the ``erpstack.erpnext.backup`` role in ``/usr/local/lib/erpstack/`` with the launcher
``/usr/local/sbin/erpstack-backup`` (Python 3.8+ standard library only), and run by its systemd
timers (or cron), by ``playbooks/restore.yml`` and by ``playbooks/restore_drill.yml``. It reads one JSON file
(``/etc/erpstack/backup/config.json``, written by the role) that holds no secret: only paths to secret files.

A backup set is a directory ``BACKUP_DIR/BENCH/SET`` (SET is the UTC time, ``20261125T023000Z``) with, per site,
``SITE/database.sql.gz`` (logical method), ``SITE/files.tgz``, ``SITE/private-files.tgz``, ``SITE/site_config.json``
(secret-bearing: the encryption key), and for the physical method ``mariadb/backup.xb`` (a ``mariadb-backup``
stream, full or incremental) plus ``mariadb/xtrabackup_checkpoints``. ``manifest.json`` is written last, after every
file's SHA-256: a set is complete exactly when it has a manifest. A run builds the set under ``.partial-SET`` and
renames it when it is complete, so a failed run leaves nothing that looks like a backup.

Secrets never reach an argument list: passwords go to ``bench`` and to the MariaDB tools on standard input, restic
reads its password and repository from files and its credentials from the environment.
"""

from __future__ import absolute_import, division, print_function

import argparse
import contextlib
import datetime
import fcntl
import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

__metaclass__ = type

CONFIG_PATH = "/etc/erpstack/backup/config.json"
BENCH_DIR = "/home/frappe/frappe-bench"
SET_RE = re.compile(r"^(\d{8}T\d{6}Z)$")
SET_FORMAT = "%Y%m%dT%H%M%SZ"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
SITE_FILES = ("database.sql.gz", "files.tgz", "private-files.tgz", "site_config.json")
LOG_PREFIX = "erpstack-backup"


class BackupError(Exception):
    """A failure the tool reports in one line and exits non-zero for."""


def log(message):
    print("%s: %s" % (LOG_PREFIX, message), file=sys.stderr, flush=True)


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def set_name(moment):
    return moment.strftime(SET_FORMAT)


def set_time(name):
    return datetime.datetime.strptime(name, SET_FORMAT).replace(tzinfo=datetime.timezone.utc)


# --- retention ------------------------------------------------------------------------------------------------


def retention_keep(sets, policy):
    """Which sets a keep-daily/weekly/monthly policy keeps, with restic's semantics.

    ``sets`` maps a set name to its base set name (None for a full backup). Going from the newest set to the oldest,
    each rule keeps the newest set of each of its last N periods (day, ISO week, month) that has one. The newest set
    is always kept, and so is every set a kept incremental set is built on.
    """
    names = sorted(sets, reverse=True)
    keep = set()
    if not names:
        return keep
    keep.add(names[0])
    rules = (
        ("daily", lambda t: t.strftime("%Y-%m-%d")),
        ("weekly", lambda t: "%d-%02d" % t.isocalendar()[:2]),
        ("monthly", lambda t: t.strftime("%Y-%m")),
    )
    for rule, bucket in rules:
        limit = int(policy.get(rule) or 0)
        seen = []
        for name in names:
            if len(seen) >= limit:
                break
            key = bucket(set_time(name))
            if key not in seen:
                seen.append(key)
                keep.add(name)
    for name in sorted(keep):
        base = sets.get(name)
        while base:
            keep.add(base)
            base = sets.get(base)
    return keep


# --- small helpers --------------------------------------------------------------------------------------------


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_files(root):
    out = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            out.append(os.path.relpath(path, root))
    return sorted(out)


def tree_size(root):
    return sum(os.path.getsize(os.path.join(root, rel)) for rel in tree_files(root))


def write_json_atomic(path, data, mode=0o600):
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2, sort_keys=True)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return default


def read_secret(path, what):
    try:
        with open(path) as f:
            value = f.read().strip("\n")
    except OSError as err:
        raise BackupError("cannot read %s from %s: %s" % (what, path, err.strerror)) from None
    if not value or "\n" in value:
        raise BackupError("%s in %s must be one non-empty line" % (what, path))
    return value


# SQL is quoted here rather than sent with PyMySQL's parameters: the tool reaches MariaDB through the mariadb client
# inside the db container, as the backup account, which may log in from the bench network only (not through the
# host's socket), and the statements that need quoting name databases and users, which no driver parameterises.
def os_error(err):
    """An OSError in one line: what failed and on which file ("No space left on device: /var/backups/...")."""
    return "%s%s" % (err.strerror or err, ": %s" % err.filename if err.filename else "")


def sql_string(value):
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_ident(value):
    return "`" + value.replace("`", "``") + "`"


def tail(text, lines=15):
    return "\n".join((text or "").strip().splitlines()[-lines:])


def run(argv, what, stdin=None, stdout=subprocess.PIPE, env=None, check=True, cwd=None):
    """Run a command; return its standard output as text (or None when it goes to a file)."""
    proc = subprocess.run(
        argv, input=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env, check=False, cwd=cwd,
        universal_newlines=stdout == subprocess.PIPE and (stdin is None or isinstance(stdin, str)),
    )
    if check and proc.returncode != 0:
        err = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode("utf-8", "replace")
        raise BackupError("%s failed (exit %d): %s" % (what, proc.returncode, tail(err) or "no output"))
    out = proc.stdout
    if isinstance(out, bytes):
        out = out.decode("utf-8", "replace")
    return out


# --- the bench's compose project ------------------------------------------------------------------------------


class Bench:
    """One bench: its compose project, its sites, and the database reached through the db container."""

    def __init__(self, name, spec, config):
        self.name = name
        self.spec = spec
        self.config = config
        self.project_dir = spec["project_dir"]
        self.sites = list(spec.get("sites") or [])
        self.method = spec.get("method", "logical")

    def compose(self, *args):
        return ["docker", "compose", "--ansi", "never", "--project-directory", self.project_dir] + list(args)

    def bench_argv(self, *args, site=None):
        argv = self.compose("exec", "-T", "-u", "frappe", "-w", BENCH_DIR, "backend", "bench")
        if site:
            argv += ["--site", site]
        return argv + list(args)

    def bench(self, what, *args, site=None, stdin=None):
        return run(self.bench_argv(*args, site=site), what, stdin=stdin)

    def backend_sh(self, what, script, *args, stdin=None, stdout=subprocess.PIPE):
        argv = self.compose("exec", "-T", "-u", "frappe", "-w", BENCH_DIR, "backend", "sh", "-c", script, "sh")
        return run(argv + list(args), what, stdin=stdin, stdout=stdout)

    def running(self, service):
        out = run(self.compose("ps", "--status", "running", "--services"), "docker compose ps", check=False)
        return service in (out or "").split()

    def admin_password(self):
        return read_secret(os.path.join(self.project_dir, "secrets", "db_admin_password"),
                           "the site-admin database password")

    def backup_password(self):
        return read_secret(os.path.join(self.project_dir, "secrets", "db_backup_password"),
                           "the backup database password")

    # The backup account may log in from the bench network only: the db container reaches itself at "db".
    # The password is read from standard input into a private option file that the trap removes.
    DB_SH = (
        'umask 077; f="$(mktemp)"; trap \'rm -f "$f"\' EXIT; IFS= read -r pw; '
        'printf "[client]\\nuser=%s\\npassword=%s\\nhost=db\\nport=3306\\n" "$1" "$pw" >"$f"; shift; '
    )

    def db_query(self, sql, what="a query", admin=False):
        """Run SQL as the backup account (or the site-admin account); return rows of tab-separated columns."""
        script = self.DB_SH + 'exec mariadb --defaults-extra-file="$f" -N -B -e "$1"'
        user = self.spec["db_admin_user"] if admin else self.spec["db_backup_user"]
        password = self.admin_password() if admin else self.backup_password()
        argv = self.compose("exec", "-T", "db", "sh", "-c", script, "sh", user, sql)
        out = run(argv, "MariaDB %s" % what, stdin=password + "\n")
        return [line.split("\t") for line in out.splitlines() if line]

    def site_config(self, site):
        out = self.backend_sh("reading %s's site_config.json" % site, 'cat "sites/$1/site_config.json"', site)
        return json.loads(out)

    def counts(self, site, db_name):
        """Rows of the doctypes the drill compares, read as the backup account."""
        wanted = ["tab" + doctype for doctype in self.config.get("count_doctypes", ["ToDo"])]
        # a doctype of an app the site does not have is not counted rather than failing the backup
        rows = self.db_query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME IN "
                             "(%s)" % (sql_string(db_name), ", ".join(sql_string(t) for t in wanted)),
                             "tables of %s" % site)
        tables = sorted(row[0] for row in rows)
        if not tables:
            return {}
        parts = ["SELECT %s, COUNT(*) FROM %s.%s" % (sql_string(t), sql_ident(db_name), sql_ident(t)) for t in tables]
        rows = self.db_query(" UNION ALL ".join(parts), "row count of %s" % site)
        return {row[0]: int(row[1]) for row in rows}

    def apps(self, site):
        out = self.bench("bench list-apps for %s" % site, "list-apps", site=site)
        apps = []
        for line in out.splitlines():
            fields = re.sub(r"\x1b\[[0-9;]*m", "", line).split()
            if fields:
                apps.append({"name": fields[0], "version": fields[1] if len(fields) > 1 else "",
                             "branch": fields[2] if len(fields) > 2 else ""})
        return apps

    def backup_site(self, site, target, set_id, with_database):
        """Frappe's own backup of one site into ``target``, under the set's file names; return those names."""
        stage = "%s/sites/%s/private/backups/erpstack-%s" % (BENCH_DIR, site, set_id)
        try:
            if with_database:
                self.bench("bench backup of %s" % site, "backup", "--with-files", "--compress",
                           "--backup-path", stage, site=site)
            else:
                # the database is in the physical backup: only the site's files and configuration
                self.backend_sh(
                    "archiving the files of %s" % site,
                    'set -e; umask 077; mkdir -p "$2"; cd sites; '
                    'tar -czf "$2/files.tgz" "./$1/public/files"; '
                    'tar -czf "$2/private-files.tgz" "./$1/private/files"; '
                    'cp "$1/site_config.json" "$2/site_config.json"', site, stage)
            with open(os.path.join(target, ".stream.tar"), "wb") as out:
                self.backend_sh("copying the backup of %s off the volume" % site, 'tar -C "$1" -cf - .', stage,
                                stdout=out)
            run(["tar", "-C", target, "-xf", os.path.join(target, ".stream.tar")], "unpacking %s" % site)
            os.remove(os.path.join(target, ".stream.tar"))
        finally:
            self.backend_sh("removing the staged backup of %s" % site, 'rm -rf "$1"', stage)
        for entry in os.listdir(target):
            if entry in SITE_FILES:
                continue
            for suffix, canonical in (("-database.sql.gz", "database.sql.gz"), ("-private-files.tgz",
                                      "private-files.tgz"), ("-files.tgz", "files.tgz"),
                                      ("-site_config_backup.json", "site_config.json")):
                if entry.endswith(suffix):
                    os.rename(os.path.join(target, entry), os.path.join(target, canonical))
                    break
        expected = SITE_FILES if with_database else SITE_FILES[1:]
        missing = [f for f in expected if not os.path.exists(os.path.join(target, f))]
        if missing:
            raise BackupError("the backup of %s lacks %s" % (site, ", ".join(missing)))
        return expected

    def takes_backup_here(self, reason):
        return True

    def check_source(self, manifest):
        """Refuse to back up a bench that is not all there."""
        if not self.running("backend") or not self.running("db"):
            raise BackupError("the bench's backend and db services must be running")

    def container_ip(self, service):
        cid = run(self.compose("ps", "-q", service), "docker compose ps").strip()
        if not cid:
            raise BackupError("service %s of bench %s is not running" % (service, self.name))
        out = run(["docker", "inspect", "--format",
                   "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", cid.splitlines()[0]],
                  "docker inspect")
        return out.split()[0]

    def http(self, site, path, data=None, cookie=None):
        """Ask the bench's frontend for a site's page, the way Traefik does (Host and X-Frappe-Site-Name)."""
        url = "http://%s:8080%s" % (self.container_ip("frontend"), path)
        headers = {"Host": site, "X-Frappe-Site-Name": site, "Accept": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        req = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode("utf-8", "replace"), resp.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode("utf-8", "replace"), []
        except (urllib.error.URLError, OSError) as err:
            return 0, str(err), []

    def wait_ping(self, site, timeout=120):
        deadline = time.time() + timeout
        status, body = 0, ""
        while time.time() < deadline:
            status, body, _cookies = self.http(site, "/api/method/ping")
            if status == 200 and '"pong"' in body:
                return
            time.sleep(2)
        raise BackupError("site %s does not answer /api/method/ping: HTTP %s %s" % (site, status, tail(body, 3)))


# --- restic ---------------------------------------------------------------------------------------------------


class Restic:
    """restic with its password and repository read from files and its credentials from an env file.

    One restic command at a time on the host (``lock_path``): the backups, the binary-log shipping and the restores
    of every bench share the repository, and a ``forget --prune`` locks it exclusively, so a backup that started at
    the same second would fail (restic 0.14 has no --retry-lock); two first runs would both ``init`` it."""

    LOCK_WAIT = 3600

    def __init__(self, spec, lock_path=None):
        self.spec = spec
        self.enabled = bool(spec.get("enabled"))
        self.lock_path = lock_path
        self.held = False

    @contextlib.contextmanager
    def serialized(self):
        if not self.lock_path or self.held:
            yield
            return
        os.makedirs(os.path.dirname(self.lock_path), exist_ok=True)
        with open(self.lock_path, "w") as f:
            deadline, said = time.monotonic() + self.LOCK_WAIT, False
            while True:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise BackupError("another restic command on this host held the repository for %d s"
                                          % self.LOCK_WAIT) from None
                    if not said:
                        log("waiting for another restic command on this host to finish")
                        said = True
                    time.sleep(1)
            self.held = True
            try:
                yield
            finally:
                self.held = False

    def env(self):
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
        env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        env["RESTIC_PASSWORD_FILE"] = self.spec["password_file"]
        env["RESTIC_REPOSITORY_FILE"] = self.spec["repository_file"]
        env["RESTIC_CACHE_DIR"] = self.spec.get("cache_dir", "/var/cache/erpstack/restic")
        # credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, ...) each kept in a secret file of its own
        for key, path in sorted((self.spec.get("env_files") or {}).items()):
            env[key] = read_secret(path, "restic's %s" % key)
        return env

    # Another host's restic (hosts share a repository: disaster recovery restores from it) may hold an exclusive
    # lock (forget --prune, check): wait and try again, as restic 0.16's --retry-lock would, for up to ~15 minutes.
    LOCKED = "repository is already locked"
    LOCK_RETRIES = 30

    def run(self, what, *args, cwd=None):
        for attempt in range(self.LOCK_RETRIES + 1):
            try:
                with self.serialized():
                    return run(["restic"] + list(self.spec.get("options", [])) + list(args), "restic " + what,
                               env=self.env(), cwd=cwd)
            except BackupError as err:
                if self.LOCKED not in str(err) or attempt == self.LOCK_RETRIES:
                    raise BackupError(self.redact(str(err))) from None
                if attempt == 0:
                    log("restic %s: the repository is locked by another restic (another host's); trying again"
                        % what)
                time.sleep(min(5 * (attempt + 1), 30))
        raise AssertionError("unreachable")

    def redact(self, text):
        """restic names its repository in its errors ("unable to open config file: stat LOCATION/config"): the
        location is a secret file's value (it may carry a user, a bucket or, with rest:, a password) and stays out of
        the logs and of AWX's job output, as the credentials' values do."""
        values = {"<restic repository>": [self.spec["repository_file"]],
                  "<restic credential>": list((self.spec.get("env_files") or {}).values())}
        found = []
        for label, paths in values.items():
            for path in paths:
                with contextlib.suppress(BackupError):
                    found.append((read_secret(path, label), label))
        for value, label in sorted(found, key=lambda pair: len(pair[0]), reverse=True):
            text = text.replace(value, label)
        return text

    def initialised(self):
        return subprocess.run(["restic", "cat", "config"] + list(self.spec.get("options", [])), env=self.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode == 0

    def ensure_repository(self):
        with self.serialized():
            if not self.initialised():
                try:
                    self.run("init", "init")
                except BackupError:
                    # another host initialised it in the meantime
                    if not self.initialised():
                        raise

    def backup(self, bench, host, backup_dir, paths, set_id):
        out = self.run("backup", "backup", "--json", "--host", host, "--tag", "erpstack",
                       "--tag", "bench=" + bench, "--tag", "set=" + set_id, *paths, cwd=backup_dir)
        summary = {}
        for line in out.splitlines():
            with contextlib.suppress(ValueError):
                msg = json.loads(line)
                if msg.get("message_type") == "summary":
                    summary = msg
        return summary

    def snapshots(self, bench, host=None):
        args = ["snapshots", "--json", "--tag", "erpstack,bench=" + bench]
        if host:
            args += ["--host", host]
        snaps = json.loads(self.run("snapshots", *args) or "[]") or []
        for snap in snaps:
            snap["set"] = next((t[4:] for t in snap.get("tags", []) if t.startswith("set=")), None)
        return sorted((s for s in snaps if s["set"]), key=lambda s: s["set"])

    def forget(self, bench, host, policy):
        args = ["forget", "--tag", "erpstack,bench=" + bench, "--host", host, "--group-by", "host",
                "--prune"]
        for rule in ("daily", "weekly", "monthly"):
            if int(policy.get(rule) or 0):
                args += ["--keep-" + rule, str(int(policy[rule]))]
        args += ["--keep-last", "1"]
        self.run("forget", *args)

    def check(self):
        args = ["check"]
        subset = self.spec.get("check_read_data_subset")
        if subset:
            args += ["--read-data-subset", str(subset)]
        self.run("check", *args)

    def restore(self, snapshot_id, target):
        self.run("restore", "restore", snapshot_id, "--target", target)


# --- metrics --------------------------------------------------------------------------------------------------


class Metrics:
    """The Prometheus textfile of one bench, rewritten whole (and atomically) after every run."""

    def __init__(self, config, bench):
        self.dir = config["textfile_dir"]
        self.state_path = os.path.join(config["state_dir"], "%s.json" % bench)
        self.bench = bench
        self.state = read_json(self.state_path, {}) or {}

    def save(self):
        os.makedirs(os.path.dirname(self.state_path), exist_ok=True)
        write_json_atomic(self.state_path, self.state, 0o644)
        lines = []

        def metric(name, help_text, kind, samples):
            lines.append("# HELP %s %s" % (name, help_text))
            lines.append("# TYPE %s %s" % (name, kind))
            for labels, value in samples:
                text = ",".join('%s="%s"' % (k, str(v).replace("\\", "\\\\").replace('"', '\\"'))
                                for k, v in sorted(labels.items()))
                lines.append("%s{%s} %s" % (name, text, value))

        bench = {"bench": self.bench}
        st = self.state
        run_state = st.get("run", {})
        if run_state:
            metric("erpstack_backup_last_run_timestamp_seconds", "When the last backup run of the bench ended.",
                   "gauge", [(bench, run_state["ended"])])
            metric("erpstack_backup_last_run_success", "1 if the last backup run of the bench succeeded, else 0.",
                   "gauge", [(bench, run_state["success"])])
            metric("erpstack_backup_last_run_duration_seconds", "How long the last backup run took.", "gauge",
                   [(bench, run_state["duration"])])
        if st.get("success"):
            metric("erpstack_backup_last_success_timestamp_seconds",
                   "When the last complete backup of the bench ended.", "gauge", [(bench, st["success"]["ended"])])
            sites = st["success"].get("sites", {})
            metric("erpstack_backup_site_last_success_timestamp_seconds",
                   "When the last complete backup of the site ended.", "gauge",
                   [(dict(bench, site=s), v["ended"]) for s, v in sorted(sites.items())])
            metric("erpstack_backup_site_size_bytes", "Size of the site's last complete backup.", "gauge",
                   [(dict(bench, site=s), v["bytes"]) for s, v in sorted(sites.items())])
            metric("erpstack_backup_set_size_bytes", "Size of the last complete backup set on disk.", "gauge",
                   [(dict(bench, kind=st["success"]["kind"]), st["success"]["bytes"])])
            metric("erpstack_backup_sets", "Complete backup sets kept on the host.", "gauge",
                   [(bench, st["success"].get("sets", 0))])
        if st.get("offsite"):
            off = st["offsite"]
            metric("erpstack_backup_offsite_last_run_success", "1 if the last offsite copy succeeded, else 0.",
                   "gauge", [(bench, off["success"])])
            if off.get("last_success"):
                metric("erpstack_backup_offsite_last_success_timestamp_seconds",
                       "When the last offsite copy succeeded.", "gauge", [(bench, off["last_success"])])
                metric("erpstack_backup_offsite_data_added_bytes", "Bytes the last offsite copy added to the "
                       "repository.", "gauge", [(bench, off.get("data_added", 0))])
        if st.get("check"):
            metric("erpstack_backup_repository_check_success", "1 if the last restic check passed, else 0.",
                   "gauge", [(bench, st["check"]["success"])])
            metric("erpstack_backup_repository_check_timestamp_seconds", "When restic check last ran.", "gauge",
                   [(bench, st["check"]["ended"])])
        drills = st.get("drill", {})
        if drills:
            metric("erpstack_restore_drill_success", "1 if the last restore drill of the site passed, else 0.",
                   "gauge", [(dict(bench, site=s), v["success"]) for s, v in sorted(drills.items())])
            metric("erpstack_restore_drill_timestamp_seconds", "When the last restore drill of the site ran.",
                   "gauge", [(dict(bench, site=s), v["ended"]) for s, v in sorted(drills.items())])
            metric("erpstack_restore_drill_duration_seconds", "How long the last restore drill of the site took.",
                   "gauge", [(dict(bench, site=s), v["duration"]) for s, v in sorted(drills.items())])
        os.makedirs(self.dir, exist_ok=True)
        path = os.path.join(self.dir, "erpstack_backup_%s.prom" % self.bench)
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".erpstack_backup_")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


# --- the backup store -----------------------------------------------------------------------------------------


class Store:
    """The bench's sets on the host."""

    def __init__(self, config, bench):
        self.root = os.path.join(config["backup_dir"], bench)
        self.backup_dir = config["backup_dir"]

    def sets(self):
        """Complete sets, oldest first: name -> manifest."""
        out = {}
        if not os.path.isdir(self.root):
            return out
        for name in sorted(os.listdir(self.root)):
            manifest = read_json(os.path.join(self.root, name, MANIFEST)) if SET_RE.match(name) else None
            if manifest:
                out[name] = manifest
        return out

    def path(self, name):
        return os.path.join(self.root, name)

    def chain(self, name, sets=None):
        """The set and every set it is built on, oldest first."""
        sets = self.sets() if sets is None else sets
        chain = []
        while name:
            if name not in sets:
                raise BackupError("set %s is missing from %s (needed by an incremental backup)" % (name, self.root))
            chain.insert(0, name)
            name = sets[name].get("base")
        return chain

    def verify(self, name):
        manifest = read_json(os.path.join(self.path(name), MANIFEST))
        for rel, digest in sorted(manifest.get("sha256", {}).items()):
            path = os.path.join(self.path(name), rel)
            if not os.path.exists(path):
                raise BackupError("set %s is damaged: %s is missing" % (name, rel))
            if sha256_file(path) != digest:
                raise BackupError("set %s is damaged: %s does not match its SHA-256" % (name, rel))
        return manifest

    def clean_partials(self):
        if os.path.isdir(self.root):
            for name in os.listdir(self.root):
                if name.startswith(".partial-") or name.startswith(".fetch-"):
                    shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)


# --- the commands ---------------------------------------------------------------------------------------------


class Context:
    """What backup, restore and drill share: the configuration, restic, the benches, and one lock per bench."""

    def __init__(self, config):
        self.config = config
        self.restic = Restic(config.get("restic") or {}, os.path.join(config["state_dir"], "restic.lock"))

    def bench(self, name):
        spec = self.config["benches"].get(name)
        if spec is None:
            raise BackupError("no bench %s here (benches: %s)" % (name, ", ".join(sorted(self.config["benches"]))))
        if spec.get("engine", "compose") == "swarm":
            return SwarmBench(name, spec, self.config)
        return Bench(name, spec, self.config)

    @contextlib.contextmanager
    def lock(self, bench):
        os.makedirs(self.config["state_dir"], exist_ok=True)
        path = os.path.join(self.config["state_dir"], "%s.lock" % bench)
        with open(path, "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise BackupError("another backup, restore or drill of bench %s is running" % bench) from None
            yield


class SwarmBench(Bench):
    """A bench on Docker Swarm, backed up from its database's replica (the primary when it has none): the dump runs
    in that service's task on this node, as the backup account, whose password the task has as a Docker secret; the
    sites' files are read from the shared storage, which every node mounts at the same path. A restore runs on the
    first manager: bench commands in the bench's admin container, the site-admin password from the bench's secrets
    there."""

    # The backup account's password goes from the task's Docker secret to a private option file; the host never
    # holds it. The account may log in from the bench network: the task reaches itself by its service name.
    DB_SH = (
        'umask 077; f="$(mktemp)"; trap \'rm -f "$f"\' EXIT; '
        'printf "[client]\\nuser=%s\\npassword=%s\\nhost=%s\\nport=3306\\n" "$1" '
        '"$(cat /run/secrets/db_backup_password)" "$2" >"$f"; shift 2; '
    )

    def __init__(self, name, spec, config):
        super().__init__(name, spec, config)
        self.stack = spec["stack"]
        self.db_service = spec["db_service"]
        self.sites_dir = spec["sites_dir"]
        self.admin = spec["admin_container"]

    def task(self, service):
        """The id of this node's running container of the stack's service, or None."""
        out = run(["docker", "ps", "-q", "--filter", "status=running", "--filter",
                   "label=com.docker.swarm.service.name=%s_%s" % (self.stack, service)],
                  "docker ps", check=False)
        ids = (out or "").split()
        return ids[0] if ids else None

    def here(self):
        """Whether this node runs the database task the backups are taken from."""
        return self.task(self.db_service) is not None

    def running(self, service):
        return self.task(service) is not None

    def takes_backup_here(self, reason):
        """Both database nodes keep the timer: the one that runs the replica's task takes the backup. A safety
        backup before a restore is taken from this node's database task, whichever it is."""
        if self.here():
            return True
        if reason != "pre-restore":
            return False
        self.use_local_database()
        return True

    def use_local_database(self):
        """For a safety backup before a restore: the database task of this node, the replica's or the primary's."""
        for service in (self.db_service, "db"):
            if self.task(service) is not None:
                self.db_service = service
                return
        raise BackupError("no database task of bench %s runs on this node to take the safety backup from: take a set "
                          "where the replica runs (erpstack-backup run %s) and restore with --no-safety-backup"
                          % (self.name, self.name))

    def require_admin(self):
        """Bench commands of a restore run in the bench's admin container, on its first manager."""
        out = run(["docker", "inspect", "--format", "{{.State.Running}}", self.admin], "docker inspect", check=False)
        if (out or "").strip() != "true":
            raise BackupError("bench %s runs on Swarm: restore it on its first manager%s, where its admin container %s "
                              "runs" % (self.name, " (%s)" % self.spec["first_manager"]
                                        if self.spec.get("first_manager") else "", self.admin))

    def admin_exec(self, stdin):
        interactive = ["-i"] if stdin is not None else []
        return ["docker", "exec"] + interactive + ["-u", "frappe", "-w", BENCH_DIR, self.admin]

    def bench(self, what, *args, site=None, stdin=None):
        argv = self.admin_exec(stdin) + ["bench"] + (["--site", site] if site else []) + list(args)
        return run(argv, what, stdin=stdin)

    def backend_sh(self, what, script, *args, stdin=None, stdout=subprocess.PIPE):
        argv = self.admin_exec(stdin) + ["sh", "-c", script, "sh"] + list(args)
        return run(argv, what, stdin=stdin, stdout=stdout)

    # A page of a site from the backend service, asked from the admin container on the bench's network (the host
    # has no address on the overlay): the status on the first line, the body after it.
    HTTP_PY = (
        "import sys, urllib.error, urllib.request\n"
        "req = urllib.request.Request('http://backend:8000' + sys.argv[2], headers={'Host': sys.argv[1], "
        "'X-Frappe-Site-Name': sys.argv[1], 'Accept': 'application/json'})\n"
        "try:\n"
        "    r = urllib.request.urlopen(req, timeout=30)\n"
        "    print(r.status); print(r.read().decode('utf-8', 'replace'))\n"
        "except urllib.error.HTTPError as e:\n"
        "    print(e.code); print(e.read().decode('utf-8', 'replace'))\n"
        "except OSError as e:\n"
        "    print(0); print(e)\n"
    )

    def http(self, site, path, data=None, cookie=None):
        if data is not None or cookie is not None:
            raise BackupError("a bench on Swarm is only asked for pages without a session")
        out = run(self.admin_exec(None) + ["env/bin/python", "-c", self.HTTP_PY, site, path],
                  "asking %s for %s" % (site, path), check=False) or ""
        status, _sep, body = out.partition("\n")
        return (int(status) if status.strip().isdigit() else 0), body, []

    def db_exec(self, script, *args, what="a query", stdout=subprocess.PIPE):
        cid = self.task(self.db_service)
        if cid is None:
            raise BackupError("no %s_%s task runs on this node" % (self.stack, self.db_service))
        argv = ["docker", "exec", "-i", cid, "sh", "-c", self.DB_SH + script, "sh", self.spec["db_backup_user"],
                self.db_service] + list(args)
        return run(argv, "MariaDB %s" % what, stdout=stdout)

    def db_query(self, sql, what="a query", admin=False):
        if admin:
            raise BackupError("a bench on Swarm is only read, as the backup account")
        out = self.db_exec('exec mariadb --defaults-extra-file="$f" -N -B -e "$1"', sql, what=what)
        return [line.split("\t") for line in out.splitlines() if line]

    def replication(self):
        """The replica's status: (replicating, seconds behind its primary or None, the last error)."""
        out = self.db_exec('exec mariadb --defaults-extra-file="$f" -e "SHOW SLAVE STATUS\\G"',
                           what="replica status")
        status = {}
        for line in out.splitlines():
            key, sep, value = line.strip().partition(": ")
            if sep:
                status[key] = value.strip()
        running = status.get("Slave_IO_Running") == "Yes" and status.get("Slave_SQL_Running") == "Yes"
        lag = status.get("Seconds_Behind_Master", "NULL")
        error = status.get("Last_SQL_Error") or status.get("Last_IO_Error") or ""
        return running, (int(lag) if lag.isdigit() else None), error

    def check_source(self, manifest):
        """Record where the dump comes from; refuse a replica that would give an old state a new date: stopped,
        broken, or too far behind."""
        manifest["engine"] = "swarm"
        manifest["source"] = self.source()

    def source(self):
        if self.db_service == "db":
            return {}
        running, lag, error = self.replication()
        limit = int(self.spec.get("max_replica_lag_seconds", 300))
        if not running:
            raise BackupError("the replica does not replicate%s: a backup from it would miss what the primary has "
                              "since (playbooks/failover_db.yml rebuilds it)" % (" (%s)" % error if error else ""))
        if lag is None or lag > limit:
            raise BackupError("the replica is %s behind its primary (max_replica_lag_seconds: %d)"
                              % ("an unknown time" if lag is None else "%d s" % lag, limit))
        gtid = self.db_query("SELECT @@gtid_slave_pos", "replica position")
        return {"service": self.db_service, "lag_seconds": lag, "gtid_slave_pos": gtid[0][0] if gtid else ""}

    def site_config(self, site):
        path = os.path.join(self.sites_dir, site, "site_config.json")
        try:
            return read_json(path) or {}
        except ValueError as err:
            raise BackupError("%s is not valid JSON: %s" % (path, err)) from None

    def apps(self, site):
        """The site's apps as Frappe records them (Installed Applications), read from the database."""
        db_name = self.site_config(site)["db_name"]
        rows = self.db_query("SELECT app_name, app_version, git_branch FROM %s.`tabInstalled Application` "
                             "WHERE parent = 'Installed Applications' ORDER BY idx" % sql_ident(db_name),
                             "apps of %s" % site)
        return [{"name": row[0], "version": row[1] if len(row) > 1 else "", "branch": row[2] if len(row) > 2 else ""}
                for row in rows]

    def dump(self, site, db_name, path):
        """The site's database as Frappe's backup writes it (mariadb-dump of one consistent transaction, gzip)."""
        raw = path + ".sql"
        try:
            with open(raw, "wb") as out:
                self.db_exec('exec mariadb-dump --defaults-extra-file="$f" --single-transaction --quick '
                             '--lock-tables=false --routines --triggers --events "$1"', db_name,
                             what="dump of %s" % site, stdout=out)
            with open(raw, "rb") as src, gzip.open(path, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        finally:
            if os.path.exists(raw):
                os.remove(raw)

    def backup_site(self, site, target, set_id, with_database):
        self.dump(site, self.site_config(site)["db_name"], os.path.join(target, "database.sql.gz"))
        self.archive(site, target)
        return SITE_FILES

    def archive(self, site, target):
        """The site's public and private files and its configuration, from the shared storage."""
        for name, rel in (("files.tgz", "public/files"), ("private-files.tgz", "private/files")):
            if not os.path.isdir(os.path.join(self.sites_dir, site, rel)):
                os.makedirs(os.path.join(target, ".empty", site, rel), mode=0o700)
                run(["tar", "-C", os.path.join(target, ".empty"), "-czf", os.path.join(target, name),
                     "./%s/%s" % (site, rel)], "archiving the files of %s" % site)
                shutil.rmtree(os.path.join(target, ".empty"))
            else:
                run(["tar", "-C", self.sites_dir, "-czf", os.path.join(target, name), "./%s/%s" % (site, rel)],
                    "archiving the files of %s" % site)
        shutil.copyfile(os.path.join(self.sites_dir, site, "site_config.json"),
                        os.path.join(target, "site_config.json"))


class Backup:
    """Take a set of a bench (Frappe's backup of each site, or mariadb-backup of the server), apply the retention,
    copy it offsite, and record the outcome as metrics."""

    def __init__(self, context):
        self.context = context
        self.config = context.config
        self.restic = context.restic

    def run(self, name, offsite=True, prune=True, reason="scheduled"):
        bench = self.context.bench(name)
        if not bench.takes_backup_here(reason):
            log("bench %s: its %s task runs on another node, which takes the backup" % (name, bench.db_service))
            return None
        store = Store(self.config, name)
        metrics = Metrics(self.config, name)
        started = time.time()
        with self.context.lock(name):
            store.clean_partials()
            try:
                # the physical chain this host continues (mariadb-backup's log sequence numbers), kept in the state
                set_id, manifest = self._take(bench, store, reason, metrics.state.setdefault("lineage", {}))
            except BaseException as err:
                metrics.state["run"] = {"ended": int(time.time()), "success": 0,
                                        "duration": round(time.time() - started, 3)}
                metrics.save()
                if isinstance(err, (BackupError, OSError)):
                    raise BackupError("bench %s: backup failed, previous sets are untouched: %s" % (
                        name, os_error(err) if isinstance(err, OSError) else err)) from None
                raise
            removed = self.prune(name, store) if prune else []
            sets = store.sets()
            ended = time.time()
            metrics.state["success"] = {
                "ended": int(ended), "set": set_id, "kind": manifest["kind"], "bytes": manifest["bytes"],
                "sets": len(sets),
                "sites": {s: {"ended": int(ended), "bytes": v["bytes"]} for s, v in manifest["sites"].items()},
            }
            metrics.state["run"] = {"ended": int(ended), "success": 1, "duration": round(ended - started, 3)}
            metrics.save()
            log("bench %s: set %s complete (%s, %s, %d bytes, %.1f s), %d sets kept, %d removed"
                % (name, set_id, manifest["method"], manifest["kind"], manifest["bytes"], ended - started,
                   len(sets), len(removed)))
            if offsite and self.restic.enabled:
                self._offsite(bench, store, set_id, metrics)
        return set_id

    def _take(self, bench, store, reason, lineage):
        now = utcnow()
        set_id = set_name(now)
        if os.path.exists(store.path(set_id)):
            time.sleep(1)
            now = utcnow()
            set_id = set_name(now)
        os.makedirs(store.root, mode=0o700, exist_ok=True)
        partial = os.path.join(store.root, ".partial-" + set_id)
        os.makedirs(partial, mode=0o700)
        try:
            manifest = {
                "format": FORMAT_VERSION, "bench": bench.name, "set": set_id, "created": now.isoformat(),
                "reason": reason, "method": bench.method, "kind": "full", "base": None,
                "host": self.config.get("host", ""), "images": bench.spec.get("images", {}), "sites": {},
            }
            bench.check_source(manifest)
            before = {}
            for site in bench.sites:
                conf = bench.site_config(site)
                before[site] = (conf, bench.counts(site, conf["db_name"]))
            if bench.method == "physical":
                self._physical(bench, store, partial, manifest, lineage)
            for site in bench.sites:
                conf, counts_before = before[site]
                self._site(bench, site, partial, manifest, bench.method == "logical")
                counts_after = bench.counts(site, conf["db_name"])
                manifest["sites"][site].update({
                    "db_name": conf["db_name"],
                    "apps": bench.apps(site),
                    "counts": {t: [counts_before.get(t, 0), counts_after.get(t, 0)] for t in counts_after},
                })
            manifest["sha256"] = {rel: sha256_file(os.path.join(partial, rel)) for rel in tree_files(partial)}
            manifest["bytes"] = tree_size(partial)
            for site in bench.sites:
                manifest["sites"][site]["bytes"] = tree_size(os.path.join(partial, site))
            write_json_atomic(os.path.join(partial, MANIFEST), manifest, 0o600)
            fd = os.open(partial, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(partial, store.path(set_id))
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            raise
        return set_id, manifest

    def _site(self, bench, site, partial, manifest, with_database):
        """One site's files of the set (database dump, files, site config), moved off the sites volume."""
        target = os.path.join(partial, site)
        os.makedirs(target, mode=0o700)
        expected = bench.backup_site(site, target, manifest["set"], with_database)
        for entry in os.listdir(target):
            os.chmod(os.path.join(target, entry), 0o600)
        manifest["sites"][site] = {"files": sorted(expected)}

    def _physical(self, bench, store, partial, manifest, lineage):
        """mariadb-backup of the whole server, streamed out of the db container; incremental on a recent full."""
        sets = store.sets()
        base = None
        full_every = int(bench.spec.get("full_every_days", 7))
        # An incremental backup continues the chain of the last full one this host took since its last restore:
        # a set fetched from elsewhere, or taken before the data was replaced, has other log sequence numbers.
        full = lineage.get("full")
        if bench.spec.get("incremental", True) and full in sets:
            physical = [n for n, m in sets.items() if m.get("mariadb") and store.chain(n, sets)[0] == full]
            if physical and utcnow() - set_time(full) < datetime.timedelta(days=full_every):
                base = physical[-1]
        target = os.path.join(partial, "mariadb")
        os.makedirs(target, mode=0o700)
        lsndir = "/tmp/erpstack-lsn-" + manifest["set"]
        extra = []
        if base:
            extra = ["--incremental-lsn=%s" % sets[base]["mariadb"]["to_lsn"]]
        script = (Bench.DB_SH + 'd="$1"; shift; rm -rf "$d"; mkdir -p "$d"; '
                  'mariadb-backup --defaults-extra-file="$f" --backup --stream=xbstream --target-dir=/tmp '
                  '--extra-lsndir="$d" "$@" 2>/tmp/erpstack-mariadb-backup.log '
                  '|| { tail -n 20 /tmp/erpstack-mariadb-backup.log >&2; exit 1; }')
        argv = bench.compose("exec", "-T", "db", "sh", "-c", script, "sh", bench.spec["db_backup_user"],
                             lsndir, *extra)
        with open(os.path.join(target, "backup.xb"), "wb") as out:
            run(argv, "mariadb-backup", stdin=(bench.backup_password() + "\n").encode(), stdout=out)
        checkpoints = run(bench.compose("exec", "-T", "db", "sh", "-c",
                                        'cat "$1/xtrabackup_checkpoints"; echo "#info"; cat "$1/xtrabackup_info" '
                                        '2>/dev/null; rm -rf "$1"', "sh", lsndir),
                          "reading the backup's checkpoints")
        checkpoints, _sep, info = checkpoints.partition("#info\n")
        with open(os.path.join(target, "xtrabackup_checkpoints"), "w") as f:
            f.write(checkpoints)
        for entry in os.listdir(target):
            os.chmod(os.path.join(target, entry), 0o600)
        values = dict(line.split(" = ", 1) for line in checkpoints.splitlines() if " = " in line)
        if "to_lsn" not in values:
            raise BackupError("mariadb-backup wrote no checkpoints")
        manifest["kind"] = "incremental" if base else "full"
        manifest["base"] = base
        if not base:
            lineage["full"] = manifest["set"]
        manifest["mariadb"] = {"file": "mariadb/backup.xb", "from_lsn": values.get("from_lsn"),
                               "to_lsn": values["to_lsn"], "backup_type": values.get("backup_type")}
        # where the binary logs take over from this set (a point-in-time restore replays them from here); the
        # position is the state when the backup ended
        ended = int(time.time())
        position = re.search(r"^binlog_pos = filename '([^']+)', position '(\d+)'(?:, GTID of the last change '([^']*)')?",
                             info, re.M)
        if position:
            manifest["mariadb"]["binlog"] = {"file": position.group(1), "position": int(position.group(2)),
                                             "gtid": position.group(3) or "", "at": ended,
                                             "lineage": (read_json(os.path.join(self.config["state_dir"], "%s-binlog.json"
                                                                                % bench.name), {}) or {}).get("lineage")}

    def prune(self, name, store=None, dry_run=False):
        store = store or Store(self.config, name)
        sets = store.sets()
        keep = retention_keep({n: m.get("base") for n, m in sets.items()}, self.config.get("retention", {}))
        removed = [n for n in sets if n not in keep]
        for n in removed:
            if not dry_run:
                shutil.rmtree(store.path(n))
        return removed

    def _offsite(self, bench, store, set_id, metrics):
        off = metrics.state.setdefault("offsite", {})
        try:
            self.restic.ensure_repository()
            chain = store.chain(set_id)
            summary = self.restic.backup(bench.name, self.config["host"], self.config["backup_dir"],
                                         [os.path.join(bench.name, n) for n in chain], set_id)
            self.restic.forget(bench.name, self.config["host"], self.config.get("retention", {}))
            off.update({"success": 1, "last_success": int(time.time()),
                        "data_added": int(summary.get("data_added", 0))})
            log("bench %s: set %s copied offsite (%d bytes added to the repository)"
                % (bench.name, set_id, off["data_added"]))
            every = float(self.restic.spec.get("check_every_days", 7))
            last = metrics.state.get("check", {}).get("ended", 0)
            if every > 0 and time.time() - last >= every * 86400:
                try:
                    self.restic.check()
                    metrics.state["check"] = {"success": 1, "ended": int(time.time())}
                except BackupError:
                    metrics.state["check"] = {"success": 0, "ended": int(time.time())}
                    raise
        except BackupError as err:
            off["success"] = 0
            raise BackupError("bench %s: set %s is complete on the host but the offsite copy failed: %s"
                              % (bench.name, set_id, err)) from None
        finally:
            metrics.save()


UNTIL_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
GTID_RE = re.compile(r"^(\d+)-(\d+)-(\d+)$")


def gtid_sequence(gtid_list, domain):
    """The sequence number of ``domain`` in a GTID list ("0-1-42,1-2-7"), or None."""
    for gtid in (gtid_list or "").split(","):
        match = GTID_RE.match(gtid.strip())
        if match and int(match.group(1)) == domain:
            return int(match.group(3))
    return None


class Until:
    """Where a point-in-time restore stops: a moment (UTC, ``YYYY-MM-DD HH:MM:SS``; the changes made before it) or a
    GTID (``DOMAIN-SERVER-SEQUENCE``; the changes up to and including it)."""

    def __init__(self, text, now=None):
        self.text = text
        self.moment = self.domain = self.sequence = None
        match = GTID_RE.match(text)
        if UNTIL_TIME_RE.match(text):
            try:
                self.moment = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(
                    tzinfo=datetime.timezone.utc)
            except ValueError:
                raise BackupError("until %s is not a date and time" % text) from None
            now = now or utcnow()
            if self.moment > now:
                raise BackupError("until %s is in the future (it is %s UTC now)" % (
                    text, now.strftime("%Y-%m-%d %H:%M:%S")))
        elif match:
            self.domain, self.sequence = int(match.group(1)), int(match.group(3))
        else:
            raise BackupError("until must be a moment 'YYYY-MM-DD HH:MM:SS' (UTC) or a GTID DOMAIN-SERVER-SEQUENCE, "
                              "not %r" % text)

    def after(self, position):
        """Whether the state a set's binary-log position records lies at or before this point."""
        if self.moment:
            return position.get("at") is not None and position["at"] <= self.moment.timestamp()
        sequence = gtid_sequence(position.get("gtid"), self.domain)
        return sequence is not None and sequence <= self.sequence

    def reached_by(self, flushed):
        """Whether the shipped binary logs (closed at ``flushed``: its time and GTID position) hold this point."""
        if self.moment:
            return self.moment.timestamp() <= flushed["time"]
        sequence = gtid_sequence(flushed.get("gtid"), self.domain)
        return sequence is not None and sequence >= self.sequence

    def describe(self, position):
        if self.moment:
            return datetime.datetime.fromtimestamp(position["at"], datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%S UTC")
        return "GTID %s" % (position.get("gtid") or "none")


class Replay:
    """The binary logs that take a physical set to ``until``: the set's file from its position, then every later
    file of its lineage, checked against their checksums; ``argv`` is mariadb-binlog's command for them, staged in
    ``/work/binlog`` of the container that replays them."""

    def __init__(self, until, set_id, position, index, directory):
        self.until = until
        self.set_id = set_id
        self.position = position
        files = index.get("files") or {}
        lineage = position.get("lineage")
        if not lineage:
            # a set taken before the first shipping run: the first lineage since then that has its file
            lineage = next((meta["lineage"] for key, meta in sorted(files.items())
                            if key.split("/")[-1] == position["file"] and meta["lineage"] >= set_id), None)
        names = sorted((key.split("/", 1)[1] for key, meta in files.items() if meta["lineage"] == lineage
                        and Binlog.number(key) >= Binlog.number(position["file"])), key=Binlog.number)
        if not names or names[0] != position["file"]:
            raise BackupError("the binary log %s, where set %s ends, was not shipped (lineage %s)" % (
                position["file"], set_id, lineage or "none"))
        numbers = [Binlog.number(n) for n in names]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
            raise BackupError("binary log(s) %s of lineage %s are missing: a replay cannot skip them" % (
                ", ".join("%06d" % n for n in missing), lineage))
        flushed = index.get("flushed") or {}
        if flushed.get("lineage") != lineage or not until.reached_by(flushed):
            raise BackupError("the shipped binary logs reach only to %s: until %s is after them" % (
                self.reach(flushed, lineage, index), until.text))
        self.lineage = lineage
        self.paths = []
        for name in names:
            path = os.path.join(directory, lineage, name)
            meta = files["%s/%s" % (lineage, name)]
            if not os.path.exists(path) or sha256_file(path) != meta["sha256"]:
                raise BackupError("the binary log %s/%s is missing or damaged (its checksum differs)" % (lineage, name))
            self.paths.append(path)
        self.bytes = sum(os.path.getsize(p) for p in self.paths)

    @staticmethod
    def reach(flushed, lineage, index):
        if flushed.get("lineage") != lineage:
            return "a later lineage (%s; the server's data was replaced after this set)" % (
                flushed.get("lineage") or index.get("lineage"))
        return "%s UTC (GTID %s)" % (datetime.datetime.fromtimestamp(flushed["time"], datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M:%S"), flushed.get("gtid") or "none")

    def stage(self, workdir):
        target = os.path.join(workdir, "binlog")
        os.makedirs(target, mode=0o700, exist_ok=True)
        for path in self.paths:
            shutil.copyfile(path, os.path.join(target, os.path.basename(path)))
        return target

    def argv(self, database=None):
        if self.until.moment:
            window = ["--start-position=%d" % self.position["position"], "--stop-datetime=" + self.until.text]
        else:
            # mariadb-binlog ignores a GTID stop after a byte-offset start: both are GTIDs (start exclusive, stop
            # inclusive)
            window = ["--start-position=" + self.position["gtid"], "--stop-position=" + self.until.text]
        # --no-defaults: the server's drop-in sets [client] default-character-set, which mariadb-binlog refuses
        return (["mariadb-binlog", "--no-defaults"] + (["--database=" + database] if database else []) + window
                + ["/work/binlog/" + os.path.basename(p) for p in self.paths])


class Restore:
    """Bring a set back: from the host or the restic repository, into one site (Frappe's restore) or the whole
    server (a physical set), after a safety backup, and finish each site (encryption key, migrate, cache)."""

    # where a point-in-time restore puts the binary logs it fetched: not a ".fetch-" name, which the safety backup's
    # clean-up of leftovers would remove before the replay
    BINLOG_STAGE = ".binlog-fetched"

    def __init__(self, context):
        self.context = context
        self.config = context.config
        self.restic = context.restic

    def fetch(self, name, wanted="latest", source_host=None, store=None):
        """Bring a set (and the sets it is built on) from the restic repository to the host (into the bench's own
        store, or ``store``); return its name."""
        if not self.restic.enabled:
            raise BackupError("no restic repository is configured (backup_restic_repository)")
        store = store or Store(self.config, name)
        snaps = self.restic.snapshots(name, source_host)
        if wanted != "latest":
            snaps = [s for s in snaps if s["set"] == wanted]
        if not snaps:
            raise BackupError("the restic repository has no %s set of bench %s%s" % (
                "" if wanted == "latest" else wanted, name, " from host " + source_host if source_host else ""))
        snap = snaps[-1]
        os.makedirs(store.root, mode=0o700, exist_ok=True)
        stage = os.path.join(store.root, ".fetch-" + snap["set"])
        shutil.rmtree(stage, ignore_errors=True)
        os.makedirs(stage, mode=0o700)
        try:
            self.restic.restore(snap["id"], stage)
            # where restic puts a path under the target depends on how it was given at backup time: find each set
            found = {}
            for folder, dirs, files in os.walk(stage):
                if SET_RE.match(os.path.basename(folder)) and MANIFEST in files:
                    found[os.path.basename(folder)] = folder
                    dirs[:] = []
            for path in snap.get("paths", []):
                set_dir = os.path.basename(path.rstrip("/"))
                if set_dir not in found:
                    raise BackupError("snapshot %s lacks the set %s" % (snap["short_id"], set_dir))
                if not os.path.exists(store.path(set_dir)):
                    os.rename(found[set_dir], store.path(set_dir))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        store.verify(snap["set"])
        log("bench %s: set %s fetched from the restic repository (snapshot %s of host %s)"
            % (name, snap["set"], snap["short_id"], snap.get("hostname")))
        return snap["set"]

    def resolve(self, name, wanted, source):
        store = Store(self.config, name)
        if source == "offsite":
            return self.fetch(name, wanted, self.config.get("source_host") or None)
        sets = store.sets()
        if wanted == "latest":
            if not sets:
                raise BackupError("bench %s has no complete backup set in %s" % (name, store.root))
            return sorted(sets)[-1]
        if wanted not in sets:
            if source == "auto" and self.restic.enabled:
                return self.fetch(name, wanted)
            raise BackupError("bench %s has no complete set %s in %s" % (name, wanted, store.root))
        return wanted

    def run(self, name, sites, wanted="latest", source="auto", safety=True, until=None):
        bench = self.context.bench(name)
        if isinstance(bench, SwarmBench):
            bench.require_admin()
        until = Until(until) if until else None
        if until and wanted != "latest":
            raise BackupError("a point-in-time restore chooses its set itself (the newest before until): "
                              "leave set out")
        store = Store(self.config, name)
        try:
            return self._run(bench, store, sites, wanted, source, safety, until)
        finally:
            shutil.rmtree(os.path.join(store.root, self.BINLOG_STAGE), ignore_errors=True)

    def _run(self, bench, store, sites, wanted, source, safety, until):
        name, replay = bench.name, None
        with self.context.lock(name):
            if until:
                set_id, replay = self.point_in_time(bench, store, until, source)
            else:
                set_id = self.resolve(name, wanted, source)
            chain = store.chain(set_id)
            for n in chain:
                store.verify(n)
            manifest = read_json(os.path.join(store.path(set_id), MANIFEST))
            targets = sorted(manifest["sites"]) if sites == ["all"] else sites
            unknown = [s for s in targets if s not in manifest["sites"]]
            if unknown:
                raise BackupError("set %s of bench %s has no site %s (it has %s)" % (
                    set_id, name, ", ".join(unknown), ", ".join(sorted(manifest["sites"]))))
            not_here = [s for s in targets if s not in bench.sites]
            if not_here:
                raise BackupError("bench %s has no site %s: create it with site.yml first" % (
                    name, ", ".join(not_here)))
        safety_set = self.start_and_save(bench, safety, "restore")
        with self.context.lock(name):
            whole = manifest["method"] == "physical" and sorted(targets) == sorted(bench.sites)
            try:
                if whole:
                    self._restore_physical(bench, store, chain, manifest, replay)
                else:
                    for site in targets:
                        self.site(bench, store, chain, manifest, site, site, replay=replay)
                for site in targets:
                    bench.wait_ping(site)
            except BackupError as err:
                raise BackupError("bench %s: restore from set %s%s failed (%s); %s" % (
                    name, set_id, " until %s" % until.text if until else "", err,
                    self.state_before(safety_set))) from None
            if whole:
                # a new data directory: the next backup starts a new chain, the next shipping a new lineage
                metrics = Metrics(self.config, name)
                metrics.state["lineage"] = {}
                metrics.save()
                binlog_state = Binlog(self.context).state_path(name)
                state = read_json(binlog_state, {}) or {}
                if state.get("lineage"):
                    state["lineage"] = None
                    write_json_atomic(binlog_state, state, 0o644)
        replayed = " and its binary logs until %s" % until.text if until else ""
        log("bench %s: restored %s from set %s%s" % (name, ", ".join(targets), set_id, replayed))
        return set_id

    def point_in_time(self, bench, store, until, source):
        """The newest physical set whose state lies before ``until``, and the shipped binary logs from it to
        ``until``: this host's (shipped once more first, while the server runs), else the restic repository's."""
        name = bench.name
        if bench.method != "physical":
            raise BackupError("bench %s takes logical backups: a point-in-time restore replays the binary logs on a "
                              "physical set (backup_method: physical, backup_binlog_enabled)" % name)
        if source != "offsite":
            if bench.spec.get("binlog") and not isinstance(bench, SwarmBench) and bench.running("db"):
                try:
                    Binlog(self.context).ship(name)
                except BackupError as err:
                    log("bench %s: the binary logs could not be shipped once more (%s): the restore uses those "
                        "shipped before" % (name, err))
            sets = store.sets()
            chosen = [n for n in sorted(sets, reverse=True) if self.position(sets[n]) and until.after(
                self.position(sets[n]))]
            directory = os.path.join(self.config["backup_dir"], name, "binlog")
            index = read_json(os.path.join(directory, Binlog.INDEX))
            if chosen and index:
                return chosen[0], Replay(until, chosen[0], self.position(sets[chosen[0]]), index, directory)
            if source == "local" or not self.restic.enabled:
                raise self.nothing_before(name, until, sets, "here" if index else
                                          "here, and no shipped binary logs in %s" % directory)
        host = self.config.get("source_host") or None
        snaps = self.restic.snapshots(name, host)
        if until.moment:
            snaps = [snap for snap in snaps if set_time(snap["set"]) <= until.moment]
        fetched = {}
        for snap in reversed(snaps[-3:]):
            set_id = self.fetch(name, snap["set"], host, store=store)
            fetched[set_id] = read_json(os.path.join(store.path(set_id), MANIFEST))
            position = self.position(fetched[set_id])
            if position and until.after(position):
                directory, index = self.fetch_binlogs(name, host or snap.get("hostname"), store)
                return set_id, Replay(until, set_id, position, index, directory)
        raise self.nothing_before(name, until, fetched, "in the restic repository%s" % (
            " from host " + host if host else ""))

    @staticmethod
    def position(manifest):
        return (manifest.get("mariadb") or {}).get("binlog") if manifest.get("method") == "physical" else None

    def nothing_before(self, name, until, sets, where):
        physical = [(n, self.position(m)) for n, m in sorted(sets.items()) if self.position(m)]
        if not physical:
            return BackupError("bench %s has no physical set with a binary-log position %s: a point-in-time restore "
                               "needs backup_method: physical and backup_binlog_enabled" % (name, where))
        oldest, position = physical[0]
        return BackupError("until %s is before the oldest set of bench %s %s (set %s, its state at %s)" % (
            until.text, name, where, oldest, until.describe(position)))

    def fetch_binlogs(self, name, host, store):
        """The newest snapshot of the bench's shipped binary logs from ``host``, restored on this host; return its
        directory and its index."""
        args = ["snapshots", "--json", "--tag", "erpstack-binlog,bench=" + name]
        if host:
            args += ["--host", host]
        snaps = sorted(json.loads(self.restic.run("snapshots of the binary logs", *args) or "[]") or [],
                       key=lambda snap: snap.get("time", ""))
        if not snaps:
            raise BackupError("the restic repository has no shipped binary logs of bench %s%s" % (
                name, " from host " + host if host else ""))
        stage = os.path.join(store.root, self.BINLOG_STAGE)
        shutil.rmtree(stage, ignore_errors=True)
        os.makedirs(stage, mode=0o700)
        self.restic.restore(snaps[-1]["id"], stage)
        for folder, dirs, files in os.walk(stage):
            if os.path.basename(folder) == "binlog" and Binlog.INDEX in files:
                log("bench %s: binary logs fetched from the restic repository (snapshot %s of host %s)" % (
                    name, snaps[-1].get("short_id"), snaps[-1].get("hostname")))
                return folder, read_json(os.path.join(folder, Binlog.INDEX))
            dirs.sort()
        raise BackupError("snapshot %s of the binary logs of bench %s has no %s" % (
            snaps[-1].get("short_id"), name, Binlog.INDEX))

    def start_and_save(self, bench, safety, before):
        """Start a stopped Compose bench (an earlier restore that failed half-way), then take a safety backup of its
        current state (local only) unless ``safety`` is false; return that set's name, or None."""
        if not isinstance(bench, SwarmBench):
            run(bench.compose("up", "-d", "--wait"), "starting the bench", check=False)
        if not safety:
            return None
        log("bench %s: taking a safety backup before the %s" % (bench.name, before))
        return Backup(self.context).run(bench.name, offsite=False, prune=False, reason="pre-restore")

    @staticmethod
    def state_before(safety_set):
        return "the state before it is set %s" % safety_set if safety_set else "no safety backup was taken"

    def _site_dump(self, bench, store, chain, manifest, site, workdir, replay=None):
        """The site's database as a gzipped SQL dump: the set's own, or taken from its physical backup (with
        ``replay``, after its binary logs, filtered to the site's database, took it to the restore's point)."""
        if manifest["method"] == "logical":
            if replay:
                raise BackupError("set %s is logical: a point-in-time restore needs a physical set" % chain[-1])
            return os.path.join(store.path(chain[-1]), site, "database.sql.gz")
        dump = os.path.join(workdir, "database.sql.gz")
        self._prepare(bench, store, chain, workdir)
        db_name = manifest["sites"][site]["db_name"]
        # a throwaway server on the prepared copy, without networking or grants, dumps the one database
        script = (
            'set -e; db="$1"; shift; d=/work/data; chmod 711 /work; chown -R mysql:mysql "$d"; '
            'mariadbd --user=mysql --datadir="$d" --skip-grant-tables --skip-networking --socket=/tmp/d.sock '
            '--innodb-buffer-pool-size=128M >/tmp/d.log 2>&1 & '
            'for i in $(seq 120); do mariadb -S /tmp/d.sock -e "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done; '
            'mariadb -S /tmp/d.sock -e "SELECT 1" >/dev/null 2>&1 || { tail -n 20 /tmp/d.log >&2; exit 1; }; '
            # with a replay's command as the script's arguments: decode the binary logs to a file first (a damaged
            # log fails here, not half-way), then apply them, timed
            'if [ $# -gt 0 ]; then "$@" >/work/replay.sql; t0=$(date +%s%N); mariadb -S /tmp/d.sock </work/replay.sql; '
            'echo "replayed $(( ($(date +%s%N) - t0) / 1000000 )) ms"; rm -f /work/replay.sql; fi; '
            'mariadb-dump -S /tmp/d.sock --single-transaction --quick --routines --events "$db" | gzip >/work/dump.gz; '
            'mariadb-admin -S /tmp/d.sock shutdown')
        extra = []
        if replay:
            replay.stage(workdir)
            extra = replay.argv(database=db_name)
        out = run(["docker", "run", "--rm", "--entrypoint", "sh", "-e", "TZ=UTC", "-v", "%s:/work" % workdir,
                   bench.spec["images"]["mariadb"], "-c", script, "sh", db_name] + extra,
                  "dumping %s from the physical backup" % site)
        self.replayed(bench, replay, out, site)
        os.rename(os.path.join(workdir, "dump.gz"), dump)
        return dump

    @staticmethod
    def replayed(bench, replay, out, what):
        if not replay:
            return
        match = re.search(r"^replayed (\d+) ms$", out or "", re.M)
        seconds = int(match.group(1)) / 1000.0 if match else 0.0
        rate = replay.bytes / 1e6 / seconds if seconds else 0.0
        log("bench %s: %s: %d bytes of binary logs (%d files from %s position %s) replayed until %s in %.1f s "
            "(%.1f MB/s)" % (bench.name, what, replay.bytes, len(replay.paths), replay.position["file"],
                             replay.position["position"], replay.until.text, seconds, rate))

    def _prepare(self, bench, store, chain, workdir):
        """Unpack the full backup and apply each incremental one on it (mariadb-backup --prepare)."""
        mounts, steps = [], []
        for i, n in enumerate(chain):
            mounts += ["-v", "%s:/chain/%d:ro" % (os.path.join(store.path(n), "mariadb"), i)]
            unpack = 'mkdir -p "$w" && mbstream -x -C "$w" < /chain/%d/backup.xb' % i
            if i == 0:
                steps.append('w=/work/data; ' + unpack + ' && mariadb-backup --prepare --target-dir=/work/data')
            else:
                steps.append('w=/work/inc%d; ' % i + unpack
                             + ' && mariadb-backup --prepare --target-dir=/work/data --incremental-dir="$w"'
                             + ' && rm -rf "$w"')
        script = "set -e; rm -rf /work/data; " + "; ".join(
            s + " >/work/prepare.log 2>&1 || { tail -n 20 /work/prepare.log >&2; exit 1; }" for s in steps)
        run(["docker", "run", "--rm", "--entrypoint", "sh", "-v", "%s:/work" % workdir] + mounts
            + [bench.spec["images"]["mariadb"], "-c", script], "preparing the physical backup")

    def site(self, bench, store, chain, manifest, site, target_site, scrub=None, replay=None):
        """Frappe's restore of one site: maintenance mode, database, files, encryption key, migrate. With ``scrub``
        (a staging refresh) that runs on the restored site while it is still in maintenance mode, and the site keeps
        its own encryption key."""
        folder = os.path.join(store.path(chain[-1]), site)
        work = tempfile.mkdtemp(prefix=".restore-", dir=store.root)
        stage = "%s/sites/%s/private/backups/erpstack-restore" % (BENCH_DIR, target_site)
        try:
            dump = self._site_dump(bench, store, chain, manifest, site, work, replay)
            bench.bench("maintenance mode on for %s" % target_site, "set-maintenance-mode", "on", site=target_site)
            bench.backend_sh("staging the backup in %s" % target_site, 'rm -rf "$1"; mkdir -p "$1"', stage)
            for src, dest in ((dump, "database.sql.gz"), (os.path.join(folder, "files.tgz"), "files.tgz"),
                              (os.path.join(folder, "private-files.tgz"), "private-files.tgz")):
                with open(src, "rb") as f:
                    bench.backend_sh("copying %s into the bench" % dest, 'cat >"$1/$2"', stage, dest, stdin=f.read())
            # bench prompts for the site-admin account's password and reads it from standard input
            bench.bench("bench restore of %s" % target_site, "restore", stage + "/database.sql.gz",
                        "--with-public-files", stage + "/files.tgz", "--with-private-files",
                        stage + "/private-files.tgz", "--db-root-username", bench.spec["db_admin_user"], "--force",
                        site=target_site, stdin=bench.admin_password() + "\n")
            if scrub:
                scrub(bench, target_site)
            self.finish_site(bench, folder, target_site, source_key=scrub is None)
        finally:
            shutil.rmtree(work, ignore_errors=True)
            with contextlib.suppress(BackupError):
                bench.backend_sh("removing the staged backup", 'rm -rf "$1"', stage)

    def _restore_physical(self, bench, store, chain, manifest, replay=None):
        """The whole server from a physical backup: prepare, replace the data directory, replay the binary logs to
        the restore's point (``replay``), reset the passwords."""
        work = tempfile.mkdtemp(prefix=".restore-", dir=store.root)
        try:
            self._prepare(bench, store, chain, work)
            if replay:
                replay.stage(work)
            site_users = []
            for site in sorted(manifest["sites"]):
                conf = bench.site_config(site)
                site_users.append((conf.get("db_user") or conf["db_name"], conf["db_password"]))
                bench.bench("maintenance mode on for %s" % site, "set-maintenance-mode", "on", site=site)
            run(bench.compose("stop"), "stopping the bench")
            # The restored grant tables hold the source server's passwords: set this host's (its secrets, and each
            # site's site_config.json) on a server started without grants. The healthcheck account gets a new one.
            scope = bench.spec["db_scope"]
            root_pw = read_secret(os.path.join(bench.project_dir, "secrets", "db_root_password"),
                                  "the database root password")
            accounts = [("root", "localhost", root_pw)]
            for user, secret in sorted(bench.spec["db_accounts"].items()):
                accounts.append((user, scope, read_secret(os.path.join(bench.project_dir, "secrets", secret),
                                                          "the %s password" % user)))
            accounts += [(user, scope, pw) for user, pw in site_users]
            # the replay runs in the session that reset the passwords, after grants are on again (it may hold
            # account changes), before the passwords are set
            sql = ["ALTER USER IF EXISTS %s@%s IDENTIFIED BY %s;" % (
                sql_string(u), sql_string(h), sql_string(pw)) for u, h, pw in accounts]
            script = (
                'set -e; hc=/var/lib/mysql/.my-healthcheck.cnf; '
                'find /var/lib/mysql -mindepth 1 -delete; '
                'mariadb-backup --copy-back --target-dir=/work/data --datadir=/var/lib/mysql >/work/copy.log 2>&1 '
                '|| { tail -n 20 /work/copy.log >&2; exit 1; }; '
                'p="$(tr -dc A-Za-z0-9 </dev/urandom | head -c 32)"; umask 077; '
                'printf "[mariadb-client]\\nport=3306\\nsocket=/run/mysqld/mysqld.sock\\nuser=healthcheck\\n'
                'password=%s\\n" "$p" >"$hc"; chown -R mysql:mysql /var/lib/mysql; '
                'mariadbd --user=mysql --skip-grant-tables --skip-networking --socket=/tmp/r.sock >/tmp/r.log 2>&1 & '
                'for i in $(seq 120); do mariadb -S /tmp/r.sock -e "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done; '
                'if [ $# -gt 0 ]; then "$@" >/work/replay.sql; else : >/work/replay.sql; fi; t0=$(date +%s%N); '
                '{ echo "FLUSH PRIVILEGES;"; cat /work/replay.sql; cat; for h in localhost 127.0.0.1 ::1; do '
                'printf "ALTER USER IF EXISTS \'healthcheck\'@\'%s\' IDENTIFIED BY \'%s\';\\n" "$h" "$p"; done; '
                'echo "SHUTDOWN;"; } | mariadb -S /tmp/r.sock; '
                '[ $# -eq 0 ] || echo "replayed $(( ($(date +%s%N) - t0) / 1000000 )) ms"; rm -f /work/replay.sql; '
                'wait')
            out = run(bench.compose("run", "--rm", "--no-deps", "-T", "-e", "TZ=UTC", "-v", "%s:/work" % work,
                                    "--entrypoint", "sh", "db", "-c", script, "sh",
                                    *(replay.argv() if replay else [])),
                      "replacing the database with the physical backup", stdin="\n".join(sql) + "\n")
            self.replayed(bench, replay, out, "the whole server")
            run(bench.compose("up", "-d", "--wait"), "starting the bench")
            for site in sorted(manifest["sites"]):
                folder = os.path.join(store.path(chain[-1]), site)
                for src, dest in ((os.path.join(folder, "files.tgz"), "files"),
                                  (os.path.join(folder, "private-files.tgz"), "private")):
                    with open(src, "rb") as f:
                        bench.backend_sh(
                            "restoring the %s files of %s" % (dest, site),
                            'set -e; d="sites/$1/$2/files"; rm -rf "$d"; mkdir -p "$d"; '
                            'tar -xzf - -C "sites/$1" --strip-components 2', site, dest, stdin=f.read())
                self.finish_site(bench, folder, site)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @staticmethod
    def finish_site(bench, folder, site, source_key=True):
        """After its data is back: the site's original encryption key (the restored database's encrypted fields need
        it), migrate to the bench's version, out of maintenance mode, a clean cache."""
        key = read_json(os.path.join(folder, "site_config.json"), {}).get("encryption_key") if source_key else None
        if key:
            bench.backend_sh(
                "restoring the encryption key of %s" % site,
                'set -e; f="sites/$1/site_config.json"; t="$f.tmp"; umask 077; '
                'jq --rawfile k /dev/stdin \'.encryption_key = ($k | rtrimstr("\\n"))\' "$f" >"$t"; mv "$t" "$f"',
                site, stdin=key + "\n")
        bench.bench("bench migrate of %s" % site, "migrate", site=site)
        bench.bench("maintenance mode off for %s" % site, "set-maintenance-mode", "off", site=site)
        bench.bench("clearing the cache of %s" % site, "clear-cache", site=site)


# The scrub of a staging refresh, in order: (table it needs, SQL). tabUser and __Auth are every Frappe site's; a
# statement whose table the site lacks (another version, an app not installed) is left out. E-mail addresses become
# masked-<16 hex of their SHA-256>@staging.invalid (the same address masks the same everywhere; .invalid never
# resolves). Users keep their names (a User's name is usually its address: renaming it would rewrite every link).
SCRUB_DOMAIN = "staging.invalid"
_MASK = "CONCAT('masked-', LEFT(SHA2(LOWER(%%s), 256), 16), '@%s')" % SCRUB_DOMAIN
SCRUB_REQUIRED = ("tabUser", "__Auth")
SCRUB = (
    ("tabUser", "UPDATE `tabUser` SET `email` = %s WHERE `name` NOT IN ('Administrator', 'Guest') "
                "AND IFNULL(`email`, '') <> ''" % (_MASK % "`email`")),
    # API keys: the key goes, its secret goes with __Auth
    ("tabUser", "UPDATE `tabUser` SET `api_key` = NULL WHERE `api_key` IS NOT NULL"),
    # every Password field: users' password hashes, API secrets, e-mail accounts' and integrations' passwords
    ("__Auth", "DELETE FROM `__Auth`"),
    ("tabSessions", "DELETE FROM `tabSessions`"),
    ("tabOAuth Bearer Token", "DELETE FROM `tabOAuth Bearer Token`"),
    ("tabOAuth Authorization Code", "DELETE FROM `tabOAuth Authorization Code`"),
    # two-factor secrets (frappe.twofactor keeps them as defaults named <user>_otpsecret)
    ("tabDefaultValue", "DELETE FROM `tabDefaultValue` WHERE `defkey` LIKE '%\\_otpsecret'"),
    ("tabEmail Account", "UPDATE `tabEmail Account` SET `enable_outgoing` = 0, `enable_incoming` = 0, "
                         "`default_outgoing` = 0"),
    # production's unsent mail is not staging's to send
    ("tabEmail Queue Recipient", "DELETE FROM `tabEmail Queue Recipient` WHERE `parent` IN (SELECT `name` FROM "
                                 "`tabEmail Queue` WHERE `status` IN ('Not Sent', 'Sending', 'Partially Sent'))"),
    ("tabEmail Queue", "DELETE FROM `tabEmail Queue` WHERE `status` IN ('Not Sent', 'Sending', 'Partially Sent')"),
    ("tabContact", "UPDATE `tabContact` SET `email_id` = %s WHERE IFNULL(`email_id`, '') <> ''"
                   % (_MASK % "`email_id`")),
    ("tabContact Email", "UPDATE `tabContact Email` SET `email_id` = %s WHERE IFNULL(`email_id`, '') <> ''"
                         % (_MASK % "`email_id`")),
)
REFRESH_STORE = ".refresh-%s"


class Refresh:
    """A staging refresh: a site of another bench (production's), from its newest set in the restic repository,
    restored into a site of this bench and scrubbed before it leaves maintenance mode, so that no credential of the
    source works here: users' e-mail addresses masked, every password and encrypted secret deleted (the site keeps
    its own encryption key), API keys, sessions, OAuth tokens and two-factor secrets gone, e-mail accounts disabled,
    unsent mail dropped, outgoing mail muted (mute_emails), and the Administrator's password this site's own."""

    def __init__(self, context):
        self.context = context
        self.config = context.config
        self.restore = Restore(context)

    def run(self, name, site, from_site, source_host, from_bench=None, wanted="latest", safety=True):
        from_bench = from_bench or name
        if not source_host:
            raise BackupError("name the host whose sets to refresh from (--source-host): the restic repository also "
                              "holds this host's own")
        bench = self.context.bench(name)
        if isinstance(bench, SwarmBench):
            raise BackupError("bench %s runs on Swarm: a staging refresh restores into a Compose bench" % name)
        if site not in bench.sites:
            raise BackupError("bench %s has no site %s: create it with site.yml first" % (name, site))
        # the source's sets go beside this bench's own, never among them: its retention and its incremental backups
        # must not build on them, and they are removed afterwards
        store = Store(self.config, REFRESH_STORE % from_bench)
        try:
            with self.context.lock(name):
                shutil.rmtree(store.root, ignore_errors=True)
                set_id = self.restore.fetch(from_bench, wanted, source_host, store=store)
                chain = store.chain(set_id)
                for n in chain:
                    store.verify(n)
                manifest = read_json(os.path.join(store.path(set_id), MANIFEST))
                if from_site not in manifest["sites"]:
                    raise BackupError("set %s of bench %s has no site %s (it has %s)" % (
                        set_id, from_bench, from_site, ", ".join(sorted(manifest["sites"]))))
            safety_set = self.restore.start_and_save(bench, safety, "refresh")
            with self.context.lock(name):
                try:
                    self.restore.site(bench, store, chain, manifest, from_site, site, scrub=self.scrub)
                    bench.wait_ping(site)
                except BackupError as err:
                    raise BackupError("bench %s: refresh of %s from set %s failed (%s); %s" % (
                        name, site, set_id, err, self.restore.state_before(safety_set))) from None
        finally:
            shutil.rmtree(store.root, ignore_errors=True)
        log("bench %s: %s refreshed from %s (set %s of bench %s, host %s) and scrubbed" % (
            name, site, from_site, set_id, from_bench, source_host))
        return {"site": site, "from_site": from_site, "set": set_id, "source_host": source_host}

    def scrub(self, bench, site):
        db_name = bench.site_config(site)["db_name"]
        rows = bench.db_query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s"
                              % sql_string(db_name), "tables of %s" % site, admin=True)
        present = {row[0] for row in rows}
        missing = [t for t in SCRUB_REQUIRED if t not in present]
        if missing:
            raise BackupError("the restored %s has no %s table: it is not a Frappe site's database, nothing was "
                              "scrubbed and it stays in maintenance mode" % (site, " and no ".join(missing)))
        statements = [sql for table, sql in SCRUB if table in present]
        bench.db_query("USE %s; %s;" % (sql_ident(db_name), "; ".join(statements)), "scrubbing %s" % site,
                       admin=True)
        bench.bench("muting the outgoing mail of %s" % site, "set-config", "-p", "mute_emails", "1", site=site)
        password = read_secret(os.path.join(bench.project_dir, "secrets", "admin_password." + site),
                               "the Administrator password of %s" % site)
        bench.bench("setting the Administrator password of %s" % site, "set-admin-password", "--logout-all-sessions",
                    site=site, stdin=password + "\n")
        log("bench %s: %s scrubbed (%d statements on %s)" % (bench.name, site, len(statements), ", ".join(
            sorted({table for table, _sql in SCRUB if table in present}))))


class Drill:
    """Restore a set into a scratch site, check that it answers, logs in and holds the records counted at backup
    time, drop it, and record the outcome as metrics."""

    def __init__(self, context):
        self.context = context
        self.config = context.config
        self.restore = Restore(context)

    def run(self, name, site=None, wanted="latest", source="local"):
        """Restore a set into a scratch site, check it answers, logs in and has the source's records, drop it."""
        bench = self.context.bench(name)
        if isinstance(bench, SwarmBench):
            raise BackupError("bench %s runs on Swarm: the drill restores into a scratch site of a compose project, "
                              "which a bench on Swarm has not; restore a set into it with the restore command "
                              "(docs/swarm.md)" % name)
        store = Store(self.config, name)
        metrics = Metrics(self.config, name)
        started = time.time()
        scratch = self.config.get("drill_site_template", "restore-drill.%s.invalid") % name
        error, result, set_id = None, {}, None
        site = site or (sorted(bench.sites)[0] if bench.sites else None)
        with self.context.lock(name):
            try:
                set_id = self.restore.resolve(name, wanted, source)
                chain = store.chain(set_id)
                manifest = None
                for n in chain:
                    manifest = store.verify(n)
                site = site or sorted(manifest["sites"])[0]
                if site not in manifest["sites"]:
                    raise BackupError("set %s has no site %s" % (set_id, site))
                result = self._drill(bench, store, chain, manifest, site, scratch)
            except BackupError as err:
                error = str(err)
            metrics.state.setdefault("drill", {})[site or "all"] = {
                "success": 0 if error else 1, "ended": int(time.time()), "duration": round(time.time() - started, 3)}
            metrics.save()
        if error:
            raise BackupError("bench %s: restore drill failed: %s" % (name, error))
        log("bench %s: restore drill of %s from set %s passed in %.1f s (%s)" % (
            name, site, set_id, time.time() - started,
            ", ".join("%s=%d" % kv for kv in sorted(result["counts"].items()))))
        return result

    def _drill(self, bench, store, chain, manifest, site, scratch):
        admin_pw = bench.admin_password()
        drill_pw = hashlib.sha256(os.urandom(32)).hexdigest()[:24]
        db_name = "%s%s" % (bench.spec["db_prefix"], hashlib.sha1(scratch.encode()).hexdigest()[:16])
        argv_new = ["new-site", scratch, "--db-name", db_name, "--db-root-username", bench.spec["db_admin_user"],
                    "--mariadb-user-host-login-scope", bench.spec["db_scope"]]
        self._drop_scratch(bench, scratch, db_name)
        try:
            # new-site prompts for the site-admin password, then for the new Administrator password
            bench.bench("creating the scratch site", *argv_new, stdin=admin_pw + "\n" + drill_pw + "\n")
            self.restore.site(bench, store, chain, manifest, site, scratch)
            bench.bench("setting the scratch site's password", "set-admin-password", "--logout-all-sessions",
                        site=scratch, stdin=drill_pw + "\n" + drill_pw + "\n")
            bench.wait_ping(scratch, 60)
            status, body, cookies = bench.http(scratch, "/api/method/login",
                                               data={"usr": "Administrator", "pwd": drill_pw})
            if status != 200 or "Logged In" not in body:
                raise BackupError("login to the restored site failed: HTTP %s %s" % (status, tail(body, 3)))
            counts = bench.counts(scratch, db_name)
            expected = manifest["sites"][site].get("counts", {})
            for table, (low, high) in sorted(expected.items()):
                if not low <= counts.get(table, -1) <= high:
                    raise BackupError("%s has %s rows in the restored site, %s at backup time" % (
                        table, counts.get(table), low if low == high else "%d to %d" % (low, high)))
            return {"site": site, "set": chain[-1], "counts": counts}
        finally:
            self._drop_scratch(bench, scratch, db_name)

    @staticmethod
    def _drop_scratch(bench, scratch, db_name):
        """Remove the scratch site and its database and user, also what an interrupted drill left of them.

        Not ``bench drop-site``: it keeps a copy of the site (its files: the restored data) under archived/, and it
        fails on a site whose database it cannot log in to any more.
        """
        bench.backend_sh("removing the scratch site's directory", 'rm -rf "sites/$1"', scratch)
        bench.db_query("DROP DATABASE IF EXISTS %s; DROP USER IF EXISTS %s@%s" % (
            sql_ident(db_name), sql_string(db_name), sql_string(bench.spec["db_scope"])),
            "removing the scratch site's database", admin=True)


class Binlog:
    """The database's binary logs of one bench, copied off the server as each one closes, then offsite with restic.

    Every run closes the current file (``FLUSH BINARY LOGS``), so a run ships everything written before it: the
    recovery point is the run interval. Files go to ``BACKUP_DIR/BENCH/binlog/LINEAGE/`` (0600): a lineage is one
    server's numbering, and a new one starts when the server's numbering went back (a physical restore, a new
    server), so a file is never confused with an older one of the same name. Local copies are kept back to the
    oldest complete set; offsite, the newest snapshot (tag ``erpstack-binlog``) holds every kept file. Runs take a
    lock of their own: a long backup run does not hold the shipping back.
    """

    DATADIR = "/var/lib/mysql"
    INDEX = "index.json"

    def __init__(self, context):
        self.context = context
        self.config = context.config
        self.restic = context.restic

    def state_path(self, name):
        return os.path.join(self.config["state_dir"], "%s-binlog.json" % name)

    @contextlib.contextmanager
    def lock(self, name):
        os.makedirs(self.config["state_dir"], exist_ok=True)
        with open(os.path.join(self.config["state_dir"], "%s-binlog.lock" % name), "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise BackupError("another binary-log run of bench %s is running" % name) from None
            yield

    @staticmethod
    def number(filename):
        return int(filename.rsplit(".", 1)[1])

    def ship(self, name):
        bench = self.context.bench(name)
        if not bench.spec.get("binlog"):
            raise BackupError("bench %s does not archive its binary logs (backup_binlog_enabled, Compose benches)"
                              % name)
        state = read_json(self.state_path(name), {}) or {}
        started = time.time()
        with self.lock(name):
            try:
                shipped = self._ship(bench, state)
                state["run"] = {"success": 1, "ended": int(time.time()), "duration": round(time.time() - started, 3)}
                state["last_success"] = int(time.time())
                log("bench %s: %d binary log(s) shipped (%d bytes)" % (name, len(shipped), sum(
                    state["files"][f]["bytes"] for f in shipped)))
                return shipped
            except BackupError:
                state["run"] = {"success": 0, "ended": int(time.time()), "duration": round(time.time() - started, 3)}
                raise
            finally:
                os.makedirs(self.config["state_dir"], exist_ok=True)
                write_json_atomic(self.state_path(name), state, 0o644)
                self.metrics(name, state)

    def _ship(self, bench, state):
        # the server's clock and GTID position just before the flush: every change up to them is in a closed file
        flushed = bench.db_query("SELECT UNIX_TIMESTAMP(), @@gtid_binlog_pos; FLUSH BINARY LOGS",
                                 "closing the current binary log")
        listed = [row[0] for row in bench.db_query("SHOW BINARY LOGS", "listing the binary logs") if row]
        if not listed:
            raise BackupError("the server keeps no binary log: log_bin is off (the erpnext role sets it)")
        files = state.setdefault("files", {})
        lineage = state.get("lineage")
        shipped_here = [f for f, meta in files.items() if meta["lineage"] == lineage]
        if lineage is None or (shipped_here and max(map(self.number, listed)) < max(map(self.number, shipped_here))):
            # a first run, or a server whose numbering went back: a new lineage
            lineage = set_name(utcnow())
            state["lineage"] = lineage
            log("bench %s: binary-log lineage %s starts at %s" % (bench.name, lineage, listed[0]))
        directory = os.path.join(self.config["backup_dir"], bench.name, "binlog", lineage)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        new = []
        # the last file is the one the server writes now: every other one is closed
        for filename in listed[:-1]:
            key = "%s/%s" % (lineage, filename)
            if key in files:
                continue
            path = os.path.join(directory, filename)
            partial = os.path.join(directory, "." + filename + ".partial")
            with open(partial, "wb") as out:
                run(bench.compose("exec", "-T", "db", "cat", "%s/%s" % (self.DATADIR, filename)),
                    "copying the binary log %s" % filename, stdout=out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(partial, 0o600)
            os.replace(partial, path)
            files[key] = {"lineage": lineage, "bytes": os.path.getsize(path), "sha256": sha256_file(path),
                          "shipped": int(time.time())}
            new.append(key)
        if flushed and flushed[0]:
            state["flushed"] = {"lineage": lineage, "time": int(flushed[0][0]),
                                "gtid": flushed[0][1] if len(flushed[0]) > 1 else ""}
        self._prune(bench, state)
        # what a restore on another host needs to know of the files: offsite with them
        write_json_atomic(os.path.join(self.config["backup_dir"], bench.name, "binlog", self.INDEX),
                          {"format": FORMAT_VERSION, "bench": bench.name, "host": self.config.get("host", ""),
                           "lineage": lineage, "flushed": state.get("flushed"), "files": state["files"]}, 0o600)
        if self.restic.enabled and (new or state.get("offsite", {}).get("success") != 1):
            off = state.setdefault("offsite", {})
            try:
                self.restic.ensure_repository()
                out = self.restic.run("backup of the binary logs", "backup", "--json", "--host", self.config["host"],
                                      "--tag", "erpstack-binlog", "--tag", "bench=" + bench.name,
                                      os.path.join(bench.name, "binlog"), cwd=self.config["backup_dir"])
                added = 0
                for line in out.splitlines():
                    with contextlib.suppress(ValueError):
                        msg = json.loads(line)
                        if msg.get("message_type") == "summary":
                            added = int(msg.get("data_added", 0))
                off.update({"success": 1, "last_success": int(time.time()), "data_added": added})
                off["bytes_total"] = int(off.get("bytes_total", 0)) + added
                if time.time() - off.get("forgotten", 0) >= 86400:
                    # the newest snapshot holds every kept file: older ones only hold pruned files
                    self.restic.run("forget of the binary logs", "forget", "--tag",
                                    "erpstack-binlog,bench=" + bench.name, "--host", self.config["host"],
                                    "--keep-last", "1", "--keep-within", "1d", "--prune")
                    off["forgotten"] = int(time.time())
            except BackupError:
                off["success"] = 0
                raise
        return new

    def _prune(self, bench, state):
        """Local copies older than the oldest complete set are no use to any restore."""
        sets = Store(self.config, bench.name).sets()
        if not sets:
            return
        oldest = set_time(next(iter(sets))).timestamp()
        for key, meta in sorted(state["files"].items()):
            if meta["shipped"] < oldest - 3600:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(self.config["backup_dir"], bench.name, "binlog", key))
                del state["files"][key]

    def metrics(self, name, state):
        lines = []
        labels = '{bench="%s"}' % name

        def metric(metric_name, help_text, value):
            lines.extend(["# HELP %s %s" % (metric_name, help_text), "# TYPE %s gauge" % metric_name,
                          "%s%s %s" % (metric_name, labels, value)])
        run_state = state.get("run") or {}
        if run_state:
            metric("erpstack_binlog_last_run_success", "1 if the last binary-log run of the bench succeeded, else 0.",
                   run_state["success"])
            metric("erpstack_binlog_last_run_timestamp_seconds", "When the last binary-log run of the bench ended.",
                   run_state["ended"])
        if state.get("last_success"):
            metric("erpstack_binlog_last_success_timestamp_seconds",
                   "When the bench's binary logs were last shipped: every change before it is off the server.",
                   state["last_success"])
        files = state.get("files") or {}
        metric("erpstack_binlog_files", "Binary logs kept on the host.", len(files))
        metric("erpstack_binlog_bytes", "Bytes of the binary logs kept on the host.",
               sum(meta["bytes"] for meta in files.values()))
        off = state.get("offsite") or {}
        if off:
            metric("erpstack_binlog_offsite_last_run_success", "1 if the last offsite copy of the binary logs "
                   "succeeded, else 0.", off.get("success", 0))
            if off.get("last_success"):
                metric("erpstack_binlog_offsite_last_success_timestamp_seconds",
                       "When the binary logs were last copied offsite.", off["last_success"])
                metric("erpstack_binlog_offsite_data_added_bytes_total",
                       "Bytes the offsite copies of the binary logs added to the repository.",
                       off.get("bytes_total", 0))
        directory = self.config["textfile_dir"]
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".erpstack_binlog_")
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, os.path.join(directory, "erpstack_binlog_%s.prom" % name))


class Tool:
    """The command line's view: one context, and backup, restore and drill over it."""

    def __init__(self, config):
        self.config = config
        self.context = Context(config)
        self.restic = self.context.restic
        self.bench = self.context.bench
        self.lock = self.context.lock
        backups, restores = Backup(self.context), Restore(self.context)
        self.backup, self.prune = backups.run, backups.prune
        self.fetch, self.restore = restores.fetch, restores.run
        self.drill = Drill(self.context).run
        self.refresh = Refresh(self.context).run
        self.ship_binlogs = Binlog(self.context).ship


# --- command line ---------------------------------------------------------------------------------------------


def load_config(path):
    try:
        config = read_json(path)
    except ValueError as err:
        raise BackupError("%s is not valid JSON: %s" % (path, err)) from None
    if config is None:
        raise BackupError("no configuration at %s: run the erpstack.erpnext.backup role" % path)
    check_config(config, path)
    return config


def check_config(config, path):
    """Refuse a configuration the commands could only half use."""
    problems = []
    for key in ("host", "backup_dir", "state_dir", "textfile_dir", "benches"):
        if key not in config:
            problems.append("lacks %s" % key)
    for name, spec in sorted((config.get("benches") or {}).items()):
        for key in ("project_dir", "sites", "method", "images", "db_scope", "db_prefix", "db_admin_user",
                    "db_backup_user", "db_accounts"):
            if key not in spec:
                problems.append("bench %s lacks %s" % (name, key))
        if spec.get("method") not in ("logical", "physical"):
            problems.append("bench %s: method must be logical or physical" % name)
        if spec.get("engine", "compose") == "swarm":
            for key in ("stack", "db_service", "sites_dir", "admin_container"):
                if key not in spec:
                    problems.append("bench %s (on Swarm) lacks %s" % (name, key))
            if spec.get("method") != "logical":
                problems.append("bench %s: on Swarm the method must be logical" % name)
    restic = config.get("restic") or {}
    if restic.get("enabled"):
        for key in ("password_file", "repository_file"):
            if not restic.get(key):
                problems.append("restic lacks %s" % key)
    for rule in ("daily", "weekly", "monthly"):
        value = (config.get("retention") or {}).get(rule, 0)
        if not str(value).isdigit():
            problems.append("retention %s must be a whole number" % rule)
    if problems:
        raise BackupError("%s: %s" % (path, "; ".join(problems)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="erpstack-backup", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--config", default=CONFIG_PATH)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="check the configuration file")
    p = sub.add_parser("run", help="back up a bench, apply retention, copy offsite, write metrics")
    p.add_argument("bench")
    p.add_argument("--no-offsite", action="store_true")
    p = sub.add_parser("binlog", help="ship the bench's closed binary logs to the host and offsite, write metrics")
    p.add_argument("bench")
    p = sub.add_parser("list", help="the bench's complete sets (JSON)")
    p.add_argument("bench")
    p.add_argument("--offsite", action="store_true", help="list the restic repository's sets instead")
    p = sub.add_parser("prune", help="apply the retention policy to the bench's sets on the host")
    p.add_argument("bench")
    p.add_argument("--dry-run", action="store_true")
    p = sub.add_parser("fetch", help="bring a set from the restic repository to the host")
    p.add_argument("bench")
    p.add_argument("--set", default="latest")
    p.add_argument("--source-host")
    p = sub.add_parser("restore", help="restore sites of a bench from a set")
    p.add_argument("bench")
    p.add_argument("--site", action="append", required=True, help="a site, or all (repeatable)")
    p.add_argument("--set", default="latest")
    p.add_argument("--source", choices=["auto", "local", "offsite"], default="auto")
    p.add_argument("--source-host")
    p.add_argument("--no-safety-backup", action="store_true")
    p.add_argument("--until", help="a point in time: 'YYYY-MM-DD HH:MM:SS' (UTC) or a GTID; the newest physical set "
                                   "before it, then its binary logs up to it")
    p = sub.add_parser("drill", help="restore a set into a scratch site, check it, drop it, record the result")
    p.add_argument("bench")
    p.add_argument("--site")
    p.add_argument("--set", default="latest")
    p.add_argument("--source", choices=["local", "offsite"], default="local")
    p = sub.add_parser("refresh", help="restore another bench's site from the restic repository into a site here, "
                                       "scrubbed (a staging refresh)")
    p.add_argument("bench")
    p.add_argument("--site", required=True, help="the site here to replace")
    p.add_argument("--from-site", required=True, help="the source's site")
    p.add_argument("--source-host", required=True, help="the host whose sets to use")
    p.add_argument("--from-bench", help="the source's bench (default: the same name)")
    p.add_argument("--set", default="latest")
    p.add_argument("--no-safety-backup", action="store_true")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        tool = Tool(config)
        if getattr(args, "source_host", None):
            config["source_host"] = args.source_host
        if args.command == "check":
            print("%s: %d benches" % (args.config, len(config["benches"])))
        elif args.command == "run":
            tool.backup(args.bench, offsite=not args.no_offsite)
        elif args.command == "binlog":
            tool.ship_binlogs(args.bench)
        elif args.command == "list":
            tool.bench(args.bench)
            if args.offsite:
                sets = [{"set": s["set"], "id": s["short_id"], "host": s.get("hostname"), "time": s.get("time"),
                         "holds": sorted(os.path.basename(p.rstrip("/")) for p in s.get("paths", []))}
                        for s in tool.restic.snapshots(args.bench)]
            else:
                sets = [{"set": n, "method": m.get("method"), "kind": m.get("kind"), "base": m.get("base"),
                         "reason": m.get("reason"), "bytes": m.get("bytes"), "sites": sorted(m.get("sites", {}))}
                        for n, m in Store(config, args.bench).sets().items()]
            print(json.dumps(sets, indent=2))
        elif args.command == "prune":
            tool.bench(args.bench)
            with tool.lock(args.bench):
                removed = tool.prune(args.bench, dry_run=args.dry_run)
            print(json.dumps({"removed": removed, "dry_run": args.dry_run}))
        elif args.command == "fetch":
            with tool.lock(args.bench):
                print(tool.fetch(args.bench, args.set, args.source_host))
        elif args.command == "restore":
            tool.restore(args.bench, args.site, args.set, args.source, safety=not args.no_safety_backup,
                         until=args.until)
        elif args.command == "drill":
            print(json.dumps(tool.drill(args.bench, args.site, args.set, args.source)))
        elif args.command == "refresh":
            print(json.dumps(tool.refresh(args.bench, args.site, args.from_site, args.source_host, args.from_bench,
                                          args.set, safety=not args.no_safety_backup)))
    except BackupError as err:
        log("FAILED: %s" % err)
        return 1
    except OSError as err:
        log("FAILED: %s" % os_error(err))
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
