# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print the MariaDB drop-in the erpnext role renders for a db service limited to MEMORY (e.g. 2g).

Frappe's settings from the role's defaults plus the sizing of plugins/plugin_utils/sizing.py, rendered by the
plan's own renderer (plugins/plugin_utils/deployment.py: mariadb_cnf). usage: python benchmarks/render_cnf.py 2g [MAX_CONNECTIONS]
With --binlog instead: the binary-log settings the role adds when the backups ship binary logs (BINLOG_SETTINGS).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "collections"))

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.deployment import (  # noqa: E402
    BINLOG_SETTINGS,
    mariadb_cnf,
)
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.sizing import (  # noqa: E402
    mariadb_sizing,
    parse_size,
)


def main(argv):
    if argv[1:] == ["--binlog"]:
        sys.stdout.write(mariadb_cnf(dict(BINLOG_SETTINGS), "# erpstack: the erpnext role's binary-log settings"))
        return
    memory_mib = parse_size(argv[1], "memory") // (1024 * 1024)
    connections = int(argv[2]) if len(argv) > 2 else 100
    with open(os.path.join(ROOT, "roles", "erpnext", "defaults", "main.yml")) as handle:
        settings = dict(yaml.safe_load(handle)["erpnext_mariadb_config"])
    settings.update(mariadb_sizing(memory_mib, connections))
    sys.stdout.write(mariadb_cnf(settings, "# erpstack: the erpnext role's drop-in for a db limited to %d MiB"
                                 % memory_mib))


if __name__ == "__main__":
    main(sys.argv)
