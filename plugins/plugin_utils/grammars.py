# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faithful parsers of the values other programs read, for the checks that run before any change.

Each follows the reader's own grammar, cited, so that what passes here is what the program accepts as meant (where
a program silently ignores or misreads a value, that is refused too):
- ``cron_errors``: Debian's cron 3.0pl1 (Vixie cron), ``entry.c``: five fields, or one ``@`` keyword.
- ``mariadb_size_errors``: MariaDB's ``my_getopt.c`` ``eval_num_suffix``: an integer and one unit letter.
- ``cipher_suite_errors``: the names Go's ``crypto/tls`` (Traefik) knows, not OpenSSL's.
- ``matcher_errors``: Alertmanager's matcher syntax, ``label op value``.
- ``smarthost_errors``: Alertmanager's ``smarthost``, ``host:port`` (Go's ``net.SplitHostPort``).
- ``daemon_options_errors``: the keys of dockerd's ``daemon.json`` and go-units' sizes for ``log-opts``.
- ``traefik_static_errors``: the top-level sections of Traefik v3's static configuration.
Programs that can check themselves on the managed host (``systemd-analyze calendar``, amtool, promtool, the backup
tool) do so there instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

# -- cron ------------------------------------------------------------------------------------------------------------
CRON_KEYWORDS = ("@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# field -> (low, high, names in order from low)
CRON_FIELDS = (
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day of month", 1, 31, None),
    ("month", 1, 12, ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")),
    # 0 and 7 are both Sunday
    ("day of week", 0, 7, ("sun", "mon", "tue", "wed", "thu", "fri", "sat")),
)


def _cron_number(token, low, high, names):
    if token.isdigit():
        number = int(token)
    elif names and token.lower() in names:
        number = names.index(token.lower()) + low
    else:
        return None
    return number if low <= number <= high else None


def _cron_field_errors(text, field):
    name, low, high, names = field
    errors = []
    for item in text.split(","):
        span, slash, step = item.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            errors.append("%s: step %r must be a whole number of at least 1" % (name, step))
            continue
        if span == "*":
            continue
        first, dash, last = span.partition("-")
        if not dash and slash:
            # Vixie cron reads a single value as such and stops: "5/10" is refused
            errors.append("%s: %r: a step needs * or a range before it" % (name, item))
            continue
        start = _cron_number(first, low, high, names)
        end = _cron_number(last, low, high, names) if dash else start
        if start is None or end is None:
            errors.append("%s: %r is not a value from %d to %d%s" % (
                name, item, low, high, " or a name (%s)" % "-".join((names[0], names[-1])) if names else ""))
        elif start > end:
            errors.append("%s: the range %r runs backwards" % (name, span))
    return errors


def cron_errors(expression):
    """The problems of a crontab schedule (the five time fields, or an @ keyword); [] when cron accepts it."""
    if not isinstance(expression, str):
        return ["a cron schedule is a string of five fields (got %r)" % (expression,)]
    text = expression.strip()
    if text.startswith("@"):
        return [] if text in CRON_KEYWORDS else ["%r is not one of cron's keywords %s" % (text, ", ".join(CRON_KEYWORDS))]
    fields = text.split()
    if len(fields) != 5:
        return ["%r has %d fields; cron wants five: minute hour day-of-month month day-of-week" % (text, len(fields))]
    errors = []
    for value, field in zip(fields, CRON_FIELDS):
        errors.extend(_cron_field_errors(value, field))
    return errors


# -- MariaDB option sizes ---------------------------------------------------------------------------------------------
# MariaDB 10.11 (measured with mariadbd --help --verbose): strtoll() then one unit letter. "1.5G" and "1 G" stop at
# an unknown suffix ('.', ' ') and the server refuses to start; but after the letter the rest is ignored, so "1GB" is
# 1G, "10MX" is 10M and "1e3" is 1 exbibyte. Only a whole number, a unit letter and an optional B pass here.
MARIADB_SIZE_RE = re.compile(r"^[0-9]+([kKmMgGtTpPeE][bB]?)?$")
# The MariaDB options whose value is a size in bytes (those ending in _size, and these)
MARIADB_SIZE_OPTIONS = ("max_allowed_packet", "thread_stack", "net_buffer_length", "innodb_log_buffer_size",
                        "max_binlog_size", "max_binlog_cache_size", "innodb_io_capacity_max")


def is_mariadb_size_option(name):
    name = str(name).replace("-", "_")
    return name.endswith("_size") or name in MARIADB_SIZE_OPTIONS


def mariadb_size_errors(name, value):
    """[] when MariaDB reads ``value`` as the size option ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not MARIADB_SIZE_RE.match(str(value)):
        return ["%s = %r is not a size MariaDB reads as meant: a whole number with at most one unit letter (K, M, G, "
                "T, P, E), e.g. 1536M rather than 1.5G" % (name, value)]
    return []


# -- Traefik (Go crypto/tls) cipher suites ------------------------------------------------------------------------------
GO_CIPHER_SUITES = (
    # TLS 1.0-1.2
    "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    # TLS 1.3 (Go always enables them; Traefik accepts the names)
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
)


def cipher_suite_errors(names):
    errors = []
    for name in names or []:
        if name not in GO_CIPHER_SUITES:
            hint = ""
            if isinstance(name, str) and re.match(r"^[A-Z0-9]+(-[A-Z0-9]+)+$", name):
                hint = " (that is OpenSSL's spelling: Traefik takes Go's, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)"
            errors.append("cipher suite %r is not one Traefik knows%s" % (name, hint))
    return errors


# -- Alertmanager -----------------------------------------------------------------------------------------------------
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_MATCHER_RE = re.compile(r'^\s*(%s)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^\s"=!~,{}]*)\s*$' % _LABEL)


def matcher_errors(matcher):
    """[] when Alertmanager parses ``matcher`` (``label op value``, op one of =, !=, =~, !~)."""
    if not isinstance(matcher, str) or not _MATCHER_RE.match(matcher):
        return ["matcher %r is not 'label=value', 'label!=value', 'label=~regex' or 'label!~regex'" % (matcher,)]
    match = _MATCHER_RE.match(matcher)
    if match.group(2) in ("=~", "!~"):
        value = match.group(3)
        if value.startswith('"'):
            value = value[1:-1]
        try:
            re.compile(value)
        except re.error as exc:
            return ["matcher %r: the regular expression does not compile (%s)" % (matcher, exc)]
    return []


def smarthost_errors(smarthost):
    """[] for ``host:port`` (an IPv6 address in brackets), which Alertmanager's smarthost needs: no default port."""
    text = str(smarthost)
    match = re.match(r"^(\[[0-9a-fA-F:.]+\]|[^\s:\[\]]+):([0-9]{1,5})$", text)
    if not match or not 0 < int(match.group(2)) < 65536:
        return ["monitoring_smtp_smarthost %r must be host:port (Alertmanager has no default port; 587 for "
                "STARTTLS, 465 for TLS)" % text]
    return []


# -- dockerd's daemon.json ---------------------------------------------------------------------------------------------
# The keys dockerd reads from daemon.json (Docker 20.10 to 28, "Daemon configuration file" in the dockerd reference);
# dockerd refuses to start on any other ("the following directives don't match any configuration option").
DAEMON_KEYS = (
    "allow-direct-routing", "allow-nondistributable-artifacts", "api-cors-header", "authorization-plugins", "bip",
    "bip6", "bridge", "bridge-accept-fwmark", "builder", "cdi-spec-dirs", "cgroup-parent", "cluster-advertise",
    "cluster-store", "cluster-store-opts", "containerd", "containerd-namespace", "containerd-plugins-namespace",
    "cpu-rt-period", "cpu-rt-runtime", "data-root", "debug", "default-address-pools", "default-cgroupns-mode",
    "default-gateway", "default-gateway-v6", "default-ipc-mode", "default-network-opts", "default-runtime",
    "default-shm-size", "default-ulimits", "dns", "dns-opts", "dns-search", "exec-opts", "exec-root", "experimental",
    "features", "firewall-backend", "fixed-cidr", "fixed-cidr-v6", "group", "host-gateway-ip", "host-gateway-ips",
    "hosts", "icc", "init", "init-path", "insecure-registries", "ip", "ip-forward", "ip-forward-no-drop", "ip-masq",
    "ip6tables", "iptables", "ipv6", "labels", "live-restore", "log-driver", "log-format", "log-level", "log-opts",
    "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts", "metrics-addr", "mtu",
    "no-new-privileges", "node-generic-resources", "oom-score-adjust", "pidfile", "proxies", "raw-logs",
    "registry-mirrors", "runtimes", "seccomp-profile", "selinux-enabled", "shutdown-timeout", "storage-driver",
    "storage-opts", "swarm-default-advertise-addr", "tls", "tlscacert", "tlscert", "tlskey", "tlsverify",
    "userland-proxy", "userland-proxy-path", "userns-remap",
)
# go-units RAMInBytes, which the json-file and local drivers use for max-size
DOCKER_SIZE_RE = re.compile(r"^([0-9]+(\.[0-9]+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")


def daemon_options_errors(options, where="docker_daemon_options"):
    """What dockerd would refuse in daemon.json: unknown keys, and log-opts sizes and counts it cannot read."""
    errors = []
    for key in sorted(options):
        if key not in DAEMON_KEYS:
            close = [k for k in DAEMON_KEYS if k.replace("-", "") == str(key).replace("-", "").replace("_", "")
                     or k.rstrip("s") == str(key).rstrip("s")]
            errors.append("%s: dockerd has no option %r%s" % (where, key, " (did you mean %s?)" % close[0] if close else ""))
    log_opts = options.get("log-opts") or {}
    if isinstance(log_opts, dict):
        size = log_opts.get("max-size")
        if isinstance(size, str) and not DOCKER_SIZE_RE.match(size):
            errors.append("%s: log-opts max-size %r is not a size dockerd reads (e.g. 10m, 100k, 1g)" % (where, size))
        count = log_opts.get("max-file")
        if isinstance(count, str) and not (count.isdigit() and int(count) >= 1):
            errors.append("%s: log-opts max-file %r must be a whole number of at least 1, as a string" % (where, count))
    return errors


# -- Traefik's static configuration --------------------------------------------------------------------------------------
# The top-level sections of Traefik v3's static configuration (reference: "Static Configuration: File"). Traefik
# ignores any other without a word (measured with 3.7.15: `access_log: {}` is left out of the configuration it loads,
# so no access log is written), which is why a misspelt section is refused here.
TRAEFIK_STATIC_SECTIONS = (
    "global", "serversTransport", "tcpServersTransport", "entryPoints", "providers", "api", "metrics", "ping", "log",
    "accessLog", "tracing", "hostResolver", "certificatesResolvers", "experimental", "core", "spiffe", "ocsp",
)


def traefik_static_errors(extension, where="traefik_static_extension"):
    """Top-level keys of a static configuration extension that Traefik does not know (the names are case-sensitive)."""
    errors = []
    for key in sorted(extension or {}):
        if key not in TRAEFIK_STATIC_SECTIONS:
            close = [k for k in TRAEFIK_STATIC_SECTIONS if k.lower() == str(key).lower().replace("_", "")]
            errors.append("%s: Traefik's static configuration has no section %r%s" % (
                where, key, " (did you mean %s?)" % close[0] if close else ""))
    return errors
