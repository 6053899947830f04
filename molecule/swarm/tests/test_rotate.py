# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rotate_secrets.yml on the bench on Swarm, as an operator runs it: a Redis password is refused before
anything changes; MariaDB's root and backup passwords and a site's database password get new values, the database's
services move to the next version of their Docker secret, the old root password is refused and the new one accepted
on the primary and on the replica (which follows the primary's binary log), the sites answer with their records, and
the replica's node still takes a backup."""

import json
import shlex

from swarm_helpers import (
    ADDRESSES,
    BENCH,
    BOOTSTRAP,
    SITES,
    admin_session,
    api,
    db_script,
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


def test_a_redis_password_is_refused_on_swarm_before_anything_changes(node, request):
    first = node(BOOTSTRAP)
    before = secret(first, "redis_queue_password")
    output = playbook(request, "rotate_secrets.yml", "-e", '{"erpnext_rotate": ["redis_queue_password"]}',
                      refused=True)
    text = " ".join(output.split())
    assert "cannot rotate yet" in text and "Nothing has changed" in text, output[-3000:]
    assert secret(first, "redis_queue_password") == before
    assert secret_names(first, "redis-queue") == ["alpha_redis_queue_password_v1", "alpha_redis_sentinel_password_v1"]


def test_the_database_passwords_rotate_and_the_services_move_to_new_docker_secrets(node, request):
    first, second = node(BOOTSTRAP), node("erpstack-swarm-2")
    old_root, old_site_db = secret(first, "db_root_password"), site_db_password(first, SITES[1])
    session = admin_session(first, ADDRESSES[BOOTSTRAP], SITES[1])
    api(first, ADDRESSES[BOOTSTRAP], SITES[1], session, "POST", "/api/resource/ToDo",
        {"description": "before the rotation"})
    playbook(request, "rotate_secrets.yml", "-e",
             json.dumps({"erpnext_rotate": ["db_root_password", "db_backup_password", "db_password." + SITES[1]]}))
    new_root = secret(first, "db_root_password")
    assert new_root != old_root
    assert site_db_password(first, SITES[1]) == secret(first, "db_password." + SITES[1]) != old_site_db
    assert secret_names(first, "db") == ["alpha_db_backup_password_v2", "alpha_db_root_password_v2"]
    assert "alpha_db_root_password_v2" in secret_names(first, "db-replica")
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
