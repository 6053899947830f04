"""Test stand-in for the ERPNext app: it only carries a version; the framework stand-in installs it."""

import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _read(name, default):
    try:
        with open(os.path.join(_HERE, name)) as f:
            return f.read().strip() or default
    except OSError:
        return default


__version__ = _read("VERSION", "0.0.0")
# The real image deletes the apps' .git directories, so Frappe's get_app_branch() finds no branch.
__branch__ = ""
