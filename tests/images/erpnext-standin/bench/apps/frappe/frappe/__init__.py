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
