"""Creating, restoring and dropping sites against the real MariaDB, following frappe.installer and
frappe.database.mariadb.setup_db (v15/v16): order of operations, prompts and messages."""

import getpass
import gzip
import os
import re
import shutil
import subprocess
import sys

import pymysql

from frappe import conf as config
from frappe import database as db
from frappe.auth import set_user_password
from frappe.conf import BenchError


class AppInstallError(BenchError):
    """An app that cannot be installed; `detail` is the exception text without its type."""

    def __init__(self, kind, detail):
        super().__init__(f"{kind}: {detail}")
        self.detail = detail


def out(*args, **kwargs):
    print(*args, **kwargs, flush=True)


def prompt_secret(prompt):
    """getpass: reads the terminal if there is one, otherwise one line of standard input (prompt on stderr)."""
    sys.stdout.flush()
    try:
        return getpass.getpass(prompt)
    except EOFError:
        raise BenchError(f"EOFError: no input for the prompt {prompt.strip()!r}") from None


def confirm(question):
    """click.confirm(question, abort=True) with default No."""
    while True:
        sys.stdout.write(f"{question} [y/N]: ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise BenchError("Aborted!", stream="stdout")
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            return
        if answer in ("", "n", "no"):
            raise BenchError("Aborted!", stream="stdout")
        out("Error: invalid input")


def db_error(err):
    """The last line of the traceback Frappe would print for a database client error."""
    return BenchError(f"{type(err).__module__}.{type(err).__name__}: {err}")


# --- root connection ---------------------------------------------------------------------------------------


def get_root_connection(conf, root_login=None, root_password=None):
    """frappe.database.mariadb.setup_db.get_root_connection: arguments, then config, then prompts."""
    login = (
        root_login
        or conf.get("mariadb_root_login")
        or conf.get("root_login")
        or (sys.stdin.isatty() and input("Enter mysql super user [root]: "))
        or "root"
    )
    password = (
        root_password
        or conf.get("mariadb_root_password")
        or conf.get("root_password")
        or prompt_secret("MySQL root password: ")
    )
    params = config.db_params(conf)
    try:
        return db.connect(params["host"], params["port"], login, password)
    except pymysql.MySQLError as err:
        raise db_error(err) from None


# --- site directories and config ---------------------------------------------------------------------------


def make_site_dirs(site):
    for parts in (("private", "backups"), ("public", "files"), ("private", "files"), ("logs",), ("locks",)):
        os.makedirs(config.site_path(site, *parts), exist_ok=True)


def make_site_config(site, db_name, db_password=None, db_host=None, db_port=None, db_user=None):
    """Written only when the site has none yet (a --force re-install keeps the existing credentials)."""
    path = config.site_config_path(site)
    if os.path.exists(path):
        return
    site_config = {
        "db_name": db_name,
        "db_password": db_password or config.random_string(16),
        "db_type": "mariadb",
    }
    if db_host:
        site_config["db_host"] = db_host
    if db_port:
        site_config["db_port"] = int(db_port)
    if db_user:
        site_config["db_user"] = db_user
    config.write_json(path, site_config)


def ensure_encryption_key(site):
    """Frappe generates a Fernet key (urlsafe base64 of 32 random bytes) into site_config on first need."""
    import base64

    path = config.site_config_path(site)
    if not config.read_json(path).get("encryption_key"):
        config.update_config(path, "encryption_key", base64.urlsafe_b64encode(os.urandom(32)).decode())


def scheduler_was_enabled(site):
    """_is_scheduler_enabled: the current site's setting, False when there is no working site yet."""
    try:
        conn = db.connect_site(config.db_params(config.get_site_config(site)))
    except Exception:
        return False
    try:
        return db.scheduler_enabled(conn)
    except Exception:
        return False
    finally:
        conn.close()


def use(site):
    if os.path.exists(config.site_path(site)):
        with open(os.path.join(config.sites_path(), "currentsite.txt"), "w") as f:
            f.write(site)
        out(f"Current Site set to {site}")
    else:
        out(f"Site {site} does not exist")


# --- database setup ----------------------------------------------------------------------------------------


def setup_database(conf, force, verbose, host_scope, root_login, root_password):
    """Create (if missing) the site's user, (re)create its database and grant the user all privileges on it."""
    params = config.db_params(conf)
    root = get_root_connection(conf, root_login, root_password)
    try:
        with root.cursor() as cur:
            host = host_scope if host_scope is not None else db.current_host(root)
            account = db.quote_account(params["user"], host)
            # No query parameters: the account may contain "%", which pymysql would take for a placeholder.
            password = pymysql.converters.escape_string(params["password"])
            cur.execute(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '{password}'")
            if verbose:
                out(f"Created or updated user {params['user']}")
            cur.execute("SHOW DATABASES")
            databases = {row[0] for row in cur.fetchall()}
            if not force and params["database"] in databases:
                raise BenchError(
                    f"Database {params['database']} already exists, please drop it manually or pass `--force`.",
                    stream="stdout",
                )
            name = db.quote_ident(params["database"])
            cur.execute(f"DROP DATABASE IF EXISTS {name}")
            cur.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            if verbose:
                out(f"Created database {params['database']}")
            cur.execute(f"GRANT ALL PRIVILEGES ON {name}.* TO {account}")
            cur.execute("FLUSH PRIVILEGES")
            if verbose:
                out(f"Granted privileges to user {params['user']} and database {params['database']}")
        root.commit()
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    finally:
        root.close()


def bootstrap_database(conf, source_sql, verbose):
    params = config.db_params(conf)
    if source_sql:
        if verbose:
            out("Starting database import...")
        db.import_sql(params, source_sql)
        if verbose:
            out(f"Imported from database {source_sql}")
    try:
        conn = db.connect_site(params)
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    try:
        if not source_sql:
            db.create_schema(conn)
        if not db.table_exists(conn, "tabDefaultValue"):
            raise BenchError(
                "Table 'tabDefaultValue' missing in the restored site. This happens when the backup fails to "
                "restore. Please check that the file is valid\nDo go through the above output to check the exact "
                "error message from MariaDB"
            )
        # create_auth_table() & co.: idempotent
        db.create_schema(conn)
    finally:
        conn.close()


# --- apps --------------------------------------------------------------------------------------------------


def bench_versions():
    versions = {}
    for app in config.get_apps_txt():
        if config.app_is_present(app):
            versions[app] = config.app_version(app)
    return versions


def install_app(conn, app, admin_password=None, force=False):
    """frappe.installer.install_app: refuses apps that are not on the bench, skips installed ones."""
    if not config.app_is_present(app):
        raise AppInstallError("ModuleNotFoundError", f"No module named '{app}'")
    if app not in config.get_apps_txt():
        raise AppInstallError("Exception", f"App {app} not in apps.txt")
    installed = db.get_installed_apps(conn)
    if not force and app in installed:
        out(f"App {app} already installed")
        return
    out(f"\nInstalling {app}...")
    if app == "frappe":
        from frappe import __version__, patches

        password = admin_password or prompt_secret("Set Administrator password: ")
        set_user_password(conn, "Administrator", password)
        # sync_for + set_all_patches_as_completed: the current schema, every patch of the release marked done
        patches.sync_fresh(conn, __version__)
    if app not in installed:
        installed.append(app)
    db.set_installed_apps(conn, installed)
    db.update_installed_application_rows(conn, bench_versions())
    conn.commit()


def new_site_core(
    site,
    db_name=None,
    db_root_username=None,
    db_root_password=None,
    admin_password=None,
    verbose=False,
    install_apps=(),
    source_sql=None,
    force=False,
    db_password=None,
    db_host=None,
    db_port=None,
    db_user=None,
    setup_db=True,
    mariadb_user_host_login_scope=None,
):
    """frappe.installer._new_site."""
    if not force and os.path.exists(config.site_path(site)):
        raise BenchError(f"Site {site} already exists, use `--force` to proceed anyway", stream="stdout")

    db_name = db_name or f"_{config.generate_hash(16)}"
    enable_scheduler = scheduler_was_enabled(site)
    make_site_dirs(site)
    make_site_config(site, db_name, db_password, db_host, db_port, db_user)
    conf = config.get_site_config(site)

    if setup_db:
        setup_database(
            conf, force, verbose, mariadb_user_host_login_scope, db_root_username, db_root_password
        )
    bootstrap_database(conf, source_sql, verbose)

    admin_password = conf.get("admin_password") or admin_password
    apps = ["frappe", *(conf.get("install_apps") or []), *install_apps]
    try:
        conn = db.connect_site(config.db_params(conf))
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    try:
        for app in apps:
            install_app(conn, app, admin_password=admin_password)
            if app == "frappe":
                ensure_encryption_key(site)
        db.set_scheduler(conn, enable_scheduler)
        conn.commit()
        status = "enabled" if db.scheduler_enabled(conn) else "disabled"
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    finally:
        conn.close()
    out("*** Scheduler is", status, "***")


# --- restore -----------------------------------------------------------------------------------------------


def resolve_input_file(path, site):
    """A backup path as given, else under the site's backups folder, else relative to the bench."""
    if os.path.exists(path):
        return path
    out(f"File {path} not found. Trying to check in alternative directories.")
    for base in (config.site_path(site, "private", "backups"), config.bench_path()):
        candidate = os.path.join(base, path)
        if os.path.exists(candidate):
            candidate = os.path.realpath(candidate)
            out(f"File {candidate} found.")
            return candidate
    raise BenchError(f"File {path} not found.", stream="stdout")


def read_sql_head(path, lines=5):
    opener = gzip.open if path.endswith(".gz") else open
    head = []
    try:
        with opener(path, "rt", errors="replace") as f:
            for _line in range(lines):
                head.append(f.readline())
    except (OSError, EOFError) as err:
        raise BenchError(f"{type(err).__name__}: {err}") from None
    return "".join(head)


def parse_version(text):
    return tuple(int(part) for part in re.findall(r"\d+", text.split("-", 1)[0])[:3])


def backup_version(path):
    match = re.search(r"Backup generated by Frappe (\S+) on branch", read_sql_head(path))
    return match.group(1) if match else None


def validate_database_sql(path, _raise=True):
    message = None
    if not os.path.getsize(path):
        message = "Database file is empty."
    else:
        opener = gzip.open if path.endswith(".gz") else open
        pattern = re.compile(r"CREATE TABLE.*tabDefaultValue")
        try:
            with opener(path, "rt", errors="replace") as f:
                found = any(pattern.search(line) for line in f)
        except (OSError, EOFError) as err:
            raise BenchError(f"{type(err).__name__}: {err}") from None
        if not found:
            message = "Table `tabDefaultValue` not found in file."
    if message:
        out(message)
        if _raise:
            raise BenchError("frappe.exceptions.InvalidDatabaseFile")


def extract_files(site, tar_path):
    """Copy the archive into the site directory and unpack it there, dropping `./<site>/`."""
    if not os.path.exists(tar_path):
        candidate = os.path.join(config.bench_path(), tar_path)
        if not os.path.exists(candidate):
            raise BenchError(f"Invalid path {tar_path}", stream="stdout")
        tar_path = candidate
    site_dir = config.site_path(site)
    copy = shutil.copy2(os.path.abspath(tar_path), site_dir)
    flags = "zxvf" if tar_path.endswith(".tgz") else "xvf"
    try:
        subprocess.run(
            ["tar", flags, copy, "--strip", "2"], cwd=site_dir, check=True, stdout=subprocess.DEVNULL
        )
    except subprocess.CalledProcessError as err:
        raise BenchError(f"tar exited with {err.returncode} while extracting {tar_path}") from None
    finally:
        os.remove(copy)


def restore(
    site,
    sql_file_path,
    db_root_username=None,
    db_root_password=None,
    admin_password=None,
    install_apps=(),
    force=False,
    with_public_files=None,
    with_private_files=None,
    encryption_key=None,
    verbose=False,
):
    from frappe import __version__

    conf = config.get_site_config(site)
    sql_file_path = resolve_input_file(sql_file_path, site)
    kind = subprocess.run(["file", sql_file_path], capture_output=True, text=True, check=False).stdout
    if "AES" in kind.split(":")[-1] or "encrypted" in kind.split(":")[-1]:
        raise BenchError("Encrypted backups are not emulated by the test stand-in.")

    if "Partial Backup" in read_sql_head(sql_file_path):
        out("Partial Backup file detected. You cannot use a partial file to restore a Frappe site.")
        raise BenchError(
            "Use `bench partial-restore` to restore a partial backup to an existing site.", stream="stdout"
        )

    old = backup_version(sql_file_path)
    if old and parse_version(old) > parse_version(__version__) and not force:
        out(f"Your site will be downgraded from Frappe {old} to {__version__}")
        confirm(
            "This is not recommended and may lead to unexpected behaviour. Do you want to continue anyway?"
        )

    validate_database_sql(sql_file_path, _raise=not force)

    try:
        new_site_core(
            site,
            db_name=conf["db_name"],
            db_root_username=db_root_username,
            db_root_password=db_root_password,
            admin_password=admin_password,
            verbose=verbose,
            install_apps=install_apps,
            source_sql=sql_file_path,
            force=True,
        )
    except BenchError as err:
        raise BenchError(err.message, stream="stdout") from None

    if with_public_files:
        extract_files(site, with_public_files)
    if with_private_files:
        extract_files(site, with_private_files)
    suffix = " with files" if (with_public_files or with_private_files) else ""
    out(f"Site {site} has been restored{suffix}")


# --- drop --------------------------------------------------------------------------------------------------


def drop_site(
    site, db_root_username=None, db_root_password=None, archived_sites_path=None, force=False, no_backup=False
):
    from frappe.backups import new_backup

    conf = config.get_site_config(site)
    params = config.db_params(conf)
    try:
        db.connect_site(params).close()
    except pymysql.MySQLError as err:
        raise db_error(err) from None

    if not no_backup:
        out(f"Taking backup of {site}")
        try:
            new_backup(site, ignore_files=False, verbose=True).print_summary()
        except Exception as err:  # noqa: BLE001 -- any failure of the backup stops the drop, as in Frappe
            if not force:
                reason = err.message if isinstance(err, BenchError) else str(err)
                raise BenchError(
                    "\n".join(
                        [
                            "=" * 80,
                            f"Error: The operation has stopped because backup of {site}'s database failed.",
                            f"Reason: {reason}\n",
                            "Fix the issue and try again.",
                            f"Hint: Use 'bench drop-site {site} --force' to force the removal of {site}",
                        ]
                    ),
                    stream="stdout",
                ) from None

    out("Dropping site database and user")
    root = get_root_connection(conf, db_root_username, db_root_password)
    try:
        with root.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {db.quote_ident(params['database'])}")
            cur.execute(f"DROP USER IF EXISTS {db.quote_account(params['user'], '%')}")
            cur.execute(f"DROP USER IF EXISTS {db.quote_account(params['user'], db.current_host(root))}")
        root.commit()
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    finally:
        root.close()

    archive = os.path.realpath(archived_sites_path or os.path.join(config.bench_path(), "archived", "sites"))
    out(f"Moving site to archive under {archive}")
    os.makedirs(archive, exist_ok=True)
    target = os.path.join(archive, site)
    count = 0
    final = target
    while os.path.exists(final):
        count += 1
        final = f"{target}{count}"
    shutil.move(config.site_path(site), final)
