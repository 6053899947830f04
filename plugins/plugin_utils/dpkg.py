# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``dpkg-query`` says is installed, read the same way by every role that asks it about its own packages."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# The --showformat every role passes: one line per package asked about
SHOWFORMAT = "${db:Status-Status} ${Package} ${Version}\n"


def installed_packages(lines):
    """``dpkg-query --show --showformat='${db:Status-Status} ${Package} ${Version}\\n'`` output lines -> package name
    -> installed version, for the packages whose status is ``installed`` (not ``config-files``, not unknown)."""
    result = {}
    for line in lines or []:
        parts = str(line).split(" ")
        if len(parts) >= 2 and parts[0] == "installed":
            result[parts[1]] = parts[2] if len(parts) > 2 else ""
    return result
