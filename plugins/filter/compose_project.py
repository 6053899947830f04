# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import (
    BenchSpecError,
    compose_project,
    site_specs,
    user_host_scope,
)


def _compose_project(bench):
    try:
        return compose_project(bench)
    except BenchSpecError as exc:
        raise AnsibleFilterError("compose_project: %s" % exc)


def _user_host_scope(subnet):
    try:
        return user_host_scope(subnet)
    except (BenchSpecError, ValueError) as exc:
        raise AnsibleFilterError("user_host_scope: %s" % exc)


class FilterModule(object):
    """Bench description -> compose project."""

    def filters(self):
        return {
            "compose_project": _compose_project,
            "user_host_scope": _user_host_scope,
            "site_specs": site_specs,
        }
