#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


DOCUMENTATION = r"""
---
module: plan
short_description: Compute the deployment plan of an ERPNext host, once
version_added: 0.5.0
description:
  - Computes, on the controller, everything the collection's roles apply to one host, from the host's variables and
    its memory and CPU facts, and returns it as RV(plan). The C(erpstack.erpnext.deployment) role stores it as the fact
    C(deployment_plan), which every role reads; no role derives it again.
  - The inputs are the public variables of the C(erpnext), C(backup), C(traefik) and C(monitoring) roles, with the
    defaults of those roles under the host's own values. Traefik's defaults are left out when C(erpnext_proxy) is
    not V(traefik), and monitoring's when C(erpstack_monitoring) is V(false), as if those roles were not there.
  - Every check of the inputs that needs no host access runs here, and one message reports the variable at fault.
    The plan carries no secret value, only the names and files of secrets.
  - Takes no options.
author:
  - erpstack contributors (@erpstack)
attributes:
  action:
    support: full
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  async:
    support: none
    description: Supports being used with the C(async) keyword.
  bypass_host_loop:
    support: none
    description: Forces a 'global' task that does not execute per host, this bypasses per host templating and serial,
      throttle and other loop considerations.
  check_mode:
    support: full
    description: Can run in check_mode and return changed status prediction without modifying target.
    details:
      - Nothing is changed in either mode; the plan is the same.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
notes:
  - The host's facts must have been gathered (at least C(gather_subset=hardware)).
  - The MariaDB drop-in starts with the commented C(ansible_managed) string as configured, without the
    time placeholders of the template module.
seealso:
  - name: Architecture
    description: How the plan flows to each role (docs/architecture.md).
    link: https://github.com/erpstack/erpnext/blob/main/docs/architecture.md
"""

EXAMPLES = r"""
- name: Compute the deployment plan of the host
  erpstack.erpnext.plan:
  register: plan_result

- name: Show the compose document of the first bench
  ansible.builtin.debug:
    var: plan_result.plan.benches[0].compose
"""

RETURN = r"""
plan:
  description: The host's deployment.
  returned: success
  type: dict
  contains:
    host:
      description: The inventory host name.
      type: str
      sample: erp-prod-1.example.com
    proxy:
      description: The proxy in front of the benches, V(traefik) or V(none).
      type: str
      sample: traefik
    bench_specs:
      description: The benches and their sites as checked and normalised, without secret values.
      type: list
      elements: dict
    benches:
      description:
        - One entry per bench, with C(name), C(project_dir), C(images), C(sites), C(sites_present), C(sites_absent),
          C(site_hosts), C(check_url), C(secrets) (file, owner, mode and consumers of each), C(rotatable),
          C(db_scope), C(db_socket), C(db_accounts), C(sizing), C(mariadb) (C(settings) and the C(cnf) file),
          C(compose) (the compose document), C(build) (the image built for custom apps, with C(image), C(base), C(apps),
          C(containerfile), C(network); null without custom apps), C(apps) (the apps its image carries) and
          C(upgrade_backup) (C(physical) or C(logical), the bench's backup method).
      type: list
      elements: dict
    memory:
      description: The memory budget, in MiB; C(shared_mb) is Traefik's and the monitoring stack's limits.
      type: dict
      sample: {host_mb: 15990, cpus: 4, shared_mb: 1792, benches_mb: {erpnext: 11104}}
    traefik:
      description: Traefik's C(image), C(static) and C(dynamic) configuration, C(secrets) and C(compose) document; V(null)
        without Traefik.
      type: dict
    backup:
      description: The backup tool's C(config) and the C(enabled_benches).
      type: dict
    monitoring:
      description: The monitoring stack's documents (C(compose), C(prometheus), C(blackbox), C(backup_benches)) and
        C(images_needed); V(null) when monitoring is off.
      type: dict
"""
