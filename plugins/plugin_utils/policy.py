# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The safety policy: settings that every program accepts but that are unsafe, refused unless their override is set.

Each rule has one override variable (``OVERRIDES``), declared with its default in a role's argument specs. The
variables reach ``policy_errors`` already type-checked (plugin_utils/schema.py). A refusal never repeats a value that
may carry a secret: URLs, passwords and repository strings are named, never shown.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import re

try:
    from urllib.parse import urlsplit
except ImportError:  # Python 2.7, for ansible-test's compile check
    from urlparse import urlsplit  # pylint: disable=import-error

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import bench_subnet

# override variable -> what it allows
OVERRIDES = {
    "erpnext_allow_subnet_overlap": "a bench network that overlaps Docker's default bridge network",
    "erpstack_allow_short_passwords": "a supplied restic or SMTP password shorter than %d characters",
    "erpstack_allow_credentials_in_urls": "a user name and password written inside a URL",
    "monitoring_allow_plain_http_webhooks": "an alert webhook over plain http://",
    "monitoring_allow_smtp_auth_without_tls": "SMTP authentication without STARTTLS",
    "traefik_allow_reserved_acme_email": "an ACME e-mail address at a reserved domain (RFC 2606, RFC 6761)",
}
MIN_PASSWORD = 12
# Docker's default bridge (docker0) when daemon.json sets no "bip"
DOCKER_DEFAULT_BRIDGE = "172.17.0.0/16"
# Domains that can never receive mail (RFC 2606, RFC 6761); Let's Encrypt refuses accounts at them
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid", "localhost", "local")
LETSENCRYPT_CA = re.compile(r"^https://acme(-staging)?-v02\.api\.letsencrypt\.org/")


def has_credentials(url):
    """Whether a URL (restic's ``rest:``/``s3:`` prefix allowed) carries ``user:password@``, whatever its characters.

    The authority ends at the first '/', '?' or '#' after '//' only when no '@' follows it before the path: a
    password may hold '/', so every '@' after '//' and before the host part is looked for."""
    text = str(url)
    for prefix in ("rest:", "s3:"):
        if text.startswith(prefix):
            text = text[len(prefix):]
    start = text.find("//")
    if start < 0:
        return False
    rest = text[start + 2:]
    # restic and Alertmanager read the user info up to the last '@' before the path; a '/' may sit in a password
    at = rest.rfind("@")
    if at < 0:
        return False
    return ":" in rest[:at] or "/" not in rest[:at]


def reserved_email(address):
    domain = str(address).rpartition("@")[2].lower().rstrip(".")
    return domain in RESERVED_DOMAINS or domain.endswith(tuple("." + d for d in RESERVED_DOMAINS)) \
        or domain.rpartition(".")[2] in RESERVED_TLDS


def _overlap(v, benches):
    options = dict(v.get("docker_daemon_options") or {})
    options.update(v.get("docker_daemon_options_extension") or {})
    bridge = options.get("bip") or DOCKER_DEFAULT_BRIDGE
    try:
        bridge_net = ipaddress.ip_interface(str(bridge)).network
    except ValueError:
        return []
    errors = []
    for bench in benches:
        net = bench_subnet(bench.get("network_subnet"))
        if net is not None and net.overlaps(bridge_net):
            errors.append("bench %s: network_subnet %s overlaps Docker's default bridge network %s, so containers "
                          "could not reach hosts on one of them; pick another range (e.g. 172.30.0.0/16)"
                          % (bench.get("name"), net, bridge_net))
    return errors


def _webhooks(receivers):
    for name in sorted(receivers or {}):
        hooks = (receivers[name] or {}).get("webhook") if isinstance(receivers[name], dict) else None
        for hook in hooks if isinstance(hooks, list) else [hooks] if hooks else []:
            if isinstance(hook, dict):
                yield name, str(hook.get("url", ""))


def policy_errors(v, benches):
    """The refusals of the policy for the variables ``v`` (a mapping with .get) and the plan's benches
    (name and network_subnet each). Each names its override."""
    def allowed(name):
        return v.get(name, False) is True

    errors = []
    if not allowed("erpnext_allow_subnet_overlap"):
        errors.extend("%s (erpnext_allow_subnet_overlap: true allows it)" % e for e in _overlap(v, benches))
    if not allowed("erpstack_allow_short_passwords"):
        for name in ("backup_restic_password", "monitoring_smtp_auth_password"):
            value = v.get(name, "")
            if isinstance(value, str) and 0 < len(value) < MIN_PASSWORD:
                errors.append("%s is shorter than %d characters (leave it empty to have one generated where the "
                              "collection can; erpstack_allow_short_passwords: true allows it)" % (name, MIN_PASSWORD))
    if not allowed("erpstack_allow_credentials_in_urls"):
        if has_credentials(v.get("backup_restic_repository", "")):
            errors.append("backup_restic_repository carries a user and password in the URL (the value is not shown); "
                          "give them in backup_restic_env instead, or set erpstack_allow_credentials_in_urls: true")
        for name, url in _webhooks(v.get("monitoring_alert_receivers")):
            if has_credentials(url):
                errors.append("monitoring_alert_receivers.%s: a webhook URL carries a user and password (the URL is "
                              "not shown); erpstack_allow_credentials_in_urls: true allows it" % name)
    if not allowed("monitoring_allow_plain_http_webhooks"):
        for name, url in _webhooks(v.get("monitoring_alert_receivers")):
            if urlsplit(url).scheme == "http":
                errors.append("monitoring_alert_receivers.%s: a webhook is plain http:// (the URL is not shown): "
                              "alerts and any token in it travel unencrypted; use https:// or set "
                              "monitoring_allow_plain_http_webhooks: true" % name)
    if not allowed("monitoring_allow_smtp_auth_without_tls"):
        if v.get("monitoring_smtp_auth_password") and v.get("monitoring_smtp_require_tls") is False:
            errors.append("monitoring_smtp_auth_password is set but monitoring_smtp_require_tls is false: the password "
                          "would cross the network in clear; require TLS or set "
                          "monitoring_allow_smtp_auth_without_tls: true")
    if not allowed("traefik_allow_reserved_acme_email") and v.get("traefik_certificate_resolvers"):
        email = v.get("traefik_acme_email", "")
        ca_server = v.get("traefik_acme_ca_server", "")
        if email and reserved_email(email) and (not ca_server or LETSENCRYPT_CA.match(str(ca_server))):
            errors.append("traefik_acme_email %r is at a reserved domain, which Let's Encrypt refuses: give an "
                          "address that receives mail (expiry warnings go there), or set "
                          "traefik_allow_reserved_acme_email: true" % email)
    return errors
