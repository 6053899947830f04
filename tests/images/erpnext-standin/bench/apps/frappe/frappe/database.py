"""MariaDB access: site and root connections, the site schema, dumps and imports.

Passwords reach the mariadb/mariadb-dump clients through a private option file, never through argv.
"""

import contextlib
import datetime
import json
import os
import subprocess
import tempfile

import pymysql

from frappe.conf import BenchError

TABLE_OPTIONS = "ENGINE=InnoDB ROW_FORMAT=DYNAMIC CHARACTER SET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
STANDARD_COLUMNS = (
    "`name` varchar(140) NOT NULL, `creation` datetime(6) DEFAULT NULL, `modified` datetime(6) DEFAULT NULL, "
    "`modified_by` varchar(140) DEFAULT NULL, `owner` varchar(140) DEFAULT NULL, "
    "`docstatus` int(1) NOT NULL DEFAULT 0, `idx` int(8) NOT NULL DEFAULT 0"
)
CHILD_COLUMNS = (
    "`parent` varchar(140) DEFAULT NULL, `parentfield` varchar(140) DEFAULT NULL, "
    "`parenttype` varchar(140) DEFAULT NULL"
)

# The tables the stand-in uses, named and shaped like Frappe's (a subset of their columns).
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS `tabDefaultValue` ({STANDARD_COLUMNS}, {CHILD_COLUMNS}, "
    "`defkey` varchar(140) DEFAULT NULL, `defvalue` longtext, PRIMARY KEY (`name`), KEY `parent` (`parent`), "
    f"KEY `defaultvalue_parent_defkey_index` (`parent`, `defkey`)) {TABLE_OPTIONS}",
    "CREATE TABLE IF NOT EXISTS `tabSingles` (`doctype` varchar(255) DEFAULT NULL, `field` varchar(255) DEFAULT NULL, "
    f"`value` longtext, KEY `singles_doctype_field_index` (`doctype`, `field`)) {TABLE_OPTIONS}",
    "CREATE TABLE IF NOT EXISTS `__Auth` (`doctype` varchar(140) NOT NULL, `name` varchar(255) NOT NULL, "
    "`fieldname` varchar(140) NOT NULL, `password` text NOT NULL, `encrypted` int(1) NOT NULL DEFAULT 0, "
    f"PRIMARY KEY (`doctype`, `name`, `fieldname`)) {TABLE_OPTIONS}",
    "CREATE TABLE IF NOT EXISTS `tabSessions` (`user` varchar(255) DEFAULT NULL, `sid` varchar(255) DEFAULT NULL, "
    "`sessiondata` longtext, `ipaddress` varchar(16) DEFAULT NULL, `lastupdate` datetime(6) DEFAULT NULL, "
    "`device` varchar(255) DEFAULT 'desktop', `status` varchar(20) DEFAULT NULL, KEY `sid` (`sid`)) "
    f"{TABLE_OPTIONS}",
    f"CREATE TABLE IF NOT EXISTS `tabToDo` ({STANDARD_COLUMNS}, `status` varchar(140) DEFAULT 'Open', "
    "`priority` varchar(140) DEFAULT 'Medium', `date` date DEFAULT NULL, `allocated_to` varchar(140) DEFAULT NULL, "
    "`description` longtext, `reference_type` varchar(140) DEFAULT NULL, `reference_name` varchar(140) DEFAULT NULL, "
    "`role` varchar(140) DEFAULT NULL, `assigned_by` varchar(140) DEFAULT NULL, PRIMARY KEY (`name`), "
    f"KEY `modified` (`modified`)) {TABLE_OPTIONS}",
    f"CREATE TABLE IF NOT EXISTS `tabInstalled Application` ({STANDARD_COLUMNS}, {CHILD_COLUMNS}, "
    "`app_name` varchar(140) DEFAULT NULL, `app_version` varchar(140) DEFAULT NULL, "
    f"`git_branch` varchar(140) DEFAULT NULL, PRIMARY KEY (`name`), KEY `parent` (`parent`)) {TABLE_OPTIONS}",
    f"CREATE TABLE IF NOT EXISTS `tabPatch Log` ({STANDARD_COLUMNS}, `patch` longtext, "
    f"`skipped` int(1) NOT NULL DEFAULT 0, `traceback` longtext, PRIMARY KEY (`name`)) {TABLE_OPTIONS}",
    # User: named by its e-mail address (Administrator and Guest excepted); api_key unique as in Frappe's doctype
    f"CREATE TABLE IF NOT EXISTS `tabUser` ({STANDARD_COLUMNS}, `enabled` int(1) NOT NULL DEFAULT 1, "
    "`email` varchar(140) DEFAULT NULL, `first_name` varchar(140) DEFAULT NULL, "
    "`user_type` varchar(140) DEFAULT 'System User', `api_key` varchar(140) DEFAULT NULL, PRIMARY KEY (`name`), "
    f"UNIQUE KEY `api_key` (`api_key`)) {TABLE_OPTIONS}",
    f"CREATE TABLE IF NOT EXISTS `tabEmail Account` ({STANDARD_COLUMNS}, `email_id` varchar(140) DEFAULT NULL, "
    "`email_account_name` varchar(140) DEFAULT NULL, `smtp_server` varchar(140) DEFAULT NULL, "
    "`enable_incoming` int(1) NOT NULL DEFAULT 0, `enable_outgoing` int(1) NOT NULL DEFAULT 0, "
    "`default_outgoing` int(1) NOT NULL DEFAULT 0, `default_incoming` int(1) NOT NULL DEFAULT 0, "
    f"PRIMARY KEY (`name`)) {TABLE_OPTIONS}",
    f"CREATE TABLE IF NOT EXISTS `tabEmail Queue` ({STANDARD_COLUMNS}, `sender` varchar(140) DEFAULT NULL, "
    "`status` varchar(140) DEFAULT 'Not Sent', `message` longtext, `email_account` varchar(140) DEFAULT NULL, "
    f"PRIMARY KEY (`name`), KEY `status` (`status`)) {TABLE_OPTIONS}",
    # install_basic_docs: the two users every site has
    "INSERT IGNORE INTO `tabUser` (name, creation, modified, modified_by, owner, enabled, email, first_name, "
    "user_type) VALUES ('Administrator', NOW(6), NOW(6), 'Administrator', 'Administrator', 1, 'admin@example.com', "
    "'Administrator', 'System User'), ('Guest', NOW(6), NOW(6), 'Administrator', 'Administrator', 1, "
    "'guest@example.com', 'Guest', 'Website User')",
)


def now():
    return datetime.datetime.now()


def connect(host, port, user, password, database=None):
    return pymysql.connect(
        host=host,
        port=int(port),
        user=user,
        password=password,
        database=database,
        charset="utf8mb4",
        connect_timeout=10,
        autocommit=False,
    )


def connect_site(params):
    return connect(params["host"], params["port"], params["user"], params["password"], params["database"])


def current_host(conn):
    """Host part of the account the server sees (DbManager.get_current_host)."""
    with conn.cursor() as cur:
        cur.execute("SELECT USER()")
        return cur.fetchone()[0].split("@", 1)[1]


def quote_account(user, host):
    escape = pymysql.converters.escape_string
    return f"'{escape(user)}'@'{escape(host)}'"


def quote_ident(name):
    return "`" + name.replace("`", "``") + "`"


def create_schema(conn):
    with conn.cursor() as cur:
        for statement in SCHEMA:
            cur.execute(statement)
    conn.commit()


def table_exists(conn, table):
    with conn.cursor() as cur:
        cur.execute("SHOW TABLES LIKE %s", (table,))
        return cur.fetchone() is not None


# --- installed apps, System Settings -----------------------------------------------------------------


def get_installed_apps(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT defvalue FROM `tabDefaultValue` WHERE parent = '__global' AND defkey = 'installed_apps'"
        )
        row = cur.fetchone()
    return json.loads(row[0]) if row and row[0] else []


def set_installed_apps(conn, apps):
    ts = now()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM `tabDefaultValue` WHERE parent = '__global' AND defkey = 'installed_apps'")
        cur.execute(
            "INSERT INTO `tabDefaultValue` (name, creation, modified, modified_by, owner, parent, parentfield, "
            "parenttype, defkey, defvalue) VALUES (%s, %s, %s, 'Administrator', 'Administrator', '__global', "
            "'system_defaults', '__default', 'installed_apps', %s)",
            (os.urandom(5).hex(), ts, ts, json.dumps(apps)),
        )


def get_installed_application_rows(conn):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT app_name, app_version, git_branch FROM `tabInstalled Application` "
            "WHERE parent = 'Installed Applications' ORDER BY idx"
        )
        return list(cur.fetchall())


def update_installed_application_rows(conn, versions):
    """Installed Applications.update_versions(): one row per installed app with the bench's version."""
    ts = now()
    apps = get_installed_apps(conn)
    with conn.cursor() as cur:
        cur.execute("DELETE FROM `tabInstalled Application` WHERE parent = 'Installed Applications'")
        for idx, app in enumerate(apps, start=1):
            version, branch = versions.get(app, ("", ""))
            cur.execute(
                "INSERT INTO `tabInstalled Application` (name, creation, modified, modified_by, owner, idx, parent, "
                "parentfield, parenttype, app_name, app_version, git_branch) VALUES (%s, %s, %s, 'Administrator', "
                "'Administrator', %s, 'Installed Applications', 'installed_applications', 'Installed Applications', "
                "%s, %s, %s)",
                (os.urandom(5).hex(), ts, ts, idx, app, version, branch),
            )


def get_single_value(conn, doctype, field):
    with conn.cursor() as cur:
        cur.execute("SELECT value FROM `tabSingles` WHERE doctype = %s AND field = %s", (doctype, field))
        row = cur.fetchone()
    return row[0] if row else None


def set_single_value(conn, doctype, field, value):
    with conn.cursor() as cur:
        cur.execute("DELETE FROM `tabSingles` WHERE doctype = %s AND field = %s", (doctype, field))
        cur.execute(
            "INSERT INTO `tabSingles` (doctype, field, value) VALUES (%s, %s, %s)", (doctype, field, value)
        )


def scheduler_enabled(conn):
    try:
        return int(get_single_value(conn, "System Settings", "enable_scheduler") or 0) == 1
    except (TypeError, ValueError):
        return False


def set_scheduler(conn, enabled):
    set_single_value(conn, "System Settings", "enable_scheduler", "1" if enabled else "0")


# --- mariadb command line clients ------------------------------------------------------------------------


def _option_value(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextlib.contextmanager
def client_options(params):
    """A private [client] option file with the connection settings, removed afterwards."""
    fd, path = tempfile.mkstemp(prefix="standin-my-", suffix=".cnf")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("[client]\n")
            f.write(f"host={_option_value(params['host'])}\n")
            f.write(f"port={int(params['port'])}\n")
            f.write(f"user={_option_value(params['user'])}\n")
            f.write(f"password={_option_value(params['password'])}\n")
        yield path
    finally:
        os.unlink(path)


def _run_pipeline(commands, stdout=None):
    """Run commands connected by pipes; fail (like `set -o pipefail`) if any of them fails."""
    procs = []
    errfiles = []
    errors = []
    previous = None
    try:
        for index, argv in enumerate(commands):
            last = index == len(commands) - 1
            err = tempfile.TemporaryFile()  # noqa: SIM115 -- closed in the finally block below
            errfiles.append(err)
            proc = subprocess.Popen(
                argv, stdin=previous, stdout=stdout if last else subprocess.PIPE, stderr=err
            )
            if previous is not None:
                previous.close()  # the next process holds its own copy of the pipe
            previous = None if last else proc.stdout
            procs.append(proc)
        for argv, proc, err in zip(commands, procs, errfiles, strict=True):
            proc.wait()
            if proc.returncode != 0:
                err.seek(0)
                message = err.read().decode(errors="replace").strip()
                errors.append(f"{argv[0]} exited with {proc.returncode}: {message}")
    finally:
        for err in errfiles:
            err.close()
    if errors:
        raise BenchError("\n".join(errors))


def dump_database(params, path):
    """Append a gzip member with `mariadb-dump` of the site's database to path."""
    with client_options(params) as options, open(path, "ab") as out:
        _run_pipeline(
            [
                [
                    "mariadb-dump",
                    f"--defaults-extra-file={options}",
                    "--single-transaction",
                    "--quick",
                    "--lock-tables=false",
                    params["database"],
                ],
                ["gzip", "-c"],
            ],
            stdout=out,
        )


SANDBOX_LINE = r"/\/\*M\{0,1\}!999999\\- enable the sandbox mode \*\//d"
DEFINER_LINE = r"/\/\*![0-9]* DEFINER=[^ ]* SQL SECURITY DEFINER \*\//d"


def import_sql(params, source):
    """Load a .sql or .sql.gz file into the site's database with the mariadb client."""
    reader = ["gzip", "-cd", source] if source.endswith(".gz") else ["cat", source]
    with client_options(params) as options:
        _run_pipeline(
            [
                reader,
                ["sed", "-e", SANDBOX_LINE, "-e", DEFINER_LINE],
                ["mariadb", f"--defaults-extra-file={options}", params["database"]],
            ],
        )
