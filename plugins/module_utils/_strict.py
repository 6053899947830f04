# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Refuse the coercions of AnsibleModule that change a value's meaning.

AnsibleModule splits a string given for a list at its commas (``apps: erpnext,hrms`` or ``apps: erp nextx``) and
parses a string given for a mapping as ``k=v`` pairs: an operator's slip becomes another, valid-looking value. The
modules of this collection take lists and mappings only as lists and mappings. (Booleans and integers written as text
are converted faithfully by AnsibleModule, ``"false"`` included, and ad-hoc ``-a k=v`` calls rely on it.)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils import basic
from ansible.module_utils.six.moves.collections_abc import Mapping


def _problems(spec, raw, prefix):
    problems = []
    for name, option in sorted(spec.items()):
        if name not in raw or raw[name] is None:
            continue
        value, kind, path = raw[name], option.get('type', 'str'), prefix + name
        shown = '(secret, not shown)' if option.get('no_log') else repr(value)
        if kind == 'list' and not isinstance(value, (list, tuple)):
            problems.append('%s must be a list, not %s %s: write [%s] for one item'
                            % (path, type(value).__name__, shown, 'ITEM' if option.get('no_log') else value))
        elif kind == 'dict' and not isinstance(value, Mapping):
            problems.append('%s must be a mapping, not %s %s' % (path, type(value).__name__, shown))
        elif kind == 'list' and option.get('elements') in ('list', 'dict'):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    problems.append('%s[%d] must be a %s, not a string' % (path, index, option['elements']))
                elif isinstance(item, Mapping) and option.get('options'):
                    problems.extend(_problems(option['options'], item, '%s[%d].' % (path, index)))
        elif kind == 'dict' and option.get('options'):
            problems.extend(_problems(option['options'], value, path + '.'))
    return problems


def refuse_coercions(argument_spec):
    """Fail the module when a list or mapping option was given as a string: called with the module's argument spec
    before AnsibleModule reads the arguments, whose own conversion would fail with a message that names no option, or
    succeed with another value. Returns the spec."""
    try:
        raw = basic._load_params()
    except Exception:  # pylint: disable=broad-except
        # no arguments to read (ansible-test's introspection of the spec): AnsibleModule reports it as usual
        return argument_spec
    problems = _problems(argument_spec, raw, '') if isinstance(raw, Mapping) else []
    if problems:
        # every option untouched (type raw, no_log kept), only to fail as modules do, with the invocation masked
        untouched = dict((name, dict(type='raw', no_log=bool(option.get('no_log'))))
                         for name, option in argument_spec.items())
        basic.AnsibleModule(argument_spec=untouched, supports_check_mode=True).fail_json(msg='; '.join(problems))
    return argument_spec
