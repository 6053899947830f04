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
    "bench name with capitals": ({"erpnext_bench_name": "ERP"}, "Invalid bench 'ERP'"),
    "subnet /25": ({"erpnext_network_subnet": "172.30.10.0/25"}, "got '172.30.10.0/25'"),
    "subnet that is no address": ({"erpnext_network_subnet": "bench-net"}, "got 'bench-net'"),
    "no gunicorn workers": ({"erpnext_gunicorn_workers": 0}, "must be positive"),
    "database prefix with a grant wildcard": ({"erpnext_site_db_prefix": "erp_"}, "which are grant wildcards"),
    "site name with an underscore": ({"erpnext_sites": [{"name": "erp_site.example.com"}]},
                                     "invalid: erp_site.example.com"),
    "site name with capitals": ({"erpnext_sites": [{"name": "ERP.example.com"}]}, "invalid: ERP.example.com"),
    "site label starting with a dash": ({"erpnext_sites": [{"name": "-erp.example.com"}]}, "invalid: -erp.example.com"),
    "duplicate site": ({"erpnext_sites": [SITE, SITE]}, "duplicates: erp.example.com"),
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
        "names images the bench does not use: frappe/erpnext:v15.1.0"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    cases = {name: ({}, role_vars) for name, (role_vars, _msg) in CASES.items()}
    return run_preflight("erpnext", cases, {}, tmp_path_factory.mktemp("erpnext_preflight"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_preflight(outcomes, case):
    outcome = outcomes[case]
    check_outcome(outcome, CASES[case][1])
    assert "x" * 20 not in outcome and "sh0rt-pw" not in outcome
