# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rotate_secrets.yml on the bench on Swarm, as an operator runs it, once for every secret the tests rotate (a
run rolls the services it touches, minutes on this machine): the queue's Redis password changes on
both instances, the Sentinels and the proxy with no job lost and the old one refused everywhere; MariaDB's root and
backup passwords and a site's database password get new values, the database's services move to the next version of
their Docker secret, the old root password is refused and the new one accepted on the primary and on the replica
(which follows the primary's binary log), the sites answer with their records, and the replica's node still takes a
backup."""

import json
import shlex

import pytest

from swarm_helpers import (
    ADDRESSES,
    BENCH,
    BOOTSTRAP,
    SITES,
    admin_session,
    api,
    db_script,
    handshake,
    ping,
    playbook,
    replica_status,
    todos,
)
from testinfra_erpstack import wait_for

SECRETS = "/opt/erpstack/%s/secrets/" % BENCH


def secret(host, name):
    return host.check_output("cat %s%s" % (SECRETS, name))


def site_db_password(host, site):
    """The database password in the site's configuration (Frappe chose the first one: no secret file before a
    rotation), read in the bench's admin container."""
    return host.check_output("docker exec %s_admin jq -r .db_password sites/%s/site_config.json" % (BENCH, site))


def root_answers(host, service, password):
    """MariaDB's root@localhost in the service's container on ``host`` logs in with ``password``."""
    result = db_script(host, service, "MYSQL_PWD=%s mariadb -uroot -N -e 'SELECT 1'\n" % shlex.quote(password))
    return result is not None and result.rc == 0 and result.stdout.strip() == "1"


def secret_names(host, service):
    spec = json.loads(host.check_output("docker service inspect %s_%s --format '{{json .Spec.TaskTemplate.ContainerSpec}}'"
                                        % (BENCH, service)))
    return sorted(s["SecretName"] for s in spec.get("Secrets") or [])


def redis(host, password_file, command, target="redis-proxy"):
    """A redis-cli command on the bench's network (through the proxy Frappe's realtime server uses, by default), the
    password from a file on ``host`` on standard input."""
    return host.run("docker run -i --rm --network %s_bench 172.31.40.11:5000/erpstack-test/redis:7.0 sh -c "
                    "'read -r p; REDISCLI_AUTH=$p timeout 5 redis-cli --no-auth-warning -h %s -p 6379 %s' < %s"
                    % (BENCH, target, command, password_file))


def bumped(names, secret):
    """The next version of the service's Docker secret for ``secret`` (``alpha_SECRET_vN`` becomes ``_vN+1``)."""
    prefix = "%s_%s_v" % (BENCH, secret)
    current = [int(name[len(prefix):]) for name in names if name.startswith(prefix)]
    assert len(current) == 1, (secret, names)
    return "%s%d" % (prefix, current[0] + 1)


OLD_QUEUE = "/tmp/queue-old.pw"
ROTATED = ["redis_queue_password", "db_root_password", "db_backup_password", "db_password." + SITES[1]]


@pytest.fixture(scope="module")
def rotation(node, request):
    """What the tests compare with, then one run of the playbook for every rotated secret: the old values, two jobs on
    the queue, a record on a site."""
    first = node(BOOTSTRAP)
    first.run_expect([0], "umask 077; cp %sredis_queue_password %s" % (SECRETS, OLD_QUEUE))
    assert redis(first, OLD_QUEUE, "DEL rq:queue:erpstack-rotate").rc == 0
    assert redis(first, OLD_QUEUE, "RPUSH rq:queue:erpstack-rotate job-1 job-2").stdout.strip() == "2"
    before = {"root": secret(first, "db_root_password"), "site_db": site_db_password(first, SITES[1]),
              "secrets": dict((service, secret_names(first, service)) for service in
                              ("db", "db-replica", "redis-queue", "redis-queue-replica", "redis-proxy"))}
    session = admin_session(first, ADDRESSES[BOOTSTRAP], SITES[1])
    api(first, ADDRESSES[BOOTSTRAP], SITES[1], session, "POST", "/api/resource/ToDo",
        {"description": "before the rotation"})
    playbook(request, "rotate_secrets.yml", "-e", json.dumps({"erpnext_rotate": ROTATED}))
    yield before
    first.run("rm -f %s" % OLD_QUEUE)


def test_a_redis_password_rotates_on_every_instance_sentinel_and_proxy_and_no_job_is_lost(node, rotation):
    first = node(BOOTSTRAP)
    old_copy = OLD_QUEUE
    new_file = SECRETS + "redis_queue_password"
    assert first.check_output("cat %s" % new_file) != first.check_output("cat %s" % old_copy)
    for service in ("redis-queue", "redis-queue-replica", "redis-proxy"):
        assert bumped(rotation["secrets"][service], "redis_queue_password") in secret_names(first, service), service
    # the proxy follows the primary with the new password; the old one is refused everywhere, the jobs are there
    assert wait_for(lambda: redis(first, new_file, "PING").stdout.strip() == "PONG", timeout=120)
    assert redis(first, new_file, "LRANGE rq:queue:erpstack-rotate 0 -1").stdout.split() == ["job-1", "job-2"]
    for target in ("redis-proxy", "redis-queue", "redis-queue-replica"):
        refused = redis(first, old_copy, "PING", target)
        assert "WRONGPASS" in refused.stderr and "NOAUTH" in refused.stdout, (target, refused.stdout, refused.stderr)
    # the replica replicates with the new password, and the Sentinels watch both with it
    assert wait_for(lambda: "master_link_status:up" in redis(
        first, new_file, "INFO replication", _replica_of(first, new_file)).stdout, timeout=60)
    sentinel = first.run("docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=%s_redis-sentinel "
                         "| head -n 1) sh -c 'REDISCLI_AUTH=$(cat /run/secrets/redis_sentinel_password) redis-cli "
                         "-p 26379 --raw sentinel master queue | paste -d= - - | grep -E \"^(flags|num-slaves)=\"'"
                         % BENCH).stdout.split()
    assert sentinel == ["flags=master", "num-slaves=1"], sentinel
    for site in SITES:
        assert wait_for(lambda: ping(first, ADDRESSES["erpstack-swarm-3"], site), timeout=120), site
    jar = "/tmp/rotate.sticky"
    first.run("rm -f %s" % jar)
    assert wait_for(lambda: handshake(first, ADDRESSES["erpstack-swarm-3"], SITES[0], jar), timeout=60)


def _replica_of(host, password_file):
    """The queue's instance that is a replica now (Sentinel may have swapped the roles during the restarts)."""
    role = redis(host, password_file, "INFO replication", "redis-queue").stdout
    return "redis-queue-replica" if "role:master" in role else "redis-queue"


def test_the_database_passwords_rotate_and_the_services_move_to_new_docker_secrets(node, rotation):
    first, second = node(BOOTSTRAP), node("erpstack-swarm-2")
    old_root, old_site_db = rotation["root"], rotation["site_db"]
    new_root = secret(first, "db_root_password")
    assert new_root != old_root
    assert site_db_password(first, SITES[1]) == secret(first, "db_password." + SITES[1]) != old_site_db
    assert secret_names(first, "db") == sorted(bumped(rotation["secrets"]["db"], name)
                                               for name in ("db_backup_password", "db_root_password"))
    assert bumped(rotation["secrets"]["db-replica"], "db_root_password") in secret_names(first, "db-replica")
    assert wait_for(lambda: root_answers(first, "db", new_root), timeout=60)
    assert not root_answers(first, "db", old_root)
    assert wait_for(lambda: replica_status(node) == "replicating", timeout=120)
    assert root_answers(second, "db-replica", new_root) and not root_answers(second, "db-replica", old_root)
    for site in SITES:
        assert wait_for(lambda: ping(first, ADDRESSES["erpstack-swarm-3"], site), timeout=60), site
    session = admin_session(first, ADDRESSES["erpstack-swarm-3"], SITES[1])
    assert "before the rotation" in todos(first, ADDRESSES["erpstack-swarm-3"], SITES[1], session)
    # the replica's task reads the backup account's new password from its new Docker secret
    backup = second.run("/usr/local/sbin/erpstack-backup run %s --no-offsite" % BENCH)
    assert backup.rc == 0, backup.stderr
