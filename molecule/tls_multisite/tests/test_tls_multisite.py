# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Traefik in front of two benches: real certificates from Pebble, the right site for every domain, redirects,
security headers, TLS versions, unknown hosts, Socket.IO, the dashboard, and the ACME storage's mode."""

import json

import pytest
from testinfra_erpstack import exposed_ports, probe_ports

# domain -> the site that must answer it, and its bench
DOMAINS = {
    "erp.example.test": ("erp.example.test", "alpha"),
    "www.example.test": ("erp.example.test", "alpha"),
    "hr.example.test": ("hr.example.test", "alpha"),
    "shop.example.test": ("shop.example.test", "beta"),
}
ROOT_PEM = "/tmp/pebble-root.pem"


def curl(host, domain, path, *options):
    """Run curl on the target against Traefik's published ports, resolving the domain to the loopback."""
    argv = ["curl", "-s", "--max-time", "20", "--resolve", "%s:443:127.0.0.1" % domain,
            "--resolve", "%s:80:127.0.0.1" % domain] + list(options)
    return host.run(" ".join(argv + ["'%s'" % (path if "://" in path else "https://%s%s" % (domain, path))]))


@pytest.fixture(scope="module")
def pebble_root(host):
    host.run_expect([0], "curl -sfk https://127.0.0.1:15000/roots/0 -o %s" % ROOT_PEM)
    assert "BEGIN CERTIFICATE" in host.file(ROOT_PEM).content_string
    return ROOT_PEM


@pytest.fixture(scope="module")
def markers(host):
    """A file with the site's own name in each site's public files."""
    for site, bench in set(DOMAINS.values()):
        host.run_expect([0], "docker compose --project-directory /opt/erpstack/%s exec -T -u frappe backend "
                        "sh -c 'echo %s > sites/%s/public/files/erpstack-marker.txt'" % (bench, site, site))
    return "/files/erpstack-marker.txt"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_https_verified_against_pebble_reaches_the_right_site(host, pebble_root, markers, domain):
    ping = curl(host, domain, "/api/method/ping", "--cacert", pebble_root, "-w", "' %{http_code}'")
    assert ping.rc == 0, ping.stderr
    assert ping.stdout.endswith(" 200") and '"pong"' in ping.stdout
    marker = curl(host, domain, markers, "--cacert", pebble_root)
    assert marker.rc == 0 and marker.stdout.strip() == DOMAINS[domain][0]


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_certificate_is_issued_by_pebble_for_the_domain(host, pebble_root, domain):
    cert = host.run("echo | openssl s_client -connect 127.0.0.1:443 -servername %s -CAfile %s 2>/dev/null "
                    "| openssl x509 -noout -issuer -ext subjectAltName" % (domain, pebble_root))
    assert "Pebble" in cert.stdout and "DNS:%s" % domain in cert.stdout, cert.stdout


def test_http_redirects_to_https(host):
    result = curl(host, "erp.example.test", "http://erp.example.test/app?x=1", "-o", "/dev/null",
                  "-w", "'%{http_code} %{redirect_url}'")
    code, location = result.stdout.split(" ", 1)
    assert code in ("301", "308") and location == "https://erp.example.test/app?x=1"


def test_http2_and_security_headers(host, pebble_root):
    head = curl(host, "erp.example.test", "/api/method/ping", "--cacert", pebble_root, "--http2", "-D", "-",
                "-o", "/dev/null").stdout.lower()
    assert head.startswith("http/2 200")
    assert "strict-transport-security: max-age=31536000; includesubdomains" in head
    assert "x-content-type-options: nosniff" in head
    assert "x-frame-options: sameorigin" in head
    assert "referrer-policy: strict-origin-when-cross-origin" in head


def test_tls_1_1_is_refused_and_tls_1_2_accepted(host):
    # SECLEVEL=0 lets this OpenSSL offer TLS 1.1 at all, so a refusal is the server's
    client = "echo | timeout 10 openssl s_client -connect 127.0.0.1:%d -servername erp.example.test %s -cipher 'DEFAULT@SECLEVEL=0'"
    assert host.run(client % (443, "-tls1_1")).rc != 0
    assert host.run(client % (443, "-tls1_2")).rc == 0
    # the same client does speak TLS 1.1 to a server that allows it
    host.run_expect([0], "cd /tmp && openssl req -x509 -newkey rsa:2048 -nodes -keyout tls11.key -out tls11.pem "
                    "-subj /CN=tls11 -days 1")
    host.run("cd /tmp && (timeout 15 openssl s_server -accept 4433 -cert tls11.pem -key tls11.key -tls1_1 "
             "-cipher 'DEFAULT@SECLEVEL=0' -quiet >/dev/null 2>&1 &) ; sleep 1")
    assert "Protocol  : TLSv1.1" in host.run(client % (4433, "-tls1_1")).stdout


def test_unknown_host_gets_a_plain_404(host):
    result = curl(host, "unknown.example.test", "/api/method/ping", "-k", "-w", "' %{http_code}'")
    assert result.stdout.endswith(" 404") and "pong" not in result.stdout


def test_spoofed_site_header_does_not_reach_another_tenant(host, pebble_root, markers):
    result = curl(host, "shop.example.test", markers, "--cacert", pebble_root, "-H", "'X-Frappe-Site-Name: hr.example.test'")
    assert result.stdout.strip() == "shop.example.test"


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_socketio_handshake_through_the_same_host(host, pebble_root, domain):
    result = curl(host, domain, "/socket.io/?EIO=4&transport=polling", "--cacert", pebble_root, "-w", "' %{http_code}'")
    assert result.stdout.endswith(" 200") and '"sid"' in result.stdout


def test_dashboard_needs_its_password(host, pebble_root):
    domain = "traefik.example.test"
    assert curl(host, domain, "/dashboard/", "--cacert", pebble_root, "-o", "/dev/null", "-w", "'%{http_code}'").stdout == "401"
    password = host.file("/opt/erpstack/traefik/secrets/dashboard_password").content_string.strip()
    assert len(password) >= 20
    auth = curl(host, domain, "/api/overview", "--cacert", pebble_root, "-u", "'admin:%s'" % password,
                "-w", "' %{http_code}'")
    assert auth.stdout.endswith(" 200")


def test_acme_storage_is_private_and_holds_the_certificates(host):
    acme = host.file("/opt/erpstack/traefik/acme/acme.json")
    assert acme.mode == 0o600 and acme.user == "root"
    content = acme.content_string
    for domain in list(DOMAINS) + ["traefik.example.test"]:
        assert '"%s"' % domain in content


def test_metrics_entrypoint_is_not_published(host):
    ports = host.run("docker port traefik-traefik-1").stdout
    assert "8082" not in ports and "443/tcp" in ports and "80/tcp" in ports


def test_access_log_is_json(host):
    lines = [line for line in host.run("docker logs --tail 50 traefik-traefik-1").stdout.splitlines() if line.strip()]
    assert any('"RequestHost"' in line and line.startswith("{") for line in lines)


def test_from_another_host_only_traefik_and_ssh_answer(host):
    """A second host on the target's network: Traefik's 80 and 443 open, every other listening or published port
    (Pebble's, the monitoring stack's, the benches') refused by the host firewall."""
    ports = exposed_ports(host)
    seen = probe_ports("erpstack-tls_multisite", ports)
    assert set(seen) == set(ports)
    assert seen[80] is True and seen[443] is True
    assert sorted(p for p, is_open in seen.items() if is_open and p not in (22, 80, 443)) == []
    # Pebble, published on the target's loopback only, answers there
    assert 15000 in ports and seen[15000] is False
    assert host.run("curl -sfk -o /dev/null https://127.0.0.1:15000/roots/0").rc == 0


def test_traefik_runs_with_only_the_capability_to_bind_its_ports(host):
    config = json.loads(host.run_expect([0], "docker inspect --format '{{json .HostConfig}}' traefik-traefik-1").stdout)
    assert config["ReadonlyRootfs"] is True and config["CapDrop"] == ["ALL"]
    assert [c.replace("CAP_", "") for c in config["CapAdd"]] == ["NET_BIND_SERVICE"]
    assert "no-new-privileges:true" in config["SecurityOpt"] and config["PidsLimit"] == 512
