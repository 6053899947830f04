# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/policy.py: each unsafe setting refused by default, allowed by its one override, secrets never shown."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils import policy

BENCH = [{"name": "erpnext", "network_subnet": "172.30.10.0/24"}]
SECRET_PASSWORD = "p/a@s:s'w\"o\nrd"
LE_RESOLVERS = {"traefik_certificate_resolvers": {"le": {"challenge": "http"}}}

# name -> (variables, benches, override, a piece of the refusal)
UNSAFE = {
    "bench subnet inside docker0": ({}, [{"name": "a", "network_subnet": "172.17.0.0/24"}],
                                    "erpnext_allow_subnet_overlap",
                                    "bench a: network_subnet 172.17.0.0/24 overlaps Docker's default bridge network "
                                    "172.17.0.0/16"),
    "bench subnet around the bip": ({"docker_daemon_options": {"bip": "10.20.0.1/24"}},
                                    [{"name": "a", "network_subnet": "10.0.0.0/8"}], "erpnext_allow_subnet_overlap",
                                    "overlaps Docker's default bridge network 10.20.0.0/24"),
    "bip from the extension": ({"docker_daemon_options_extension": {"bip": "172.30.10.1/24"}}, BENCH,
                               "erpnext_allow_subnet_overlap", "overlaps Docker's default bridge network 172.30.10.0/24"),
    "short restic password": ({"backup_restic_password": "hunter2"}, BENCH, "erpstack_allow_short_passwords",
                              "backup_restic_password is shorter than 12 characters"),
    "short SMTP password": ({"monitoring_smtp_auth_password": "abc"}, BENCH, "erpstack_allow_short_passwords",
                            "monitoring_smtp_auth_password is shorter than 12 characters"),
    "credentials in the rest repository": ({"backup_restic_repository": "rest:https://u:%s@backup.example.net/r"
                                            % SECRET_PASSWORD}, BENCH, "erpstack_allow_credentials_in_urls",
                                           "backup_restic_repository carries a user and password in the URL (the "
                                           "value is not shown)"),
    "credentials in an s3 repository": ({"backup_restic_repository": "s3:https://AKIA:sec/ret@s3.example.net/b"},
                                        BENCH, "erpstack_allow_credentials_in_urls", "backup_restic_repository carries"),
    "credentials in a webhook": ({"monitoring_alert_receivers": {"ops": {"webhook": {
        "url": "https://bot:%s@chat.example.net/hooks" % SECRET_PASSWORD}}}}, BENCH,
        "erpstack_allow_credentials_in_urls", "monitoring_alert_receivers.ops: a webhook URL carries a user and"),
    "plain http webhook": ({"monitoring_alert_receivers": {"ops": {"webhook": [
        {"url": "https://chat.example.net/a"}, {"url": "http://chat.example.net/hooks/T0KEN"}]}}}, BENCH,
        "monitoring_allow_plain_http_webhooks", "monitoring_alert_receivers.ops: a webhook is plain http://"),
    "SMTP auth without TLS": ({"monitoring_smtp_auth_password": "long-enough-password",
                               "monitoring_smtp_require_tls": False}, BENCH, "monitoring_allow_smtp_auth_without_tls",
                              "monitoring_smtp_auth_password is set but monitoring_smtp_require_tls is false"),
    "ACME e-mail at example.com": (dict(LE_RESOLVERS, traefik_acme_email="ops@example.com"), BENCH,
                                   "traefik_allow_reserved_acme_email",
                                   "traefik_acme_email 'ops@example.com' is at a reserved domain"),
    "ACME e-mail at a .test name with LE staging's URL": (
        dict(LE_RESOLVERS, traefik_acme_email="ops@mail.example.test",
             traefik_acme_ca_server="https://acme-staging-v02.api.letsencrypt.org/directory"),
        BENCH, "traefik_allow_reserved_acme_email", "is at a reserved domain"),
}


@pytest.mark.parametrize("variables, benches, override, message", list(UNSAFE.values()), ids=list(UNSAFE))
def test_an_unsafe_setting_is_refused_unless_its_override_is_set(variables, benches, override, message):
    errors = policy.policy_errors(variables, benches)
    assert len(errors) == 1 and message in errors[0], errors
    assert override in errors[0]
    assert override in policy.OVERRIDES
    assert policy.policy_errors(dict(variables, **{override: True}), benches) == []
    # a quoted "true" is no override (the schema refuses it before; the policy does not coerce either)
    assert len(policy.policy_errors(dict(variables, **{override: "true"}), benches)) == 1


SAFE = {
    "defaults": {},
    "a subnet beside docker0": {"erpnext_allow_subnet_overlap": False},
    "long passwords": {"backup_restic_password": "x" * 12, "monitoring_smtp_auth_password": "y" * 20},
    "credentials in the environment": {"backup_restic_repository": "s3:https://s3.example.net/bucket/erp",
                                       "backup_restic_env": {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}},
    "sftp user, no password": {"backup_restic_repository": "sftp:backup@host.example.net:/srv/restic"},
    "an @ in a webhook's path": {"monitoring_alert_receivers": {"o": {"webhook": {"url": "https://h.net/a/b@c"}}}},
    "an https webhook": {"monitoring_alert_receivers": {"o": {"webhook": {"url": "https://h.net/hooks/x"}}}},
    "SMTP without auth or TLS": {"monitoring_smtp_require_tls": False},
    "a reserved ACME e-mail on a private CA": dict(LE_RESOLVERS, traefik_acme_email="ops@example.test",
                                                   traefik_acme_ca_server="https://pebble:14000/dir"),
    "a reserved e-mail with no resolver": {"traefik_acme_email": "ops@example.com"},
    "a real ACME e-mail": dict(LE_RESOLVERS, traefik_acme_email="ops@example.com.au"),
}


@pytest.mark.parametrize("variables", list(SAFE.values()), ids=list(SAFE))
def test_safe_settings_pass(variables):
    assert policy.policy_errors(variables, BENCH) == []


def test_no_piece_of_a_secret_url_or_password_is_in_any_refusal():
    variables = {
        "backup_restic_password": SECRET_PASSWORD[:9],
        "monitoring_smtp_auth_password": SECRET_PASSWORD[:10],
        "backup_restic_repository": "rest:https://u:%s@backup.example.net/r" % SECRET_PASSWORD,
        "monitoring_alert_receivers": {"ops": {"webhook": {"url": "http://bot:%s@chat.net/h" % SECRET_PASSWORD}}},
        "monitoring_smtp_require_tls": False,
    }
    errors = policy.policy_errors(variables, BENCH)
    assert len(errors) == 6, errors
    text = "\n".join(errors)
    for piece in [SECRET_PASSWORD.split("\n", maxsplit=1)[0], "p/a", "a@s", "s:s", "backup.example.net", "chat.net", "bot:"]:
        assert piece not in text
