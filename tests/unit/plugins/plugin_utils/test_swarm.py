# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Swarm view of the plan: the cluster's checks, and a bench's stack document rendered from its compose one."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import os
import re
import subprocess

import pytest

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.deployment import PlanError, deployment_plan
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.swarm import bench_replicas, swarm_topology

from ansible_collections.erpstack.erpnext.tests.unit.plugins.plugin_utils.test_deployment import FACTS, inventory

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "swarm_stack.json")
NODES = {"n1": {"address": "10.0.0.1", "labels": {}}, "n2": {"address": "10.0.0.2", "labels": {"rack": "b"}},
         "n3": {"address": "10.0.0.3", "labels": {}}, "n4": {"address": "10.0.0.4", "labels": {}}}
GLUSTER = {"type": "glusterfs", "servers": ["n1", "n2", "n3"]}


def settings(**extra):
    base = {"managers_group": "erpstack_swarm_managers", "workers_group": "erpstack_swarm_workers", "edge_nodes": [],
            "db_primary": "n1", "db_replica": "n2", "storage": GLUSTER, "dispatcher_heartbeat_seconds": 5}
    base.update(extra)
    return base


def swarm_facts(managers=("n1", "n2", "n3"), workers=("n4",), host="n1"):
    return dict(FACTS, inventory_hostname=host,
                swarm={"managers": list(managers), "workers": list(workers), "nodes": copy.deepcopy(NODES)})


def swarm_inventory(**extra):
    variables = inventory(erpnext_engine="swarm", swarm_db_primary="n1", swarm_db_replica="n2", swarm_storage=GLUSTER,
                          erpstack_monitoring=False)
    variables["erpnext_benches"] = [{"name": "main", "replicas": {"backend": 3},
                                     "sites": [{"name": "erp.example.com", "apps": ["erpnext"]}]}]
    variables.update(extra)
    return variables


def test_the_topology_names_the_bootstrap_manager_and_every_node_label():
    topology = swarm_topology(["n1", "n2", "n3"], ["n4"], NODES, settings(), "n4")
    assert topology["bootstrap"] == "n1" and topology["role"] == "worker"
    assert topology["advertise_addr"] == "10.0.0.4"
    # the Redis instances' nodes: the first two members (managers first), whatever the database's are
    assert topology["node_labels"]["n1"] == {"erpstack.zone": "n1", "erpstack.edge": "true", "erpstack.db": "primary",
                                             "erpstack.redis-a": "true"}
    assert topology["node_labels"]["n2"] == {"erpstack.zone": "n2", "rack": "b", "erpstack.edge": "true",
                                             "erpstack.db": "replica", "erpstack.redis-b": "true"}
    assert topology["node_labels"]["n4"] == {"erpstack.zone": "n4"}
    assert topology["storage"] == {"type": "glusterfs", "mount": "/mnt/erpstack", "volume": "erpstack",
                                   "brick_dir": "/srv/erpstack/gluster/brick", "servers": ["n1", "n2", "n3"],
                                   "arbiter": False, "source": "", "options": ""}


@pytest.mark.parametrize("managers, workers, extra, message", [
    ([], ["n1"], {}, "needs managers: the inventory group erpstack_swarm_managers is empty"),
    (["n1", "n2"], [], {}, "has 2 hosts: a Swarm needs an odd number of managers"),
    (["n1"], ["n1"], {}, "in both erpstack_swarm_managers and erpstack_swarm_workers"),
    (["n1", "n2", "n3"], [], {"db_replica": "n1"}, "swarm_db_primary and swarm_db_replica are both n1"),
    (["n1", "n2", "n3"], [], {"db_primary": "n9"}, "swarm_db_primary: n9 is not a node of the swarm"),
    (["n1", "n2", "n3"], [], {"storage": {}}, "a bench on several nodes needs sites/ on shared storage"),
    (["n1", "n2", "n3"], [], {"storage": {"type": "glusterfs", "servers": ["n1", "n2"]}},
     "GlusterFS needs 3 (replica 3, or 2 and an arbiter"),
    (["n1", "n2", "n3"], [], {"storage": {"type": "nfs", "source": "fileserver"}},
     "swarm_storage.source must be an NFS export as server:/path"),
    (["n1", "n2", "n3"], [], {"storage": {"type": "nfs", "source": "fs:/x", "servers": ["n1"]}},
     "swarm_storage has unknown keys for type nfs: servers"),
    (["n1", "n2", "n3"], ["n4"], {"edge_nodes": ["n4"]}, "swarm_edge_nodes: n4 is not a manager"),
    (["n1", "n2", "n3"], [], {"dispatcher_heartbeat_seconds": "5"}, "swarm_dispatcher_heartbeat_seconds must be"),
])
def test_a_cluster_that_cannot_work_is_refused_with_the_variable_at_fault(managers, workers, extra, message):
    with pytest.raises(ValueError) as caught:
        swarm_topology(managers, workers, NODES, settings(**extra), "n1")
    assert message in str(caught.value)


def test_a_node_without_an_address_is_named():
    nodes = dict(NODES, n3={"address": None, "labels": {}})
    with pytest.raises(ValueError, match=r"hostvars\[n3\].swarm_advertise_addr must be the node's IP address"):
        swarm_topology(["n1", "n2", "n3"], [], nodes, settings(), "n1")


@pytest.mark.parametrize("replicas, message", [
    ({"scheduler": 2}, "replicas.scheduler must be 1"),
    ({"backend": 0}, "replicas.backend must be at least 1, not 0"),
    ({"backend": "3"}, "replicas.backend must be a whole number, not '3'"),
    ({"backend": True}, "replicas.backend must be a whole number, not True"),
    ({"gunicorn": 2}, "replicas has unknown keys gunicorn"),
    (["backend"], "replicas must be a mapping"),
])
def test_replica_counts_are_checked(replicas, message):
    with pytest.raises(ValueError, match=message):
        bench_replicas(replicas, "erpnext_benches[0]")


def test_a_swarm_bench_gets_its_stack_from_its_compose_document():
    plan = deployment_plan(swarm_inventory(), swarm_facts())
    bench = plan["benches"][0]
    assert bench["engine"] == "swarm"
    stack = bench["stack"]
    compose = bench["compose"]
    assert sorted(stack["services"]) == sorted(list(compose["services"]) + [
        "redis-cache-replica", "redis-queue-replica", "redis-sentinel", "redis-proxy", "db-replica"])
    for name in ("backend", "frontend", "websocket", "queue-short", "queue-long", "scheduler"):
        # the same image, command and health check as the compose project: one description, two renderings
        for key in ("image", "command", "entrypoint", "environment", "healthcheck"):
            assert stack["services"][name].get(key) == compose["services"][name].get(key), (name, key)
    for name, service in stack["services"].items():
        assert service["deploy"]["endpoint_mode"] == "dnsrr"
        assert "restart" not in service and "depends_on" not in service
    assert stack["services"]["backend"]["deploy"]["replicas"] == 3
    assert stack["services"]["scheduler"]["deploy"]["replicas"] == 1
    assert stack["services"]["backend"]["deploy"]["update_config"]["order"] == "start-first"
    assert stack["services"]["backend"]["deploy"]["placement"] == {"preferences": [{"spread": "node.labels.erpstack.zone"}]}
    assert stack["services"]["db"]["deploy"]["placement"] == {"constraints": ["node.labels.erpstack.db == primary"]}
    assert {"type": "bind", "source": "/mnt/erpstack/main/sites", "target": "/home/frappe/frappe-bench/sites"} in \
        stack["services"]["backend"]["volumes"]
    assert "sites" not in stack["volumes"]
    assert stack["networks"]["bench"]["driver"] == "overlay"
    # Docker secrets, each consumer reading it as its own user: no group_add, no secret file on a node
    assert stack["secrets"]["redis_cache_password"] == {"external": True, "name": "main_redis_cache_password"}
    assert {"source": "redis_cache_password", "target": "redis_cache_password", "mode": 0o400, "uid": "1000",
            "gid": "1000"} in stack["services"]["configurator"]["secrets"]
    assert [ref["source"] for ref in stack["services"]["redis-queue"]["secrets"]] == [
        "redis_queue_password", "redis_sentinel_password"]
    assert "secrets" not in stack["services"]["backend"]
    assert "group_add" not in stack["services"]["configurator"]
    labels = stack["services"]["websocket"]["deploy"]["labels"]
    assert labels["traefik.swarm.network"] == "traefik-public"
    assert labels["traefik.http.services.main-websocket.loadbalancer.sticky.cookie"] == "true"
    assert all("@docker" not in value for value in labels.values())
    assert plan["swarm"]["benches"] == ["main"]


def test_traefik_routes_pages_to_the_backend_tasks_and_only_static_files_to_nginx():
    stack = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]["stack"]
    backend = stack["services"]["backend"]["deploy"]["labels"]
    router = "traefik.http.routers.main-erp-example-com-app."
    assert backend[router + "rule"] == "(Host(`erp.example.com`)) && !PathPrefix(`/assets`) && !PathPrefix(`/files`)"
    assert backend[router + "service"] == "main-backend"
    # above the page router to nginx (200), below the site's /socket.io router (210)
    assert backend[router + "priority"] == "205"
    assert "proxy" in stack["services"]["backend"]["networks"]


def test_the_stack_matches_its_golden_file():
    stack = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]["stack"]
    rendered = json.dumps(stack, indent=2, sort_keys=True) + "\n"
    if os.environ.get("ERPSTACK_UPDATE_GOLDENS"):
        with open(GOLDEN, "w") as handle:
            handle.write(rendered)
    with open(GOLDEN) as handle:
        assert rendered == handle.read()


def test_every_task_of_the_stack_is_hardened_as_its_compose_service():
    plan = deployment_plan(swarm_inventory(), swarm_facts())
    stack, compose = plan["benches"][0]["stack"], plan["benches"][0]["compose"]
    for name, service in stack["services"].items():
        assert service["cap_drop"] == ["ALL"], name
        assert service["read_only"] is True, name
        assert service["deploy"]["resources"]["limits"]["pids"] >= 256, name
        # Swarm has no security_opt: no-new-privileges is the daemon's default (docker role)
        assert "security_opt" not in service, name
        source = compose["services"].get(name.replace("-replica", ""))
        if source:
            assert service.get("cap_add") == source.get("cap_add"), name
    assert stack["services"]["db"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    # the writable paths of a read-only root: the image's own directories (owner and mode), not a root-owned tmpfs
    frontend = stack["services"]["frontend"]["volumes"]
    for target in ("/etc/nginx/conf.d", "/run", "/tmp"):
        assert {"type": "volume", "target": target} in frontend
    assert not [v for v in frontend if isinstance(v, dict) and v["type"] == "tmpfs"]
    assert "nginx-temp:/var/lib/nginx" in frontend and "nginx-temp" in stack["volumes"]
    assert {"type": "tmpfs", "target": "/run/redis"} in stack["services"]["redis-queue"]["volumes"]


def test_a_hardening_override_reaches_the_swarm_tasks():
    plan = deployment_plan(swarm_inventory(erpnext_container_hardening={
        "backend": {"read_only": False, "tmpfs": ["/home/frappe/.cache"]},
        "frontend": {"drop_capabilities": False, "add_capabilities": ["NET_BIND_SERVICE"], "pids_limit": 0},
        "queue-long": {"tmpfs": ["/home/frappe/.cache"]}}), swarm_facts())
    services = plan["benches"][0]["stack"]["services"]
    assert "read_only" not in services["backend"]
    assert not [v for v in services["backend"]["volumes"] if isinstance(v, dict) and v["type"] != "bind"]
    assert "cap_drop" not in services["frontend"] and services["frontend"]["cap_add"] == ["NET_BIND_SERVICE"]
    assert "pids" not in services["frontend"]["deploy"]["resources"]["limits"]
    assert {"type": "volume", "target": "/home/frappe/.cache"} in services["queue-long"]["volumes"]


def test_a_compose_bench_with_replicas_is_refused():
    variables = swarm_inventory(erpnext_engine="compose")
    with pytest.raises(PlanError, match=r"erpnext_benches\[0\].replicas needs engine swarm"):
        deployment_plan(variables, FACTS)


def test_an_unknown_engine_is_refused():
    with pytest.raises(PlanError, match="erpnext_engine must be compose or swarm, not 'k8s'"):
        deployment_plan(swarm_inventory(erpnext_engine="k8s"), swarm_facts())


def test_a_swarm_bench_on_a_host_outside_the_swarm_is_refused():
    with pytest.raises(PlanError, match="host n9 runs a bench with engine swarm but is in neither"):
        deployment_plan(swarm_inventory(), swarm_facts(host="n9"))


def test_compose_benches_have_no_swarm_part():
    plan = deployment_plan(inventory(), FACTS)
    assert plan["swarm"] is None
    assert all(bench["stack"] is None and bench["engine"] == "compose" for bench in plan["benches"])


def test_the_redis_nodes_are_the_operators_when_labelled_and_never_follow_the_database():
    nodes = dict(NODES, n3={"address": "10.0.0.3", "labels": {"erpstack.redis-b": "true"}})
    labels = swarm_topology(["n1", "n2", "n3"], [], nodes, settings(db_primary="n2", db_replica="n1"), "n1")["node_labels"]
    assert [host for host in sorted(labels) if "erpstack.redis-a" in labels[host]] == ["n1"]
    assert [host for host in sorted(labels) if "erpstack.redis-b" in labels[host]] == ["n3"]
    # a one-node swarm holds both
    single = swarm_topology(["n1"], [], NODES, settings(db_replica="", storage={"type": "nfs", "source": "nas:/erp"}),
                            "n1")["node_labels"]["n1"]
    assert single["erpstack.redis-a"] == single["erpstack.redis-b"] == "true"


def test_each_redis_has_a_replica_on_another_node_three_sentinels_and_a_proxy_for_node():
    bench = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]
    services = bench["stack"]["services"]
    for primary in ("redis-cache", "redis-queue"):
        # each on its own node for good: a failover (of Redis or of the database) moves no instance off its data
        assert services[primary]["deploy"]["placement"] == {"constraints": ["node.labels.erpstack.redis-a == true"]}
        assert services[primary + "-replica"]["deploy"]["placement"] == {
            "constraints": ["node.labels.erpstack.redis-b == true"]}
        # a restarted instance asks the Sentinels first: a primary that failed over rejoins as a replica
        assert "sentinel get-master-addr-by-name" in services[primary + "-replica"]["command"][-1]
        assert "replica-announce-ip %s-replica" % primary in services[primary + "-replica"]["command"][-1]
    assert services["redis-queue-replica"]["volumes"] == [
        "redis-queue-replica-data:/data", {"type": "tmpfs", "target": "/run/redis"}]
    assert "redis-queue-replica-data" in bench["stack"]["volumes"]
    sentinel = services["redis-sentinel"]["deploy"]
    assert sentinel["replicas"] == 3 and sentinel["placement"]["max_replicas_per_node"] == 1
    # one ID per task slot: a restarted Sentinel is not counted as one more
    assert services["redis-sentinel"]["hostname"] == "redis-sentinel-{{.Task.Slot}}"
    assert "sentinel myid %s" in services["redis-sentinel"]["command"][-1]
    assert services["redis-proxy"]["image"] == "haproxy:2.8.3"
    configurator = services["configurator"]
    assert configurator["environment"]["REDIS_QUEUE"] == "redis-proxy:6379"
    script = configurator["command"][0]
    for key in ("redis_queue_sentinel_enabled = true", '.redis_queue_sentinels = ["redis-sentinel:26379"]',
                '.redis_queue_master_service = "queue"', ".redis_queue_master_password = $$q",
                ".redis_cache_sentinel_password = $$s"):
        assert key in script
    # the passwords reach the config through jq's --rawfile, never a command line
    assert "--rawfile s /run/secrets/redis_sentinel_password" in script
    assert "redis_sentinel_password" in [f["name"] for f in bench["secret_files"]]
    assert "redis_sentinel_password" not in bench["rotatable"]


def test_the_database_has_a_replica_on_its_node_with_the_same_volume_name_and_lossless_semi_sync():
    bench = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]
    services = bench["stack"]["services"]
    db, replica = services["db"], services["db-replica"]
    assert db["deploy"]["placement"] == {"constraints": ["node.labels.erpstack.db == primary"]}
    assert replica["deploy"]["placement"] == {"constraints": ["node.labels.erpstack.db == replica"]}
    # one name, one volume per node: after a failover swaps the labels, "db" starts on the promoted replica's data
    assert "db-data:/var/lib/mysql" in db["volumes"] and "db-data:/var/lib/mysql" in replica["volumes"]
    assert db["command"][0] == "--server-id=1" and replica["command"][:2] == ["--server-id=2", "--read-only=ON"]
    assert "--rpl-semi-sync-master-wait-point=AFTER_SYNC" in db["command"]
    assert [ref["source"] for ref in replica["secrets"]] == [
        "db_backup_password", "db_replication_password", "db_root_password"]
    assert '.read_from_replica = 1 | .replica_host = "db-replica"' in services["configurator"]["command"][0]
    account = bench["db_accounts"][-1]
    assert account["user"] == "erpstack_replication" and account["secret"] == "db_replication_password"


def test_without_a_replica_node_the_database_runs_alone():
    bench = deployment_plan(swarm_inventory(swarm_db_replica=""), swarm_facts())["benches"][0]
    assert "db-replica" not in bench["stack"]["services"]
    assert "read_from_replica" not in bench["stack"]["services"]["configurator"]["command"][0]
    assert "db_replication_password" not in bench["stack"]["secrets"]


@pytest.mark.parametrize("host", ["n1", "n2"])
def test_the_first_manager_monitors_the_databases_of_a_swarm_bench_and_its_replica(host):
    variables = swarm_inventory(erpstack_monitoring=True)
    variables["erpnext_benches"].append({"name": "shop", "engine": "compose", "network_subnet": "172.30.11.0/24",
                                         "sites": [{"name": "shop.example.com"}]})
    plan = deployment_plan(variables, swarm_facts(host=host))
    assert [b["engine"] for b in plan["benches"]] == ["swarm", "compose"]
    monitoring = plan["monitoring"]
    services = monitoring["compose"]["services"]
    credentials = [(c["bench"], c["secret"], c.get("cnf"), c.get("db_host")) for c in monitoring["exporter_credentials"]]
    jobs = dict((job["job_name"], job) for job in monitoring["prometheus"]["scrape_configs"])
    if host == "n2":
        # only the first manager keeps the secret files: the others run no exporter of the bench on Swarm
        assert not [s for s in services if s.startswith("mysqld-exporter-main")]
        assert [c[0] for c in credentials] == ["shop"] * 3
        return
    assert services["mysqld-exporter-main-primary"]["command"] == [
        "--config.my-cnf=/run/secrets/mysqld_exporter.main.primary.cnf", "--no-collect.slave_status"]
    assert services["mysqld-exporter-main-replica"]["command"] == [
        "--config.my-cnf=/run/secrets/mysqld_exporter.main.replica.cnf", "--collect.slave_status"]
    assert services["mysqld-exporter-main-replica"]["networks"] == ["monitoring", "bench-main"]
    assert monitoring["compose"]["networks"]["bench-main"] == {"external": True, "name": "main_bench"}
    assert credentials == [
        ("shop", "db_exporter_password", "mysqld_exporter.shop.cnf", "db"),
        ("shop", "redis_cache_password", None, None),
        ("shop", "redis_queue_password", None, None),
        ("main", "db_exporter_password", "mysqld_exporter.main.primary.cnf", "db"),
        ("main", "db_exporter_password", "mysqld_exporter.main.replica.cnf", "db-replica"),
    ]
    assert jobs["mysqld"]["static_configs"][1:] == [
        {"targets": ["mysqld-exporter-main-primary:9104"], "labels": {"bench": "main", "role": "primary"}},
        {"targets": ["mysqld-exporter-main-replica:9104"], "labels": {"bench": "main", "role": "replica"}}]
    # the exporter account reads the replica's status there
    exporter = [a for a in plan["benches"][0]["db_accounts"] if a["secret"] == "db_exporter_password"][0]
    assert exporter["priv"] == "*.*:PROCESS,BINLOG MONITOR,SLAVE MONITOR/performance_schema.*:SELECT"


@pytest.mark.parametrize("host, enabled", [("n1", True), ("n2", True), ("n3", False), ("n4", False)])
def test_a_swarm_bench_is_backed_up_from_the_replica_by_both_database_nodes(host, enabled):
    plan = deployment_plan(swarm_inventory(backup_replica_max_lag_seconds=120), swarm_facts(host=host))
    spec = plan["backup"]["config"]["benches"]["main"]
    assert {k: spec[k] for k in ("engine", "stack", "db_service", "sites_dir", "db_nodes", "max_replica_lag_seconds",
                                 "method", "admin_container", "first_manager")} == {
        "engine": "swarm", "stack": "main", "db_service": "db-replica", "sites_dir": "/mnt/erpstack/main/sites",
        "db_nodes": ["n1", "n2"], "max_replica_lag_seconds": 120, "method": "logical",
        # a restore runs where the admin container runs: every node names the first manager
        "admin_container": "main_admin", "first_manager": "n1"}
    assert plan["backup"]["enabled_benches"] == (["main"] if enabled else [])
    # the drill restores through a compose project: only the backup's timer
    assert [t["path"] for t in plan["backup"]["timers"]] == (
        ["/etc/systemd/system/erpstack-backup-main.timer"] if enabled else [])
    bench = plan["benches"][0]
    # the dump runs in the database's tasks, as the backup account, which may read the replica's status
    assert sorted(bench["stack"]["services"]["db-replica"]["secrets"], key=lambda s: s["source"])[0] == {
        "source": "db_backup_password", "target": "db_backup_password", "uid": "999", "gid": "999", "mode": 0o400}
    backup_account = [a for a in bench["db_accounts"] if a["secret"] == "db_backup_password"][0]
    assert backup_account["priv"].endswith(",BINLOG MONITOR,SLAVE MONITOR")


def test_without_a_replica_a_swarm_bench_is_backed_up_from_the_primary():
    plan = deployment_plan(swarm_inventory(swarm_db_replica=""), swarm_facts(host="n1"))
    spec = plan["backup"]["config"]["benches"]["main"]
    assert (spec["db_service"], spec["db_nodes"], plan["backup"]["enabled_benches"]) == ("db", ["n1"], ["main"])


@pytest.mark.parametrize("extra, at", [
    ({"backup_method": "physical"}, "backup_method"),
    ({"backup_benches": {"main": {"method": "physical"}}}, "backup_benches.main.method"),
])
def test_a_physical_backup_of_a_swarm_bench_is_refused(extra, at):
    with pytest.raises(PlanError, match="Backup settings: %s is physical, but bench main runs on Swarm, where the "
                                        "backup is a logical dump taken from the database's replica" % re.escape(at)):
        deployment_plan(swarm_inventory(**extra), swarm_facts())


def test_with_a_registry_every_image_of_the_stack_comes_from_it():
    stack = deployment_plan(swarm_inventory(swarm_registry="registry.internal:5000"), swarm_facts())["benches"][0]["stack"]
    assert all(service["image"].startswith("registry.internal:5000/") for service in stack["services"].values())


FAKE_DOCKER = """#!/bin/sh
# docker ps: the node's containers of each service; docker exec: the call and its standard input, recorded
log="$FAKE_LOG"
if [ "$1" = ps ]; then
  case "$*" in
    *alpha_redis-queue-replica*) echo c-replica ;;
    *alpha_redis-queue*) echo c-primary ;;
    *alpha_redis-sentinel*) echo c-sentinel ;;
  esac
  exit 0
fi
printf 'ARGS %s\\n' "$*" | sed 's/ sh -c .* sh / sh -c SCRIPT sh /' >> "$log"
printf 'STDIN %s\\n' "$(cat)" >> "$log"
"""


def test_a_redis_password_s_rotation_reaches_each_instance_and_sentinel_on_standard_input(tmp_path):
    bench = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]
    rotation = bench["redis_rotation"]
    assert rotation["secrets"] == {"redis_cache_password": ["cache", "redis-cache", "redis-cache-replica"],
                                   "redis_queue_password": ["queue", "redis-queue", "redis-queue-replica"]}
    (tmp_path / "docker").write_text(FAKE_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    log = tmp_path / "log"
    env = dict(os.environ, PATH="%s:%s" % (tmp_path, os.environ["PATH"]), FAKE_LOG=str(log))
    argv = ["sh", "-c", rotation["script"], "sh", "alpha", "redis_queue_password"] + rotation["secrets"][
        "redis_queue_password"]
    result = subprocess.run(argv, input=b's3cr"t\\\n', env=env, stdout=subprocess.PIPE, check=True)
    assert result.stdout == b"rotated 3\n"
    assert log.read_text().splitlines() == [
        "ARGS exec -i c-primary sh -c SCRIPT sh redis_queue_password queue", 'STDIN s3cr"t\\',
        "ARGS exec -i c-replica sh -c SCRIPT sh redis_queue_password queue", 'STDIN s3cr"t\\',
        "ARGS exec -i c-sentinel sh -c SCRIPT sh redis_queue_password queue", 'STDIN s3cr"t\\',
    ]
    # the instances add the new password beside the one they started with; the Sentinels switch to it
    assert "ACL SETUSER default on" in rotation["script"] and "SENTINEL SET %s auth-pass" in rotation["script"]


def test_a_swarm_bench_mutes_e_mail_in_its_own_configurator_too():
    stack = deployment_plan(swarm_inventory(erpnext_mute_emails=True), swarm_facts())["benches"][0]["stack"]
    assert " | .mute_emails = 1'" in stack["services"]["configurator"]["command"][0]
    stack = deployment_plan(swarm_inventory(), swarm_facts())["benches"][0]["stack"]
    assert " | del(.mute_emails)'" in stack["services"]["configurator"]["command"][0]
