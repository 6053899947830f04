"""WSGI application (`frappe.app:application`) of the stand-in backend.

Each request resolves its site (X-Frappe-Site-Name, else Host without port, else sites/currentsite.txt),
reads the site's config and connects to the site's database as the site's own user, like Frappe does.
Endpoints: /api/method/ping, /api/method/login, GET/POST /api/resource/ToDo, POST /api/resource/User, and
/api/method/<dotted.path> of any function an app installed on the site marks with @frappe.whitelist() (Frappe's
handler.execute_cmd). Anything else is a 404. A request is a session's (the sid cookie) or, with an Authorization
header `token KEY:SECRET` (or Basic), an API key's (frappe.auth.validate_auth_via_api_keys).
Sessions are cached in the site's redis_cache (with the URL's credentials), as Frappe's Session class does.
"""

import importlib
import inspect
import json
import os
import re
import sys
import traceback
from http import HTTPStatus
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote

import pymysql

import frappe
from frappe import auth
from frappe import conf as config
from frappe import database as db
from frappe.utils.redis_wrapper import SiteCache

TODO_COLUMNS = (
    "name",
    "creation",
    "modified",
    "modified_by",
    "owner",
    "docstatus",
    "idx",
    "status",
    "priority",
    "date",
    "allocated_to",
    "description",
    "reference_type",
    "reference_name",
    "role",
    "assigned_by",
)
TODO_WRITABLE = (
    "status",
    "priority",
    "date",
    "allocated_to",
    "description",
    "reference_type",
    "reference_name",
    "role",
    "assigned_by",
)
ORDER_BY = re.compile(r"^\s*`?(?:tabToDo`?\.)?`?([a-z_]+)`?(?:\s+(asc|desc))?\s*$", re.IGNORECASE)


class HTTPError(Exception):
    def __init__(self, status, exc_type, message):
        super().__init__(message)
        self.status = status
        self.exc_type = exc_type
        self.message = message


class Response:
    def __init__(self, status, body, cookies=None):
        self.status = status
        self.body = body
        self.cookies = cookies or []


def json_default(value):
    return str(value)


def error_body(err):
    return {
        "exc_type": err.exc_type,
        "exception": f"frappe.exceptions.{err.exc_type}: {err.message}",
        "message": err.message,
    }


# --- request helpers ---------------------------------------------------------------------------------------


# The site `bench serve --site SITE` serves (frappe.app._site): it answers every request
_site = None


def resolve_site(environ):
    if _site:
        return _site
    header = environ.get("HTTP_X_FRAPPE_SITE_NAME", "").strip()
    if header:
        return header
    host = environ.get("HTTP_HOST", "").strip()
    if host:
        if host.startswith("["):
            return host.split("]", 1)[0] + "]"
        return host.split(":", 1)[0]
    return config.get_current_site()


def read_form(environ):
    """form_dict: query string merged with a urlencoded or JSON body."""
    form = {
        key: values[-1]
        for key, values in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()
    }
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    ctype = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
    if body and ctype == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            raise HTTPError(417, "ValidationError", "Invalid JSON body") from None
        if isinstance(data, dict):
            form.update(data)
    elif body and ctype in ("application/x-www-form-urlencoded", ""):
        form.update(
            {k: v[-1] for k, v in parse_qs(body.decode(errors="replace"), keep_blank_values=True).items()}
        )
    elif body:
        raise HTTPError(415, "ValidationError", f"Content-Type {ctype} is not emulated by the test stand-in")
    return form


def request_sid(environ):
    cookie = SimpleCookie()
    try:
        cookie.load(environ.get("HTTP_COOKIE", ""))
    except Exception:  # noqa: BLE001 -- a malformed cookie header means no session
        return None
    return cookie["sid"].value if "sid" in cookie else None


# --- endpoints ---------------------------------------------------------------------------------------------


def ping(conn, environ, form, user, cache):
    return Response(200, {"message": "pong"})


def login(conn, environ, form, user, cache):
    usr, pwd = form.get("usr"), form.get("pwd")
    if not usr or not pwd:
        raise HTTPError(417, "ValidationError", "Incomplete login details")
    # LoginManager.authenticate: the user by name, its password, then whether it is enabled
    found = auth.find_user(conn, usr)
    if not found or not auth.check_user_password(conn, found["name"], pwd):
        raise HTTPError(401, "AuthenticationError", "Invalid login credentials")
    if not (found["name"] == "Administrator" or found["enabled"]):
        raise HTTPError(401, "AuthenticationError", "User disabled or missing")
    usr = found["name"]
    ip = environ.get("HTTP_X_FORWARDED_FOR", environ.get("REMOTE_ADDR", "")).split(",")[0].strip()
    sid = auth.create_session(conn, usr, ip, cache)
    with conn.cursor() as cur:
        cur.execute("SELECT first_name FROM `tabUser` WHERE name = %s", (usr,))
        full_name = (cur.fetchone() or [usr])[0] or usr
    conn.commit()
    age = auth.SESSION_COOKIE_MAX_AGE
    cookies = [
        f"sid={sid}; Max-Age={age}; HttpOnly; Path=/; SameSite=Lax",
        "system_user=yes; Path=/; SameSite=Lax",
        f"full_name={quote(full_name)}; Path=/; SameSite=Lax",
        f"user_id={quote(usr)}; Path=/; SameSite=Lax",
        "user_image=; Path=/; SameSite=Lax",
    ]
    return Response(200, {"message": "Logged In", "home_page": "/app", "full_name": full_name}, cookies)


def require_user(user):
    if user == "Guest":
        raise HTTPError(403, "PermissionError", "Not permitted: ToDo")


def todo_list(conn, environ, form, user, cache):
    require_user(user)
    for unsupported in ("filters", "or_filters", "group_by"):
        if form.get(unsupported) not in (None, "", "[]", "{}"):
            raise HTTPError(417, "DataError", f"{unsupported} are not emulated by the test stand-in")
    try:
        fields = json.loads(form.get("fields") or '["name"]')
    except ValueError:
        raise HTTPError(417, "DataError", "fields must be a JSON list") from None
    if isinstance(fields, str):
        fields = [fields]
    if not isinstance(fields, list) or not fields:
        raise HTTPError(417, "DataError", "fields must be a JSON list")
    columns = []
    for field in fields:
        name = str(field).strip().strip("`")
        if name == "*":
            columns.extend(TODO_COLUMNS)
        elif name in TODO_COLUMNS:
            columns.append(name)
        else:
            raise HTTPError(417, "DataError", f"Field not permitted in query: {field}")
    try:
        start = int(form.get("limit_start") or 0)
        page = int(form.get("limit_page_length", form.get("limit", 20)) or 0)
    except ValueError:
        raise HTTPError(417, "DataError", "limit_start and limit_page_length must be integers") from None
    order = ORDER_BY.match(form.get("order_by") or "modified desc")
    if not order or order.group(1) not in TODO_COLUMNS:
        raise HTTPError(417, "DataError", f"Invalid order_by: {form.get('order_by')}")
    sql = "SELECT {} FROM `tabToDo` ORDER BY `{}` {}".format(
        ", ".join(f"`{c}`" for c in columns), order.group(1), (order.group(2) or "asc").upper()
    )
    params = []
    if page > 0:
        sql += " LIMIT %s OFFSET %s"
        params = [page, max(start, 0)]
    with conn.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return Response(200, {"data": rows})


def todo_insert(conn, environ, form, user, cache):
    require_user(user)
    data = form
    if "data" in form:
        try:
            data = json.loads(form["data"]) if isinstance(form["data"], str) else form["data"]
        except ValueError:
            raise HTTPError(417, "ValidationError", "data must be JSON") from None
    if not isinstance(data, dict):
        raise HTTPError(417, "ValidationError", "data must be a JSON object")
    if not data.get("description"):
        raise HTTPError(417, "MandatoryError", "[ToDo, new]: description")
    now = db.now()
    doc = {
        "name": config.generate_hash(10),
        "creation": now,
        "modified": now,
        "modified_by": user,
        "owner": user,
        "docstatus": 0,
        "idx": 0,
        "status": "Open",
        "priority": "Medium",
    }
    doc.update({key: data[key] for key in TODO_WRITABLE if key in data})
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO `tabToDo` ({}) VALUES ({})".format(
                ", ".join(f"`{k}`" for k in doc), ", ".join(["%s"] * len(doc))
            ),
            list(doc.values()),
        )
        cur.execute(
            f"SELECT {', '.join(f'`{c}`' for c in TODO_COLUMNS)} FROM `tabToDo` WHERE name = %s",
            (doc["name"],),
        )
        row = dict(zip(TODO_COLUMNS, cur.fetchone(), strict=True))
    conn.commit()
    row["doctype"] = "ToDo"
    return Response(200, {"data": row})


EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def user_insert(conn, environ, form, user, cache):
    """A new User as a System Manager inserts one: named by its e-mail address (lower case), first_name mandatory,
    new_password set as the user's password; the welcome e-mail is not emulated."""
    if user != "Administrator":
        raise HTTPError(403, "PermissionError", "No permission for User")
    data = json.loads(form["data"]) if isinstance(form.get("data"), str) else form.get("data", form)
    if not isinstance(data, dict):
        raise HTTPError(417, "ValidationError", "data must be a JSON object")
    email = str(data.get("email") or "").strip().lower()
    if not email or not data.get("first_name"):
        raise HTTPError(417, "MandatoryError", "[User, new]: " + ("email" if not email else "first_name"))
    if not EMAIL_RE.match(email):
        raise HTTPError(417, "InvalidEmailAddressError", f"{email} is not a valid Email Address")
    now = db.now()
    try:
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO `tabUser` (name, creation, modified, modified_by, owner, enabled, email, first_name, "
                "user_type) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (email, now, now, user, user, 1 if data.get("enabled", 1) else 0, email, data["first_name"],
                 data.get("user_type") or "System User"),
            )
    except pymysql.IntegrityError:
        raise HTTPError(409, "DuplicateEntryError", f"User {email} already exists") from None
    if data.get("new_password"):
        auth.set_user_password(conn, email, data["new_password"])
    conn.commit()
    return Response(200, {"data": {"doctype": "User", "name": email, "email": email,
                                   "first_name": data["first_name"], "enabled": 1 if data.get("enabled", 1) else 0}})


def get_attr(conn, cmd):
    """frappe.get_attr: the function named by a dotted path, in an app installed on the site."""
    if "." not in cmd:
        # Frappe looks a plain name up in its handler module's globals; the stand-in's are its ROUTES
        raise LookupError(repr(cmd))
    app = cmd.split(".", 1)[0]
    if app not in db.get_installed_apps(conn):
        raise LookupError(f"App {app} is not installed")
    module, _dot, name = cmd.rpartition(".")
    return getattr(importlib.import_module(module), name)


def call_whitelisted(conn, environ, form, user, cache, cmd, method):
    """frappe.handler.execute_cmd: resolve, check the whitelist and the HTTP method, call with the form's arguments
    the function accepts; the result is {"message": result} (nothing when it returns None)."""
    try:
        fn = get_attr(conn, cmd)
    except Exception as err:  # noqa: BLE001 -- Frappe turns any failure here into a ValidationError
        raise HTTPError(417, "ValidationError", f"Failed to get method for command {cmd} with {err}") from None
    if fn not in frappe.whitelisted or (user == "Guest" and fn not in frappe.guest_methods):
        detail = f"Function <strong>{fn.__module__}.{fn.__name__}</strong> is not whitelisted."
        raise HTTPError(403, "PermissionError", "<details><summary>You are not permitted to access this resource."
                        f"</summary>{detail}</details>")
    if method not in frappe.allowed_http_methods_for_whitelisted_func[fn]:
        raise HTTPError(403, "PermissionError", "Not permitted")
    spec = inspect.getfullargspec(fn)
    kwargs = {k: v for k, v in form.items() if k not in ("cmd", "flags", "ignore_permissions")}
    if spec.varkw is None:
        kwargs = {k: v for k, v in kwargs.items() if k in spec.args or k in spec.kwonlyargs}
    frappe.session = frappe._dict(user=user)
    try:
        data = fn(**kwargs)
    finally:
        frappe.session = frappe._dict(user="Guest")
    return Response(200, {"message": data} if data is not None else {})


ROUTES = {
    ("/api/method/ping", "GET"): ping,
    ("/api/method/ping", "POST"): ping,
    ("/api/method/frappe.ping", "GET"): ping,
    ("/api/method/login", "POST"): login,
    ("/api/method/login", "GET"): login,
    ("/api/resource/ToDo", "GET"): todo_list,
    ("/api/resource/ToDo", "POST"): todo_insert,
    ("/api/resource/User", "POST"): user_insert,
}


def handle(environ):
    path = environ.get("PATH_INFO") or "/"
    method = environ.get("REQUEST_METHOD", "GET").upper()
    method = "GET" if method == "HEAD" else method
    site = resolve_site(environ)
    if not site or not config.site_exists(site):
        raise HTTPError(404, "IncorrectSitePath", f"{site} does not exist")
    conf = config.get_site_config(site)
    if conf.get("maintenance_mode"):
        raise HTTPError(503, "SessionStopped", "Session Stopped")
    endpoint = ROUTES.get((path, method))
    cmd = None
    if endpoint is None:
        if any(route_path == path for route_path, _handler in ROUTES):
            raise HTTPError(405, "ValidationError", f"Method {method} not allowed on {path}")
        if not path.startswith("/api/method/") or not path[len("/api/method/"):].split("/")[0]:
            raise HTTPError(404, "DoesNotExistError", f"{path} is not emulated by the test stand-in")
        # as Frappe's v1 rule /method/<path:method>: the command is the path's first segment after /api/method/
        cmd = path[len("/api/method/"):].split("/")[0]
    form = read_form(environ)
    conn = db.connect_site(config.db_params(conf))
    cache = SiteCache(conf)
    frappe.local = frappe._dict(site=site, conf=conf, conn=conn)
    try:
        user = auth.session_user(conn, request_sid(environ), cache)
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header and user == "Guest":
            user = auth.validate_auth_via_api_keys(conn, conf, header) or user
        if cmd is not None:
            return call_whitelisted(conn, environ, form, user, cache, cmd, method)
        return endpoint(conn, environ, form, user, cache)
    finally:
        frappe.local = frappe._dict(site=None, conf=None, conn=None)
        conn.close()


def application(environ, start_response):
    try:
        response = handle(environ)
    except HTTPError as err:
        response = Response(err.status, error_body(err))
    except (frappe.ValidationError, frappe.AuthenticationError, frappe.PermissionError) as err:
        status = err.http_status_code
        response = Response(status, error_body(HTTPError(status, type(err).__name__, str(err))))
    except pymysql.MySQLError as err:
        print(f"database error: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        response = Response(
            500, {"exc_type": type(err).__name__, "exception": f"pymysql.err.{type(err).__name__}: {err}"}
        )
    except Exception:  # noqa: BLE001 -- the server answers 500 and logs, like Frappe
        traceback.print_exc()
        response = Response(500, {"exc_type": "Exception", "exception": "Internal Server Error"})
    body = json.dumps(response.body, default=json_default, separators=(",", ":")).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    headers.extend(("Set-Cookie", cookie) for cookie in response.cookies)
    status = f"{response.status} {HTTPStatus(response.status).phrase}"
    start_response(status, headers)
    if environ.get("REQUEST_METHOD", "GET").upper() == "HEAD":
        return [b""]
    return [body]


# --- bench serve (frappe.app.serve) ------------------------------------------------------------------------


def _static_files(app, sites_path):
    """Frappe's StaticDataMiddleware: /files/NAME from the request's site's public/files."""
    from werkzeug.middleware.shared_data import SharedDataMiddleware

    class StaticDataMiddleware(SharedDataMiddleware):
        def __call__(self, environ, start_response):
            self.environ = environ
            return super().__call__(environ, start_response)

        def get_directory_loader(self, directory):
            def loader(path):
                site = _site or resolve_site(self.environ)
                path = os.path.join(directory, site, "public", "files", path or "")
                if os.path.isfile(path):
                    return os.path.basename(path), self._opener(path)
                return None, None

            return loader

    return StaticDataMiddleware(app, {"/files": os.path.abspath(sites_path)})


def serve(port=8000, profile=False, no_reload=False, no_threading=False, site=None, sites_path=".", proxy=False):
    """frappe.app.serve: Werkzeug's run_simple on every address, its reloader (a change to a loaded module's file
    restarts the server process) unless no_reload, its debugger, /assets and /files served, as in Frappe."""
    import logging

    from werkzeug.middleware.profiler import ProfilerMiddleware
    from werkzeug.middleware.proxy_fix import ProxyFix
    from werkzeug.middleware.shared_data import SharedDataMiddleware
    from werkzeug.serving import run_simple

    global _site
    _site = site
    wsgi = application
    if profile or os.environ.get("USE_PROFILER"):
        wsgi = ProfilerMiddleware(wsgi, sort_by=("cumtime", "calls"))
    if not os.environ.get("NO_STATICS"):
        wsgi = SharedDataMiddleware(wsgi, {"/assets": str(os.path.join(sites_path, "assets"))})
        wsgi = _static_files(wsgi, sites_path)
    if proxy or os.environ.get("USE_PROXY"):
        wsgi = ProxyFix(wsgi, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    log = logging.getLogger("werkzeug")
    log.propagate = False
    in_test_env = os.environ.get("CI")
    if in_test_env:
        log.setLevel(logging.ERROR)
    run_simple("0.0.0.0", int(port), wsgi, exclude_patterns=["test_*"],
               use_reloader=False if in_test_env else not no_reload, use_debugger=not in_test_env,
               use_evalex=not in_test_env, threaded=not no_threading)
