# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action: run the controller's copy of a file's reader on the rendered candidate (see
plugins/modules/program_check.py for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

import yaml

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.programs import CHECKS, run_check


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("check", "content", "secret"))

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        check = self._task.args.get("check")
        content = self._task.args.get("content")
        secret = self._task.args.get("secret", False)
        if check not in CHECKS:
            raise AnsibleActionFail("check must be one of %s (got %r)" % (", ".join(sorted(CHECKS)), check))
        if not isinstance(content, str):
            raise AnsibleActionFail("content must be the file's text")
        if not isinstance(secret, bool):
            raise AnsibleActionFail("secret must be true or false")
        content = to_text(content)
        data = None
        if secret:
            try:
                data = yaml.safe_load(content)
            except yaml.YAMLError:
                raise AnsibleActionFail("the secret file to check is not YAML; it is not shown")
        status, message = run_check(check, content, data=data, secret=secret)
        result.update(changed=False, msg=message, program=CHECKS[check][0], checked=status == "ok")
        if status == "failed":
            result["failed"] = True
        elif status == "absent":
            result["skipped"] = True
            result["skip_reason"] = message
        return result
