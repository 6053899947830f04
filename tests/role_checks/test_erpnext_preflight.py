# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The erpnext role's preflight: bad bench descriptions are refused with a clear message before anything changes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from _preflight import check_outcome, run_preflight

SITE = {"name": "erp.example.com", "apps": ["erpnext"]}

# name -> (role variables, None when preflight must pass, else a piece of its message)
CASES = {
    "defaults pass": ({}, None),
    "sites and archives pass": ({
        "erpnext_sites": [SITE, {"name": "hr.example.com", "default": True, "admin_password": "x" * 20}],
        "erpnext_image_archives": [{"name": "frappe/erpnext:v16.32.3", "path": "/srv/erpnext.tar"}],
    }, None),
    "v15 passes": ({"erpnext_version": "v15.85.1"}, None),
    "latest tag": ({"erpnext_version": "latest"}, "unpinned: frappe/erpnext:latest"),
    "empty tag": ({"erpnext_redis_version": ""}, "unpinned: redis:"),
    "bench name with capitals": ({"erpnext_bench_name": "ERP"}, "bench 'ERP': the name must be lower-case"),
    "subnet /25": ({"erpnext_network_subnet": "172.30.10.0/25"}, "network_subnet '172.30.10.0/25' must be an IPv4"),
    "subnet that is no address": ({"erpnext_network_subnet": "bench-net"}, "network_subnet 'bench-net' must be"),
    "negative gunicorn workers": ({"erpnext_gunicorn_workers": -1}, "gunicorn_workers must be a whole number >= 1 (got -1)"),
    "database prefix with a grant wildcard": ({"erpnext_site_db_prefix": "erp_"}, "which are grant wildcards"),
    "site name with an underscore": ({"erpnext_sites": [{"name": "erp_site.example.com"}]},
                                     "site 'erp_site.example.com': the name must be a lower-case DNS host name"),
    "site name with capitals": ({"erpnext_sites": [{"name": "ERP.example.com"}]}, "site 'ERP.example.com': the name"),
    "site label starting with a dash": ({"erpnext_sites": [{"name": "-erp.example.com"}]}, "site '-erp.example.com': the"),
    "duplicate site": ({"erpnext_sites": [SITE, SITE]}, "site 'erp.example.com': listed twice"),
    "two default sites": ({"erpnext_sites": [dict(SITE, default=True), {"name": "b.example.com", "default": True}]},
                          "at most one site may be the default"),
    "supplied admin password too short": (
        {"erpnext_sites": [dict(SITE, admin_password="sh0rt-pw")]},
        "the admin_password of erp.example.com is shorter than 12 characters"),
    "admin password lookup that fails": (
        {"erpnext_sites": [dict(SITE, admin_password="{{ lookup('ansible.builtin.file', '/nonexistent/erpstack-vault') }}")]},
        "/nonexistent/erpstack-vault"),
    "archive of an image the bench does not use": (
        {"erpnext_image_archives": [{"name": "frappe/erpnext:v15.1.0", "path": "/srv/x.tar"}]},
        "names images no bench uses: frappe/erpnext:v15.1.0"),
    # several benches, domains and certificate resolvers
    "two benches pass": ({"erpnext_benches": [
        {"name": "a", "sites": [dict(SITE, domains=["erp.example.com", "www.example.com"])]},
        {"name": "b", "network_subnet": "172.30.11.0/24", "version": "v15.85.1", "sites": [{"name": "b.example.com"}]},
    ]}, None),
    "domain claimed by sites of two benches": ({"erpnext_benches": [
        {"name": "a", "sites": [dict(SITE, domains=["erp.example.com", "shop.example.com"])]},
        {"name": "b", "network_subnet": "172.30.11.0/24", "sites": [{"name": "shop.example.com"}]},
    ]}, "domain 'shop.example.com' is claimed by bench 'a', site 'erp.example.com' and by bench 'b'"),
    "invalid domain": ({"erpnext_sites": [dict(SITE, domains=["erp.example.com", "shop_example.com"])]},
                       "invalid domain 'shop_example.com'"),
    "unknown certificate resolver": ({
        "traefik_certificate_resolvers": {"letsencrypt": {"challenge": "http"}},
        "erpnext_sites": [dict(SITE, tls_resolver="letsencrypt-prod")],
    }, "unknown certificate resolver 'letsencrypt-prod' (known: letsencrypt)"),
    "wildcard domain with an HTTP-01 resolver": ({
        "traefik_certificate_resolvers": {"letsencrypt": {"challenge": "http"}},
        "erpnext_tls_resolver": "letsencrypt",
        "erpnext_sites": [dict(SITE, domains=["*.example.com"])],
    }, "wildcard domains *.example.com need a DNS-01 resolver"),
    "second bench without its own subnet": ({"erpnext_benches": [
        {"name": "a", "sites": []}, {"name": "b", "sites": []}]}, "every bench after the first needs its own"),
    "overlapping bench subnets": ({"erpnext_benches": [
        {"name": "a", "network_subnet": "172.30.0.0/16", "sites": []},
        {"name": "b", "network_subnet": "172.30.11.0/24", "sites": []}]}, "overlaps bench 'a'"),
    "the same bench twice": ({"erpnext_benches": [{"name": "a"}, {"name": "a", "network_subnet": "10.1.0.0/16"}]},
                             "bench 'a' is listed twice"),
    "unknown bench key": ({"erpnext_benches": [{"name": "a", "gunicorn": 3}]}, "erpnext_benches[0] has no key 'gunicorn' (did you mean gunicorn_workers?)"),
    # sizing (the host: 8 GiB, 4 CPUs)
    "fixed profile passes": ({"erpnext_sizing_profile": "medium"}, None),
    "unknown sizing profile": ({"erpnext_sizing_profile": "huge"}, "erpnext_sizing_profile must be one of auto, small, medium, large (got 'huge')"),
    "buffer pool larger than the db's memory": (
        {"erpnext_mariadb_config_extension": {"innodb_buffer_pool_size": "4G"}},
        "innodb_buffer_pool_size 4G does not fit the db's memory limit of 2846 MiB"),
    "negative memory": ({"erpnext_sizing_overrides": {"erpnext": {"db": {"memory": -512}}}}, "must be positive"),
    "non-numeric memory": ({"erpnext_sizing_overrides": {"erpnext": {"redis-cache": {"memory": "plenty"}}}},
                           "'plenty' is not a size"),
    "benches larger than the host": ({"erpnext_sizing_profile": "large"},
                                     "the benches' memory limits add up to 8186 MiB but the host can give 7117 MiB"),
    "too many gunicorn workers for the connections": ({"erpnext_gunicorn_workers": 40}, "raise max_connections"),
}


# The plan checks the whole host: these cases give the proxy valid settings and leave monitoring out
OTHER_STACKS = {"traefik_acme_email": "ops@erpstack-test.net", "erpstack_monitoring": False}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cases = {name: ({}, role_vars) for name, (role_vars, _msg) in CASES.items()}
    facts = {"ansible_memtotal_mb": 8192, "ansible_processor_vcpus": 4}
    return run_preflight("erpnext", cases, facts, tmp_path_factory.mktemp("erpnext_preflight"), OTHER_STACKS)


@pytest.mark.parametrize("case", sorted(CASES))
def test_preflight(outcomes, case):
    outcome = outcomes[case]
    check_outcome(outcome, CASES[case][1])
    assert "x" * 20 not in outcome and "sh0rt-pw" not in outcome
