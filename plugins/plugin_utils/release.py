# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which release a bench runs and which one its plan asks for: the erpnext role tells an upgrade from a converge.

A bench's release is the Frappe version in its image tag (``frappe/erpnext:v16.32.3``, a custom image
``registry/erp:v16.32.3-<hash>``): the tag is the only version the host knows before the new image runs. The running
image is the reference its backend container was created from (``erpstack.erpnext.compose_state``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TAG = re.compile(r":v?([0-9]+)\.([0-9]+)\.([0-9]+)((?:[-+][0-9A-Za-z._-]+)?)$")


def image_version(reference):
    """(major, minor, patch) of an image reference's tag, or None when the tag names no exact version."""
    match = _TAG.search(str(reference or "").split("@", 1)[0])
    return tuple(int(part) for part in match.groups()[:3]) if match else None


def _suffix(reference):
    """What follows the release in a tag (``-<hash>`` of a custom image's apps), '' for a plain release tag."""
    match = _TAG.search(str(reference or "").split("@", 1)[0])
    return match.group(4) if match else ""


def _text(version):
    return "%d.%d.%d" % version if version else ""


def bench_release(running_images, target, service="backend"):
    """What moving the bench to ``target`` is.

    ``change``: ``new`` (the bench has no container yet), ``none`` (it runs ``target``), ``image`` (the same tag from
    another repository, a mirror: no migration), ``apps`` (the same release with another set of apps: the tag's
    suffix, the hash of a custom image's apps, differs; its sites migrate and install their new apps), ``upgrade`` (a
    newer release: its sites migrate), ``downgrade`` (Frappe has no reverse migration), ``unknown`` (a tag without
    an exact version). ``major`` is true when the major version grows.
    """
    running = (running_images or {}).get(service) or ""
    result = {"from_image": running, "to_image": target, "from_version": "", "to_version": "", "major": False}
    old, new = image_version(running), image_version(target)
    result.update(from_version=_text(old), to_version=_text(new))
    if not running:
        result["change"] = "new"
    elif running == target:
        result["change"] = "none"
    elif old is None or new is None:
        result["change"] = "unknown"
    elif new == old:
        result["change"] = "image" if _suffix(running) == _suffix(target) else "apps"
    elif new > old:
        result.update(change="upgrade", major=new[0] > old[0])
    else:
        result["change"] = "downgrade"
    return result
