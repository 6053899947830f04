# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults, in order (after the other tests): a node that holds only replicas is lost, then the node of the database's
and both Redis' primaries, with playbooks/failover_db.yml run as an operator would; each time the sites answer again
and no record is lost. The figures go to tests/output/swarm-faults.txt."""

import json
import os
import subprocess
import time

import pytest

from swarm_helpers import (
    ADDRESSES,
    BENCH,
    ROOT,
    SITES,
    admin_session,
    api,
    db_script,
    ping,
    playbook,
    replica_status,
    running_tasks,
    swarm_plan,
    todos,
)
from testinfra_erpstack import wait_for

FIGURES = os.path.join(ROOT, "tests", "output", "swarm-faults.txt")
ADMIN_PW = "/tmp/admin.pw"
# every task of the stack but the Sentinels (one per node: two while a node is down)
TASKS = {"backend": 3, "frontend": 2, "websocket": 2, "queue-short": 2, "queue-long": 1, "scheduler": 1,
         "redis-cache": 1, "redis-cache-replica": 1, "redis-queue": 1, "redis-queue-replica": 1, "redis-proxy": 2}


def figure(line):
    print(line)
    with open(FIGURES, "a") as handle:
        handle.write(line + "\n")


def tasks_back(host, lost):
    """Every service has all its tasks running on the nodes that are up."""
    for service, count in TASKS.items():
        nodes = [n for n in running_tasks(host, service) if n != lost]
        if len(nodes) != count:
            return False
    return True


# on each node, its Sentinel's view of both primaries: "flags others replicas" per primary
SENTINEL_VIEW = (
    "s=$(docker ps -q --filter label=com.docker.swarm.service.name=%s_redis-sentinel | head -n 1); "
    "[ -n \"$s\" ] && docker exec \"$s\" sh -c 'for k in cache queue; do "
    "REDISCLI_AUTH=$(cat /run/secrets/redis_sentinel_password) redis-cli -p 26379 --raw sentinel master $k "
    "| paste -d= - - | grep -E \"^(flags|num-other-sentinels|num-slaves)=\" | tr \"\\n\" \" \"; echo; done'" % BENCH)
WHOLE = {"flags=master", "num-other-sentinels=2", "num-slaves=1"}


def full_strength(node):
    """Every task runs on every node again, three Sentinels run, and each sees both primaries up with their replica
    and the two other Sentinels: a second fault is then one the stack survives."""
    if not tasks_back(node("erpstack-swarm-2"), None) or len(running_tasks(node("erpstack-swarm-2"),
                                                                           "redis-sentinel")) != 3:
        return False
    for name in ("erpstack-swarm-1", "erpstack-swarm-2", "erpstack-swarm-3"):
        view = [set(line.split()) for line in node(name).run(SENTINEL_VIEW).stdout.splitlines() if line.strip()]
        if view != [WHOLE, WHOLE]:
            return False
    return True


def redis_queue(host, command):
    """A redis-cli command through the Redis proxy (the address Frappe's realtime server uses), from a throwaway
    container on the bench's network; the password goes on its standard input."""
    run = host.run("printf '%%s\\n' %s | docker run -i --rm --network %s_bench 172.31.40.11:5000/erpstack-test/redis:7.0 "
                   "sh -c 'read -r p; REDISCLI_AUTH=$p timeout 5 redis-cli -h redis-proxy -p 6379 %s'"
                   % ("\"$(cat /tmp/queue.pw)\"", BENCH, command))
    return run


@pytest.fixture(scope="module")
def client(node):
    """The node the tests reach the sites from: the second one, which stays up."""
    host = node("erpstack-swarm-2")
    # the queue's and Administrator's passwords, for the checks, copied from the first manager while it is up
    for secret, copy in (("redis_queue_password", "/tmp/queue.pw"), ("admin_password." + SITES[0], ADMIN_PW)):
        value = node("erpstack-swarm-1").check_output("cat /opt/erpstack/%s/secrets/%s" % (BENCH, secret))
        host.run("umask 077; printf '%%s' %s > %s" % ("'" + value.replace("'", "'\\''") + "'", copy))
    return host


def test_losing_a_node_of_replicas_moves_its_tasks_and_loses_nothing(node, client):
    first = node("erpstack-swarm-1")
    session = admin_session(client, ADDRESSES["erpstack-swarm-2"], SITES[0], ADMIN_PW)
    api(client, ADDRESSES["erpstack-swarm-2"], SITES[0], session, "POST", "/api/resource/ToDo",
        {"description": "before erpstack-swarm-3 was lost"})
    start = time.time()
    subprocess.run(["docker", "stop", "erpstack-swarm-3"], check=True, stdout=subprocess.DEVNULL)
    failed = 0
    recovered = None
    while time.time() - start < 240:
        if not ping(client, ADDRESSES["erpstack-swarm-1"], SITES[0]):
            failed += 1
        if tasks_back(first, "erpstack-swarm-3"):
            recovered = time.time() - start
            break
        time.sleep(1)
    figure("node of replicas lost: every task running again after %s s; %d of the pings in between failed"
           % ("%.0f" % recovered if recovered else "more than 240", failed))
    assert recovered is not None and recovered < 120
    assert ping(client, ADDRESSES["erpstack-swarm-2"], SITES[0])
    assert "before erpstack-swarm-3 was lost" in todos(client, ADDRESSES["erpstack-swarm-2"], SITES[0], session)
    api(client, ADDRESSES["erpstack-swarm-2"], SITES[0], session, "POST", "/api/resource/ToDo",
        {"description": "while erpstack-swarm-3 was lost"})
    subprocess.run(["docker", "start", "erpstack-swarm-3"], check=True, stdout=subprocess.DEVNULL)
    start = time.time()
    assert wait_for(lambda: "Ready" in first.run("docker node inspect erpstack-swarm-3 --format "
                                                 "'{{.Status.State}}'").stdout.title(), timeout=180)
    # the next fault only once the stack is whole again (a second fault before that is a double fault)
    whole = wait_for(lambda: full_strength(node), timeout=240, interval=2)
    figure("node of replicas back: every task and Sentinel whole again %.0f s after its restart" % (time.time() - start))
    assert whole


def test_losing_the_primaries_node_fails_redis_over_and_the_playbook_fails_the_database_over(node, client, request):
    """erpstack-swarm-1 holds the database's and both Redis' primaries (and the registry, and is the first manager)."""
    address = ADDRESSES["erpstack-swarm-2"]
    session = admin_session(client, address, SITES[0], ADMIN_PW)
    api(client, address, SITES[0], session, "POST", "/api/resource/ToDo",
        {"description": "before erpstack-swarm-1 was lost"})
    # jobs waiting in a queue no worker takes: they must be there after the failover
    redis_queue(client, "DEL rq:queue:erpstack-faults")
    pushed = redis_queue(client, "RPUSH rq:queue:erpstack-faults job-1 job-2 job-3")
    assert pushed.stdout.strip() == "3", pushed.stdout + pushed.stderr
    start = time.time()
    subprocess.run(["docker", "stop", "erpstack-swarm-1"], check=True, stdout=subprocess.DEVNULL)
    enqueued = wait_for(lambda: redis_queue(client, "RPUSH rq:queue:erpstack-faults job-4").stdout.strip() == "4",
                        timeout=120, interval=1)
    redis_after = time.time() - start
    figure("primaries' node lost: enqueue through the Redis proxy works again after %.0f s" % redis_after)
    assert enqueued, "the queue's jobs after the failover: %s" % redis_queue(
        client, "LRANGE rq:queue:erpstack-faults 0 -1").stdout
    assert redis_queue(client, "LRANGE rq:queue:erpstack-faults 0 -1").stdout.split() == [
        "job-1", "job-2", "job-3", "job-4"]
    playbook(request, "failover_db.yml", "-e", "bench=%s" % BENCH, "-l", "erpstack-swarm-2,erpstack-swarm-3")
    answered = wait_for(lambda: ping(client, address, SITES[0]), timeout=120, interval=1)
    figure("primaries' node lost: sites answer again %.0f s after the loss (the failover playbook included)"
           % (time.time() - start))
    assert answered
    session = admin_session(client, address, SITES[0], ADMIN_PW)
    assert {"before erpstack-swarm-1 was lost", "before erpstack-swarm-3 was lost",
            "while erpstack-swarm-3 was lost"} <= set(todos(client, address, SITES[0], session))
    api(client, address, SITES[0], session, "POST", "/api/resource/ToDo",
        {"description": "after the database failed over"})
    # the workers found the new Redis primary through the Sentinels
    workers = redis_queue(client, "SCARD rq:workers")
    assert int(workers.stdout.strip() or 0) >= 3, workers.stdout
    # the database's failover moved no Redis instance off its data: the jobs are still there
    assert redis_queue(client, "LRANGE rq:queue:erpstack-faults 0 -1").stdout.split() == [
        "job-1", "job-2", "job-3", "job-4"]


def test_the_former_primary_comes_back_as_the_replica(node, client, request):
    first = node("erpstack-swarm-1")
    subprocess.run(["docker", "start", "erpstack-swarm-1"], check=True, stdout=subprocess.DEVNULL)
    assert wait_for(lambda: first.run("docker info --format '{{.Swarm.LocalNodeState}}'").stdout.strip() == "active",
                    timeout=180)
    # a converge with the roles the inventory gives now: it seeds the replica on the former primary's node
    playbook(request, "site.yml", "-e", "swarm_db_primary=erpstack-swarm-2", "-e", "swarm_db_replica=erpstack-swarm-1")
    assert replica_status(node, "erpstack-swarm-1") == "replicating"
    rows = db_script(first, "db-replica", swarm_plan.DB_POSITION.replace(
        "SELECT @@gtid_binlog_pos, @@gtid_slave_pos, @@read_only",
        "SELECT COUNT(*) FROM information_schema.schemata"))
    assert rows is not None and rows.rc == 0
    session = admin_session(client, ADDRESSES["erpstack-swarm-1"], SITES[0], ADMIN_PW)
    assert "after the database failed over" in todos(client, ADDRESSES["erpstack-swarm-1"], SITES[0], session)
    # the backups followed the replica: its new node takes them, the new primary's stands aside
    backup = first.run("/usr/local/sbin/erpstack-backup run %s --no-offsite" % BENCH)
    assert backup.rc == 0 and "runs on another node" not in backup.stderr, backup.stderr
    newest = json.loads(first.check_output("/usr/local/sbin/erpstack-backup list %s" % BENCH))[-1]
    assert first.run("zcat /var/backups/erpstack/%s/%s/%s/database.sql.gz | grep -c 'after the database failed over'"
                     % (BENCH, newest["set"], SITES[0])).stdout.strip() == "1"
    aside = node("erpstack-swarm-2").run("/usr/local/sbin/erpstack-backup run %s --no-offsite" % BENCH)
    assert aside.rc == 0 and "runs on another node, which takes the backup" in aside.stderr, aside.stderr
