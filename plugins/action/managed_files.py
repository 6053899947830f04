# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action: render the entries' templates and read their role files on the controller, then apply every entry in one
run of the module (see plugins/modules/managed_files.py for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

MODULE = "erpstack.erpnext.managed_files"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("entries",))

    def _content(self, index, entry, task_vars):
        """The entry as the module takes it: a template or a role file turned into its content."""
        entry = dict(entry)
        sources = [key for key in ("content", "template", "src") if entry.get(key) is not None]
        if len(sources) > 1:
            raise AnsibleError("entries[%d] (%s): give one of content, template and src, not %s"
                               % (index, entry.get("path"), " and ".join(sources)))
        template_vars = entry.pop("template_vars", None)
        if template_vars is not None and "template" not in sources:
            raise AnsibleError("entries[%d] (%s): template_vars are only for a template" % (index, entry.get("path")))
        if "template" in sources:
            # the template lookup renders as the template module does (ansible_managed, trim_blocks, the trailing
            # newline kept), from the role's templates/ directory
            lookup = lookup_loader.get("ansible.builtin.template", loader=self._loader, templar=self._templar)
            entry["content"] = lookup.run([entry.pop("template")], task_vars, template_vars=template_vars or {})[0]
        elif "src" in sources:
            path = self._find_needle("files", entry.pop("src"))
            with open(path, "rb") as handle:
                entry["content"] = to_text(handle.read(), errors="surrogate_or_strict")
        return entry

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        entries = self._task.args.get("entries")
        if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
            result.update(failed=True, msg="entries must be a list of dicts, got %s" % type(entries).__name__)
            return result
        try:
            entries = [self._content(index, entry, task_vars) for index, entry in enumerate(entries)]
        except AnsibleError as exc:
            result.update(failed=True, msg=to_native(exc.message if hasattr(exc, "message") else exc))
            return result
        result.update(self._execute_module(module_name=MODULE, module_args={"entries": entries},
                                           task_vars=task_vars))
        return result
