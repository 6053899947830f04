# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The development mode: one development container running `bench start`, hot reload of an app's Python and of its
asset (timed), a debugger attached from the development host, and nothing of it reachable from another address.

The timings are printed (pytest -s) and kept in tests/output/molecule-development/timings.txt as
"hot reload ...: N.N s"."""

import base64
import json
import os
import socket
import subprocess
import time

import pytest
from testinfra_erpstack import quote

PROJECT_DIR = "/opt/erpstack/erpnext"
APPS_DIR = "/opt/erpstack/erpnext-apps"
APP = APPS_DIR + "/erpstack_notes/erpstack_notes"
IN_CONTAINER = "/home/frappe/frappe-bench/apps/erpstack_notes/erpstack_notes"
SITE = "erp.localhost"
DAP_CLIENT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "harness", "dap_client.py")
API = '''import frappe


@frappe.whitelist(allow_guest=True)
def hello(name="world"):
    greeting = "{marker} " + name
    return greeting
'''
BREAK_LINE = 7  # `return greeting`


def compose(host, *args):
    return host.run_expect([0], "docker compose --project-directory %s %s" % (PROJECT_DIR, " ".join(args))).stdout


def curl(host, path, port=8000):
    return host.run("curl -sS -m 10 -H 'Host: %s' 'http://127.0.0.1:%d%s'" % (SITE, port, path))


def write_as_frappe(host, path, text):
    """Write a file of the checkout as the developer does (the checkout belongs to uid 1000)."""
    data = base64.b64encode(text.encode()).decode()
    host.run_expect([0], "printf %%s %s | base64 -d > %s.new && chown 1000:1000 %s.new && mv %s.new %s"
                    % (data, path, path, path, path))


def started_at(host):
    return host.run_expect([0], "docker inspect --format '{{.State.StartedAt}}' erpnext-backend-1").stdout.strip()


def record(line):
    print(line)
    out = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "tests", "output", "molecule-development")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "timings.txt"), "a") as handle:
        handle.write("%s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), line))


def wait_for(check, timeout=60, step=0.2):
    start = time.time()
    while time.time() - start < timeout:
        if check():
            return time.time() - start
        time.sleep(step)
    return None


def dap(host, *args):
    """Run the DAP client on the development host (the target): the debugger is on its loopback address only."""
    with open(DAP_CLIENT) as handle:
        script = handle.read()
    result = host.run("printf %%s %s | base64 -d > /tmp/dap_client.py && python3 /tmp/dap_client.py %s"
                      % (base64.b64encode(script.encode()).decode(), " ".join(quote(a) for a in args)))
    assert result.rc == 0, result.stderr + result.stdout
    return json.loads(result.stdout)


def test_one_development_container_runs_bench_start(host):
    services = compose(host, "ps", "--format", "'{{.Service}}'").split()
    assert sorted(services) == ["backend", "db", "mailcatcher", "redis-cache", "redis-queue"]
    processes = compose(host, "top", "backend")
    for needle in ("bench_start.py", "serve --port 8000", "socketio.js", "watch", "schedule", "worker"):
        assert needle in processes, needle


def test_developer_mode_is_on_for_the_bench(host):
    common = json.loads(compose(host, "exec", "-T", "backend", "cat", "sites/common_site_config.json"))
    assert common["developer_mode"] == 1


def test_the_app_is_a_clone_of_its_repository_owned_by_the_image_user(host):
    checkout = host.file(APPS_DIR + "/erpstack_notes")
    assert checkout.is_directory and checkout.uid == 1000
    assert host.run_expect([0], "git -C %s/erpstack_notes -c safe.directory='*' describe --tags" % APPS_DIR).stdout.strip() == "v1.0.0"


def test_the_editor_files_are_beside_the_apps(host):
    launch = json.loads(host.file(APPS_DIR + "/.vscode/launch.json").content_string)
    connects = sorted((c["name"], c["connect"]["port"]) for c in launch["configurations"])
    assert connects == [("Attach to web", 5678), ("Attach to worker", 5679)]
    devcontainer = json.loads(host.file(APPS_DIR + "/.devcontainer/devcontainer.json").content_string)
    assert devcontainer["service"] == "backend" and devcontainer["dockerComposeFile"] == [PROJECT_DIR + "/compose.yaml"]


def test_every_port_is_published_on_the_loopback_address_only(host):
    ports = json.loads(host.run_expect([0], "docker inspect --format '{{json .NetworkSettings.Ports}}' "
                                            "erpnext-backend-1").stdout)
    published = dict((key, [b["HostIp"] for b in value or []]) for key, value in ports.items())
    assert sorted(published) == ["5678/tcp", "5679/tcp", "6787/tcp", "8000/tcp", "9000/tcp"]
    assert set(ip for ips in published.values() for ip in ips) == {"127.0.0.1"}


@pytest.mark.parametrize("port", [5678, 5679, 8000])
def test_the_debugger_and_web_ports_refuse_another_address(host, port):
    """From the test machine, the development host's own address: nothing answers."""
    address = subprocess.run(["docker", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}"
                              " {{end}}", "erpstack-development"], stdout=subprocess.PIPE, check=True,
                             universal_newlines=True).stdout.split()[0]
    with pytest.raises(OSError):
        socket.create_connection((address, port), timeout=3).close()
    # and from the host itself, through its non-loopback address
    assert host.run("python3 -c 'import socket; socket.create_connection((\"%s\", %d), timeout=3)'"
                    % (address, port)).rc != 0


def test_python_hot_reload_without_restarting_the_container(host):
    before = started_at(host)
    write_as_frappe(host, APP + "/api.py", API.format(marker="hello-one"))
    # a new module: loaded by the first request that names it (the reloader watches it from then on)
    assert wait_for(lambda: "hello-one" in curl(host, "/api/method/erpstack_notes.api.hello").stdout, timeout=60)
    time.sleep(1.5)  # the file's next change must be seen as one (its mtime, at the reloader's one-second poll)
    write_as_frappe(host, APP + "/api.py", API.format(marker="hello-two"))
    took = wait_for(lambda: "hello-two" in curl(host, "/api/method/erpstack_notes.api.hello").stdout, timeout=60)
    assert took is not None, curl(host, "/api/method/erpstack_notes.api.hello").stdout
    record("hot reload of a Python change: %.1f s" % took)
    assert started_at(host) == before


def test_an_asset_change_is_rebuilt_by_the_watcher_and_served(host):
    before = started_at(host)
    marker = "asset-%d" % int(time.time())
    write_as_frappe(host, APP + "/public/js/notes.bundle.js", "console.log(%s);\n" % json.dumps(marker))

    def served():
        manifest = curl(host, "/assets/assets.json")
        if manifest.rc != 0:
            return False
        try:
            url = json.loads(manifest.stdout).get("notes.bundle.js")
        except ValueError:
            return False
        return bool(url) and marker in curl(host, url).stdout

    took = wait_for(served, timeout=90)
    assert took is not None, curl(host, "/assets/assets.json").stdout
    record("hot reload of an asset (watcher rebuild, served): %.1f s" % took)
    assert started_at(host) == before


def test_a_debugger_attaches_to_the_web_process_and_stops_at_a_breakpoint(host):
    write_as_frappe(host, APP + "/api.py", API.format(marker="debug"))
    assert wait_for(lambda: "debug" in curl(host, "/api/method/erpstack_notes.api.hello").stdout, timeout=60)
    # the reloader's new child listens again once it has started: attach until it does
    out, last = None, None
    for _attempt in range(30):
        try:
            out = dap(host, "--port", "5678", "breakpoint", "--file", IN_CONTAINER + "/api.py", "--line",
                      str(BREAK_LINE), "--url", "http://127.0.0.1:8000/api/method/erpstack_notes.api.hello?name=dap",
                      "--header", "Host: " + SITE)
            break
        except AssertionError as exc:
            last = exc
            time.sleep(1)
    assert out is not None, last
    assert out["stopped"] == "breakpoint"
    assert out["frame"] == {"path": IN_CONTAINER + "/api.py", "line": BREAK_LINE, "name": "hello"}
    assert out["held"] is True
    assert out["status"] == 200 and json.loads(out["body"])["message"] == "debug dap"


def test_a_debugger_attaches_to_the_worker(host):
    out = dap(host, "--port", "5679", "threads")
    assert out["threads"], out


def test_outgoing_mail_goes_to_the_mail_catcher(host):
    common = json.loads(compose(host, "exec", "-T", "backend", "cat", "sites/common_site_config.json"))
    assert (common["mail_server"], common["mail_port"], common["use_tls"]) == ("mailcatcher", 1025, 0)
    subject = "erpstack test %d" % int(time.time())
    send = ("import smtplib; from email.message import EmailMessage; m = EmailMessage(); m['From'] = "
            "'erpnext@localhost'; m['To'] = 'someone@example.com'; m['Subject'] = %r; m.set_content('caught'); "
            "s = smtplib.SMTP('mailcatcher', 1025, timeout=10); s.send_message(m); s.quit()" % subject)
    compose(host, "exec", "-T", "backend", "env/bin/python", "-c", quote(send))
    caught = compose(host, "exec", "-T", "mailcatcher", "sh", "-c",
                     quote("grep -l 'Subject: %s' /home/frappe/frappe-bench/logs/mail-catcher/new/*" % subject))
    assert caught.strip(), "no message in the Maildir"
