# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.logs import alloy_config, loki_config


def _reporting(func, label):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BenchSpecError as exc:
            raise AnsibleFilterError("%s: %s" % (label, exc))
    return wrapper


class FilterModule(object):
    """Centralized logs: Loki's configuration and Grafana Alloy's."""

    def filters(self):
        return {
            "loki_config": _reporting(loki_config, "monitoring logs"),
            "alloy_config": _reporting(alloy_config, "monitoring logs"),
        }
