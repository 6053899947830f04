# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults on a converged bench, in order. After each: every long-running service is running (and healthy where it
has a healthcheck), the site answers, and every ToDo written before the fault is still there. The seconds from the
fault (or its end) to that state are the figures of docs/reliability.md. Then: the backup volume filled to 100 %, the
backend killed by the OOM killer, the queue Redis down for 30 s while the scheduler enqueues."""

import json
import os
import subprocess
import time

import pytest
from testinfra_erpstack import wait_for

TARGET = "erpstack-faults"
PROJECT_DIR = "/opt/erpstack/erpnext"
SITE = "erp.example.test"
URL = "http://127.0.0.1:8080"
WORK = "/root/faults"
LONG_RUNNING = ["db", "redis-cache", "redis-queue", "backend", "frontend", "websocket", "queue-short", "queue-long",
                "scheduler"]
FIGURES = {}

# Writes one ToDo every 0.2 s through the API until told to stop; a ToDo is acknowledged once the API returned its
# name (Frappe commits before it answers). The session cookie comes from a login with the site's Administrator
# password, read from its secret file (never an argument).
WRITER = r'''
import http.cookiejar, json, os, sys, time, urllib.request
url, site, secret, work = sys.argv[1:5]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def call(path, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Host": site, "Content-Type": "application/json"})
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())
with open(secret) as handle:
    call("/api/method/login", {"usr": "Administrator", "pwd": handle.read().strip()})
acked = open(os.path.join(work, "acked"), "a", buffering=1)
failed = open(os.path.join(work, "failed"), "a", buffering=1)
i = 0
while not os.path.exists(os.path.join(work, "stop")):
    i += 1
    description = "%s-%d" % (os.environ.get("FAULT", "fault"), i)
    try:
        name = call("/api/resource/ToDo", {"description": description})["data"]["name"]
        acked.write("%s %s %.3f\n" % (description, name, time.time()))
    except Exception as exc:
        failed.write("%s %.3f %s\n" % (description, time.time(), type(exc).__name__))
    time.sleep(0.2)
'''


def compose(host, *args):
    return host.run("docker compose --project-directory %s %s" % (PROJECT_DIR, " ".join(args)))


def services_ready(host):
    out = compose(host, "ps --format json").stdout
    try:
        rows = [json.loads(line) for line in out.splitlines() if line.strip()] if not out.lstrip().startswith("[") \
            else json.loads(out)
    except ValueError:
        return False
    state = dict((row["Service"], row) for row in rows)
    return all(name in state and state[name]["State"] == "running" and state[name].get("Health") in ("", "healthy")
               for name in LONG_RUNNING)


def site_answers(host):
    return host.run("curl -s -o /dev/null -m 5 -w '%%{http_code}' -H 'Host: %s' %s/api/method/ping"
                    % (SITE, URL)).stdout == "200"


def todo_descriptions(host):
    """Every ToDo's description, read through the API as Administrator."""
    script = (
        "set -e; c=$(mktemp); trap 'rm -f $c' EXIT; "
        "curl -sf -m 10 -c $c -H 'Host: {site}' --data-urlencode usr=Administrator "
        "--data-urlencode pwd@{dir}/secrets/admin_password.{site} {url}/api/method/login >/dev/null; "
        "curl -sf -m 20 -b $c -G -H 'Host: {site}' --data-urlencode 'fields=[\"description\"]' "
        "--data-urlencode limit_page_length=0 {url}/api/resource/ToDo"
    ).format(site=SITE, dir=PROJECT_DIR, url=URL)
    result = host.run(script)
    if result.rc != 0:
        return None
    return set(row["description"] for row in json.loads(result.stdout)["data"])


def recovered(host, expected):
    if not (services_ready(host) and site_answers(host)):
        return False
    found = todo_descriptions(host)
    return found is not None and expected <= found


def time_to_recovery(host, expected, since, timeout=300):
    assert wait_for(lambda: recovered(host, expected), timeout=timeout, interval=1), \
        compose(host, "ps -a").stdout
    return round(time.time() - since, 1)


@pytest.fixture(scope="module")
def writer(host):
    host.run_expect([0], "rm -rf %s && mkdir -p %s" % (WORK, WORK))
    host.run_expect([0], "cat > %s/writer.py <<'PY'\n%s\nPY" % (WORK, WRITER))

    def start(fault):
        host.run_expect([0], "rm -f %s/stop %s/acked %s/failed; cd %s && FAULT=%s setsid nohup python3 writer.py %s %s "
                             "%s/secrets/admin_password.%s %s >writer.log 2>&1 </dev/null &"
                        % (WORK, WORK, WORK, WORK, fault, URL, SITE, PROJECT_DIR, SITE, WORK))
        assert wait_for(lambda: host.run("test -s %s/acked" % WORK).rc == 0, timeout=30, interval=0.5), \
            host.run("cat %s/writer.log" % WORK).stdout

    def stop():
        host.run_expect([0], "touch %s/stop" % WORK)
        time.sleep(1)
        acked = [line.split()[0] for line in host.run("cat %s/acked" % WORK).stdout.splitlines()]
        failed = host.run("cat %s/failed 2>/dev/null" % WORK).stdout.splitlines()
        return acked, failed
    return start, stop


@pytest.fixture(scope="module", autouse=True)
def figures():
    yield FIGURES
    out = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "tests", "output", "molecule-faults")
    if not os.path.isdir(out):
        os.makedirs(out)
    with open(os.path.join(out, "figures.json"), "w") as handle:
        json.dump(FIGURES, handle, indent=2, sort_keys=True)


def test_the_bench_is_ready_before_any_fault(host):
    assert wait_for(lambda: services_ready(host) and site_answers(host), timeout=240)


def test_a_docker_restart_keeps_the_containers_running(host, writer):
    start, stop = writer
    start("docker-restart")
    started = compose(host, "ps -q").stdout.split()
    before = dict((cid, host.run("docker inspect -f '{{.State.StartedAt}}' %s" % cid).stdout) for cid in started)
    since = time.time()
    host.run_expect([0], "systemctl restart docker")
    acked, failed = stop()
    seconds = time_to_recovery(host, set(acked), since)
    # live-restore: the same containers, never restarted
    after = dict((cid, host.run("docker inspect -f '{{.State.StartedAt}}' %s" % cid).stdout) for cid in started)
    assert after == before
    FIGURES["docker_restart"] = {"recovery_s": seconds, "acked": len(acked), "failed_writes": len(failed)}


def test_a_reboot_brings_back_docker_every_bench_and_the_firewall(host, writer):
    start, stop = writer
    start("reboot")
    time.sleep(2)
    acked, _failed = stop()
    since = time.time()
    subprocess.run(["docker", "restart", "-t", "30", TARGET], check=True, stdout=subprocess.PIPE)
    seconds = time_to_recovery(host, set(acked), since, timeout=400)
    assert host.service("docker").is_running
    assert host.run("nft list table inet erpstack").rc == 0
    FIGURES["reboot"] = {"recovery_s": seconds, "acked_before": len(acked)}


def test_mysqld_killed_while_a_writer_commits_loses_no_acknowledged_record(host, writer):
    start, stop = writer
    start("kill-mysqld")
    time.sleep(5)
    pid = host.run_expect([0], "docker inspect -f '{{.State.Pid}}' erpnext-db-1").stdout.strip()
    since = time.time()
    host.run_expect([0], "kill -9 %s" % pid)
    # the writer keeps writing through the outage and the recovery
    assert wait_for(lambda: services_ready(host) and site_answers(host), timeout=300, interval=1)
    back = round(time.time() - since, 1)
    time.sleep(5)
    acked, failed = stop()
    seconds = time_to_recovery(host, set(acked), since)
    missing = set(acked) - (todo_descriptions(host) or set())
    assert not missing, sorted(missing)[:10]
    assert failed, "no write failed: mysqld was not down"
    FIGURES["kill_mysqld"] = {"recovery_s": back, "all_checks_s": seconds, "acked": len(acked),
                              "failed_writes": len(failed), "lost_acked": len(missing)}


def test_the_database_cut_off_for_60_s_gives_5xx_then_recovers_by_itself(host, writer):
    start, stop = writer
    start("db-disconnect")
    time.sleep(2)
    host.run_expect([0], "docker network disconnect erpnext_bench erpnext-db-1")
    try:
        cut = time.time()
        time.sleep(5)
        # the backend's connection fails once the name "db" no longer resolves on the bench network (seconds: the
        # resolver's retries), and the site answers an error rather than hanging
        code = host.run("c=$(mktemp); curl -s -m 90 -c $c -o /dev/null -w '%%{http_code}' -H 'Host: %s' "
                        "--data-urlencode usr=Administrator --data-urlencode pwd@%s/secrets/admin_password.%s "
                        "%s/api/method/login; rm -f $c" % (SITE, PROJECT_DIR, SITE, URL)).stdout
        assert code.startswith("5"), code
        time.sleep(max(0, 60 - (time.time() - cut)))
    finally:
        host.run_expect([0], "docker network connect --alias db erpnext_bench erpnext-db-1")
    since = time.time()
    time.sleep(5)
    acked, failed = stop()
    seconds = time_to_recovery(host, set(acked), since)
    assert failed
    FIGURES["db_disconnect_60s"] = {"recovery_s": seconds, "status_during": int(code), "acked": len(acked),
                                    "failed_writes": len(failed)}


def logged_since(host, service, since, text):
    """How many lines of the service's log since ``since`` (a Unix time) contain ``text``."""
    out = compose(host, "logs --no-color --no-log-prefix --since %d %s" % (int(since), service)).stdout
    return sum(text in line for line in out.splitlines())


def test_a_full_backup_volume_fails_the_backup_clearly_and_the_site_keeps_running(host, writer):
    start, stop = writer
    start("backup-volume-full")
    # the backup directory's own file system, filled to the last block (the host's sets stay under it, untouched)
    host.run_expect([0], "mount -t tmpfs -o size=4m erpstack-full /var/backups/erpstack && "
                         "{ dd if=/dev/zero of=/var/backups/erpstack/filler bs=64k 2>/dev/null || true; }")
    try:
        assert host.run("df --output=pcent /var/backups/erpstack | tail -n 1").stdout.strip() == "100%"
        since = time.time()
        assert host.run("systemctl start erpstack-backup@erpnext.service").rc != 0
        journal = host.run("journalctl -u erpstack-backup@erpnext.service --since @%d --no-pager -o cat"
                           % int(since)).stdout
        failed_line = [line for line in journal.splitlines() if "erpstack-backup: FAILED:" in line]
        assert failed_line and "bench erpnext: backup failed, previous sets are untouched" in failed_line[0], journal
        assert "no space left on device" in failed_line[0].lower(), journal
        assert "Traceback" not in journal
        metrics = host.run("cat /var/lib/erpstack/textfile/erpstack_backup_erpnext.prom").stdout
        # the metric BackupFailed fires on (tests/promtool/backups.test.yml)
        assert 'erpstack_backup_last_run_success{bench="erpnext"} 0' in metrics
        assert services_ready(host) and site_answers(host)
    finally:
        host.run_expect([0], "umount /var/backups/erpstack")
    acked, failed = stop()
    seconds = time_to_recovery(host, set(acked), since)
    assert not host.run("ls -A /var/backups/erpstack/erpnext 2>/dev/null | grep '^.partial-'").stdout
    FIGURES["backup_volume_full"] = {"all_checks_s": seconds, "acked": len(acked), "failed_writes": len(failed)}


def test_a_backend_killed_by_the_oom_killer_is_restarted(host, writer):
    start, stop = writer
    start("backend-oom")
    name = "erpnext-backend-1"
    limit = int(host.check_output("docker inspect -f '{{.HostConfig.Memory}}' %s", name))
    assert limit > 0, "the backend has no memory limit"
    restarts = int(host.check_output("docker inspect -f '{{.RestartCount}}' %s", name))
    pid = host.check_output("docker inspect -f '{{.State.Pid}}' %s", name)
    # The kernel kills the process of the container's cgroup with the highest badness: make it the container's main
    # process (gunicorn's master), as when it grows past the limit itself, so the container dies and restarts.
    host.run_expect([0], "echo 1000 > /proc/%s/oom_score_adj" % pid)
    since = time.time()
    host.run("docker exec %s python3 -c 'b = bytearray(%d)'" % (name, limit + 256 * 1024 * 1024))
    assert wait_for(lambda: int(host.check_output("docker inspect -f '{{.RestartCount}}' %s", name)) > restarts,
                    timeout=120, interval=1)
    events = [line.strip() for line in host.check_output(
        "docker events --since %d --until %d --filter container=%s --format "
        "'{{.Action}} {{index .Actor.Attributes \"exitCode\"}}'" % (int(since) - 1, int(time.time()) + 1, name)
    ).splitlines()]
    # Docker saw the kernel's OOM kill in the container's cgroup, then the main process die of SIGKILL
    assert "oom" in [e.split()[0] for e in events if e], events
    assert "die 137" in events, events
    acked, failed = stop()
    seconds = time_to_recovery(host, set(acked), since)
    # what ContainerRestartLoop counts (cAdvisor's container_start_time_seconds): a new start time
    FIGURES["backend_oom"] = {"recovery_s": seconds, "memory_limit_mib": limit // 1048576, "acked": len(acked),
                              "failed_writes": len(failed), "restart_count": restarts + 1}


def test_the_queue_redis_down_for_30_s_loses_no_enqueued_job_and_says_so(host):
    # a tick every 2 s (Frappe's scheduler_tick_interval, common config), workers stopped so the jobs stay queued
    common = "/home/frappe/frappe-bench/sites/common_site_config.json"
    edit = ("import json, sys; p = '%s'; c = json.load(open(p)); "
            "c.update(json.loads(sys.argv[1])) if sys.argv[1] != 'del' else c.pop('scheduler_tick_interval', None); "
            "json.dump(c, open(p, 'w'), indent=1)" % common)
    host.run_expect([0], "docker exec -u frappe erpnext-backend-1 python3 -c %s '{\"scheduler_tick_interval\": 2}'"
                    % json.dumps(edit))
    try:
        compose(host, "stop queue-short queue-long")
        compose(host, "restart scheduler")
        begun = time.time()
        assert wait_for(lambda: logged_since(host, "scheduler", begun, "enqueued frappe.scheduler") >= 3, 60, 1)
        host.run_expect([0], "docker compose --project-directory %s stop redis-queue" % PROJECT_DIR)
        down = time.time()
        time.sleep(30)
        host.run_expect([0], "docker compose --project-directory %s start redis-queue" % PROJECT_DIR)
        up = time.time()
        time.sleep(3)
        compose(host, "stop scheduler")
        refused = logged_since(host, "scheduler", down, "cannot enqueue")
        enqueued = logged_since(host, "scheduler", begun, "enqueued frappe.scheduler")
        during = sum(1 for line in compose(host, "logs --no-color --no-log-prefix --since %d --until %d scheduler"
                                           % (int(down) + 1, int(up) - 1)).stdout.splitlines()
                     if "enqueued frappe.scheduler" in line)
        # every enqueue during the outage failed loudly; none was reported done
        assert refused >= 3 and during == 0, (refused, during)
        workers = time.time()
        compose(host, "start queue-short queue-long")

        def done():
            return (logged_since(host, "queue-short", workers, "frappe.scheduler (jobs done")
                    + logged_since(host, "queue-long", workers, "frappe.scheduler (jobs done"))
        # every job enqueued before the outage (and after it) is performed, exactly once
        assert wait_for(lambda: done() >= enqueued, 60, 1), (done(), enqueued)
        time.sleep(3)
        assert done() == enqueued
    finally:
        host.run("docker exec -u frappe erpnext-backend-1 python3 -c %s del" % json.dumps(edit))
        compose(host, "up -d --wait")
    assert wait_for(lambda: services_ready(host) and site_answers(host), 120, 1)
    FIGURES["redis_queue_down_30s"] = {"enqueued": enqueued, "refused_during": refused, "performed_after": done()}
