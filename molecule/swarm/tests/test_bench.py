# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bench on the Swarm: every service with all its tasks, spread over the nodes, each hardened as its compose
service; every site through Traefik on every edge node; requests reaching every backend task; Socket.IO through a
rolling restart; Docker secrets, not files; Redis behind its Sentinels and the database replicating. The faults are
in test_zz_faults.py."""

import json
import time

from swarm_helpers import (
    ADDRESSES,
    BENCH,
    BOOTSTRAP,
    NODES,
    SITES,
    admin_session,
    api,
    handshake,
    ping,
    replica_status,
    running_tasks,
)
from testinfra_erpstack import wait_for

EXPECTED_TASKS = {
    "backend": 3, "frontend": 2, "websocket": 2, "queue-short": 2, "queue-long": 1, "scheduler": 1, "db": 1,
    "db-replica": 1, "redis-cache": 1, "redis-cache-replica": 1, "redis-queue": 1, "redis-queue-replica": 1,
    "redis-sentinel": 3, "redis-proxy": 2,
}


def test_every_service_runs_all_its_tasks(node):
    first = node(BOOTSTRAP)
    for service, count in EXPECTED_TASKS.items():
        tasks = wait_for(lambda: len(running_tasks(first, service)) == count and running_tasks(first, service))
        assert tasks, (service, first.run("docker service ps %s_%s" % (BENCH, service)).stdout)


# What each service keeps once every capability is dropped (plugins/plugin_utils/hardening.py)
KEPT_CAPABILITIES = {"db": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_SETGID", "CAP_SETUID"]}


def test_every_task_is_hardened_and_runs_as_a_user_without_privileges(node):
    seen = set()
    for name in NODES:
        host = node(name)
        ids = host.check_output("docker ps -q --filter label=com.docker.stack.namespace=%s" % BENCH).split()
        for info in json.loads(host.check_output("docker inspect " + " ".join(ids))):
            service = info["Config"]["Labels"]["com.docker.swarm.service.name"].split("_", 1)[1]
            seen.add(service)
            config = info["HostConfig"]
            assert config["ReadonlyRootfs"] is True, (name, service)
            assert config["CapDrop"] == ["ALL"], (name, service)
            kept = KEPT_CAPABILITIES.get(service.replace("-replica", ""), [])
            assert sorted(config["CapAdd"] or []) == kept, (name, service)
            assert config["PidsLimit"] and config["PidsLimit"] > 0, (name, service)
            # no-new-privileges from the daemon's default (Swarm has no per-service security_opt), seen by the kernel
            status = host.file("/proc/%d/status" % info["State"]["Pid"]).content_string
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            assert fields["NoNewPrivs"].strip() == "1", (name, service)
            uids = fields["Uid"].split()
            assert uids[0] != "0" and uids[1] != "0", (name, service, uids)
            assert int(fields["CapEff"].strip(), 16) == 0, (name, service, fields["CapEff"])
    assert seen >= set(EXPECTED_TASKS) - {"configurator"}, sorted(seen)


def test_the_tasks_are_spread_and_the_pairs_never_share_a_node(node):
    first = node(BOOTSTRAP)
    assert len(set(running_tasks(first, "backend"))) == 3
    assert len(set(running_tasks(first, "redis-sentinel"))) == 3
    for primary in ("db", "redis-cache", "redis-queue"):
        assert running_tasks(first, primary) == ["erpstack-swarm-1"], primary
        assert running_tasks(first, primary + "-replica") != ["erpstack-swarm-1"], primary


def test_every_node_pulled_the_images_from_the_clusters_registry(node):
    for name in ("erpstack-swarm-2", "erpstack-swarm-3"):
        images = node(name).check_output("docker image ls --format '{{.Repository}}'").split()
        assert "172.31.40.11:5000/erpstack-test/erpnext" in images, (name, images)
        assert "erpstack-test/erpnext" not in images, name  # nothing loaded from an archive there


def test_every_site_answers_through_traefik_on_every_edge_node(node):
    first = node(BOOTSTRAP)
    for address in ADDRESSES.values():
        for site in SITES:
            assert ping(first, address, site), (address, site)


def test_requests_reach_every_backend_task(node):
    """Traefik's access log names the backend task each request went to: all three take requests."""
    first = node(BOOTSTRAP)
    backends = set()
    for task in first.check_output(
            "docker service ps %s_backend -q --filter desired-state=running" % BENCH).split():
        attachments = json.loads(first.check_output(
            "docker inspect %s --format '{{json .NetworksAttachments}}'" % task))
        for attachment in attachments:
            if attachment["Network"]["Spec"]["Name"] == "traefik-public":
                backends.add(attachment["Addresses"][0].split("/")[0])
    assert len(backends) == 3
    for dummy in range(30):
        assert ping(first, ADDRESSES[BOOTSTRAP], SITES[0])
    log = first.check_output("docker logs --tail 200 traefik-traefik-1 2>&1")
    reached = set()
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if str(entry.get("RouterName", "")).startswith("alpha-erp-example-test-app") and entry.get("ServiceAddr"):
            reached.add(entry["ServiceAddr"].rsplit(":", 1)[0])
    assert reached == backends, (reached, backends)


def test_socketio_holds_through_a_rolling_restart_of_its_tasks(node):
    """The sticky cookie keeps a client on one websocket task; while every task is replaced (start-first), each
    handshake with that cookie still gets an answer."""
    first = node(BOOTSTRAP)
    jar = "/tmp/socketio.jar"
    first.run("rm -f %s" % jar)
    assert handshake(first, ADDRESSES[BOOTSTRAP], SITES[0], jar)
    assert "erpstack_io" in first.check_output("cat %s" % jar)
    first.check_output("docker service update --detach --force %s_websocket" % BENCH)
    answered = failed = 0
    deadline = time.time() + 120
    while time.time() < deadline:
        if handshake(first, ADDRESSES[BOOTSTRAP], SITES[0], jar):
            answered += 1
        else:
            failed += 1
        state = first.run("docker service inspect %s_websocket --format '{{.UpdateStatus.State}}'" % BENCH).stdout
        if state.strip() == "completed":
            break
    print("socket.io handshakes during the rolling restart: %d answered, %d failed" % (answered, failed))
    assert state.strip() == "completed"
    assert failed == 0 and answered > 0


def test_services_read_docker_secrets_and_no_secret_file_is_on_a_node(node):
    first = node(BOOTSTRAP)
    secrets = first.check_output("docker secret ls --format '{{.Name}}'").split()
    assert "alpha_redis_queue_password_v1" in secrets and "alpha_db_root_password_v1" in secrets
    spec = json.loads(first.check_output("docker service inspect %s_redis-queue --format "
                                         "'{{json .Spec.TaskTemplate.ContainerSpec}}'" % BENCH))
    assert sorted(s["SecretName"] for s in spec["Secrets"]) == [
        "alpha_redis_queue_password_v1", "alpha_redis_sentinel_password_v1"]
    assert all(s["File"]["UID"] == "999" and s["File"]["Mode"] == 0o400 for s in spec["Secrets"])
    for name in ("erpstack-swarm-2", "erpstack-swarm-3"):
        assert node(name).run("ls /opt/erpstack/alpha/secrets/").stdout.strip() == "", name


def test_sites_and_sessions_work_against_the_sentinels_and_the_replica(node):
    first = node(BOOTSTRAP)
    session = admin_session(first, ADDRESSES["erpstack-swarm-2"], SITES[0])
    created = api(first, ADDRESSES["erpstack-swarm-3"], SITES[0], session, "POST", "/api/resource/ToDo",
                  {"description": "written on the swarm"})
    assert created["data"]["description"] == "written on the swarm"
    # the realtime server and the Python side agree on the queue's primary: the proxy answers as it
    assert wait_for(lambda: replica_status(node) == "replicating")
    # (only keys without a secret leave the container)
    config = json.loads(first.check_output(
        "docker exec alpha_admin jq -c '{redis_queue_sentinel_enabled, redis_queue_master_service, replica_host, "
        "read_from_replica, queue: (.redis_queue | sub(\"^redis://:[^@]*@\"; \"\"))}' sites/common_site_config.json"))
    assert config == {"redis_queue_sentinel_enabled": True, "redis_queue_master_service": "queue",
                      "replica_host": "db-replica", "read_from_replica": 1, "queue": "redis-proxy:6379"}
