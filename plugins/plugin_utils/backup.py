# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the backup tool needs to know of one bench, from the erpnext role's plan and the backup settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import BenchSpecError, user_host_scope
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grammars import cron_errors

METHODS = ("logical", "physical")
OVERRIDE_KEYS = ("method", "incremental", "full_every_days", "on_calendar", "cron", "enabled")


class BackupSpecError(BenchSpecError):
    """Invalid backup settings."""


def _bool(value, what):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "on", "1"):
        return True
    if text in ("false", "no", "off", "0"):
        return False
    raise BackupSpecError("%s must be a boolean, not %r" % (what, value))


def _int(value, what, minimum):
    try:
        number = int(str(value))
    except ValueError:
        raise BackupSpecError("%s must be a whole number, not %r" % (what, value))
    if number < minimum:
        raise BackupSpecError("%s must be at least %d, not %d" % (what, minimum, number))
    return number


def backup_bench(bench, defaults, overrides=None):
    """The backup tool's entry for one bench of the plan (see roles/backup/vars/main.yml).

    ``defaults`` carries the role-wide settings and the erpnext role's names; ``overrides`` maps bench names to
    the settings that differ for that bench.
    """
    overrides = overrides or {}
    name = bench["name"]
    own = overrides.get(name) or {}
    if not isinstance(own, dict):
        raise BackupSpecError("backup_benches.%s must be a mapping" % name)
    unknown = sorted(set(own) - set(OVERRIDE_KEYS))
    if unknown:
        raise BackupSpecError("backup_benches.%s has unknown keys %s (known: %s)"
                              % (name, ", ".join(unknown), ", ".join(OVERRIDE_KEYS)))
    spec = dict((key, own.get(key, defaults.get(key))) for key in OVERRIDE_KEYS)
    where = "backup_benches.%s" % name if own else "backup settings of bench %s" % name
    if spec["method"] not in METHODS:
        raise BackupSpecError("%s: method must be one of %s, not %r" % (where, ", ".join(METHODS), spec["method"]))
    cron = cron_errors(spec["cron"])
    if cron:
        raise BackupSpecError("%s: cron: %s" % (where, "; ".join(cron)))
    if not str(spec["on_calendar"]).strip():
        raise BackupSpecError("%s: on_calendar must not be empty" % where)
    project_dir = "%s/%s" % (str(defaults["base_dir"]).rstrip("/"), name)
    return {
        "enabled": _bool(spec["enabled"], where + ": enabled"),
        "method": spec["method"],
        "incremental": _bool(spec["incremental"], where + ": incremental"),
        "full_every_days": _int(spec["full_every_days"], where + ": full_every_days", 1),
        "on_calendar": str(spec["on_calendar"]).strip(),
        "cron": str(spec["cron"]).strip(),
        "project_dir": project_dir,
        "sites": [site["name"] for site in bench.get("sites", []) if site.get("state", "present") == "present"],
        "images": {
            "erpnext": "%s:%s" % (defaults["erpnext_image"], bench.get("version") or defaults["erpnext_version"]),
            "mariadb": defaults["mariadb_image"],
        },
        "db_scope": user_host_scope(bench["network_subnet"]),
        "db_prefix": defaults["db_prefix"],
        "db_admin_user": defaults["db_admin_user"],
        "db_backup_user": defaults["db_backup_user"],
        "db_accounts": dict(defaults["db_accounts"]),
    }
