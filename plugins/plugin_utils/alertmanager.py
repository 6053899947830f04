# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Alertmanager's configuration (receivers, routes, inhibition) from the inventory's monitoring_alertmanager settings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import EMAIL_RE, BenchSpecError
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grammars import matcher_errors, smarthost_errors
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.monitoring import RECEIVER_RE, duration_seconds


def _receiver(name, spec, smtp):
    errors = []
    spec = spec or {}
    out = {"name": name}
    if not isinstance(spec, dict):
        return out, ["receiver %s must be a dict with email and/or webhook" % name]
    unknown = sorted(set(spec) - {"email", "webhook"})
    if unknown:
        errors.append("receiver %s: unknown keys %s (email, webhook)" % (name, ", ".join(unknown)))
    emails = spec.get("email")
    if emails:
        emails = emails if isinstance(emails, list) else [emails]
        out["email_configs"] = []
        for email in emails:
            if isinstance(email, str):
                email = {"to": email}
            if not isinstance(email, dict):
                errors.append("receiver %s: each email must be a dict with to" % name)
                continue
            if not EMAIL_RE.match(str((email or {}).get("to", ""))):
                errors.append("receiver %s: email needs an address in to (got %r)" % (name, (email or {}).get("to")))
                continue
            out["email_configs"].append({"to": email["to"], "send_resolved": bool(email.get("send_resolved", True))})
        if not smtp.get("smarthost") or not EMAIL_RE.match(str(smtp.get("from") or "")):
            errors.append("receiver %s sends e-mail: set monitoring_smtp_smarthost (host:port) and monitoring_smtp_from"
                          % name)
        else:
            errors.extend(smarthost_errors(smtp["smarthost"]))
    hooks = spec.get("webhook")
    if hooks:
        hooks = hooks if isinstance(hooks, list) else [hooks]
        out["webhook_configs"] = []
        for hook in hooks:
            if not isinstance(hook, dict):
                # it may be the URL itself, token included: never repeat it
                errors.append("receiver %s: each webhook must be a dict with url" % name)
                continue
            url = str(hook.get("url", ""))
            if not re.match(r"^https?://[^\s/]+", url):
                # the URL may carry a token: never repeat it
                errors.append("receiver %s: a webhook needs an http(s):// url" % name)
                continue
            try:
                max_alerts = int(hook.get("max_alerts", 0))
            except (TypeError, ValueError):
                errors.append("receiver %s: max_alerts must be a whole number" % name)
                continue
            out["webhook_configs"].append({"url": url, "send_resolved": bool(hook.get("send_resolved", True)),
                                           "max_alerts": max_alerts})
    if not emails and not hooks:
        errors.append("receiver %s has neither email nor webhook" % name)
    return out, errors


# Causes silence their symptoms: a bench's database or Redis down explains its sites' failures, a site down its
# latency and errors; a critical alert silences the warning of the same alert
INHIBIT_RULES = [
    {"source_matchers": ['alertname=~"MariaDBDown|RedisDown"'],
     "target_matchers": ['alertname=~"SiteDown|SiteHttp5xxRatioHigh|SiteLatencyHigh|QueueGrowingWithoutWorker|'
                         'MariaDBConnectionsNearLimit|RedisMemoryNearLimit|BackupFailed"'],
     "equal": ["bench"]},
    {"source_matchers": ['alertname="SiteDown"'],
     "target_matchers": ['alertname=~"SiteHttp5xxRatioHigh|SiteLatencyHigh"'],
     "equal": ["bench"]},
    {"source_matchers": ['alertname="SiteDown"'],
     "target_matchers": ['alertname="CertificateExpiringSoon"'],
     "equal": ["bench", "site"]},
    {"source_matchers": ['severity="critical"'], "target_matchers": ['severity="warning"'],
     "equal": ["alertname", "bench", "site"]},
]


def alertmanager_config(settings):
    """Alertmanager's configuration, credentials included (write it as a secret file, never print it).

    ``settings``: ``receivers`` ({name: {email: {to}|[...], webhook: {url}|[...]}}), ``default_receiver``,
    ``routes`` ([{receiver, matchers: [...], continue}]), ``group_wait``, ``group_interval``, ``repeat_interval``,
    ``smtp`` (``smarthost``, ``from``, ``auth_username``, ``auth_password``, ``require_tls``).
    Raises BenchSpecError (messages never include a URL or password).
    """
    errors = []
    smtp = settings.get("smtp") or {}
    receivers = settings.get("receivers") or {}
    if not isinstance(receivers, dict):
        raise BenchSpecError("monitoring_alert_receivers must be a dict of receiver name -> {email, webhook}")
    out_receivers = [{"name": "blackhole"}]
    for name in sorted(receivers):
        if not RECEIVER_RE.match(str(name)) or name == "blackhole":
            errors.append("receiver name %r: letters, digits, '-' and '_' (blackhole is reserved)" % name)
            continue
        receiver, problems = _receiver(name, receivers[name], smtp)
        errors.extend(problems)
        out_receivers.append(receiver)
    default = settings.get("default_receiver") or ""
    if default and default not in receivers:
        errors.append("monitoring_alert_default_receiver %r is not a configured receiver" % default)
    if receivers and not default:
        errors.append("monitoring_alert_default_receiver must name one of the receivers (%s)"
                      % ", ".join(sorted(receivers)))
    routes = []
    for i, route in enumerate(settings.get("routes") or []):
        route = route or {}
        if route.get("receiver") not in receivers:
            errors.append("monitoring_alert_routes[%d]: receiver %r is not configured" % (i, route.get("receiver")))
        matchers = route.get("matchers") or []
        if not isinstance(matchers, list) or not matchers:
            errors.append("monitoring_alert_routes[%d]: matchers must be a non-empty list such as "
                          "['severity=\"critical\"']" % i)
        elif isinstance(matchers, list):
            for matcher in matchers:
                errors.extend("monitoring_alert_routes[%d]: %s" % (i, e) for e in matcher_errors(matcher))
        unknown = sorted(set(route) - {"receiver", "matchers", "continue", "group_by", "repeat_interval"})
        if unknown:
            errors.append("monitoring_alert_routes[%d]: unknown keys %s" % (i, ", ".join(unknown)))
        entry = {"receiver": route.get("receiver"), "matchers": list(matchers)}
        for key in ("continue", "group_by", "repeat_interval"):
            if key in route:
                entry[key] = route[key]
        routes.append(entry)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        try:
            duration_seconds(settings.get(key))
        except ValueError as exc:
            errors.append("monitoring_alert_%s: %s" % (key, exc))
    if errors:
        raise BenchSpecError("; ".join(errors))
    config = {"global": {"resolve_timeout": "5m"}}
    if smtp.get("smarthost"):
        config["global"].update({"smtp_smarthost": smtp["smarthost"], "smtp_from": smtp["from"],
                                 "smtp_require_tls": bool(smtp.get("require_tls", True))})
        if smtp.get("auth_username"):
            config["global"]["smtp_auth_username"] = smtp["auth_username"]
            # str(): a password given straight from ansible-vault arrives encrypted (ansible-core 2.19 keeps it an
            # EncryptedString until it is read as text) and would be written as a `!vault` block
            config["global"]["smtp_auth_password"] = str(smtp.get("auth_password") or "")
    config["route"] = {
        # without receivers alerts are still visible in Alertmanager and Grafana, just not sent anywhere
        "receiver": default or "blackhole",
        "group_by": ["alertname", "bench", "site"],
        "group_wait": settings["group_wait"],
        "group_interval": settings["group_interval"],
        "repeat_interval": settings["repeat_interval"],
    }
    if routes:
        config["route"]["routes"] = routes
    config["receivers"] = out_receivers
    config["inhibit_rules"] = INHIBIT_RULES
    return config
