# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Development mode only: debugpy listening in the process that runs the bench's code.

Imported at every start of the bench's Python (a line of a .pth file the development container writes). It does
nothing unless ERPSTACK_DEBUGPY_LISTEN (host:port) is set, as the Procfile sets it for the web server and the worker.
With ERPSTACK_DEBUGPY_RELOADER set (the web server), only Werkzeug's reloader child listens, the process that serves
the requests: after a reload the new child listens on the same port, and the editor attaches again. The variable is
removed once used, so that no process started from the listening one tries to take its port.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys


def _listen():
    address = os.environ.get("ERPSTACK_DEBUGPY_LISTEN")
    if not address:
        return
    if os.environ.get("ERPSTACK_DEBUGPY_RELOADER") and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return
    del os.environ["ERPSTACK_DEBUGPY_LISTEN"]
    host, _sep, port = address.rpartition(":")
    try:
        import debugpy
        debugpy.listen((host or "0.0.0.0", int(port)))
    except Exception as exc:  # pylint: disable=broad-except
        # the bench still runs, without its debugger; the reason is in the process's output (bench start's log)
        sys.stderr.write("erpstack: debugpy could not listen on %s: %s\n" % (address, exc))
    else:
        sys.stderr.write("erpstack: debugpy listens on %s (pid %d)\n" % (address, os.getpid()))


_listen()
