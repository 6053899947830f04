# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The docker role's preflight: every refusal it promises, and that valid settings pass.

All cases run in one ansible-playbook process against localhost (each case a block/rescue around
``include_role: tasks_from: preflight``), with the host facts the preflight reads set per case, so the
test needs neither Docker nor systemd and takes a few seconds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import subprocess

import pytest

from _preflight import check_outcome, run_preflight

BOOKWORM = {
    "distribution": "Debian",
    "distribution_release": "bookworm",
    "distribution_version": "12.12",
    "service_mgr": "systemd",
    "architecture": "x86_64",
}
DEB = "@DEB@"  # replaced by the path of a real file in the test's tmp dir
URL = "https://example.invalid/docker-compose-linux-x86_64"
SHA = "sha256:" + "ab" * 32

# name -> (facts overriding BOOKWORM, role variables, None when preflight must pass, else a piece of its message)
CASES = {
    "official defaults pass": ({}, {}, None),
    "noble passes": ({"distribution": "Ubuntu", "distribution_release": "noble",
                      "distribution_version": "24.04"}, {}, None),
    "distro with a deb passes": ({}, {"docker_source": "distro", "docker_compose_plugin_deb": DEB}, None),
    "distro with url and checksum passes": (
        {}, {"docker_source": "distro", "docker_compose_plugin_url": URL,
             "docker_compose_plugin_checksum": SHA}, None),
    "json-file with a string log option passes": (
        {}, {"docker_daemon_options_extension": {"log-driver": "json-file", "log-opts": {"max-size": "50m"}}}, None),
    "gelf to an external log server passes": (
        {}, {"docker_daemon_options": {"log-driver": "gelf", "log-opts": {"gelf-address": "udp://logs.example.com:12201"},
                                       "live-restore": True}}, None),
    "existing user passes": ({}, {"docker_users": ["root"]}, None),
    "unknown source": ({}, {"docker_source": "snap"}, "docker_source must be 'official' or 'distro', got 'snap'"),
    "distro without a plugin on bookworm": ({}, {"docker_source": "distro"}, "Debian bookworm has none"),
    "distro without a plugin on noble passes": (
        {"distribution": "Ubuntu", "distribution_release": "noble", "distribution_version": "24.04"},
        {"docker_source": "distro"}, None),
    "distro without a plugin on trixie passes": (
        {"distribution_release": "trixie", "distribution_version": "13.2"}, {"docker_source": "distro"}, None),
    "distro with deb and url": (
        {}, {"docker_source": "distro", "docker_compose_plugin_deb": DEB, "docker_compose_plugin_url": URL,
             "docker_compose_plugin_checksum": SHA}, "both are set"),
    "url without checksum": (
        {}, {"docker_source": "distro", "docker_compose_plugin_url": URL}, "needs docker_compose_plugin_checksum"),
    "checksum that is not a digest": (
        {}, {"docker_source": "distro", "docker_compose_plugin_url": URL,
             "docker_compose_plugin_checksum": "sha256:https://example.invalid/sums"},
        "needs docker_compose_plugin_checksum"),
    "relative deb path": (
        {}, {"docker_source": "distro", "docker_compose_plugin_deb": "compose.deb"}, "must be the absolute path"),
    "deb missing on the host": (
        {}, {"docker_source": "distro", "docker_compose_plugin_deb": "/nonexistent/compose.deb"},
        "is not a file on"),
    "plugin settings with the official source": (
        {}, {"docker_compose_plugin_deb": DEB}, "only apply to docker_source 'distro'"),
    "version pin with the distro source": (
        {}, {"docker_source": "distro", "docker_compose_plugin_deb": DEB, "docker_version": "5:28.5.2*"},
        "docker_version pins docker-ce"),
    "plain http repository": (
        {}, {"docker_official_repo_url": "http://download.docker.com/linux/debian"}, "must be https:// URLs"),
    "unsupported log driver from the extension": (
        {}, {"docker_daemon_options_extension": {"log-driver": "fluentd"}}, "got log-driver 'fluentd'"),
    # The extension is merged recursively: only its numeric max-size is reported, the default max-file survives.
    "numeric log option from the extension": (
        {}, {"docker_daemon_options_extension": {"log-opts": {"max-size": 20}}},
        "these are not: max-size."),
    "hosts in daemon.json": (
        {}, {"docker_daemon_options_extension": {"hosts": ["tcp://0.0.0.0:2375"]}}, "dockerd refuses to start"),
    "unsupported release": (
        {"distribution": "Ubuntu", "distribution_release": "jammy", "distribution_version": "22.04"}, {},
        "the host runs Ubuntu 22.04 (jammy)"),
    "unsupported distribution": (
        {"distribution": "CentOS", "distribution_release": "Stream", "distribution_version": "9"}, {},
        "the host runs CentOS 9"),
    "architecture without packages": ({"architecture": "riscv64"}, {}, "no packages for riscv64"),
    "missing user": ({}, {"docker_users": ["root", "no-such-user-erpstack"]}, ": no-such-user-erpstack;"),
}


def _substitute(value, deb):
    if isinstance(value, dict):
        return {k: _substitute(v, deb) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, deb) for v in value]
    return deb if value == DEB else value


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docker_preflight")
    # a real (empty) package: the preflight reads its name and version with dpkg-deb
    package = tmp / "package"
    (package / "DEBIAN").mkdir(parents=True)
    (package / "DEBIAN" / "control").write_text(
        "Package: docker-compose\nVersion: 2.26.1-4\nArchitecture: amd64\nMaintainer: test <test@example.com>\n"
        "Description: test package\n")
    deb = tmp / "docker-compose_2.26.1-4_amd64.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(package), str(deb)], check=True,
                   stdout=subprocess.DEVNULL)
    (tmp / "junk.deb").write_bytes(b"!<arch>\n")
    cases = {name: (facts, _substitute(role_vars, str(deb))) for name, (facts, role_vars, _msg) in CASES.items()}
    cases["deb that is no package"] = ({}, {"docker_source": "distro", "docker_compose_plugin_deb": str(tmp / "junk.deb")})
    return run_preflight("docker", cases, BOOKWORM, tmp, plan=False)


@pytest.mark.parametrize("case", sorted(CASES))
def test_preflight(outcomes, case):
    check_outcome(outcomes[case], CASES[case][2])


def test_a_file_that_is_no_debian_package_is_refused(outcomes):
    check_outcome(outcomes["deb that is no package"], "or not a Debian package (dpkg-deb")
