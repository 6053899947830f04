# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Search everywhere a secret must never appear, for every secret value of every bench on a Molecule target.

usage: [LEAK_CHECK_EXPECT=COMMAND] leak_check.py TARGET PS_LOG_IN_TARGET LOG_FILE...
Each secret is looked for as it is and base64-encoded. The process list must show the bench command the runs were
sampled for (LEAK_CHECK_EXPECT, default new-site). Sources: the given Ansible logs (a -vvv converge), the host
process list sampled during that converge, `docker inspect` of every container, and every file under /opt/erpstack
and /etc/erpstack except the secrets/ directories. Prints only secret names.
"""

from __future__ import absolute_import, division, print_function

import base64
import os
import subprocess
import sys


# The benches' projects, and the backup tool's configuration and secrets (restic's password and credentials)
ROOTS = "/opt/erpstack /etc/erpstack"


def target(name, script):
    return subprocess.run(["docker", "exec", name, "sh", "-c", script], stdout=subprocess.PIPE, check=True).stdout


def read_secrets(name):
    """Every secret file's value on the target, by path (values shorter than 8 characters are not secrets)."""
    listing = target(name, "find %s -path '*/secrets/*' -type f 2>/dev/null || true" % ROOTS).decode().split()
    secrets = {}
    for path in listing:
        value = target(name, "cat %s" % path).decode("utf-8", "replace")
        if len(value) >= 8:
            secrets[path] = value
    return secrets


def appears(value, text):
    """The value in the text, as it is or base64-encoded (slurp returns it so)."""
    return value in text or base64.b64encode(value.encode("utf-8")).decode("ascii") in text


def main(argv):
    name, ps_log, logs = argv[1], argv[2], argv[3:]
    secrets = read_secrets(name)
    sources = {}
    for log in logs:
        with open(log, "rb") as handle:
            sources["ansible output " + log] = handle.read().decode("utf-8", "replace")
    sources["process list"] = target(name, "cat %s" % ps_log).decode("utf-8", "replace")
    sources["docker inspect"] = target(name, "docker inspect $(docker ps -aq)").decode("utf-8", "replace")
    sources["project files"] = target(
        name, "find %s -type f -not -path '*/secrets/*' -exec cat {} + 2>/dev/null || true" % ROOTS
    ).decode("utf-8", "replace")

    # The check must be able to fail: the samples have to show the site creation they were taken for.
    samples = sources["process list"].count("\n---\n")
    problems = []
    if len(secrets) < 6:
        problems.append("only %d secrets found on the target" % len(secrets))
    expected = os.environ.get("LEAK_CHECK_EXPECT", "new-site")
    if samples < 20 or expected not in sources["process list"]:
        problems.append("the process list has %d samples and none of bench %s" % (samples, expected))
    if "> EXEC " not in "".join(v for k, v in sources.items() if k.startswith("ansible output")):
        problems.append("the Ansible output is not verbose (-vvv shows each EXEC)")
    for path, value in sorted(secrets.items()):
        # base64 too: slurp returns it, and the erpnext role reads the database passwords base64-encoded
        encoded = base64.b64encode(value.encode("utf-8")).decode("ascii")
        for source, text in sources.items():
            if value in text:
                problems.append("%s appears in the %s" % (path, source))
            elif encoded in text:
                problems.append("%s appears base64-encoded in the %s" % (path, source))
    print("leak check: %d secrets, %d process samples, %d sources (%s)"
          % (len(secrets), samples, len(sources), ", ".join(sorted(sources))))
    for problem in problems:
        print("  LEAK CHECK FAILED: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
