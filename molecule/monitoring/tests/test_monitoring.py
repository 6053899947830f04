# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring scenario: the stack beside a bench behind Traefik, every target up, the exporters' least-privilege
database account, every monitoring container hardened, the site-down alert's round trip through Alertmanager to a
webhook receiver, and the disk alerts on a real filesystem filled until almost full."""

import json
import os
import time

from conftest import BENCH_DIR, MONITORING_DIR, _quote
from testinfra_erpstack import wait_for

SITE = "erp.example.test"
# the scenario's settings: probes and evaluation every 5 s, SiteDown after 20 s
SITE_DOWN_FOR = 20
# the disk test's own filesystem (fuse2fs), its size
DISK = "/srv/erpstack-disk"
DISK_MIB = 64
JOBS = {"prometheus", "alertmanager", "node", "traefik", "mysqld", "redis", "site-probe"}


def notifications(host):
    out = host.run_expect([0], "docker compose --ansi never --project-directory %s logs --no-color --no-log-prefix "
                          "webhook-receiver" % MONITORING_DIR).stdout
    # each notification is one JSON line (after any terminal control sequence)
    return [json.loads(line[line.index("{"):]) for line in out.splitlines() if "{" in line]


def site_down(host, status):
    return [n for n in notifications(host) for a in n["alerts"]
            if a["labels"].get("alertname") == "SiteDown" and a["labels"].get("site") == SITE and a["status"] == status]


def test_every_scrape_target_is_up(prometheus):
    def all_up():
        targets = prometheus.get("/api/v1/targets")["activeTargets"]
        return targets if targets and all(t["health"] == "up" for t in targets) else None
    targets = wait_for(all_up, 60) or prometheus.get("/api/v1/targets")["activeTargets"]
    assert {t["labels"]["job"] for t in targets} == JOBS
    down = [(t["labels"]["job"], t["scrapeUrl"], t["lastError"]) for t in targets if t["health"] != "up"]
    assert not down
    # derived from the inventory: the bench's database, both Redis instances, the site's probe
    assert {t["labels"].get("redis") for t in targets if t["labels"]["job"] == "redis"} == {"cache", "queue"}
    probe = [t for t in targets if t["labels"]["job"] == "site-probe"]
    assert [(t["labels"]["bench"], t["labels"]["site"], t["labels"]["instance"]) for t in probe] == [
        ("alpha", SITE, "https://%s/api/method/ping" % SITE)]


def test_exporters_answer_with_their_metrics(prometheus):
    expected = {
        'mysql_up{bench="alpha"}': "1",
        'redis_up{bench="alpha",redis="cache"}': "1",
        'redis_up{bench="alpha",redis="queue"}': "1",
        'probe_success{site="%s"}' % SITE: "1",
        # the queue workers registered by `bench worker`, seen through the queue exporter's key check
        'count(redis_key_size{bench="alpha",key=~"rq:workers:.+"} > 0)': None,
        'count(traefik_service_requests_total{bench="alpha"})': None,
        'node_textfile_scrape_error': "0",
        'probe_ssl_earliest_cert_expiry{site="%s"} > time()' % SITE: None,
    }
    for expr, value in expected.items():
        result = wait_for(lambda: prometheus.query(expr), 30)
        assert result, expr
        if value is not None:
            assert result[0]["value"][1] == value, (expr, result)


def test_the_backup_jobs_metrics_are_scraped(host, prometheus):
    host.run_expect([0], "systemctl start erpstack-backup@alpha.service")
    result = wait_for(lambda: prometheus.query('erpstack_backup_last_run_success{bench="alpha"} == 1'), 30)
    assert result
    assert prometheus.query('time() - erpstack_backup_last_success_timestamp_seconds{bench="alpha"} < 600')


def test_the_rules_are_loaded_and_nothing_fires(prometheus):
    groups = prometheus.get("/api/v1/rules")["groups"]
    names = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
    assert {"SiteDown", "BackupTooOld", "MariaDBDown", "CertificateExpiringSoon", "QueueGrowingWithoutWorker"} <= names
    # The disk alerts read the test machine's own disk too (the target's /var/lib/docker and bind mounts), which every
    # scenario of a make test fills at once and which has about 6 % of its size available to it: there they fire
    # for real, and rightly. They are tested on a filesystem of the test's own (the last test).
    firing = [a for a in prometheus.get("/api/v1/alerts")["alerts"] if a["state"] == "firing"
              and not (a["labels"]["alertname"].startswith("Disk") and a["labels"].get("mountpoint") != DISK)]
    assert not firing, firing


def test_mysqld_exporter_uses_the_least_privilege_account(host):
    cnf = host.file(MONITORING_DIR + "/secrets/mysqld_exporter.alpha.cnf")
    assert (cnf.uid, cnf.mode) == (65534, 0o400)
    assert "user=erpstack_exporter" in cnf.content_string.splitlines()
    script = (
        "umask 077; f=$(mktemp); "
        "printf '[client]\\nuser=root\\npassword=\"%s\"\\n' \"$(cat /run/secrets/db_root_password)\" > $f; "
        "for h in $(mariadb --defaults-extra-file=$f -N -B -e \"SELECT host FROM mysql.user WHERE user='erpstack_exporter'\"); "
        "do mariadb --defaults-extra-file=$f -N -B -e \"SHOW GRANTS FOR erpstack_exporter@'$h'\"; done; rm -f $f"
    )
    grants = host.run_expect([0], "docker compose --project-directory %s exec -T db bash -c %s"
                             % (BENCH_DIR, _quote(script))).stdout
    assert "GRANT PROCESS, BINLOG MONITOR ON *.*" in grants, grants
    assert "SELECT ON `performance_schema`.*" in grants, grants
    assert "MAX_USER_CONNECTIONS 3" in grants, grants
    # no privilege on any site's database
    assert "_erp" not in grants and "ALL PRIVILEGES" not in grants


def test_nothing_listens_publicly_but_traefik(host):
    listening = host.run_expect([0], "ss -Hltn").stdout.split("\n")
    public = sorted({line.split()[3] for line in listening if line.strip()
                     and not line.split()[3].startswith(("127.", "[::1]"))})
    ports = sorted({address.rsplit(":", 1)[1] for address in public})
    assert set(ports) <= {"80", "443", "22"}, public
    assert any(line.split()[3] == "127.0.0.1:9090" for line in listening if line.strip())
    assert any(line.split()[3] == "127.0.0.1:9093" for line in listening if line.strip())


def test_every_monitoring_container_is_hardened_and_runs_as_a_user(host):
    ids = host.check_output("docker ps -q --filter label=com.erpstack.role=monitoring").split()
    services = set()
    for info in json.loads(host.check_output("docker inspect " + " ".join(ids))):
        name = info["Config"]["Labels"]["com.docker.compose.service"]
        services.add(name)
        config = info["HostConfig"]
        assert config["ReadonlyRootfs"] is True, name
        assert config["CapDrop"] == ["ALL"] and not config["CapAdd"], name
        # (Docker adds label=disable beside it for the node exporter, in the host's PID namespace)
        assert "no-new-privileges:true" in config["SecurityOpt"], name
        assert config["PidsLimit"] and config["PidsLimit"] > 0, name
        status = host.file("/proc/%d/status" % info["State"]["Pid"]).content_string
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert fields["NoNewPrivs"].strip() == "1", name
        assert "0" not in fields["Uid"].split()[:2], (name, fields["Uid"])
        assert int(fields["CapEff"].strip(), 16) == 0, (name, fields["CapEff"])
    assert {"prometheus", "alertmanager", "node-exporter", "blackbox-exporter"} <= services, services
    assert [s for s in services if s.startswith("mysqld-exporter-")] and [s for s in services
                                                                          if s.startswith("redis-exporter-")]


def test_no_secret_in_the_compose_file_or_the_containers_environment(host):
    compose = host.file(MONITORING_DIR + "/compose.yaml").content_string
    password = host.run_expect([0], "cat %s/secrets/db_exporter_password" % BENCH_DIR).stdout.strip()
    assert password and password not in compose
    inspect = host.run_expect([0], "docker inspect $(docker ps -aq)").stdout
    assert password not in inspect


def test_site_down_alert_reaches_the_webhook_and_resolves(host):
    host.run_expect([0], "docker compose --project-directory %s stop backend" % BENCH_DIR)
    stopped = time.time()
    try:
        fired = wait_for(lambda: site_down(host, "firing"), SITE_DOWN_FOR + 60)
        assert fired, "no SiteDown notification %d s after the backend stopped" % (time.time() - stopped)
        delay = fired[0]["received"] - stopped
        # not before its `for:`, and within it plus a probe, an evaluation, group_wait and a scrape of slack
        assert SITE_DOWN_FOR <= delay <= SITE_DOWN_FOR + 30, delay
        assert fired[0]["alerts"][0]["labels"]["severity"] == "critical"
        assert fired[0]["alerts"][0]["labels"]["bench"] == "alpha"
    finally:
        host.run_expect([0], "docker compose --project-directory %s start backend" % BENCH_DIR)
    started = time.time()
    resolved = wait_for(lambda: site_down(host, "resolved"), 90)
    assert resolved, "no resolved notification %d s after the backend started" % (time.time() - started)


def disk_alerts(host, name, status):
    return [(n["received"], a) for n in notifications(host) for a in n["alerts"]
            if a["labels"].get("alertname") == name and a["labels"].get("mountpoint") == DISK and a["status"] == status]


def free_ratio(host):
    """The free share of the test's filesystem now (statfs, as the node exporter reads it: available to non-root)."""
    free, total = host.check_output("stat -f -c '%%a %%b' %s" % DISK).split()
    return float(free) / float(total)


def test_a_filling_disk_warns_while_it_has_room_and_alerts_before_it_is_full(host, prometheus):
    # a real filesystem the node exporter reads through the host's root, filled at a steady rate: the scenario's
    # `for:` windows are 10 s (molecule.yml), the defaults' 30 and 5 minutes are the same rules
    # a booted host's root is a shared mount (systemd), this container's is not: made shared, and the node exporter
    # started again, a mount made afterwards reaches its /host (rslave), as it does on a host
    host.run_expect([0], "mount --make-rshared / && docker restart $(docker ps -q --filter "
                    "label=com.docker.compose.service=node-exporter)")
    host.run_expect([0], "mkdir -p %s && truncate -s %dM /srv/erpstack-disk.img && mkfs.ext2 -q -F /srv/erpstack-disk.img"
                    " && fuse2fs -o allow_other /srv/erpstack-disk.img %s" % (DISK, DISK_MIB, DISK))
    try:
        seen = wait_for(lambda: prometheus.query('node_filesystem_avail_bytes{mountpoint="%s"}' % DISK), 60)
        assert seen, "the node exporter does not report %s" % DISK
        warned = full = None
        written = 0
        started = time.time()
        # 1 MiB at a time, about 1 MiB/s with the checks: DiskWillFillSoon once less than 40 % is free and the rate
        # fills it within 24 h, DiskAlmostFull at 5 %; the writer stops at 3 %, where writes still succeed
        while time.time() < started + 240 and not (warned and full):
            if free_ratio(host) > 0.03:
                host.run_expect([0], "dd if=/dev/zero of=%s/fill.%d bs=1M count=1 status=none" % (DISK, written))
                written += 1
            if not warned and disk_alerts(host, "DiskWillFillSoon", "firing"):
                warned = (free_ratio(host), time.time() - started)
            if not full and disk_alerts(host, "DiskAlmostFull", "firing"):
                full = (free_ratio(host), time.time() - started)
            time.sleep(0.5)
        out = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "tests", "output", "molecule-monitoring")
        if not os.path.isdir(out):
            os.makedirs(out)
        with open(os.path.join(out, "disk-figures.json"), "w") as handle:
            json.dump({"size_mib": DISK_MIB, "written_mib": written, "seconds_filling": round(time.time() - started, 1),
                       "will_fill_soon": warned and {"free_ratio": round(warned[0], 3), "second": round(warned[1], 1)},
                       "almost_full": full and {"free_ratio": round(full[0], 3), "second": round(full[1], 1)}},
                      handle, indent=2, sort_keys=True)
        assert warned, "no DiskWillFillSoon notification (%d MiB written, %.3f free)" % (written, free_ratio(host))
        assert full, "no DiskAlmostFull notification (%d MiB written, %.3f free)" % (written, free_ratio(host))
        # the warning came while the disk had room (above the critical alert's 5 %), the critical alert while
        # writes still succeeded: never on a full disk
        assert warned[0] > 0.05 and full[0] > 0, (warned, full)
        alert = disk_alerts(host, "DiskAlmostFull", "firing")[0][1]
        assert alert["labels"]["severity"] == "critical" and alert["labels"]["fstype"].startswith("fuse"), alert
    finally:
        host.run_expect([0], "rm -f %s/fill.*" % DISK)
    try:
        resolved = wait_for(lambda: disk_alerts(host, "DiskAlmostFull", "resolved"), 90)
        assert resolved, "no resolved DiskAlmostFull notification after the files were removed"
    finally:
        host.run_expect([0], "umount %s && rm -f /srv/erpstack-disk.img" % DISK)
