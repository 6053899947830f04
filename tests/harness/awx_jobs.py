# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the AWX job templates the way AWX runs them, against a converged Molecule target.

usage: awx_jobs.py SCENARIO TARGET OUTDIR

For each job template of playbooks/vars/awx_controller.yml, in the order of JOBS below, an ansible-runner private
data directory: project/ (the checkout's files, as a project sync leaves them), inventory/ (the scenario's Molecule
inventory; the target is reached over SSH with a machine credential's key, which AWX puts in env/ssh_key),
env/extravars (the survey's default answers, then the job's own, then the credentials' extra_vars injectors rendered as
AWX renders them), env/envvars (the env injectors, and AWX's collection path), env/settings (the execution environment
built by images.sh, run with docker on the host's network). Each job must end with the expected status and
changed count from its playbook_on_stats event, and its output must carry no traceback. Then every job_events/*.json
and stdout is searched for every secret on the target (tests/harness/leak_check.py's list), the SSH key and every
secret input of the credentials.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import re
import shutil
import subprocess
import sys
import time

import jinja2.sandbox
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "harness"))
import leak_check  # noqa: E402  pylint: disable=wrong-import-position

# The credentials the jobs carry, as an operator fills them in: an offsite restic repository on the target's disk
# and a HashiCorp Vault token (an env injector) the jobs carry without using it
CREDENTIALS = [
    {"credential_type": "erpstack restic repository",
     "inputs": {"repository": "/var/backups/erpstack-offsite", "password": "awx-restic-repository-secret-7f3c91"}},
    {"credential_type": "erpstack HashiCorp Vault",
     "inputs": {"url": "https://vault.example.invalid:8200", "token": "hvs.awx-test-token-5d2e8a90c4"}},
]

# (label, job template, survey answers, expected status, expected changed: an int, or ">0")
JOBS = [
    ("deploy-with-restic", "erpstack deploy", {}, "successful", ">0"),
    ("deploy-again", "erpstack deploy", {}, "successful", 0),
    ("backup-now", "erpstack backup now", {}, "successful", ">0"),
    ("restore-drill-offsite", "erpstack restore drill", {"source": "offsite"}, "successful", 0),
    ("restore", "erpstack restore", {"bench": "erpnext", "site": "hr.example.test"}, "successful", ">0"),
    ("rotate-secret", "erpstack rotate secret", {}, "successful", ">0"),
    ("deploy-after-rotation", "erpstack deploy", {}, "successful", 0),
    ("upgrade-to-the-same-release", "erpstack upgrade", {}, "successful", 0),
    # bad input: the same one-line reason as on the command line, no traceback
    ("restore-bad-site", "erpstack restore", {"bench": "erpnext", "site": "Bad Site!"}, "failed",
     "Name the bench (-e bench=NAME) and the site"),
    ("refresh-staging-on-production", "erpstack refresh staging",
     {"site": "hr.example.test", "from_site": "erp.example.test", "source_host": "prod-1"}, "failed",
     "staging"),
]

EE = "erpstack-test/erpnext-ee:%s" % yaml.safe_load(open(os.path.join(ROOT, "galaxy.yml")))["version"]


def deep_merge(base, over):
    out = dict(base)
    for key, value in over.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def molecule_inventory(scenario, target, address):
    """The scenario's inventory as Molecule builds it (base config, then the scenario's), for the one target, reached
    over SSH at its address as AWX reaches a host with a machine credential."""
    def load(path):
        text = open(path).read().replace("${MOLECULE_PROJECT_DIRECTORY}", ROOT)
        return (yaml.safe_load(text) or {}).get("provisioner", {}).get("inventory", {})
    inv = deep_merge(load(os.path.join(ROOT, ".config/molecule/config.yml")),
                     load(os.path.join(ROOT, "molecule", scenario, "molecule.yml")))
    host = dict(inv.get("host_vars", {}).get(target, {}))
    host.update({"ansible_host": address, "ansible_user": "root", "ansible_python_interpreter": "/usr/bin/python3",
                 # a test target made a minute ago: its host key is new every run
                 "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"})
    return {"all": {"vars": inv.get("group_vars", {}).get("all", {}),
                    "children": {"erpnext": {"hosts": {target: host}}}}}


def machine_credential(target, out):
    """An SSH key pair, the public half authorized for root on the target (whose sshd is installed on first use);
    the private half goes where AWX puts a machine credential's key: the private data directory's env/ssh_key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    script = ("command -v sshd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y "
              "-qq --no-install-recommends openssh-server >/dev/null; }; systemctl enable --now ssh >/dev/null 2>&1; "
              "install -d -m 0700 /root/.ssh && cat > /root/.ssh/authorized_keys && chmod 0600 /root/.ssh/authorized_keys")
    subprocess.run(["docker", "exec", "-i", target, "sh", "-c", script], input=(public + " awx-test\n").encode(),
                   check=True)
    address = subprocess.run(["docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                              target], check=True, stdout=subprocess.PIPE).stdout.decode().split()[0]
    with open(os.path.join(out, "ssh_key"), "w") as handle:
        handle.write(private)
    return address, private


def render_injectors(controller):
    """The credentials' injectors rendered with their inputs, as AWX does (a Jinja sandbox, missing inputs empty)."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.ChainableUndefined)
    types = {t["name"]: t for t in controller["awx_credential_types"]}
    extra, envvars = {}, {}

    def render(value, inputs):
        if isinstance(value, dict):
            return {k: render(v, inputs) for k, v in value.items()}
        return env.from_string(str(value)).render(**inputs)
    for cred in CREDENTIALS:
        ctype = types[cred["credential_type"]]
        fields = [f["id"] for f in ctype["inputs"]["fields"]]
        inputs = {name: cred["inputs"].get(name, "") for name in fields}
        extra.update(render(ctype["injectors"].get("extra_vars", {}), inputs))
        envvars.update(render(ctype["injectors"].get("env", {}), inputs))
    return extra, envvars


def survey_defaults(template):
    answers = {}
    for q in template.get("survey", []):
        default = q.get("default", "")
        answers[q["variable"]] = default.split("\n") if q["type"] == "multiselect" else default
    return answers


def copy_project(dest):
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(ROOT, rel)
        if not os.path.lexists(src):
            continue
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), os.path.join(dest, rel))
        else:
            shutil.copy2(src, os.path.join(dest, rel))


def stats(pdd, ident):
    events = os.path.join(pdd, "artifacts", ident, "job_events")
    for name in sorted(os.listdir(events)):
        with open(os.path.join(events, name)) as handle:
            event = json.load(handle)
        if event.get("event") == "playbook_on_stats":
            return event["event_data"]
    return None


def main(argv):
    scenario, target, out = argv[1], argv[2], os.path.abspath(argv[3])
    with open(os.path.join(ROOT, "playbooks/vars/awx_controller.yml")) as handle:
        controller = yaml.load(handle, Loader=UnsafeLoader)
    templates = {t["name"]: t for t in controller["awx_job_templates"]}
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    address, ssh_key = machine_credential(target, out)
    inventory = molecule_inventory(scenario, target, address)
    cred_extra, cred_env = render_injectors(controller)
    project = os.path.join(out, "project-source")
    copy_project(project)
    problems, outputs = [], []
    for label, name, answers, want_status, want in JOBS:
        template = templates[name]
        pdd = os.path.join(out, label)
        shutil.copytree(project, os.path.join(pdd, "project"), symlinks=True)
        os.makedirs(os.path.join(pdd, "inventory"))
        os.makedirs(os.path.join(pdd, "env"))
        with open(os.path.join(pdd, "inventory", "hosts.yml"), "w") as handle:
            yaml.safe_dump(inventory, handle)
        extravars = dict(survey_defaults(template), **answers)
        extravars.update(cred_extra)
        shutil.copy(os.path.join(out, "ssh_key"), os.path.join(pdd, "env", "ssh_key"))
        with open(os.path.join(pdd, "env", "extravars"), "w") as handle:
            yaml.safe_dump(extravars, handle)
        envvars = dict(cred_env)
        # what AWX sets: its own collection paths (the EE's), never this checkout's collections/ directory
        envvars["ANSIBLE_COLLECTIONS_PATH"] = "/runner/requirements_collections:/usr/share/ansible/collections"
        envvars["ANSIBLE_FORCE_COLOR"] = "0"
        with open(os.path.join(pdd, "env", "envvars"), "w") as handle:
            yaml.safe_dump(envvars, handle)
        # the job's container on the host's network reaches the target's address, as an EE reaches the hosts
        settings = {"process_isolation": True, "process_isolation_executable": "docker", "container_image": EE,
                    "container_options": ["--network=host"], "suppress_env_files": True}
        with open(os.path.join(pdd, "env", "settings"), "w") as handle:
            yaml.safe_dump(settings, handle)
        start = time.time()
        run = subprocess.run([sys.executable, "-m", "ansible_runner", "run", pdd, "-p", template["playbook"],
                              "--ident", "job"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        stdout_path = os.path.join(pdd, "artifacts", "job", "stdout")
        output = open(stdout_path, errors="replace").read() if os.path.exists(stdout_path) else run.stdout.decode()
        outputs.append(stdout_path)
        status = open(os.path.join(pdd, "artifacts", "job", "status")).read().strip() \
            if os.path.exists(os.path.join(pdd, "artifacts", "job", "status")) else "none"
        data = stats(pdd, "job") or {}
        changed = sum((data.get("changed") or {}).values())
        flat = re.sub(r"\s+", " ", re.sub(r"\x1b\[[0-9;]*m", "", output))
        ok = status == want_status and "Traceback" not in output
        if want_status == "successful":
            ok = ok and (changed > 0 if want == ">0" else changed == want) and not data.get("failures")
            expect = "changed %s" % want
        else:
            ok = ok and want in flat
            expect = "the reason '%s'" % want
        verdict = "ok" if ok else "FAILED (expected %s, %s)" % (want_status, expect)
        print("  %-30s %-10s changed=%-3d %5.0f s  %s" % (label, status, changed, time.time() - start, verdict))
        if not ok:
            problems.append(label)
            print("\n".join(output.splitlines()[-60:]))
    # the leak check: every secret on the target, and the credentials' secret inputs
    secrets = leak_check.read_secrets(target)
    secrets["the machine credential's SSH key"] = ssh_key.strip().splitlines()[1]
    types = {t["name"]: t for t in controller["awx_credential_types"]}
    for cred in CREDENTIALS:
        for field in types[cred["credential_type"]]["inputs"]["fields"]:
            if field.get("secret") and cred["inputs"].get(field["id"]):
                secrets["credential %s %s" % (cred["credential_type"], field["id"])] = cred["inputs"][field["id"]]
    if len(secrets) < 8:  # the check must be able to fail: a converged bench has its secrets on the target
        problems.append("only %d secrets to look for" % len(secrets))
    scanned = 0
    for label in (job[0] for job in JOBS):
        events = os.path.join(out, label, "artifacts", "job", "job_events")
        files = [os.path.join(events, n) for n in os.listdir(events)] if os.path.isdir(events) else []
        files.append(os.path.join(out, label, "artifacts", "job", "stdout"))
        for path in files:
            if not os.path.exists(path):
                continue
            text = open(path, errors="replace").read()
            scanned += 1
            for what, value in secrets.items():
                if leak_check.appears(value, text):
                    problems.append("%s appears in %s" % (what, os.path.relpath(path, out)))
    print("awx jobs: %d jobs, leak check of %d secrets over %d job event and output files"
          % (len(JOBS), len(secrets), scanned))
    for problem in problems:
        print("  AWX JOBS FAILED: " + problem)
    return 1 if problems else 0


class UnsafeLoader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
    """Reads Ansible's !unsafe tag as the plain string it marks."""


UnsafeLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))

if __name__ == "__main__":
    sys.exit(main(sys.argv))
