# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools

from ansible.errors import AnsibleFilterError

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import (
    alertmanager_config,
    monitoring_configuration,
    stack_memory_mb,
)


def _reporting(func, label):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except BenchSpecError as exc:
            raise AnsibleFilterError("%s: %s" % (label, exc))
    return wrapper


class FilterModule(object):
    """Monitoring settings -> compose project, Prometheus, blackbox_exporter and Alertmanager configurations."""

    def filters(self):
        return {
            "monitoring_configuration": _reporting(monitoring_configuration, "monitoring"),
            "alertmanager_config": _reporting(alertmanager_config, "monitoring alerts"),
            "monitoring_memory_mb": _reporting(stack_memory_mb, "monitoring_resources"),
        }
