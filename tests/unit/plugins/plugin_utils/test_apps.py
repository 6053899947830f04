# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Custom apps -> the bench's image: the checked list, the Containerfile (golden) and a tag that is its hash."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.apps import AppSpecError, check_apps, custom_image

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "apps.Containerfile")
COMMIT = "700f9e82d3bc4c55e7fdbbb7ca8c609d2b53b619"
APPS = [
    {"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": "v16.4.1"},
    {"name": "acme_erp", "url": "git@git.example.com:acme/acme_erp.git", "ref": COMMIT},
]


def test_the_containerfile_fetches_each_app_at_its_ref():
    build = custom_image("erpstack/erpnext-apps", "frappe/erpnext:v16.32.3", check_apps(APPS, "erpnext_apps"), "16.32.3")
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        with open(GOLDEN, "w") as handle:
            handle.write(build["containerfile"])
    with open(GOLDEN) as handle:
        assert build["containerfile"] == handle.read()
    digest = hashlib.sha256(build["containerfile"].encode("utf-8")).hexdigest()[:12]
    assert build["image"] == "erpstack/erpnext-apps:v16.32.3-" + digest
    assert build["apps"] == ["hrms", "acme_erp"] and build["base"] == "frappe/erpnext:v16.32.3"


def test_the_same_list_gives_the_same_tag_and_any_change_another():
    def tag(apps, base="frappe/erpnext:v16.32.3"):
        return custom_image("erpstack/erpnext-apps", base, check_apps(apps, "x"), "16.32.3")["image"]

    assert tag(APPS) == tag([dict(app) for app in APPS])
    others = [tag(APPS[:1]), tag(list(reversed(APPS))), tag([dict(APPS[0], ref="v16.4.2"), APPS[1]]),
              tag(APPS, base="registry.example.com/frappe/erpnext:v16.32.3")]
    assert len(set(others + [tag(APPS)])) == 5


@pytest.mark.parametrize("apps, message", [
    ("hrms", "erpnext_apps must be a list of apps ({name, url, ref})"),
    (["hrms"], "erpnext_apps[0] must be a mapping {name, url, ref}"),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms"}],
     "erpnext_apps[0].ref is missing: pin the app to a release tag (v1.2.3) or a full 40-character commit id"),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": "version-16"}],
     "erpnext_apps[0].ref 'version-16' is not pinned"),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": "develop"}],
     "erpnext_apps[0].ref 'develop' is not pinned"),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": COMMIT[:12]}],
     "erpnext_apps[0].ref '%s' is not pinned" % COMMIT[:12]),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms", "ref": 16}], "erpnext_apps[0].ref 16 is not pinned"),
    ([{"name": "HRMS", "url": "https://github.com/frappe/hrms", "ref": "v1.0.0"}],
     "erpnext_apps[0].name must be an app's Python package name"),
    ([{"name": "erpnext", "url": "https://github.com/frappe/erpnext", "ref": "v16.32.3"}],
     "erpnext_apps[0].name: erpnext is in the ERPNext image already"),
    ([APPS[0], APPS[0]], "erpnext_apps[1].name: hrms is listed twice"),
    ([{"name": "hrms", "url": "/srv/git/hrms", "ref": "v1.0.0"}], "erpnext_apps[0].url must be a git URL"),
    ([{"name": "hrms", "url": "https://github.com/frappe/hrms; rm -rf /", "ref": "v1.0.0"}],
     "erpnext_apps[0].url must be a git URL"),
    ([dict(APPS[0], branch="develop")], "erpnext_apps[0] has unknown keys branch (expected name, url, ref)"),
])
def test_a_bad_list_is_refused_with_the_field_named(apps, message):
    with pytest.raises(AppSpecError) as err:
        check_apps(apps, "erpnext_apps")
    assert message in str(err.value)
