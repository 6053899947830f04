# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure function: the traefik role's settings -> Traefik's static and dynamic configuration (dicts).

Secret values never enter or leave this function: DNS credentials, certificate keys and the dashboard's users file are
referred to by the names of the secret files the role writes, and passed to Traefik as files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import EMAIL_RE, NAME_RE, BenchSpecError, deep_merge, is_host, is_pinned
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.compose import LABEL_PREFIX, healthcheck, service_resources
from ansible_collections.erpstack.erpnext.plugins.plugin_utils.grammars import cipher_suite_errors, traefik_static_errors

CONTAINER_DIR = "/etc/traefik"
ACME_STORAGE = CONTAINER_DIR + "/acme/acme.json"
CHALLENGES = {"http": "httpChallenge", "tlsalpn": "tlsChallenge", "dns": "dnsChallenge"}
# the keys of a certificate resolver (traefik_certificate_resolvers.<name>)
RESOLVER_KEYS = ("challenge", "provider", "credentials", "dns_servers", "delay")
TLS_VERSIONS = ("VersionTLS12", "VersionTLS13")
RESOLVER_RE = NAME_RE
ENV_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")
SECURITY_MIDDLEWARE = "erpstack-security-headers"
DASHBOARD_AUTH = "erpstack-dashboard-auth"
SETTINGS = (
    "network", "email", "ca_server", "ca_bundle", "resolvers", "default_resolver", "tls_min_version",
    "cipher_suites", "hsts_max_age", "hsts_include_subdomains", "hsts_preload", "frame_options", "referrer_policy",
    "certificates", "default_certificate", "dashboard", "log_level", "static_extension", "swarm",
)


def dns_secret_name(resolver, env):
    return "dns.%s.%s" % (resolver, env.lower())


def _check(settings):
    errors = []
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        errors.append("unknown settings: %s" % ", ".join(unknown))
    resolvers = settings.get("resolvers") or {}
    if not isinstance(resolvers, dict):
        return errors + ["traefik_certificate_resolvers must be a dict of resolver name -> settings"]
    for name, spec in resolvers.items():
        where = "resolver %r" % name
        if not RESOLVER_RE.match(str(name)):
            errors.append("%s: names are lower-case letters, digits, '-' and '_'" % where)
        spec = spec or {}
        challenge = spec.get("challenge", "http")
        if challenge not in CHALLENGES:
            errors.append("%s: challenge %r is not one of %s" % (where, challenge, ", ".join(CHALLENGES)))
        extra = sorted(set(spec) - set(RESOLVER_KEYS))
        if extra:
            errors.append("%s: unknown keys %s" % (where, ", ".join(extra)))
        if challenge == "dns":
            if not spec.get("provider"):
                errors.append("%s: DNS-01 needs the lego provider name (provider: cloudflare, route53, ...)" % where)
            credentials = spec.get("credentials")
            if not isinstance(credentials, dict) or not credentials:
                errors.append("%s: DNS-01 needs the provider's credentials ({ENV_NAME: value}, e.g. from the vault)"
                              % where)
            else:
                for env, value in credentials.items():
                    if not ENV_RE.match(str(env)):
                        errors.append("%s: credential name %r is not an environment variable name" % (where, env))
                    if value in (None, ""):
                        errors.append("%s: credential %s is empty" % (where, env))
        elif spec.get("credentials") or spec.get("provider"):
            errors.append("%s: provider and credentials belong to DNS-01 resolvers only" % where)
    if resolvers and not EMAIL_RE.match(str(settings.get("email") or "")):
        errors.append("traefik_acme_email must be the e-mail address ACME accounts are registered with (got %r)"
                      % settings.get("email"))
    default = settings.get("default_resolver") or ""
    if default and default not in resolvers:
        errors.append("traefik_default_certresolver %r is not a configured resolver (known: %s)"
                      % (default, ", ".join(resolvers) or "none"))
    ca_server = settings.get("ca_server") or ""
    if resolvers and not ca_server.startswith("https://"):
        errors.append("the ACME server URL must start with https:// (got %r)" % ca_server)
    errors.extend("traefik_tls_cipher_suites: %s" % e for e in cipher_suite_errors(settings.get("cipher_suites")))
    errors.extend(traefik_static_errors(settings.get("static_extension")))
    if settings.get("tls_min_version", "VersionTLS12") not in TLS_VERSIONS:
        errors.append("traefik_tls_min_version must be one of %s (older versions are not offered)"
                      % ", ".join(TLS_VERSIONS))
    age = settings.get("hsts_max_age", 0)
    if isinstance(age, bool) or not isinstance(age, int) or age < 0:
        errors.append("traefik_hsts_max_age must be a whole number of seconds >= 0 (got %r)" % (age,))
    if settings.get("hsts_preload") and (not isinstance(age, int) or age < 31536000
                                         or not settings.get("hsts_include_subdomains")):
        errors.append("HSTS preload needs traefik_hsts_max_age >= 31536000 and traefik_hsts_include_subdomains")
    dashboard = settings.get("dashboard") or {}
    if dashboard.get("enabled") and not is_host(dashboard.get("host")):
        errors.append("the dashboard needs its own host name (traefik_dashboard_host, got %r)" % dashboard.get("host"))
    if settings.get("frame_options") not in (None, "DENY", "SAMEORIGIN"):
        errors.append("traefik_frame_options must be DENY or SAMEORIGIN")
    return errors


def traefik_configuration(settings):
    """Return ``{static, dynamic, secrets, environment}`` for the settings (raises BenchSpecError listing all errors).

    ``secrets``: ``{name: {env}}`` for the secret files the role must write (DNS credentials are passed to lego as
    ``<ENV>_FILE``); ``environment``: plain variables for the Traefik container.
    """
    errors = _check(settings)
    if errors:
        raise BenchSpecError("; ".join(errors))
    resolvers = settings.get("resolvers") or {}
    secrets = {}
    environment = {}
    static_resolvers = {}
    for name, spec in sorted(resolvers.items()):
        spec = spec or {}
        challenge = spec.get("challenge", "http")
        acme = {"email": settings["email"], "storage": ACME_STORAGE, "caServer": settings["ca_server"]}
        if challenge == "http":
            acme["httpChallenge"] = {"entryPoint": "web"}
        elif challenge == "tlsalpn":
            acme["tlsChallenge"] = {}
        else:
            dns = {"provider": spec["provider"]}
            if spec.get("dns_servers"):
                dns["resolvers"] = list(spec["dns_servers"])
            if spec.get("delay"):
                dns["propagation"] = {"delayBeforeChecks": "%ds" % int(spec["delay"])}
            acme["dnsChallenge"] = dns
            for env in sorted(spec["credentials"]):
                secrets[dns_secret_name(name, env)] = {"env": env + "_FILE"}
        static_resolvers[name] = {"acme": acme}
    if settings.get("ca_bundle"):
        environment["LEGO_CA_CERTIFICATES"] = CONTAINER_DIR + "/certs/acme-ca.pem"

    static = {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "log": {"level": settings.get("log_level", "INFO"), "format": "json"},
        # JSON access log without request headers (they may carry session cookies or basic-auth credentials)
        "accessLog": {"format": "json", "fields": {"defaultMode": "keep", "headers": {"defaultMode": "drop"}}},
        "entryPoints": {
            "web": {
                "address": ":80",
                "http": {"redirections": {"entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}}},
            },
            "websecure": {"address": ":443", "http": {"tls": {}}, "http2": {"maxConcurrentStreams": 250}},
            # not published: Prometheus scrapes it over the shared network, the health check pings it
            "metrics": {"address": ":8082"},
        },
        "ping": {"entryPoint": "metrics"},
        # buckets around the latency alert's threshold (2.5 s), finer than Traefik's default 0.1/0.3/1.2/5
        "metrics": {"prometheus": {"entryPoint": "metrics", "addEntryPointsLabels": True,
                                   "addRoutersLabels": True, "addServicesLabels": True,
                                   "buckets": [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]}},
        "providers": {
            "docker": {"exposedByDefault": False, "network": settings["network"], "watch": True},
            "file": {"directory": CONTAINER_DIR + "/dynamic", "watch": True},
        },
    }
    if settings.get("swarm"):
        # the benches with engine swarm: their services' labels, read from this node's manager API; routes go to
        # task addresses on the shared overlay network (there is no IPVS for a service's virtual address)
        static["providers"]["swarm"] = {"exposedByDefault": False, "network": settings["network"],
                                        "endpoint": "unix:///var/run/docker.sock", "refreshSeconds": 2}
    if static_resolvers:
        static["certificatesResolvers"] = static_resolvers
    dashboard = settings.get("dashboard") or {}
    if dashboard.get("enabled"):
        static["api"] = {"dashboard": True, "insecure": False}
        secrets["dashboard_users"] = {"env": ""}
    static = deep_merge(static, settings.get("static_extension") or {})

    headers = {
        "stsSeconds": int(settings.get("hsts_max_age", 31536000)),
        "stsIncludeSubdomains": bool(settings.get("hsts_include_subdomains", True)),
        "stsPreload": bool(settings.get("hsts_preload", False)),
        "forceSTSHeader": True,
        "contentTypeNosniff": True,
        "customFrameOptionsValue": settings.get("frame_options") or "SAMEORIGIN",
        "referrerPolicy": settings.get("referrer_policy") or "strict-origin-when-cross-origin",
    }
    tls_options = {"minVersion": settings.get("tls_min_version", "VersionTLS12"), "sniStrict": False,
                   "alpnProtocols": ["h2", "http/1.1", "acme-tls/1"]}
    if settings.get("cipher_suites"):
        tls_options["cipherSuites"] = list(settings["cipher_suites"])
    dynamic = {
        "http": {"middlewares": {SECURITY_MIDDLEWARE: {"headers": headers}}},
        "tls": {"options": {"default": tls_options}},
    }
    certificates = []
    for index in range(int(settings.get("certificates") or 0)):
        secrets["tls_key_%d" % index] = {"env": ""}
        certificates.append({"certFile": "%s/certs/cert-%d.pem" % (CONTAINER_DIR, index),
                             "keyFile": "/run/secrets/tls_key_%d" % index})
    if certificates:
        dynamic["tls"]["certificates"] = certificates
    if settings.get("default_certificate"):
        secrets["tls_default_key"] = {"env": ""}
        dynamic["tls"]["stores"] = {"default": {"defaultCertificate": {
            "certFile": CONTAINER_DIR + "/certs/default.pem", "keyFile": "/run/secrets/tls_default_key"}}}
    if dashboard.get("enabled"):
        dynamic["http"]["middlewares"][DASHBOARD_AUTH] = {
            "basicAuth": {"usersFile": "/run/secrets/dashboard_users", "realm": "traefik"}}
        router = {
            "rule": "Host(`%s`)" % dashboard["host"],
            "entryPoints": ["websecure"],
            "service": "api@internal",
            "middlewares": [DASHBOARD_AUTH, SECURITY_MIDDLEWARE],
            "tls": {},
        }
        if settings.get("default_resolver"):
            router["tls"] = {"certResolver": settings["default_resolver"]}
        dynamic["http"]["routers"] = {"dashboard": router}
    return {"static": static, "dynamic": dynamic, "secrets": secrets, "environment": environment}


PROXY_KEYS = ("name", "image", "network", "ports", "config_hash", "secrets", "environment", "restart", "resources",
              "extension")


def proxy_project(proxy):
    """Return the compose document of the shared Traefik project.

    ``proxy``: ``name`` (project), ``image``, ``network`` (the external network benches join), ``ports`` (list of
    ``{host_ip, published, target}``), ``config_hash`` (a label: any change of the static configuration recreates the
    container), ``secrets`` (``{name: {file, env}}``: mounted under /run/secrets, ``env`` names the ``*_FILE``
    variable that points at it), ``environment``, ``restart``, ``resources`` (``{traefik: {...}}``), ``extension``.
    """
    unknown = sorted(set(proxy) - set(PROXY_KEYS))
    if unknown:
        raise BenchSpecError("proxy description has unknown keys: %s" % ", ".join(unknown))
    image = proxy.get("image") or ""
    if not is_pinned(image):
        raise BenchSpecError("image traefik=%r must be pinned to an exact tag" % image)
    environment = dict(proxy.get("environment") or {})
    secrets = proxy.get("secrets") or {}
    for name, spec in sorted(secrets.items()):
        if spec.get("env"):
            environment[spec["env"]] = "/run/secrets/%s" % name
    service = {
        "image": image,
        "restart": proxy.get("restart", "unless-stopped"),
        "command": ["--configFile=/etc/traefik/traefik.yml"],
        "ports": [
            {"target": int(p["target"]), "published": str(p["published"]), "host_ip": p.get("host_ip", "0.0.0.0"),
             "protocol": "tcp"}
            for p in proxy.get("ports") or []
        ],
        "volumes": [
            # read-only: Traefik only watches the engine's events and containers' labels
            "/var/run/docker.sock:/var/run/docker.sock:ro",
            "./traefik.yml:/etc/traefik/traefik.yml:ro",
            "./dynamic:/etc/traefik/dynamic:ro",
            "./certs:/etc/traefik/certs:ro",
            "./acme:/etc/traefik/acme",
        ],
        "networks": {"proxy": {}},
        # root in its container (the socket and the ACME storage are root's), with no capability but binding 80
        # and 443, a read-only root and a pids limit (docs/hardening.md; traefik_compose_extension overrides them)
        "security_opt": ["no-new-privileges:true"],
        "cap_drop": ["ALL"],
        "cap_add": ["NET_BIND_SERVICE"],
        "read_only": True,
        "tmpfs": ["/tmp:mode=1777"],
        # the static configuration enables ping on the internal metrics entrypoint
        "healthcheck": healthcheck(["CMD", "traefik", "healthcheck", "--configFile=/etc/traefik/traefik.yml"],
                                   interval="5s", start_period="5s"),
        "labels": {
            LABEL_PREFIX + ".service": "traefik",
            LABEL_PREFIX + ".role": "proxy",
            LABEL_PREFIX + ".config-hash": str(proxy.get("config_hash", "")),
        },
    }
    if environment:
        service["environment"] = environment
    if secrets:
        service["secrets"] = sorted(secrets)
    resources = service_resources(proxy, "traefik")
    resources.setdefault("limits", {})["pids"] = 512
    service["deploy"] = {"resources": resources}
    document = {
        "name": proxy.get("name", "traefik"),
        "services": {"traefik": service},
        "networks": {"proxy": {"external": True, "name": proxy["network"]}},
    }
    if secrets:
        document["secrets"] = {name: {"file": spec["file"]} for name, spec in sorted(secrets.items())}
    return deep_merge(document, proxy.get("extension") or {})
