# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An upgrade told from a converge by the release in the image tags."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.release import bench_release, image_version


@pytest.mark.parametrize("reference, version", [
    ("frappe/erpnext:v16.32.3", (16, 32, 3)),
    ("registry.example.net:5000/erp/custom:v16.33.0-1a2b3c4d", (16, 33, 0)),
    ("frappe/erpnext:15.85.1", (15, 85, 1)),
    ("frappe/erpnext:v16.32.3@sha256:" + "ab" * 32, (16, 32, 3)),
    ("frappe/erpnext:v16", None),
    ("frappe/erpnext:version-16", None),
    ("frappe/erpnext", None),
    ("registry.example.net:5000/erpnext", None),
    ("", None),
])
def test_the_release_is_the_exact_version_in_the_tag(reference, version):
    assert image_version(reference) == version


@pytest.mark.parametrize("running, target, change, major", [
    ({}, "frappe/erpnext:v16.32.3", "new", False),
    ({"backend": "frappe/erpnext:v16.32.3"}, "frappe/erpnext:v16.32.3", "none", False),
    ({"backend": "frappe/erpnext:v16.32.3"}, "mirror.example.net/erpnext:v16.32.3", "image", False),
    ({"backend": "frappe/erpnext:v16.32.3"}, "frappe/erpnext:v16.33.0", "upgrade", False),
    ({"backend": "frappe/erpnext:v15.85.1"}, "frappe/erpnext:v16.32.3", "upgrade", True),
    ({"backend": "frappe/erpnext:v16.33.0"}, "frappe/erpnext:v16.32.3", "downgrade", False),
    ({"backend": "frappe/erpnext:v16.32.3"}, "frappe/erpnext:v16", "unknown", False),
    ({"db": "mariadb:11.8.3"}, "frappe/erpnext:v16.32.3", "new", False),
    # custom apps: the tag's suffix is the hash of the apps, another suffix of the same release is another set of apps
    ({"backend": "frappe/erpnext:v16.32.3"}, "erpstack/erpnext-apps:v16.32.3-0123456789ab", "apps", False),
    ({"backend": "erpstack/erpnext-apps:v16.32.3-0123456789ab"}, "erpstack/erpnext-apps:v16.32.3-ba9876543210",
     "apps", False),
    ({"backend": "erpstack/erpnext-apps:v16.32.3-0123456789ab"}, "frappe/erpnext:v16.32.3", "apps", False),
    ({"backend": "erpstack/erpnext-apps:v16.32.3-0123456789ab"}, "mirror.example.net/apps:v16.32.3-0123456789ab",
     "image", False),
    ({"backend": "erpstack/erpnext-apps:v16.32.3-0123456789ab"}, "erpstack/erpnext-apps:v16.33.0-ba9876543210",
     "upgrade", False),
])
def test_what_moving_the_bench_is(running, target, change, major):
    result = bench_release(running, target)
    assert (result["change"], result["major"]) == (change, major)
    assert result["to_image"] == target and result["from_image"] == running.get("backend", "")


def test_the_versions_are_reported_as_text():
    result = bench_release({"backend": "frappe/erpnext:v15.85.1"}, "frappe/erpnext:v16.32.3")
    assert result == {"from_image": "frappe/erpnext:v15.85.1", "to_image": "frappe/erpnext:v16.32.3",
                      "from_version": "15.85.1", "to_version": "16.32.3", "major": True, "change": "upgrade"}
