# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action: compute the host's deployment plan once (see plugins/modules/plan.py for its documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible import constants as C
from ansible.plugins.action import ActionBase
from ansible.plugins.filter.core import comment

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.deployment import PlanError, deployment_plan

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The roles whose public variables the plan reads, and the setting that switches each optional one on
ROLES = ("erpnext", "backup", "traefik", "monitoring")


class _Variables(object):
    """The plan's inputs: each variable templated on first read, from the inventory over the roles' defaults."""

    def __init__(self, templar, available):
        self._templar = templar
        self._available = available
        self._values = {}

    def __contains__(self, name):
        return name in self._available

    def __getitem__(self, name):
        if name not in self._values:
            if name not in self._available:
                raise PlanError("the variable %s is not defined" % name)
            self._values[name] = self._templar.template(self._available[name])
        return self._values[name]

    def get(self, name, default=None):
        return self[name] if name in self else default


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset()
    _requires_connection = False

    def _defaults(self, role):
        path = os.path.join(COLLECTION, "roles", role, "defaults", "main.yml")
        try:
            # ansible-core 2.19 and later template only trusted text: the collection's own defaults are
            data = self._loader.load_from_file(path, trusted_as_template=True)
        except TypeError:
            data = self._loader.load_from_file(path)
        return dict(data or {})

    def _inputs(self, task_vars):
        """Every role's defaults, under the host's variables. A switched-off stack's defaults are left out, as if its
        role were not there: Traefik's when erpnext_proxy is not traefik, monitoring's when erpstack_monitoring is
        false (a value the inventory gives is always seen, as it is by every role)."""
        layers = dict(self._defaults("erpnext"))
        layers.update(self._defaults("backup"))
        probe = _Variables(self._templar.copy_with_new_env(available_variables=dict(layers, **task_vars)),
                           dict(layers, **task_vars))
        monitoring = probe.get("erpstack_monitoring", True)
        if not isinstance(monitoring, bool):
            raise PlanError("erpstack_monitoring must be true or false, not %r" % (monitoring,))
        if probe["erpnext_proxy"] == "traefik":
            layers.update(self._defaults("traefik"))
        if monitoring:
            layers.update(self._defaults("monitoring"))
        available = dict(layers, **task_vars)
        available["erpstack_monitoring"] = monitoring
        return _Variables(self._templar.copy_with_new_env(available_variables=available), available)

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        result["changed"] = False
        facts = self._templar.template(task_vars.get("ansible_facts") or {})
        if "memtotal_mb" not in facts or "processor_vcpus" not in facts:
            result.update(failed=True, msg="The plan sizes the benches from the host's memory and CPUs: gather the "
                                           "host's facts first (gather_facts: true, or setup with gather_subset: "
                                           "hardware).")
            return result
        try:
            plan = deployment_plan(self._inputs(task_vars), {
                "memtotal_mb": facts["memtotal_mb"],
                "processor_vcpus": facts["processor_vcpus"],
                "inventory_hostname": task_vars["inventory_hostname"],
                "managed_header": comment(C.config.get_config_value("DEFAULT_MANAGED_STR")),
            })
        except PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result["plan"] = plan
        return result
