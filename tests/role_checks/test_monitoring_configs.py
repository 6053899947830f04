# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The monitoring role's configuration files, checked by the programs that read them.

One ansible-playbook run computes, for a few inventories, the host's plan (erpstack.erpnext.deployment) and runs
the role's own roles/monitoring/tasks/configure.yml into a temporary directory (include_role tasks_from), with the
test images of the real binaries: Prometheus's configuration and alert rules, blackbox_exporter's modules,
Alertmanager's configuration, Grafana's, Loki's and Alloy's files and the compose project, each validated by the
role as it writes it (promtool, amtool, blackbox_exporter --config.check, docker compose). Each file is checked again
here with the role's validate command, and a broken copy of each shows the check would catch a mistake.
Needs Docker.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import json
import os
import shlex
import subprocess
import sys
import uuid

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ROLE = os.path.join(ROOT, "roles", "monitoring")
# The test images of the real binaries (tests/harness/images.sh builds them)
IMAGES = {"prometheus": "erpstack-test/prometheus:v2.42.0", "alertmanager": "erpstack-test/alertmanager:v0.25.0",
          "blackbox_exporter": "erpstack-test/blackbox-exporter:v0.23.0"}
# Throwaway containers get a recognisable name (removed by --rm)
PREFIX = os.environ.get("ERPSTACK_CHECK_CONTAINER_PREFIX", "monitoring-check")
# The files of configure.yml this test renders, by their path under monitoring_base_dir
FILES = {"prometheus": "prometheus/prometheus.yml", "blackbox": "blackbox/config.yml", "ca": "blackbox/ca.pem",
         "alertmanager": "secrets/alertmanager.yml", "compose": "compose.yaml"}
CHECKED = ("prometheus", "blackbox", "alertmanager", "compose")
HOOK = "https://hooks.example.com/services/T0KEN-from-the-vault"

BENCHES = [
    {"name": "alpha", "sites": [
        {"name": "erp.example.com", "domains": ["erp.example.com", "www.example.com"]},
        {"name": "shop.example.com", "domains": ["*.shop.example.com", "shop.example.com"], "tls_resolver": "dns"},
        {"name": "old.example.com", "state": "absent"},
    ]},
    {"name": "beta", "network_subnet": "172.30.11.0/24", "sites": [{"name": "crm.example.org"}]},
]

# The rest of the inventory the plan (erpstack.erpnext.deployment) derives the monitoring files from
ERPNEXT = {"erpnext_benches": BENCHES, "erpnext_proxy": "traefik", "traefik_default_certresolver": "le",
           "traefik_acme_email": "ops@erpstack-test.net",
           "traefik_certificate_resolvers": {"le": {"challenge": "http"}, "dns": {
               "challenge": "dns", "provider": "cloudflare", "credentials": {"CF_DNS_API_TOKEN": "dns-T0KEN"}}}}


def _ca_pem():
    """A self-signed CA certificate, as an operator would give it in monitoring_probe_ca_bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"erpstack test CA")])
    now = datetime.datetime(2026, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


# name -> the inventory's variables over the role's defaults
VARIANTS = {
    # everything on: Traefik, Grafana, Loki, cAdvisor, e-mail and webhook receivers with routes, a private CA
    "full": dict(ERPNEXT, monitoring_grafana_host="grafana.example.com",
                 monitoring_backup_max_age_overrides={"beta": 50},
                 monitoring_alert_receivers={
                     "ops": {"email": [{"to": "ops@erpstack-test.net"}, {"to": "cto@example.com", "send_resolved": False}],
                             "webhook": [{"url": HOOK}]},
                     "oncall": {"webhook": {"url": "https://pager.example.com/v1/T0KEN2", "max_alerts": 10}},
                     "backups": {"email": {"to": "backup-team@example.com"}},
                 },
                 monitoring_alert_default_receiver="ops",
                 monitoring_alert_routes=[
                     {"receiver": "oncall", "matchers": ['severity="critical"'], "continue": True},
                     {"receiver": "backups", "matchers": ['alertname=~"Backup.*|RestoreDrill.*"', 'bench="beta"'],
                      "group_by": ["alertname", "bench"], "repeat_interval": "12h"},
                 ],
                 monitoring_smtp_smarthost="smtp.example.com:587", monitoring_smtp_from="alerts@example.com",
                 monitoring_smtp_auth_username="alerts", monitoring_smtp_auth_password="smtp-pa55word",
                 monitoring_probe_ca_bundle="CA"),
    # no proxy: no Grafana, no Traefik job; probes through public DNS, any certificate; logs shipped elsewhere
    "no_proxy": dict(ERPNEXT, erpnext_proxy="none", monitoring_grafana_enabled=False,
                     monitoring_logs_backend="external", monitoring_cadvisor_enabled=False,
                     monitoring_probe_resolve="dns", monitoring_probe_tls_insecure=True, traefik_https_port=8443,
                     monitoring_prometheus_published=[{"port": 19090}], monitoring_alertmanager_published=[],
                     erpnext_benches=[dict(BENCHES[1], frontend_published=[{"port": 8080}])],
                     backup_benches={"beta": {"enabled": False}}),
    # Traefik on one address and another port, a slow probe, a webhook only, an extension of the project
    "bound": dict(ERPNEXT, traefik_bind_address="192.0.2.10", traefik_https_port=8443,
                  monitoring_grafana_host="grafana.example.net", monitoring_grafana_tls_resolver="dns",
                  monitoring_probe_interval="1m", monitoring_probe_timeout="50s", monitoring_scrape_interval="15s",
                  monitoring_alert_receivers={"chat": {"webhook": {"url": "https://chat.internal:8065/hooks/abc"}}},
                  monitoring_alert_default_receiver="chat",
                  monitoring_compose_extension={"services": {"prometheus": {"environment": {"TZ": "UTC"}}}}),
}


def _docker_available():
    try:
        return subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=60, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


pytestmark = pytest.mark.skipif(not _docker_available(), reason="needs Docker: `docker info` fails on this host")


def _load(path):
    with open(os.path.join(ROLE, path)) as handle:
        return yaml.safe_load(handle)


def _validate_commands():
    """The validate command of each file configure.yml writes (under monitoring_base_dir), blocks included: the
    broken copies below are checked with them."""
    found = {}

    def visit(tasks):
        for task in tasks:
            visit(task.get("block") or [])
            args = task.get("ansible.builtin.copy")
            if not args or not args.get("validate"):
                continue
            for key, path in FILES.items():
                if args.get("dest") == "{{ monitoring_base_dir }}/" + path:
                    found[key] = args["validate"]
    visit(_load("tasks/configure.yml"))
    assert sorted(found) == sorted(CHECKED), "configure.yml no longer validates %s" % sorted(set(CHECKED) - set(found))
    return found


# The directories install.yml creates that configure.yml writes into
DIRECTORIES = ("secrets", "prometheus/rules", "blackbox", "grafana/provisioning/datasources",
               "grafana/provisioning/dashboards", "grafana/dashboards", "loki", "alloy")


def _playbook(tmp):
    """One play per variant: the plan, then the role's own configure.yml into the variant's directory. The role
    validates each file with the real program as it writes it; the play ends before the handlers (reloads of a stack
    that does not run here)."""
    defaults = _load("defaults/main.yml")
    validates = _validate_commands()
    ca = _ca_pem()
    plays = []
    for variant, inventory in VARIANTS.items():
        base = str(tmp / variant)
        play_vars = copy.deepcopy(inventory)
        play_vars.update({"monitoring_base_dir": base,
                          "monitoring_images": dict(defaults["monitoring_images"], **IMAGES)})
        if play_vars.get("monitoring_probe_ca_bundle"):
            play_vars["monitoring_probe_ca_bundle"] = ca
        steps = [{"name": "Pretend the host facts the plan reads", "ansible.builtin.set_fact": {
            "ansible_facts": {"memtotal_mb": 16384, "processor_vcpus": 4}}},
            {"name": "Compute the plan of the variant", "ansible.builtin.include_role": {
                "name": "erpstack.erpnext.deployment"}},
            {"name": "Ensure the directories configure.yml writes into exist", "ansible.builtin.file": {
                "path": base + "/{{ item }}", "state": "directory", "mode": "0755"}, "loop": list(DIRECTORIES)},
            {"name": "Render and validate the files as the role does", "ansible.builtin.include_role": {
                "name": "erpstack.erpnext.monitoring", "tasks_from": "configure"}},
            {"name": "Save the validate commands", "ansible.builtin.copy": {
                "content": "{{ __validates | to_json }}", "dest": base + "/validate.json", "mode": "0644"},
             "vars": {"__validates": validates}},
            {"name": "End before the handlers", "ansible.builtin.meta": "end_play"}]
        plays.append({"name": "Render the monitoring files: %s" % variant, "hosts": "localhost",
                      "connection": "local", "gather_facts": False, "vars": play_vars, "tasks": steps})
    return plays


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """variant -> {"dir", "validate": {file: command with %s}, file: path}: the files as the role writes them."""
    tmp = tmp_path_factory.mktemp("monitoring_configs")
    (tmp / "play.yml").write_text(json.dumps(_playbook(tmp), indent=1))
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, "collections"),
               ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
         "-e", "ansible_python_interpreter=" + sys.executable, str(tmp / "play.yml")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
        check=False)
    assert proc.returncode == 0, proc.stdout
    result = {}
    for variant in VARIANTS:
        base = tmp / variant
        # the images run as nobody
        for dirpath, dirnames, filenames in os.walk(str(base)):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        entry = {"dir": str(base), "validate": json.loads((base / "validate.json").read_text())}
        for key, path in FILES.items():
            entry[key] = str(base / path)
        result[variant] = entry
    os.chmod(str(tmp), 0o755)
    return result


def run_check(command, path):
    """Run a validate command of configure.yml on path; returns (rc, output)."""
    argv = [path if word == "%s" else word.replace("%s", path) for word in shlex.split(command)]
    if argv[:2] == ["docker", "run"]:
        argv[2:2] = ["--name", "%s-%s" % (PREFIX, uuid.uuid4().hex[:12])]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=120, check=False)
    return proc.returncode, proc.stdout


def read_yaml(path):
    with open(path) as handle:
        return yaml.safe_load(handle)


def write_broken(rendered, variant, key, change):
    """A copy of a rendered file with change applied to its document, beside the original."""
    document = change(read_yaml(rendered[variant][key]))
    path = rendered[variant][key] + ".broken"
    with open(path, "w") as handle:
        yaml.safe_dump(document, handle, default_flow_style=False)
    os.chmod(path, 0o644)
    return path


# The role's validate commands ------------------------------------------------------------------------------------

def test_every_rendered_file_has_a_validate_command(rendered):
    validate = rendered["full"]["validate"]
    assert sorted(validate) == sorted(CHECKED)
    assert all(command.startswith("docker run --rm --network none -v %s:") for key, command in validate.items()
               if key != "compose")
    assert IMAGES["prometheus"] in validate["prometheus"] and "promtool" in validate["prometheus"]
    assert IMAGES["alertmanager"] in validate["alertmanager"] and "amtool" in validate["alertmanager"]
    assert IMAGES["blackbox_exporter"] in validate["blackbox"] and "--config.check" in validate["blackbox"]
    assert shlex.split(validate["compose"])[:5] == [
        "docker", "compose", "--project-directory", rendered["full"]["dir"], "-f"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("key", CHECKED)
def test_the_real_program_accepts_the_rendered_file(rendered, variant, key):
    rc, output = run_check(rendered[variant]["validate"][key], rendered[variant][key])
    assert rc == 0, output


# Broken files are caught -----------------------------------------------------------------------------------------

def _probe_timeout_over_interval(document):
    probe = [job for job in document["scrape_configs"] if job["job_name"] == "site-probe"][0]
    probe["scrape_timeout"] = "45s"
    return document


def _route_to_nobody(document):
    document["route"]["routes"][0]["receiver"] = "nobody"
    return document


def _misspelt_module_key(document):
    document["modules"]["erpstack_ping"]["http"]["fail_if_not_sll"] = True
    return document


def _undeclared_network(document):
    document["services"]["prometheus"]["networks"].append("elsewhere")
    return document


@pytest.mark.parametrize("key, change, message", [
    ("prometheus", _probe_timeout_over_interval, "scrape timeout greater than scrape interval"),
    ("alertmanager", _route_to_nobody, 'undefined receiver "nobody"'),
    ("blackbox", _misspelt_module_key, "field fail_if_not_sll not found"),
    ("compose", _undeclared_network, "undefined network elsewhere"),
])
def test_the_checks_catch_a_broken_file(rendered, key, change, message):
    rc, output = run_check(rendered["full"]["validate"][key], write_broken(rendered, "full", key, change))
    assert rc != 0, output
    assert message in output, output


# What the programs read ------------------------------------------------------------------------------------------

def _compose_model(rendered, variant):
    proc = subprocess.run(["docker", "compose", "--project-directory", rendered[variant]["dir"],
                           "-f", rendered[variant]["compose"], "config", "--format", "json"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    # config prints every literal $ escaped as $$
    return json.loads(proc.stdout.replace("$$", "$"))


def test_compose_reads_the_commands_unchanged(rendered):
    model = _compose_model(rendered, "full")
    ours = read_yaml(rendered["full"]["compose"])
    for name, service in ours["services"].items():
        assert model["services"][name].get("command") == service.get("command"), name
    # a literal $ in a command is not taken for a variable
    assert any("($|/)" in argument for argument in model["services"]["node-exporter"]["command"])


def test_compose_publishes_on_the_loopback_and_joins_the_benches_networks(rendered):
    model = _compose_model(rendered, "full")
    ports = [(name, p["host_ip"], p["published"], p["target"]) for name, s in sorted(model["services"].items())
             for p in s.get("ports") or []]
    assert ports == [("alertmanager", "127.0.0.1", "9093", 9093), ("prometheus", "127.0.0.1", "9090", 9090)]
    assert model["networks"]["bench-alpha"]["name"] == "alpha_bench" and model["networks"]["bench-alpha"]["external"]
    assert model["networks"]["proxy"]["name"] == "traefik-public"
    assert model["volumes"]["alpha-logs"]["name"] == "alpha_logs" and model["volumes"]["beta-sites"]["external"]
    assert sorted(model["services"]["blackbox-exporter"]["extra_hosts"]) == [
        "crm.example.org=host-gateway", "erp.example.com=host-gateway", "shop.example.com=host-gateway"]
    assert model["secrets"]["mysqld_exporter.alpha.cnf"]["file"] == os.path.join(
        rendered["full"]["dir"], "secrets", "mysqld_exporter.alpha.cnf")
    no_proxy = _compose_model(rendered, "no_proxy")
    assert [p["host_ip"] for p in no_proxy["services"]["prometheus"]["ports"]] == ["127.0.0.1"]
    assert not no_proxy["services"]["alertmanager"].get("ports")
    assert "proxy" not in no_proxy["networks"] and "grafana" not in no_proxy["services"]
    bound = _compose_model(rendered, "bound")
    assert sorted(bound["services"]["blackbox-exporter"]["extra_hosts"])[0] == "crm.example.org=192.0.2.10"
    assert bound["services"]["prometheus"]["environment"] == {"TZ": "UTC"}


def test_the_rendered_files_hold_what_the_inventory_says(rendered):
    prometheus = read_yaml(rendered["no_proxy"]["prometheus"])
    jobs = [job["job_name"] for job in prometheus["scrape_configs"]]
    assert jobs == ["prometheus", "alertmanager", "node", "mysqld", "redis", "site-probe"]
    probe = prometheus["scrape_configs"][-1]
    assert probe["static_configs"][0]["targets"] == ["https://crm.example.org:8443/api/method/ping"]
    bound = read_yaml(rendered["bound"]["prometheus"])
    probe = [job for job in bound["scrape_configs"] if job["job_name"] == "site-probe"][0]
    assert (probe["scrape_interval"], probe["scrape_timeout"]) == ("1m", "55s")
    assert bound["global"]["scrape_interval"] == "15s" and bound["global"]["external_labels"] == {"host": "localhost"}
    assert read_yaml(rendered["no_proxy"]["blackbox"])["modules"]["erpstack_ping"]["http"]["tls_config"] == {
        "insecure_skip_verify": True}
    tls = read_yaml(rendered["full"]["blackbox"])["modules"]["erpstack_ping"]["http"]["tls_config"]
    assert tls == {"insecure_skip_verify": False, "ca_file": "/etc/blackbox_exporter/ca.pem"}
    with open(rendered["full"]["ca"]) as handle:
        assert handle.read().startswith("-----BEGIN CERTIFICATE-----")
    assert not os.path.exists(rendered["bound"]["ca"])
    alertmanager = read_yaml(rendered["full"]["alertmanager"])
    assert [r["name"] for r in alertmanager["receivers"]] == ["blackhole", "backups", "oncall", "ops"]
    assert alertmanager["route"]["receiver"] == "ops" and len(alertmanager["route"]["routes"]) == 2
    assert read_yaml(rendered["no_proxy"]["alertmanager"])["route"]["receiver"] == "blackhole"
    with open(rendered["full"]["compose"]) as handle:
        text = handle.read()
    assert text.startswith("# Managed by Ansible")
    assert "T0KEN" not in text and "pa55word" not in text


def test_the_role_wrote_the_files_its_settings_ask_for(rendered):
    def written(variant, path):
        return os.path.exists(os.path.join(rendered[variant]["dir"], path))

    assert all(written(variant, "prometheus/rules/erpstack.yml") for variant in VARIANTS)
    for path in ("grafana/provisioning/datasources/erpstack.yml", "loki/config.yml", "alloy/config.alloy"):
        assert written("full", path) and not written("no_proxy", path), path
    assert os.listdir(os.path.join(rendered["full"]["dir"], "grafana", "dashboards"))
