"""`bench` commands of the stand-in (`bench [--site SITE|all] [--verbose] [--force] COMMAND ...`).

Only the commands of the collection's contract exist; their options, messages and exit codes follow
frappe/commands/{site,utils,scheduler}.py.
"""

import argparse
import ast
import difflib
import json
import os
import re
import sys

import pymysql

import frappe
from frappe import auth
from frappe import conf as config
from frappe import database as db
from frappe.conf import BenchError
from frappe.installer import AppInstallError, db_error, out
from frappe.utils import redis_wrapper

SITE_NOT_SPECIFIED = "Please specify --site sitename"
# options and messages that differ between the releases (frappe/commands/site.py, utils.py of v15 and v16)
MAJOR = int(frappe.__version__.split(".")[0])


class Context:
    def __init__(self, site=None, verbose=False, force=False):
        self.site_arg = site
        self.verbose = verbose
        self.force = force

    @property
    def sites(self):
        """frappe.utils.bench_helper.get_sites: --site, "all", FRAPPE_SITE, then currentsite.txt."""
        if self.site_arg == "all":
            return config.get_sites()
        if self.site_arg:
            return [self.site_arg]
        if os.environ.get("FRAPPE_SITE"):
            return [os.environ["FRAPPE_SITE"]]
        current = config.get_current_site()
        return [current] if current else []

    def require_sites(self):
        sites = self.sites
        if not sites:
            raise BenchError(SITE_NOT_SPECIFIED)
        return sites

    def require_site(self):
        return self.require_sites()[0]


def site_connection(site):
    conf = config.get_site_config(site)
    try:
        return conf, db.connect_site(config.db_params(conf))
    except pymysql.MySQLError as err:
        raise db_error(err) from None


# --- site lifecycle ----------------------------------------------------------------------------------------


def cmd_new_site(ctx, args):
    from frappe import installer

    if args.site in os.listdir(os.path.join(config.bench_path(), "apps")):
        raise BenchError(
            f"Your bench has an app called {args.site}, please choose another name for the site.",
            stream="stdout",
        )
    if not config.is_valid_site_name(args.site):
        raise BenchError(f"Invalid site name {args.site!r}")
    scope = args.mariadb_user_host_login_scope
    if args.no_mariadb_socket:
        out(
            "--no-mariadb-socket is DEPRECATED; use --mariadb-user-host-login-scope='%' (wildcard) or "
            "--mariadb-user-host-login-scope=<myhostscope>, instead. The name of this option was misleading: it "
            "had nothing to do with sockets."
        )
        scope = "%"
    installer.new_site_core(
        args.site,
        db_name=args.db_name,
        db_root_username=args.db_root_username,
        db_root_password=args.db_root_password,
        admin_password=args.admin_password,
        verbose=args.verbose or ctx.verbose,
        install_apps=args.install_app,
        source_sql=args.source_sql,
        force=args.force or ctx.force,
        db_password=args.db_password,
        db_host=args.db_host,
        db_port=args.db_port,
        db_user=getattr(args, "db_user", None),  # v16 only
        setup_db=args.setup_db,
        mariadb_user_host_login_scope=scope,
    )
    if args.set_default:
        installer.use(args.site)


def cmd_restore(ctx, args):
    from frappe import installer

    installer.restore(
        ctx.require_site(),
        args.sql_file_path,
        db_root_username=args.db_root_username,
        db_root_password=args.db_root_password,
        admin_password=args.admin_password,
        install_apps=args.install_app,
        force=args.force or ctx.force,
        with_public_files=args.with_public_files,
        with_private_files=args.with_private_files,
        encryption_key=args.encryption_key,
        verbose=ctx.verbose,
    )


def cmd_drop_site(ctx, args):
    from frappe import installer

    installer.drop_site(
        args.site,
        db_root_username=args.db_root_username,
        db_root_password=args.db_root_password,
        archived_sites_path=args.archived_sites_path,
        force=args.force,
        no_backup=args.no_backup,
    )


def cmd_install_app(ctx, args):
    from frappe import installer

    exit_code = 0
    for site in ctx.require_sites():
        _config, conn = site_connection(site)
        try:
            for app in args.apps:
                try:
                    installer.install_app(conn, app, force=args.force)
                except AppInstallError as err:
                    out(f"An error occurred while installing {app}: {err.detail}")
                    exit_code = 1
                except pymysql.MySQLError as err:
                    out(f"An error occurred while installing {app}: {err}")
                    exit_code = 1
        finally:
            conn.close()
    return exit_code


def cmd_list_apps(ctx, args):
    sites = ctx.require_sites()
    summary = {}
    for site in sites:
        _config, conn = site_connection(site)
        try:
            rows = db.get_installed_application_rows(conn)
            if rows:
                name_len = max(len(row[0] or "") for row in rows)
                ver_len = max(len(row[1] or "") for row in rows)
                lines = [f"{row[0] or '':{name_len}} {row[1] or '':{ver_len}} {row[2] or ''}" for row in rows]
                summary[site] = [row[0] for row in rows]
            else:
                lines = db.get_installed_apps(conn)
                summary[site] = lines
        finally:
            conn.close()
        # click.style(site, fg="green") when several sites are listed; print() keeps the escape codes.
        title = f"\x1b[32m{site}\x1b[0m" if len(sites) > 1 else ""
        text = f"{title}\n" + "\n".join(lines) + "\n"
        if site == sites[-1]:
            text = text.rstrip()
        if len(sites) == 1:
            text = text.lstrip()
        if args.format == "text" and lines and text:
            print(text)
    if args.format == "json":
        print(json.dumps(summary, indent=1, sort_keys=True, separators=(",", ": ")))


def clear_site_cache(conf):
    """Delete the site's keys (`<db_name>|*`) from redis_cache (or the master of the Sentinel service that replaces it,
    as frappe.cache is made by `setup_cache`), authenticating with the configured credentials.

    Stricter than Frappe, whose RedisWrapper silently ignores an unreachable cache or rejected credentials: the stand-in
    reports the error (credentials masked) and the command exits 1."""
    import redis

    target = redis_wrapper.Target(conf, "redis_cache")
    try:
        client = redis_wrapper.setup_cache(conf)
        keys = list(client.scan_iter(match=redis_wrapper.make_key(conf["db_name"], "*"), count=500))
        if keys:
            client.delete(*keys)
    except (redis.exceptions.RedisError, ValueError) as err:
        raise BenchError(redis_wrapper.describe_error(err, target)) from None


def cmd_migrate(ctx, args):
    from frappe import __version__, patches
    from frappe.installer import bench_versions

    for site in ctx.require_sites():
        out(f"Migrating {site}")
        touched = set()
        try:
            conf, conn = site_connection(site)
            try:
                # SiteMigration.required_services_running: a TCP check of the redis_cache URL (frappe.utils.connections
                # check_redis), made even when redis_cache_sentinel_enabled replaces that URL for the cache itself.
                if not redis_wrapper.is_open(conf.get("redis_cache") or "redis://127.0.0.1:13000"):
                    out("Service redis_cache is not running.")
                    raise BenchError(
                        "Please make sure Redis is running and reachable, then try again.", stream="stdout"
                    ) from None
                # SiteMigration.setUp: a touched_tables.json of an earlier run is removed first
                touched_file = config.site_path(site, "touched_tables.json")
                if os.path.exists(touched_file):
                    os.remove(touched_file)
                try:
                    db.create_schema(conn)
                    patches.run_pending(conn, site, __version__, touched, out)
                    for app in config.get_apps_txt():
                        if app in db.get_installed_apps(conn):
                            out(f"Updating DocTypes for {app}        : [========================================] 100%")
                    out("Updating installed applications...")
                    db.update_installed_application_rows(conn, bench_versions())
                    out("Executing `after_migrate` hooks...")
                    conn.commit()
                    clear_site_cache(conf)
                except patches.PatchError as err:
                    conn.rollback()
                    raise BenchError(f"Traceback (most recent call last):\n  ...\n{err}") from None
                finally:
                    # SiteMigration.tearDown runs whatever happened: the tables the patches wrote to
                    with open(touched_file, "w") as handle:
                        json.dump(sorted(touched), handle, sort_keys=True, indent=4)
            except pymysql.MySQLError as err:
                raise db_error(err) from None
            finally:
                conn.close()
        finally:
            out()


def cmd_ready_for_migration(ctx, args):
    from frappe.utils.redis_wrapper import pending_jobs

    site = args.site or ctx.require_site()
    conf = config.get_site_config(site)
    if pending_jobs(conf, site):
        out(f"NOT READY for migration: site {site} has pending background jobs")
        return 1
    out(f"READY for migration: site {site} does not have any background jobs")
    return 0


def cmd_version(ctx, args):
    from frappe.installer import bench_versions

    data = [{"app": app, "version": version, "branch": branch, "commit": "Not a git repo"}
            for app, (version, branch) in sorted(bench_versions().items())]
    if args.output == "json":
        print(json.dumps(data, indent=4))
    elif args.output == "plain":
        for info in data:
            print(f"{info['app']} {info['version']} {info['branch']}".rstrip())
    else:
        for info in data:
            print(f"{info['app']} {info['version']}")


def build_apps(wanted):
    """frappe.build.bundle: links each app's public/ into sites/assets/<app>, writes its bundles into public/dist
    (named by their content) and merges them into sites/assets/assets.json, which the pages link through. Returns
    the manifest's entries that changed."""
    import hashlib

    assets = os.path.join(config.sites_path(), "assets")
    os.makedirs(assets, exist_ok=True)
    manifest_path = os.path.join(assets, "assets.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    before = dict(manifest)
    for app in wanted:
        public = os.path.join(config.bench_path(), "apps", app, app, "public")
        if not os.path.isdir(public):
            continue
        link = os.path.join(assets, app)
        if not os.path.exists(link):
            os.symlink(public, link)
        for folder, _dirs, files in os.walk(public):
            if os.path.join(public, "dist") in (folder, os.path.dirname(folder)):
                continue
            for name in sorted(files):
                if ".bundle." not in name:
                    continue
                with open(os.path.join(folder, name), "rb") as handle:
                    content = handle.read()
                stem, kind = name.split(".bundle.", 1)
                built = f"{stem}.bundle.{hashlib.sha256(content).hexdigest()[:8].upper()}.{kind}"
                os.makedirs(os.path.join(public, "dist", kind), exist_ok=True)
                with open(os.path.join(public, "dist", kind, built), "wb") as handle:
                    handle.write(content)
                manifest[name] = f"/assets/{app}/dist/{kind}/{built}"
                out(f"  {app}/dist/{kind}/{built}")
    with open(manifest_path, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)
    return sorted(value for key, value in manifest.items() if before.get(key) != value)


def wanted_apps(*names):
    apps = config.get_apps_txt()
    wanted = [app for name in names if name for app in name.split(",")] or apps
    unknown = [app for app in wanted if app not in apps]
    if unknown:
        raise BenchError(f"Application {unknown[0]} not found in apps.txt")
    return wanted


def cmd_build(ctx, args):
    wanted = wanted_apps(args.app, args.apps)
    build_apps(wanted)
    out(f"Compiled assets for {', '.join(wanted)}")


def _sources(apps):
    """The bundles' sources of the apps (public/, dist/ aside) and their modification times."""
    found = {}
    for app in apps:
        public = os.path.join(config.bench_path(), "apps", app, app, "public")
        for folder, dirs, files in os.walk(public):
            dirs[:] = [d for d in dirs if not (folder == public and d in ("dist", "node_modules"))]
            for name in files:
                path = os.path.join(folder, name)
                try:
                    found[path] = os.stat(path).st_mtime_ns
                except OSError:
                    pass
    return found


def cmd_watch(ctx, args):
    """frappe.build.watch (esbuild --watch): build, then rebuild when a source under an app's public/ changes, log
    `TIME: Compiled N files...`, and publish Frappe's build_event on redis_queue's `events` channel, which the
    realtime server passes to the browsers (with live_reload: the desk reloads the page)."""
    import time

    from frappe.utils.redis_wrapper import queue_connection

    wanted = wanted_apps(args.apps)
    conf = config.get_common_config()
    live_reload = bool(int(os.environ.get("LIVE_RELOAD", conf.get("live_reload", 0)) or 0))
    build_apps(wanted)
    out(f"{time.strftime('%H:%M:%S')}: Compiled assets for {', '.join(wanted)}, watching for changes...")
    seen = _sources(wanted)
    while True:
        time.sleep(0.5)
        now = _sources(wanted)
        if now == seen:
            continue
        seen = now
        changed = build_apps(wanted)
        out(f"{time.strftime('%H:%M:%S')}: Compiled {len(changed)} files...")
        event = {"event": "build_event", "message": {"success": True, "changed_files": changed,
                                                     "live_reload": live_reload}}
        try:
            queue_connection(conf).publish("events", json.dumps(event))
        except Exception as err:  # noqa: BLE001 -- esbuild's notify_redis logs and keeps watching
            print(f"could not notify redis: {err}", file=sys.stderr, flush=True)


def cmd_backup(ctx, args):
    from frappe.backups import new_backup

    if args.include or args.exclude:
        raise BenchError("Partial backups (--include/--exclude) are not emulated by the test stand-in.")
    exit_code = 0
    for site in ctx.require_sites():
        try:
            odb = new_backup(
                site,
                ignore_files=not args.with_files,
                compress=args.compress,
                verbose=args.verbose or ctx.verbose,
                backup_path=args.backup_path,
                backup_path_db=args.backup_path_db,
                backup_path_files=args.backup_path_files,
                backup_path_private_files=args.backup_path_private_files,
                backup_path_conf=args.backup_path_conf,
            )
        except Exception as err:  # noqa: BLE001 -- Frappe reports any failure per site and goes on
            out(f"Backup failed for Site {site}. Database or site_config.json may be corrupted")
            if args.verbose or ctx.verbose:
                print(err.message if isinstance(err, BenchError) else repr(err), file=sys.stderr)
            exit_code = 1
            continue
        odb.print_summary()
        out(
            f"Backup for Site {site} has been successfully completed{' with files' if args.with_files else ''}"
        )
    return exit_code


# --- configuration and state -------------------------------------------------------------------------------


def cmd_set_config(ctx, args):
    value = args.value
    if args.parse:
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError) as err:
            raise BenchError(f"{type(err).__name__}: {err}") from None
    if args.global_:
        config.update_config(config.common_config_path(), args.key, value)
        return
    for site in ctx.sites:
        if not config.site_exists(site):
            raise BenchError(f"frappe.exceptions.IncorrectSitePath: 404 Not Found: {site} does not exist")
        config.update_config(config.site_config_path(site), args.key, value)


def cmd_use(ctx, args):
    from frappe.installer import use

    use(args.site)


def cmd_set_maintenance_mode(ctx, args):
    site = args.site or ctx.require_site()
    if not config.site_exists(site):
        raise BenchError(f"frappe.exceptions.IncorrectSitePath: 404 Not Found: {site} does not exist")
    config.update_config(config.site_config_path(site), "maintenance_mode", 1 if args.state == "on" else 0)


def _toggle_scheduler(ctx, enabled):
    for site in ctx.require_sites():
        _config, conn = site_connection(site)
        try:
            db.set_scheduler(conn, enabled)
            conn.commit()
        except pymysql.MySQLError as err:
            raise db_error(err) from None
        finally:
            conn.close()
        out("Enabled for" if enabled else "Disabled for", site)


def cmd_enable_scheduler(ctx, args):
    _toggle_scheduler(ctx, True)


def cmd_disable_scheduler(ctx, args):
    _toggle_scheduler(ctx, False)


def cmd_clear_cache(ctx, args):
    for site in ctx.require_sites():
        conf, conn = site_connection(site)
        conn.close()
        clear_site_cache(conf)


def set_user_password(site, user, password, logout_all_sessions=False):
    """frappe.commands.site.set_user_password: prompt (getpass: one line of stdin without a terminal, an empty line
    asks again) unless given, upsert the hash login checks, optionally delete the user's sessions."""
    from frappe.installer import prompt_secret

    config.get_site_config(site)  # as frappe.init: IncorrectSitePath before any prompt
    while not password:
        password = prompt_secret(f"{user}'s password for {site}: ")
    conf, conn = site_connection(site)
    try:
        auth.set_user_password(conn, user, password)
        if logout_all_sessions:
            auth.clear_sessions(conn, user, redis_wrapper.SiteCache(conf))
        conn.commit()
    except pymysql.MySQLError as err:
        raise db_error(err) from None
    finally:
        conn.close()


def cmd_set_admin_password(ctx, args):
    sites = ctx.sites
    if not sites:
        raise BenchError(SITE_NOT_SPECIFIED)
    for site in sites:
        set_user_password(site, "Administrator", args.admin_password, args.logout_all_sessions)


# --- long-running processes --------------------------------------------------------------------------------


def cmd_worker(ctx, args):
    from frappe.worker import start_worker

    # frappe.utils.background_jobs: get_queues_timeout's order (short, default, long, then the common config's
    # `workers`) is the order a worker given no --queue consumes them in; validate_queue refuses any other name
    known = ["short", "default", "long"] + [w for w in (config.get_common_config().get("workers") or {})
                                            if w not in ("short", "default", "long")]
    queues = [q.strip() for q in (args.queue or "").split(",") if q.strip()] or known
    for queue in queues:
        if queue not in known:
            raise BenchError(f"frappe.exceptions.ValidationError: Queue should be one of {', '.join(known)}")
    return start_worker(queues, quiet=args.quiet)


def cmd_schedule(ctx, args):
    from frappe.scheduler import start_scheduler

    return start_scheduler()


def cmd_serve(ctx, args):
    """frappe/commands/utils.py serve: Werkzeug's development server on the WSGI application, with its reloader
    unless --noreload; a site given with --site (or FRAPPE_SITE, currentsite.txt) answers every request."""
    from frappe import app

    if args.with_coverage:
        # Frappe's CodeCoverage imports coverage, a development dependency the image does not have
        raise BenchError("ModuleNotFoundError: No module named 'coverage'")
    sites = ctx.sites
    return app.serve(port=args.port, profile=args.profile, no_reload=args.noreload, no_threading=args.nothreading,
                     site=sites[0] if sites else None, sites_path=".", proxy=args.proxy)


# --- parsing -----------------------------------------------------------------------------------------------


class ClickParser(argparse.ArgumentParser):
    """A command's options, refused as click refuses them (click/parser.py, click/exceptions.py, 8.1): an unknown
    option is "No such option: --x" (with "Did you mean --y?" for a long one close to a known one), found before any
    missing argument, as click parses every option first; a usage error prints the command's usage line and a hint
    to stderr and exits 2. No abbreviations (click has none), and --help only (click's default help option)."""

    def __init__(self, name, description):
        super().__init__(prog=f"bench {name}", description=description, allow_abbrev=False, add_help=False)
        self.command = name
        self.add_argument("--help", action="help")

    def usage_line(self):
        parts = [f"Usage: bench  {self.command} [OPTIONS]"]
        for action in self._actions:
            if action.option_strings:
                continue
            name = (action.metavar or action.dest).upper()
            parts.append(f"[{name}]..." if action.nargs == "*" else f"[{name}]" if action.nargs == "?" else name)
        return " ".join(parts)

    def usage_error(self, message):
        raise BenchError(f"{self.usage_line()}\nTry 'bench  {self.command} --help' for help.\n\nError: {message}",
                         exit_code=2)

    def _options(self):
        known = {s: a for a in self._actions for s in a.option_strings}
        return known, {s for s, a in known.items() if a.nargs != 0}

    def no_such_option(self, name):
        message = f"No such option: {name}"
        if name.startswith("--"):  # click suggests among the command's long options only
            message += close_matches(name, [s for s in self._options()[0] if s.startswith("--")])
        self.usage_error(message)

    def check_options(self, args):
        known, takes_value = self._options()
        i = 0
        while i < len(args):
            token = args[i]
            if token == "--":
                break
            if token.startswith("--"):
                name = token.split("=", 1)[0]
                if name not in known:
                    self.no_such_option(name)
                i += 1 if name not in takes_value or "=" in token else 2
                continue
            if token.startswith("-") and len(token) > 1:
                if token in known:
                    i += 2 if token in takes_value else 1
                    continue
                for j, char in enumerate(token[1:]):  # short flags combined (-gp), as click reads them
                    option = "-" + char
                    if option not in known:
                        self.no_such_option(option)
                    if option in takes_value:
                        i += 1 if j == len(token) - 2 else 0
                        break
            i += 1

    def parse_args(self, args=None, namespace=None):
        self.check_options(list(args or []))
        return super().parse_args(args, namespace)

    # argparse's error messages, and click's words for the same errors
    CLICK_ERRORS = (
        (r"the following arguments are required: (?P<names>.*)",
         lambda m: f"Missing argument '{m['names'].split(', ')[0].upper()}'."),
        (r"argument (?P<option>[^:]+): expected one argument",
         lambda m: f"Option '{m['option'].split('/')[0]}' requires an argument."),
        (r"argument (?P<option>[^:]+): invalid choice: '(?P<value>[^']*)' \(choose from (?P<choices>.*)\)",
         lambda m: "Invalid value for %s: '%s' is not one of %s." % (
             " / ".join(f"'{n}'" for n in m["option"].split("/")), m["value"], m["choices"])),
        (r"argument (?P<option>[^:]+): invalid int value: '(?P<value>[^']*)'",
         lambda m: f"Invalid value for '{m['option']}': '{m['value']}' is not a valid integer."),
        (r"unrecognized arguments: (?P<extra>.*)",
         lambda m: "Got unexpected extra argument%s (%s)" % (
             "s" if len(m["extra"].split()) > 1 else "", m["extra"])),
    )

    def error(self, message):
        for pattern, words in self.CLICK_ERRORS:
            match = re.match(pattern, message)
            if match:
                self.usage_error(words(match))
        self.usage_error(message)


def _parser(name, description):
    return ClickParser(name, description)


def build_parsers():
    parsers = {}

    p = _parser("new-site", "Create a new site")
    p.add_argument("site")
    p.add_argument("--db-name")
    p.add_argument("--db-password")
    p.add_argument("--db-type", default="mariadb", choices=["mariadb"])
    p.add_argument("--db-host")
    p.add_argument("--db-port", type=int)
    p.add_argument("--db-root-username", "--mariadb-root-username", dest="db_root_username")
    p.add_argument("--db-root-password", "--mariadb-root-password", dest="db_root_password")
    p.add_argument("--db-socket", "--mariadb-db-socket")
    p.add_argument("--no-mariadb-socket", action="store_true")
    p.add_argument("--mariadb-user-host-login-scope")
    p.add_argument("--admin-password")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--source-sql", "--source_sql", dest="source_sql")
    p.add_argument("--install-app", action="append", default=[])
    p.add_argument("--set-default", action="store_true")
    p.add_argument("--setup-db", dest="setup_db", action="store_true", default=True)
    p.add_argument("--no-setup-db", dest="setup_db", action="store_false")
    if MAJOR >= 16:
        p.add_argument("--db-user")
    parsers["new-site"] = (p, cmd_new_site)

    p = _parser("restore", "Restore site database from an sql file")
    p.add_argument("sql_file_path")
    p.add_argument("--db-root-username", "--mariadb-root-username", dest="db_root_username")
    p.add_argument("--db-root-password", "--mariadb-root-password", dest="db_root_password")
    p.add_argument("--db-name")
    p.add_argument("--admin-password")
    p.add_argument("--install-app", action="append", default=[])
    p.add_argument("--with-public-files")
    p.add_argument("--with-private-files")
    p.add_argument("--force", action="store_true")
    p.add_argument("--encryption-key")
    parsers["restore"] = (p, cmd_restore)

    p = _parser("drop-site", "Remove site from database and filesystem")
    p.add_argument("site")
    p.add_argument("--db-root-username", "--mariadb-root-username", "--root-login", dest="db_root_username")
    p.add_argument(
        "--db-root-password", "--mariadb-root-password", "--root-password", dest="db_root_password"
    )
    p.add_argument("--archived-sites-path")
    p.add_argument("--no-backup", action="store_true")
    p.add_argument("--force", action="store_true")
    parsers["drop-site"] = (p, cmd_drop_site)

    p = _parser("install-app", "Install a new app to site, supports multiple apps")
    p.add_argument("apps", nargs="*")
    p.add_argument("--force", action="store_true")
    parsers["install-app"] = (p, cmd_install_app)

    p = _parser("list-apps", "List apps in site")
    p.add_argument("--format", "-f", choices=["text", "json"], default="text")
    parsers["list-apps"] = (p, cmd_list_apps)

    p = _parser("migrate", "Run patches, sync schema and rebuild files/translations")
    p.add_argument("--skip-failing", action="store_true")
    p.add_argument("--skip-search-index", action="store_true")
    if MAJOR >= 16:
        p.add_argument("--skip-fixtures", action="store_true")
    parsers["migrate"] = (p, cmd_migrate)

    p = _parser("ready-for-migration", "Checks if site is ready for migration")
    p.add_argument("--site")
    parsers["ready-for-migration"] = (p, cmd_ready_for_migration)

    p = _parser("version", "Show the versions of all the installed apps")
    p.add_argument("-f", "--format", dest="output", choices=["plain", "table", "json", "legacy"],
                   default="plain" if MAJOR >= 16 else "legacy")
    parsers["version"] = (p, cmd_version)

    p = _parser("build", "Compile JS and CSS source files")
    p.add_argument("--app")
    p.add_argument("--apps")
    p.add_argument("--hard-link", action="store_true")
    p.add_argument("--production", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--force", action="store_true")
    p.add_argument("--save-metafiles", action="store_true")
    if MAJOR >= 16:
        p.add_argument("--using-cached", action="store_true")
    parsers["build"] = (p, cmd_build)

    p = _parser("watch", "Watch and compile JS and CSS files as and when they change")
    p.add_argument("--apps")
    parsers["watch"] = (p, cmd_watch)

    p = _parser("backup", "Backup")
    p.add_argument("--with-files", action="store_true")
    p.add_argument("--include", "--only", "-i", default="")
    p.add_argument("--exclude", "-e", default="")
    p.add_argument("--backup-path")
    p.add_argument("--backup-path-db")
    p.add_argument("--backup-path-files")
    p.add_argument("--backup-path-private-files")
    p.add_argument("--backup-path-conf")
    p.add_argument("--ignore-backup-conf", action="store_true")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--compress", action="store_true")
    p.add_argument("--old-backup-metadata", action="store_true")
    parsers["backup"] = (p, cmd_backup)

    p = _parser("set-config", "Insert/Update a value in site_config.json")
    p.add_argument("key")
    p.add_argument("value")
    p.add_argument("-g", "--global", dest="global_", action="store_true")
    p.add_argument("-p", "--parse", action="store_true")
    parsers["set-config"] = (p, cmd_set_config)

    p = _parser("use", "Set a default site")
    p.add_argument("site")
    parsers["use"] = (p, cmd_use)

    p = _parser("set-maintenance-mode", "Put a site in or out of maintenance mode")
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--site")
    parsers["set-maintenance-mode"] = (p, cmd_set_maintenance_mode)

    parsers["enable-scheduler"] = (_parser("enable-scheduler", "Enable scheduler"), cmd_enable_scheduler)
    parsers["disable-scheduler"] = (_parser("disable-scheduler", "Disable scheduler"), cmd_disable_scheduler)
    parsers["clear-cache"] = (
        _parser("clear-cache", "Clear cache, doctype cache and defaults"),
        cmd_clear_cache,
    )

    p = _parser("set-admin-password", "Set Administrator password for a site")
    p.add_argument("admin_password", nargs="?", metavar="ADMIN_PASSWORD")
    p.add_argument("--logout-all-sessions", action="store_true", help="Log out from all sessions")
    parsers["set-admin-password"] = (p, cmd_set_admin_password)

    p = _parser("worker", "Start a background worker")
    p.add_argument("--queue")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("-u", "--rq-username")
    p.add_argument("-p", "--rq-password")
    p.add_argument("--burst", action="store_true")
    p.add_argument("--strategy", choices=["round_robin", "random"])
    parsers["worker"] = (p, cmd_worker)

    parsers["schedule"] = (_parser("schedule", "Start the scheduler"), cmd_schedule)

    p = _parser("serve", "Start development web server")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--profile", action="store_true")
    p.add_argument("--proxy", action="store_true",
                   help="The development server may be run behind a proxy, e.g. ngrok / localtunnel")
    p.add_argument("--noreload", action="store_true")
    p.add_argument("--nothreading", action="store_true")
    p.add_argument("--with-coverage", action="store_true")
    parsers["serve"] = (p, cmd_serve)
    return parsers


# frappe/utils/bench_helper.py: the apps' commands form the group `frappe` under `bench` (click's usage names both)
USAGE = "Usage: bench frappe [OPTIONS] COMMAND [ARGS]...\nTry 'bench frappe --help' for help.\n"
GROUP_OPTIONS = ["--site", "--profile", "--verbose", "--force", "--help"]


def close_matches(name, names):
    """click's suggestions: difflib's close matches (at most 3, cutoff 0.6), one as "Did you mean", several listed."""
    close = difflib.get_close_matches(name, names)
    if len(close) == 1:
        return f" Did you mean {close[0]}?"
    return f" (Possible options: {', '.join(sorted(close))})" if close else ""


def parse_group_options(argv):
    """Options of the command group, before the command name, like click's group."""
    ctx = Context()
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        arg = rest.pop(0)
        if arg == "--site":
            if not rest:
                raise BenchError(f"{USAGE}\nError: Option '--site' requires an argument.", exit_code=2)
            ctx.site_arg = rest.pop(0)
        elif arg.startswith("--site="):
            ctx.site_arg = arg.split("=", 1)[1]
        elif arg == "--verbose":
            ctx.verbose = True
        elif arg == "--force":
            ctx.force = True
        elif arg == "--profile":
            pass
        elif arg in ("--help", "-h"):
            out(USAGE.splitlines()[0])
            out("\nCommands (test stand-in):\n  " + "\n  ".join(sorted(build_parsers())))
            raise SystemExit(0)
        else:
            suggest = close_matches(arg, GROUP_OPTIONS) if arg.startswith("--") else ""
            raise BenchError(f"{USAGE}\nError: No such option: {arg}{suggest}", exit_code=2)
    return ctx, rest


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "frappe":  # `python -m frappe.utils.bench_helper frappe ...`
        argv = argv[1:]
    try:
        ctx, rest = parse_group_options(argv)
        if not rest:
            raise BenchError(USAGE + "\nError: Missing command.", exit_code=2)
        parsers = build_parsers()
        if rest[0] not in parsers:
            if MAJOR >= 16:  # v16's FrappeClickWrapper: click.NoSuchOption with the close commands, no usage lines
                raise BenchError(f"Error: No such command: {rest[0]}.{close_matches(rest[0], list(parsers))}",
                                 exit_code=2)
            raise BenchError(f"{USAGE}\nError: No such command '{rest[0]}'.", exit_code=2)
        parser, handler = parsers[rest[0]]
        args = parser.parse_args(rest[1:])
        code = handler(ctx, args)
        return int(code or 0)
    except BenchError as err:
        stream = sys.stdout if err.stream == "stdout" else sys.stderr
        sys.stdout.flush()
        print(err.message, file=stream, flush=True)
        return err.exit_code
    except pymysql.MySQLError as err:
        print(db_error(err).message, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)
        return 1
