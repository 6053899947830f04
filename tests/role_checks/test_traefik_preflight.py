# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The traefik role's settings checks: bad input is refused with a clear message before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from _preflight import check_outcome, run_preflight

EMAIL = {"traefik_acme_email": "ops@erpstack-test.net"}
DNS = {"challenge": "dns", "provider": "cloudflare", "credentials": {"CF_DNS_API_TOKEN": "t0ken-from-the-vault"}}

# name -> (role variables, None when the checks must pass, else a piece of their message)
CASES = {
    "defaults with an e-mail pass": (EMAIL, None),
    "defaults without an e-mail": ({}, "traefik_acme_email must be the e-mail address"),
    "self-signed mode passes": ({"traefik_certificate_resolvers": {}, "traefik_default_certresolver": ""}, None),
    "all three challenges pass": (dict(EMAIL, traefik_certificate_resolvers={
        "http": {"challenge": "http"}, "alpn": {"challenge": "tlsalpn"}, "dns": DNS}, traefik_default_certresolver="http"),
        None),
    "DNS-01 without credentials": (dict(EMAIL, traefik_certificate_resolvers={
        "dns": {"challenge": "dns", "provider": "cloudflare"}}, traefik_default_certresolver="dns"),
        "resolver 'dns': DNS-01 needs the provider's credentials"),
    "DNS-01 without a provider": (dict(EMAIL, traefik_certificate_resolvers={
        "dns": {"challenge": "dns", "credentials": {"X_TOKEN": "abc"}}}, traefik_default_certresolver="dns"),
        "DNS-01 needs the lego provider name"),
    "unknown challenge": (dict(EMAIL, traefik_certificate_resolvers={"le": {"challenge": "dns-02"}},
                               traefik_default_certresolver="le"),
                          "traefik_certificate_resolvers.le.challenge must be one of http, tlsalpn, dns (got 'dns-02')"),
    "unknown default resolver": (dict(EMAIL, traefik_default_certresolver="le-prod"),
                                 "traefik_default_certresolver 'le-prod' is not a configured resolver"),
    "ACME server over plain HTTP": (dict(EMAIL, traefik_acme_ca_server="http://acme.internal/dir"),
                                    "must start with https://"),
    "TLS 1.1 allowed": (dict(EMAIL, traefik_tls_min_version="VersionTLS11"), "traefik_tls_min_version must be"),
    "negative HSTS max-age": (dict(EMAIL, traefik_hsts_max_age=-1), "traefik_hsts_max_age must be"),
    "dashboard without a host name": (dict(EMAIL, traefik_dashboard_enabled=True),
                                      "the dashboard needs its own host name"),
    "latest image": (dict(EMAIL, traefik_version="latest"), "must be pinned to an exact tag"),
    "certificate without its key": (dict(EMAIL, traefik_certificates=[{"cert": "-----BEGIN CERTIFICATE-----"}]),
                                    "needs cert and key"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cases = {name: ({}, role_vars) for name, (role_vars, _msg) in CASES.items()}
    return run_preflight("traefik", cases, {}, tmp_path_factory.mktemp("traefik_preflight"), {"erpstack_monitoring": False})


@pytest.mark.parametrize("case", sorted(CASES))
def test_preflight(outcomes, case):
    check_outcome(outcomes[case], CASES[case][1])


def test_no_credential_in_any_refusal(outcomes):
    assert not [name for name, outcome in outcomes.items() if "t0ken-from-the-vault" in outcome]
