# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the swarm scenario's tests share: the cluster's names, HTTP through Traefik from a node, the bench's tasks."""

import json
import os
import shlex
import subprocess
import sys

# the scripts the roles run in the database's containers, from the collection itself
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "collections"))
from ansible_collections.erpstack.erpnext.plugins.plugin_utils import swarm as swarm_plan  # noqa: E402

BENCH = "alpha"
BOOTSTRAP = "erpstack-swarm-1"
NODES = ("erpstack-swarm-1", "erpstack-swarm-2", "erpstack-swarm-3")
ADDRESSES = {"erpstack-swarm-1": "172.31.40.11", "erpstack-swarm-2": "172.31.40.12", "erpstack-swarm-3": "172.31.40.13"}
SITES = ("erp.example.test", "hr.example.test")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def playbook(request, name, *args, **kwargs):
    """Run one of the collection's playbooks against the scenario's inventory, as an operator would; its output goes
    to tests/output/swarm-NAME.log. ``refused=True``: the run must fail (its output is returned)."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_PIPELINING="1", ANSIBLE_CALLBACK_RESULT_FORMAT="yaml")
    result = subprocess.run(["ansible-playbook", "-i", request.config.option.ansible_inventory,
                             os.path.join(ROOT, "playbooks", name)] + list(args),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT, check=False)
    output = result.stdout.decode("utf-8", "replace")
    with open(os.path.join(ROOT, "tests", "output", "swarm-%s.log" % name.split(".")[0]), "a") as handle:
        handle.write(output)
    if kwargs.get("refused"):
        assert result.returncode != 0, output[-6000:]
    else:
        assert result.returncode == 0, output[-6000:]
    return output


def running_tasks(host, service):
    """The nodes of the service's tasks that run (and, with a health check, are healthy)."""
    out = host.run("docker service ps %s_%s --filter desired-state=running --format '{{.Node}} {{.CurrentState}}'"
                   % (BENCH, service)).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["Running"])


def curl(host, address, site, path, extra=""):
    """HTTPS to Traefik on ``address`` for ``site`` (Traefik's default certificate: no verification)."""
    return host.run("curl -gsk --max-time 5 --resolve %s:443:%s %s https://%s%s"
                    % (site, address, extra, site, shlex.quote(path)))


def ping(host, address, site):
    result = curl(host, address, site, "/api/method/ping")
    try:
        return result.rc == 0 and json.loads(result.stdout) == {"message": "pong"}
    except ValueError:
        return False


def handshake(host, address, site, jar):
    """Socket.IO's polling handshake, keeping Traefik's sticky cookie in ``jar``."""
    result = curl(host, address, site, "/socket.io/?EIO=4&transport=polling", "-c %s -b %s" % (jar, jar))
    return result.rc == 0 and result.stdout.startswith('0{"sid"')


def admin_session(host, address, site, password_file=None):
    """A logged-in cookie jar for Administrator (the password from the bench's secret on the first manager, or from
    a copy of it on ``host``)."""
    jar = "/tmp/%s.session" % site
    host.run("rm -f %s" % jar)
    password_file = password_file or "/opt/erpstack/%s/secrets/admin_password.%s" % (BENCH, site)
    result = host.run(
        "curl -sk --max-time 10 --resolve %s:443:%s -c %s --data-urlencode usr=Administrator "
        "--data-urlencode pwd@%s https://%s/api/method/login" % (site, address, jar, password_file, site))
    assert result.rc == 0 and "Logged In" in result.stdout, result.stdout
    return jar


def api(host, address, site, jar, method, path, body=None):
    data = "-H 'Content-Type: application/json' --data %s" % shlex.quote(json.dumps(body)) if body else ""
    result = curl(host, address, site, path, "-b %s -X %s %s" % (jar, method, data))
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def todos(host, address, site, jar):
    listing = api(host, address, site, jar, "GET",
                  '/api/resource/ToDo?fields=["name","description"]&limit_page_length=0')
    return sorted(row["description"] for row in listing["data"])


def db_script(host, service, script):
    """Run one of the plan's database scripts in the service's container on ``host`` (standard input)."""
    container = host.run("docker ps -q --filter label=com.docker.swarm.service.name=%s_%s" % (BENCH, service))
    if not container.stdout.strip():
        return None
    return host.run("docker exec -i %s sh -s <<'EOF'\n%sEOF" % (container.stdout.split()[0], script))


def replica_status(node, replica="erpstack-swarm-2"):
    """The database replica's state, as the erpnext role reads it (replicating, broken, none)."""
    result = db_script(node(replica), "db-replica", swarm_plan.REPLICA_STATUS)
    return result.stdout.splitlines()[0] if result is not None and result.stdout else ""
