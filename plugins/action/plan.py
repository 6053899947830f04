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
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import deep_merge
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.firewall import firewall_errors
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grammars import daemon_options_errors
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.schema import PREFIXES, check_variables, load_options

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

    def names(self):
        return list(self._available)


_OPTIONS = {}


def options():
    """The roles' option specs, read once per process."""
    if not _OPTIONS:
        _OPTIONS.update(load_options(COLLECTION))
    return _OPTIONS


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
        layers.update(self._defaults("swarm"))
        probe = _Variables(self._templar.copy_with_new_env(available_variables=dict(layers, **task_vars)),
                           dict(layers, **task_vars))
        # anything but a boolean is refused by the schema, which reads the monitoring role's specs either way
        monitoring = probe.get("erpstack_monitoring", True) is not False
        if probe["erpnext_proxy"] == "traefik":
            layers.update(self._defaults("traefik"))
        if monitoring:
            layers.update(self._defaults("monitoring"))
        available = dict(layers, **task_vars)
        available.setdefault("erpstack_monitoring", True)
        return _Variables(self._templar.copy_with_new_env(available_variables=available), available)

    def _firewall_errors(self, inputs, values, task_vars):
        """The docker role's firewall settings, with its defaults under the inventory's."""
        settings = dict((k, v) for k, v in self._defaults("docker").items() if k.startswith("docker_firewall_"))
        settings.update((k, v) for k, v in values.items() if k.startswith("docker_firewall_"))
        return firewall_errors(settings, swarm=self._uses_swarm(inputs),
                               connection=self._templar.template(task_vars.get("ansible_connection", "ssh")),
                               port=self._templar.template(task_vars.get("ansible_port")))

    def _schema_errors(self, inputs):
        """Every public variable that is set, checked against the roles' specs before the plan reads any."""
        specs = options()
        values = {}
        errors = []
        for name in sorted(inputs.names()):
            if name not in specs and not name.startswith(PREFIXES):
                continue
            try:
                values[name] = inputs[name] if name in specs else None
            except Exception as exc:  # pylint: disable=broad-except
                # a lookup or an undefined variable inside the value: its message names variables, never values
                errors.append("%s cannot be evaluated: %s" % (name, str(exc).splitlines()[0]))
        ignored = values.get("erpstack_ignore_variables")
        errors += check_variables(values, specs, ignored if isinstance(ignored, list) else ())
        if not errors and ("docker_daemon_options" in values or "docker_daemon_options_extension" in values):
            # the docker role's daemon.json, which dockerd reads: checked here so that it stops the first play too
            base = values.get("docker_daemon_options") or self._defaults("docker")["docker_daemon_options"]
            errors += daemon_options_errors(deep_merge(base, values.get("docker_daemon_options_extension") or {}))
        return errors

    @staticmethod
    def _uses_swarm(inputs):
        benches = inputs["erpnext_benches"] if isinstance(inputs["erpnext_benches"], list) else []
        return inputs["erpnext_engine"] == "swarm" or any(
            isinstance(bench, dict) and bench.get("engine") == "swarm" for bench in benches)

    def _swarm_nodes(self, inputs, task_vars):
        """The Swarm's groups and each node's address and labels, read from the other hosts' variables."""
        groups = task_vars.get("groups") or {}
        managers = list(groups.get(str(inputs["swarm_managers_group"])) or [])
        workers = list(groups.get(str(inputs["swarm_workers_group"])) or [])
        hostvars = task_vars.get("hostvars") or {}
        nodes = {}
        for host in managers + workers:
            try:
                own = hostvars[host]
                address = self._templar.template(own.get("swarm_advertise_addr") or "")
                if not address:
                    address = ((self._templar.template(own.get("ansible_facts") or {})).get("default_ipv4") or {}).get(
                        "address")
                labels = self._templar.template(own.get("swarm_node_labels") or {})
            except Exception as exc:  # pylint: disable=broad-except
                raise PlanError("hostvars[%s]: the swarm_* variables cannot be evaluated: %s"
                                % (host, str(exc).splitlines()[0]))
            nodes[host] = {"address": address, "labels": labels}
        return {"managers": managers, "workers": workers, "nodes": nodes}

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
            inputs = self._inputs(task_vars)
            errors = self._schema_errors(inputs)
            if errors:
                raise PlanError("The inventory has %d error(s); nothing was changed:\n- %s" % (
                    len(errors), "\n- ".join(errors)))
            plan = deployment_plan(inputs, {
                "swarm": self._swarm_nodes(inputs, task_vars) if self._uses_swarm(inputs) else {},
                "memtotal_mb": facts["memtotal_mb"],
                "processor_vcpus": facts["processor_vcpus"],
                "inventory_hostname": task_vars["inventory_hostname"],
                "managed_header": comment(C.config.get_config_value("DEFAULT_MANAGED_STR")),
            })
            # the host firewall's settings, once the plan is known to be valid: a Swarm's own errors come first
            values = dict((name, inputs[name]) for name in inputs.names() if name.startswith("docker_firewall_"))
            errors = self._firewall_errors(inputs, values, task_vars)
            if errors:
                raise PlanError("The inventory has %d error(s); nothing was changed:\n- %s" % (
                    len(errors), "\n- ".join(errors)))
        except PlanError as exc:
            result.update(failed=True, msg=str(exc))
            return result
        result["plan"] = plan
        return result
