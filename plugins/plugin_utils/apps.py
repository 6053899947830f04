# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A bench's custom apps -> the image that carries them: its Containerfile and its tag, both pure data.

The Frappe image cannot install apps at run time (sites/ is a volume, the assets are baked): custom apps mean a custom
image, built FROM the bench's pinned ``frappe/erpnext`` image with ``bench get-app`` per app, as frappe_docker's
layered build does. The tag is ``v<release>-<first 12 hex of the Containerfile's SHA-256>``: the Containerfile holds
the base image and every app with its URL and pinned ref, so the same list gives the same tag, and any change to it (an
app added, another ref) gives another tag of the same release, which the upgrade flow migrates (``release.py``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re

# Frappe's app names are Python package names (bench new-app refuses anything else); bench uses them as directories
APP_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
# A ref that names one commit for good: a full commit id, or a release tag (v1.2.3, 15.0.1, v2.0.0-beta.1)
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
TAG_RE = re.compile(r"^v?[0-9]+(?:\.[0-9]+){1,3}(?:[-+][0-9A-Za-z][0-9A-Za-z.+-]*)?$")
# What `git clone` fetches from: URLs of the network protocols, or an scp-like git@host:path
URL_RE = re.compile(r"^(?:(?:https?|git|ssh)://[^\s/@]+(?:@[^\s/]+)?(?::[0-9]+)?/[^\s]+|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+)$")
# in the base image already: listing them would clone a second copy over the first
BASE_APPS = ("frappe", "erpnext")
BENCH_DIR = "/home/frappe/frappe-bench"


class AppSpecError(ValueError):
    pass


def _check_entries(apps, where, seen, twice=""):
    """The fields every apps' list checks alike: a list of mappings {name, url, ref} with a valid, new app name.
    Yields (at, name, url, ref) per mapping, adding each problem to the list it returns first."""
    if not isinstance(apps, list):
        raise AppSpecError("%s must be a list of apps ({name, url, ref})" % where)
    errors = []

    def entries():
        for index, app in enumerate(apps):
            at = "%s[%d]" % (where, index)
            if not isinstance(app, dict):
                errors.append("%s must be a mapping {name, url, ref}" % at)
                continue
            unknown = sorted(set(app) - {"name", "url", "ref"})
            if unknown:
                errors.append("%s has unknown keys %s (expected name, url, ref)" % (at, ", ".join(unknown)))
            name = app.get("name")
            if not isinstance(name, str) or not APP_NAME_RE.match(name):
                errors.append("%s.name must be an app's Python package name (lowercase letters, digits, _), got %r"
                              % (at, name))
            elif name in BASE_APPS:
                errors.append("%s.name: %s is in the ERPNext image already; list only the apps it lacks" % (at, name))
            elif name in seen:
                errors.append("%s.name: %s is listed twice%s" % (at, name, twice))
            else:
                seen.add(name)
            yield at, name, app.get("url"), app.get("ref")

    return errors, entries()


def check_apps(apps, where):
    """The apps' list as the inventory gives it -> a list of {name, url, ref}; raises AppSpecError naming the field."""
    errors, entries = _check_entries(apps, where, set())
    result = []
    for at, name, url, ref in entries:
        if not isinstance(url, str) or not URL_RE.match(url):
            errors.append("%s.url must be a git URL (https://, ssh://, git:// or git@host:path), got %r" % (at, url))
        if ref is None:
            errors.append("%s.ref is missing: pin the app to a release tag (v1.2.3) or a full 40-character commit id"
                          % at)
        elif not isinstance(ref, str) or not (COMMIT_RE.match(ref) or TAG_RE.match(ref)):
            errors.append("%s.ref %r is not pinned: give a release tag (v1.2.3) or a full 40-character commit id, "
                          "never a branch (it moves, and the same list would build another image)" % (at, ref))
        result.append({"name": name, "url": url, "ref": ref})
    if errors:
        raise AppSpecError("; ".join(errors))
    return result


BRANCH_RE = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$")


def check_dev_apps(apps, pinned, where):
    """The development mode's own apps ({name, url, ref}: url and ref optional) -> a list of {name, url, ref}.

    ``pinned``: the checked erpnext_apps, which the development mode also bind-mounts (cloned at their ref). An app
    without a url must already be in the apps directory on the host (the erpnext role checks that in the first play);
    a ref may be a branch here, since a developer's checkout moves anyway."""
    errors, entries = _check_entries(apps, where, set(app["name"] for app in pinned),
                                     twice=" (erpnext_apps are bind-mounted too)")
    result = [dict(app) for app in pinned]
    for at, name, url, ref in entries:
        if url is not None and (not isinstance(url, str) or not URL_RE.match(url)):
            errors.append("%s.url must be a git URL (https://, ssh://, git:// or git@host:path), got %r" % (at, url))
        if ref is not None and (not isinstance(ref, str) or not BRANCH_RE.match(ref)):
            errors.append("%s.ref must be a branch, tag or commit id, got %r" % (at, ref))
        if ref is not None and url is None:
            errors.append("%s.ref needs a url to clone from" % at)
        result.append({"name": name, "url": url, "ref": ref})
    if errors:
        raise AppSpecError("; ".join(errors))
    return result


def _quote(text):
    """A shell word: the checked names, URLs and refs hold no quote, but the Containerfile never trusts that."""
    return "'%s'" % str(text).replace("'", "'\"'\"'")


def containerfile(base, apps):
    """The Containerfile of ``base`` with ``apps`` (checked by check_apps), in their order."""
    steps = ["ln -sfn %s/assets sites/assets" % BENCH_DIR]
    for app in apps:
        if COMMIT_RE.match(app["ref"]):
            # `bench get-app --branch` clones a branch or tag only: a commit is checked out first, then the bench
            # clones that checkout (detached at the commit) as it clones any local repository
            stage = "/tmp/erpstack-apps/%s" % app["name"]
            steps += ["git clone --quiet --origin upstream %s %s" % (_quote(app["url"]), stage),
                      "git -C %s checkout --quiet --detach %s" % (stage, app["ref"]),
                      "bench get-app %s" % stage,
                      "rm -rf %s" % stage]
        else:
            steps.append("bench get-app --branch=%s %s" % (_quote(app["ref"]), _quote(app["url"])))
    steps += ["rm -f sites/assets", 'find apps -mindepth 1 -path "*/.git" | xargs rm -fr']
    lines = [
        # no host name or date here: the text is the tag's input
        "# Managed by erpstack.erpnext (roles/erpnext): the tag of the image is the hash of this file.",
        "# The bench's image: %s with its apps, built as frappe_docker's layered image is." % base,
        "FROM %s" % base,
        "USER frappe",
        "WORKDIR %s" % BENCH_DIR,
        "# `bench build` writes through sites/assets: linked to the image's assets/ while the apps are fetched, so their",
        "# bundles and the manifest land in the image (sites/ is a volume, which the entrypoint links at start)",
        "RUN " + " \\\n && ".join(steps),
        "LABEL io.erpstack.base=%s io.erpstack.apps=%s" % (
            _label(base), _label(" ".join("%s@%s" % (app["name"], app["ref"]) for app in apps))),
        "",
    ]
    return "\n".join(lines)


def _label(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


def custom_image(repository, base, apps, release):
    """{image, base, apps, containerfile}: the reference the bench runs and how it is built."""
    text = containerfile(base, apps)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return {
        "image": "%s:v%s-%s" % (repository, release, digest),
        "base": base,
        "apps": [app["name"] for app in apps],
        "containerfile": text,
    }
