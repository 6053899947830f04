"""Test stand-in for the Frappe framework.

Only what the erpstack collection's contract lists is implemented (see the image's README.md): the bench
commands, a WSGI application with a handful of endpoints, background workers and the scheduler.
"""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name, default):
    try:
        with open(os.path.join(_HERE, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


# Written by the image build (build argument FRAPPE_VERSION).
__version__ = _read("VERSION", "0.0.0")
# The real image deletes the apps' .git directories, so Frappe's get_app_branch() finds no branch.
__branch__ = ""


# --- whitelisted methods (frappe/__init__.py whitelist) -------------------------------------------------------
# As in Frappe: the functions a request may call through /api/method/<dotted.path>, those a Guest may call, and the
# HTTP methods each accepts (GET, POST, PUT and DELETE unless the decorator names others).
whitelisted = set()
guest_methods = set()
xss_safe_methods = set()
allowed_http_methods_for_whitelisted_func = {}


def whitelist(allow_guest=False, xss_safe=False, methods=None):
    """``@frappe.whitelist()``: make the function callable over HTTP (``/api/method/<module>.<function>``)."""
    methods = list(methods or ["GET", "POST", "PUT", "DELETE"])

    def innerfn(fn):
        whitelisted.add(fn)
        allowed_http_methods_for_whitelisted_func[fn] = methods
        if allow_guest:
            guest_methods.add(fn)
        if xss_safe:
            xss_safe_methods.add(fn)
        return fn

    return innerfn


class _dict(dict):
    """frappe._dict: a dict whose keys are attributes too."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


# The request's session (frappe.session.user), set by the WSGI application for each request.
session = _dict(user="Guest")


# --- exceptions (frappe/exceptions.py) with the HTTP status Frappe answers them with --------------------------
class ValidationError(Exception):
    http_status_code = 417


class AuthenticationError(Exception):
    http_status_code = 401


class PermissionError(Exception):  # noqa: A001 -- Frappe's name
    http_status_code = 403


class DoesNotExistError(ValidationError):
    http_status_code = 404


class DuplicateEntryError(ValidationError):
    http_status_code = 409


class MandatoryError(ValidationError):
    pass


class InvalidEmailAddressError(ValidationError):
    pass


# The request's site, its config and database connection (frappe.local), set by the WSGI application.
local = _dict(site=None, conf=None, conn=None)


def only_for(roles):
    """frappe.only_for: the stand-in has no roles; Administrator is its one System Manager."""
    if session.user != "Administrator":
        raise PermissionError("Not permitted")
