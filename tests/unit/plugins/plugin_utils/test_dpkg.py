# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/dpkg.py: dpkg-query's lines (as the roles ask for them) -> installed packages and versions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.dpkg import installed_packages


def test_only_installed_packages_with_their_versions():
    # dpkg-query 1.21 (Debian 12): a removed package keeps its config files; an unknown one prints nothing (rc 1)
    lines = ["installed docker.io 20.10.24+dfsg1-1+deb12u1", "config-files docker-ce 5:28.2.2-1~debian.12~bookworm",
             "installed python3-pymysql 1.0.2-2", "not-installed restic "]
    assert installed_packages(lines) == {"docker.io": "20.10.24+dfsg1-1+deb12u1", "python3-pymysql": "1.0.2-2"}


def test_nothing_asked_or_nothing_known():
    assert installed_packages([]) == {}
    assert installed_packages(None) == {}
