# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/grammars.py: what cron, MariaDB, Traefik and Alertmanager accept, and what they refuse.

Each verdict follows the program's own grammar (cited in grammars.py); the MariaDB sizes the roles render are also
read by the real server in every Molecule scenario."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils import grammars

CRON_GOOD = ["30 2 * * *", "*/15 * * * *", "0 0-23/2 * * *", "0 3 * * mon-fri", "0 3 * * 0,7", "5 4 1 jan *",
             "0 0 1,15 * *", "@daily", "@reboot", "  0 1 * * sun  ", "0 22 * * 1-5", "0 0 31 12 *"]
CRON_BAD = {
    "60 * * * *": "minute: '60' is not a value from 0 to 59",
    "0 24 * * *": "hour: '24' is not a value from 0 to 23",
    "0 0 0 * *": "day of month: '0' is not a value from 1 to 31",
    "0 0 * 13 *": "month: '13' is not a value from 1 to 12",
    "0 0 * * 8": "day of week: '8' is not a value from 0 to 7",
    "0 0 * * funday": "day of week: 'funday' is not a value from 0 to 7 or a name (sun-sat)",
    "30 2 * *": "has 4 fields; cron wants five",
    "30 2 * * * *": "has 6 fields",
    "*/0 * * * *": "minute: step '0' must be a whole number of at least 1",
    "5/10 * * * *": "minute: '5/10': a step needs * or a range before it",
    "0 5-1 * * *": "hour: the range '5-1' runs backwards",
    "@every_day": "'@every_day' is not one of cron's keywords",
    "": "has 0 fields",
}


@pytest.mark.parametrize("expression", CRON_GOOD)
def test_cron_accepts_what_debian_cron_accepts(expression):
    assert grammars.cron_errors(expression) == []


@pytest.mark.parametrize("expression, message", list(CRON_BAD.items()), ids=list(CRON_BAD))
def test_cron_refuses_what_debian_cron_refuses(expression, message):
    errors = grammars.cron_errors(expression)
    assert errors and message in errors[0], errors


@pytest.mark.parametrize("value", [1073741824, "1G", "1536M", "64m", "512k", "16777216", "2T", "1GB", "1gb"])
def test_mariadb_reads_these_sizes(value):
    assert grammars.mariadb_size_errors("innodb_buffer_pool_size", value) == []


# refused by mariadbd 10.11 ("1.5G", "1 G", "0x10", -5) or read as something else ("10MX" is 10M, "1e3" 1 EiB)
@pytest.mark.parametrize("value", ["1.5G", "ten megs", "1 G", "", "0x10", "-5", -5, "10MX", "1e3", True, 1.5, None])
def test_mariadb_refuses_these_sizes(value):
    errors = grammars.mariadb_size_errors("innodb_buffer_pool_size", value)
    assert len(errors) == 1 and "is not a size MariaDB reads as meant" in errors[0]


@pytest.mark.parametrize("name, is_size", [("innodb_buffer_pool_size", True), ("max_allowed_packet", True),
                                           ("tmp-table-size", True), ("max_connections", False),
                                           ("character-set-server", False)])
def test_which_options_are_sizes(name, is_size):
    assert grammars.is_mariadb_size_option(name) is is_size


def test_cipher_suites_in_go_spelling_pass_and_openssl_spelling_is_named():
    assert grammars.cipher_suite_errors(["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]) == []
    errors = grammars.cipher_suite_errors(["ECDHE-RSA-AES128-GCM-SHA256", "TLS_MADE_UP"])
    assert errors == [
        "cipher suite 'ECDHE-RSA-AES128-GCM-SHA256' is not one Traefik knows (that is OpenSSL's spelling: Traefik "
        "takes Go's, such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
        "cipher suite 'TLS_MADE_UP' is not one Traefik knows"]


@pytest.mark.parametrize("matcher", ['severity="critical"', "severity=critical", 'alertname=~"Site.*"',
                                     'bench!="erpnext"', "team !~ ops|dev", 'x=""'])
def test_alertmanager_matchers_that_parse(matcher):
    assert grammars.matcher_errors(matcher) == []


@pytest.mark.parametrize("matcher, message", [
    ("severity", "is not 'label=value'"), ("critical", "is not 'label=value'"), ("=critical", "is not"),
    ("9lives=yes", "is not"), ('alertname=~"Site(("', "the regular expression does not compile"), (3, "is not"),
])
def test_alertmanager_matchers_that_do_not(matcher, message):
    errors = grammars.matcher_errors(matcher)
    assert len(errors) == 1 and message in errors[0]


@pytest.mark.parametrize("smarthost, ok", [("smtp.example.net:587", True), ("[2001:db8::1]:25", True),
                                           ("10.0.0.5:465", True), ("smtp.example.net", False),
                                           ("smtp.example.net:", False), ("smtp.example.net:70000", False),
                                           ("2001:db8::1:25", False)])
def test_smarthost_needs_a_port(smarthost, ok):
    assert (grammars.smarthost_errors(smarthost) == []) is ok


def test_daemon_options_dockerd_reads_pass():
    options = {"log-driver": "local", "log-opts": {"max-size": "10m", "max-file": "5"}, "live-restore": True,
               "default-address-pools": [{"base": "10.200.0.0/16", "size": 24}], "bip": "10.10.0.1/24"}
    assert grammars.daemon_options_errors(options) == []
    assert grammars.daemon_options_errors({"log-opts": {"max-size": "1.5g"}}) == []


@pytest.mark.parametrize("options, message", [
    ({"log-opt": {"max-size": "10m"}}, "docker_daemon_options: dockerd has no option 'log-opt' (did you mean log-opts?)"),
    ({"live_restore": True}, "dockerd has no option 'live_restore' (did you mean live-restore?)"),
    ({"storage_driver": "overlay2"}, "(did you mean storage-driver?)"),
    ({"registry-mirror": ["https://m.example.net"]}, "(did you mean registry-mirrors?)"),
    ({"make-it-fast": True}, "dockerd has no option 'make-it-fast'"),
    ({"log-opts": {"max-size": "ten megs"}}, "log-opts max-size 'ten megs' is not a size dockerd reads"),
    ({"log-opts": {"max-file": "0"}}, "log-opts max-file '0' must be a whole number of at least 1"),
])
def test_daemon_options_dockerd_refuses(options, message):
    errors = grammars.daemon_options_errors(options)
    assert len(errors) == 1 and message in errors[0], errors


def test_traefik_static_sections():
    assert grammars.traefik_static_errors({"accessLog": {}, "entryPoints": {"web": {}}}) == []
    assert grammars.traefik_static_errors({"access_log": {}, "entrypoints": {}, "tls": {}}) == [
        "traefik_static_extension: Traefik's static configuration has no section 'access_log' (did you mean accessLog?)",
        "traefik_static_extension: Traefik's static configuration has no section 'entrypoints' (did you mean "
        "entryPoints?)",
        "traefik_static_extension: Traefik's static configuration has no section 'tls'"]
