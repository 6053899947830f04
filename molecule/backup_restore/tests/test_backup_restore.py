# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""After the disaster: the fresh server, restored from the offsite copy only, holds what the source held."""

import json
import shlex

import pytest

SITES = ["erp.example.test", "shop.example.test"]


def site_of(truth, name):
    return next(s for s in truth if s["site"] == name)


def compose(host, bench, *args):
    return host.run("docker compose --project-directory /opt/erpstack/%s %s"
                    % (bench, " ".join(shlex.quote(a) for a in args)))


def login(host, site):
    """A cookie jar logged in as Administrator with the source's password (the restored database's)."""
    jar = "/tmp/cookies-%s" % site["site"]
    # printf is the shell's own: the password is on no process's command line
    cmd = host.run("printf '%%s' %s | curl -sS -m 20 -c %s -H 'Host: %s' --data-urlencode usr=Administrator "
                   "--data-urlencode pwd@- http://127.0.0.1:%d/api/method/login"
                   % (shlex.quote(site["admin_password"]), jar, site["site"], site["port"]))
    assert "Logged In" in cmd.stdout, cmd.stdout
    return jar


@pytest.mark.parametrize("name", SITES)
def test_site_answers(host, truth, name):
    site = site_of(truth, name)
    out = host.check_output("curl -sS -m 20 -H 'Host: %s' http://127.0.0.1:%s/api/method/ping", name, str(site["port"]))
    assert json.loads(out) == {"message": "pong"}


@pytest.mark.parametrize("name", SITES)
def test_every_record_is_back(host, truth, name):
    site = site_of(truth, name)
    jar = login(host, site)
    out = host.check_output(
        "curl -sS -m 20 -b %s -H 'Host: %s' -G --data-urlencode 'fields=[\"name\",\"description\"]' "
        "--data-urlencode limit_page_length=0 http://127.0.0.1:%s/api/resource/ToDo", jar, name, str(site["port"]))
    records = sorted(json.loads(out)["data"], key=lambda r: r["name"])
    assert len(records) == len(site["records"]) >= 25
    assert records == site["records"]


@pytest.mark.parametrize("name", SITES)
def test_every_file_is_back_byte_for_byte(host, truth, name):
    site = site_of(truth, name)
    out = compose(host, site["bench"], "exec", "-T", "backend", "sh", "-c",
                  'cd "sites/$1" && find public/files private/files -type f | sort | xargs sha256sum', "sh", name)
    assert out.rc == 0, out.stderr
    assert out.stdout.splitlines() == site["files"]
    assert any("private/files/" in line for line in site["files"])
    assert any("public/files/" in line for line in site["files"])


@pytest.mark.parametrize("name", SITES)
def test_public_file_is_served(host, truth, name):
    site = site_of(truth, name)
    line = next(line for line in site["files"] if "public/files/day1-public.bin" in line)
    out = host.check_output("curl -sS -m 20 -H 'Host: %s' http://127.0.0.1:%s/files/day1-public.bin | sha256sum",
                            name, str(site["port"]))
    assert out.split()[0] == line.split()[0]


@pytest.mark.parametrize("name", SITES)
def test_encryption_key_is_the_source_sites(host, truth, name):
    site = site_of(truth, name)
    out = compose(host, site["bench"], "exec", "-T", "backend", "jq", "-r", ".encryption_key",
                  "sites/%s/site_config.json" % name)
    assert out.rc == 0 and out.stdout.strip() == site["encryption_key"]


@pytest.mark.parametrize("name", SITES)
def test_site_is_out_of_maintenance_mode(host, truth, name):
    site = site_of(truth, name)
    out = compose(host, site["bench"], "exec", "-T", "backend", "jq", "-r", ".maintenance_mode // 0",
                  "sites/%s/site_config.json" % name)
    assert out.stdout.strip() == "0"


def test_beta_was_restored_from_its_incremental_chain(host):
    sets = json.loads(host.check_output("/usr/local/sbin/erpstack-backup list beta"))
    fetched = [s for s in sets if s["reason"] == "scheduled"]
    assert [s["kind"] for s in fetched] == ["full", "incremental"]
    assert fetched[1]["base"] == fetched[0]["set"]
    # the safety set taken before the restore, of the fresh server's empty site
    assert [s["reason"] for s in sets if s["reason"] != "scheduled"] == ["pre-restore"]


def test_beta_is_back_at_the_point_in_time(host, truth):
    """Restored to the moment noted on the source: the records written after its last backup (replayed from the
    shipped binary logs) are back, those written after the moment are not."""
    site = site_of(truth, "shop.example.test")
    jar = login(host, site)
    out = host.check_output(
        "curl -sS -m 20 -b %s -H 'Host: %s' -G --data-urlencode 'fields=[\"description\"]' "
        "--data-urlencode limit_page_length=0 http://127.0.0.1:%s/api/resource/ToDo", jar, site["site"],
        str(site["port"]))
    descriptions = [r["description"] for r in json.loads(out)["data"]]
    assert sum("day3 record" in d for d in descriptions) == 8
    assert sum("late record" in d for d in descriptions) == 0
    assert sum("day2 record" in d for d in descriptions) == 10


def test_database_accounts_work_with_this_servers_passwords(host):
    """beta's data directory came from the source: its grant tables now hold the fresh server's passwords."""
    health = compose(host, "beta", "ps", "--format", "{{.Service}} {{.Health}}")
    assert "db healthy" in health.stdout, health.stdout
    out = compose(host, "beta", "exec", "-T", "backend", "bench", "--site", "shop.example.test", "list-apps")
    assert out.rc == 0 and "frappe" in out.stdout, out.stderr
