# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render roles/monitoring/templates/alerts.yml.j2 with plain Jinja2, as Ansible's template module would.

The variables are the role's defaults plus the ones the role computes: ``_monitoring_alerts`` (monitoring_alerts
merged with monitoring_alerts_extension) and ``_monitoring_backup_benches`` (the fixture benches of the promtool
tests: alpha with 26 hours, beta with 50).

Usage: render.py OUTPUT_FILE
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import jinja2
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE = os.path.join(ROOT, "roles", "monitoring")
TEMPLATE = "alerts.yml.j2"
# as the role computes them (plugins/plugin_utils/monitoring.py: backup_ages): hours as floats
BENCHES = [{"name": "alpha", "max_age_hours": 26.0}, {"name": "beta", "max_age_hours": 50.0}]
# the benches whose binary logs are shipped (monitoring_stack.py): alpha and beta every 5 minutes, behind after 15
BINLOG_BENCHES = [{"name": "alpha", "max_lag_seconds": 900}, {"name": "beta", "max_lag_seconds": 900}]
ANSIBLE_MANAGED = "Ansible managed"


def defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml")) as handle:
        return yaml.safe_load(handle)


def variables(benches=None, alerts_extension=None):
    """The template's variables: the defaults and the role's computed ones."""
    context = defaults()
    if alerts_extension is not None:
        context["monitoring_alerts_extension"] = alerts_extension
    context["_monitoring_alerts"] = dict(context["monitoring_alerts"], **context["monitoring_alerts_extension"])
    context["_monitoring_backup_benches"] = BENCHES if benches is None else benches
    context["_monitoring_binlog_benches"] = BINLOG_BENCHES if benches is None else []
    context["ansible_managed"] = ANSIBLE_MANAGED
    return context


def environment():
    # Ansible's template module: trim_blocks on, the file's last newline kept; an unknown variable is an error.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(ROLE, "templates")), trim_blocks=True,
                              keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def render(benches=None, alerts_extension=None):
    return environment().get_template(TEMPLATE).render(variables(benches, alerts_extension))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: %s OUTPUT_FILE\n" % argv[0])
        return 2
    with open(argv[1], "w") as handle:
        handle.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
