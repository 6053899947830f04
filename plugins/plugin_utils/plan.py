# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure functions: the inventory's benches and sites -> one checked plan, and the Traefik labels that route it.

``bench_plan`` validates the whole description at once (every bench, every site, every domain), so a duplicate domain
across two benches or an unknown certificate resolver stops the play before any host changes. It returns the benches
with defaults filled in and without secret values, safe to loop over and print.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.erpstack.erpnext.plugins.plugin_utils.base import (
    NAME_RE as BENCH_NAME_RE,
    BenchSpecError,
    bench_subnet,
    is_domain,
    is_host,
)

# compose projects (and directories under the base directory) of the shared stacks
RESERVED_BENCH_NAMES = ("traefik", "monitoring")
# Keys a bench may set for itself; every other setting comes from the role's erpnext_* variables
BENCH_OVERRIDES = (
    "version", "network_subnet", "frontend_published", "gunicorn_workers", "gunicorn_threads",
    "queue_short_workers", "queue_long_workers", "compose_extension", "tls_resolver", "apps",
    "engine", "replicas",
)
SITE_KEYS = ("name", "apps", "admin_password", "default", "state", "domains", "tls_resolver")


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _subnet(value, where):
    net = bench_subnet(value)
    if net is None:
        raise BenchSpecError("%s: network_subnet %r must be an IPv4 network with prefix /8, /16 or /24" % (where, value))
    return net


SITE_DEFAULTS = {"apps": [], "default": False, "state": "present"}
SITE_SECRET_KEYS = ("admin_password",)


def site_specs(sites):
    """Sites with their defaults filled in and without secret values (safe to loop over and print)."""
    result = []
    for site in sites or []:
        spec = dict(SITE_DEFAULTS, **{k: v for k, v in site.items() if k not in SITE_SECRET_KEYS})
        spec["apps"] = list(spec["apps"] or [])
        spec["has_admin_password"] = site.get("admin_password") is not None
        result.append(spec)
    return result


def bench_plan(benches, resolvers=None, default_resolver="", dns_resolvers=None, proxy="traefik",
               default_subnet="172.30.10.0/24"):
    """Check every bench and site together and return the normalised plan (no secret values).

    ``resolvers``: names of the certificate resolvers the proxy offers; ``dns_resolvers``: those using DNS-01 (the
    only ones that can issue wildcard certificates); ``default_resolver``: used by sites that name none ('' = no
    ACME: the proxy's default or user-provided certificate).
    """
    resolvers = list(resolvers or [])
    dns_resolvers = list(dns_resolvers or [])
    if not isinstance(benches, list) or not benches:
        raise BenchSpecError("erpnext_benches must be a non-empty list of benches")
    errors = []
    plan = []
    owner_of_domain = {}
    subnets = {}
    for index, bench in enumerate(benches):
        if not isinstance(bench, dict) or "name" not in bench:
            errors.append("bench #%d has no name" % (index + 1))
            continue
        name = bench["name"]
        where = "bench %r" % name
        if not isinstance(name, str) or not BENCH_NAME_RE.match(name):
            errors.append("%s: the name must be lower-case letters, digits, '-' or '_' (at most 63)" % where)
            continue
        if name in RESERVED_BENCH_NAMES:
            errors.append("%s: the name is reserved for a shared stack (%s)" % (where, ", ".join(RESERVED_BENCH_NAMES)))
            continue
        if name in [b["name"] for b in plan]:
            errors.append("%s is listed twice" % where)
            continue
        unknown = sorted(set(bench) - set(BENCH_OVERRIDES) - {"name", "sites"})
        if unknown:
            errors.append("%s: unknown keys %s (a bench may set: %s)"
                          % (where, ", ".join(unknown), ", ".join(("sites",) + BENCH_OVERRIDES)))
        subnet = bench.get("network_subnet")
        if subnet is None:
            if index > 0:
                errors.append("%s: every bench after the first needs its own network_subnet" % where)
                subnet = None
            else:
                subnet = default_subnet
        if subnet is not None:
            try:
                net = _subnet(subnet, where)
                clash = [other for other, o_net in subnets.items() if net.overlaps(o_net)]
                if clash:
                    errors.append("%s: network_subnet %s overlaps bench %r's" % (where, subnet, clash[0]))
                subnets[name] = net
            except BenchSpecError as exc:
                errors.append(str(exc))
        bench_resolver = bench.get("tls_resolver", default_resolver)
        sites = bench.get("sites") or []
        if not isinstance(sites, list):
            errors.append("%s: sites must be a list" % where)
            sites = []
        planned_sites = []
        slugs = {}
        for site in sites:
            if not isinstance(site, dict) or not is_host(site.get("name")):
                errors.append("%s: site %r: the name must be a lower-case DNS host name"
                              % (where, site.get("name") if isinstance(site, dict) else site))
                continue
            sname = site["name"]
            swhere = "%s, site %r" % (where, sname)
            extra = sorted(set(site) - set(SITE_KEYS))
            if extra:
                errors.append("%s: unknown keys %s" % (swhere, ", ".join(extra)))
            if slug(sname) in slugs:
                errors.append("%s: listed twice, or its router name clashes with site %r" % (swhere, slugs[slug(sname)]))
                continue
            slugs[slug(sname)] = sname
            spec = site_specs([site])[0]
            domains = site.get("domains", [sname])
            if not isinstance(domains, list) or not domains:
                errors.append("%s: domains must be a non-empty list of host names" % swhere)
                domains = []
            for domain in domains:
                if not is_domain(domain):
                    errors.append("%s: invalid domain %r (a lower-case host name, or *.<host name>)" % (swhere, domain))
                    continue
                if spec["state"] != "present":
                    continue
                if domain in owner_of_domain:
                    errors.append("domain %r is claimed by %s and by %s" % (domain, owner_of_domain[domain], swhere))
                owner_of_domain[domain] = swhere
            resolver = site.get("tls_resolver", bench_resolver)
            if resolver and resolver not in resolvers:
                errors.append("%s: unknown certificate resolver %r (known: %s)"
                              % (swhere, resolver, ", ".join(resolvers) or "none configured"))
            wildcards = [d for d in domains if isinstance(d, str) and d.startswith("*.")]
            if wildcards and resolver and resolver not in dns_resolvers:
                errors.append("%s: wildcard domains %s need a DNS-01 resolver, not %r"
                              % (swhere, ", ".join(wildcards), resolver))
            exact = [d for d in domains if isinstance(d, str) and not d.startswith("*.")]
            spec.update({"domains": list(domains), "tls_resolver": resolver or "", "router": slug(sname),
                         "host": exact[0] if exact else sname})
            spec.pop("admin_password", None)
            planned_sites.append(spec)
        if len([s for s in planned_sites if s["default"]]) > 1:
            errors.append("%s: at most one site may be the default" % where)
        entry = {k: v for k, v in bench.items() if k in BENCH_OVERRIDES}
        entry.update({"name": name, "network_subnet": str(subnet) if subnet else None, "sites": planned_sites})
        entry.pop("tls_resolver", None)
        plan.append(entry)
    if proxy not in ("traefik", "none"):
        errors.append("erpnext_proxy must be 'traefik' or 'none', not %r" % proxy)
    if errors:
        raise BenchSpecError("; ".join(errors))
    return plan
