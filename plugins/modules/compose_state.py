#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: compose_state
short_description: Tell whether a Docker Compose project already runs exactly its current configuration
version_added: 0.1.0
description:
  - Compares the containers of a Compose project with its configuration as C(docker compose up) would, without
    starting, stopping or recreating anything, so that a converged project can skip C(up --wait), which starts its
    one-shot services again and waits for them on every run.
  - The project is current when, for every service of C(docker compose config), the project has exactly as many
    containers as the service's replicas (C(deploy.replicas), else C(scale), else 1), each created from the
    service's configuration hash (C(docker compose config --hash)) and from the image ID its image reference names
    now; each one running and, when it has a health check, healthy. A one-shot service (one that another service
    depends on with the condition C(service_completed_successfully)) must instead have exited with code 0.
  - A container of a service the configuration no longer has (an orphan) makes the project not current. One-off
    containers (C(docker compose run)) are ignored, as C(up) ignores them.
  - What is not compared is what C(up) does not compare either, such as the content of bind-mounted files and
    secrets; a project that must be restarted for those uses its own handler.
author:
  - erpstack contributors (@erpstack)
attributes:
  check_mode:
    description: Can run in check mode; it only reads.
    support: full
  diff_mode:
    description: Returns no diff.
    support: none
  idempotent:
    description: It changes nothing.
    support: full
options:
  project_dir:
    description: The Compose project directory, the one holding C(compose.yaml).
    type: path
    required: true
  images:
    description:
      - Image references to look for as well, in the same C(docker image inspect) run; those the host lacks are
        returned in RV(images_missing). They are looked for even when the project has no loadable configuration
        yet (a fresh host), so that a role knows which images to load or pull before it writes the project.
    type: list
    elements: str
    default: []
requirements:
  - The Docker CLI with the Compose v2 plugin (C(docker compose config --hash)) on the managed host.
notes:
  - A list or mapping option given as a string is refused before anything runs (AnsibleModule would split it at
    its commas or parse it as C(k=v) pairs). Booleans and numbers written as text are converted as usual.
  - A project whose configuration does not load (no compose file, a syntax error) is reported as not current with
    the reason, not as a failure, so that the C(up) that follows reports the error in its own words.
'''

EXAMPLES = r'''
- name: Find whether the bench already runs its current configuration
  erpstack.erpnext.compose_state:
    project_dir: /opt/erpstack/erpnext
  register: bench_state

- name: Find the bench's state and which of its images the host lacks, before the project exists
  erpstack.erpnext.compose_state:
    project_dir: /opt/erpstack/erpnext
    images: [frappe/erpnext:v16.32.3, mariadb:11.8.3, redis:7.4.5-alpine]
  register: bench_state

- name: Start the bench and wait until it is healthy, unless it already runs its configuration
  community.docker.docker_compose_v2:
    project_src: /opt/erpstack/erpnext
    wait: true
  when: not bench_state.current
'''

RETURN = r'''
current:
  description: Whether every service runs its current configuration and image, healthy, with no orphan.
  returned: always
  type: bool
  sample: true
project:
  description: The Compose project name, or an empty string when the configuration did not load.
  returned: always
  type: str
  sample: erpnext
images_missing:
  description: The references of O(images) the host has no image for, in the order given.
  returned: always
  type: list
  elements: str
  sample: ["frappe/erpnext:v16.32.3"]
running_images:
  description:
    - Service name -> the image reference its running or stopped container was created from (the first container
      of the service; one-off containers left out). Empty when the project has no container.
    - The erpnext role reads the release a bench runs from it, to tell an upgrade from a converge.
  returned: always
  type: dict
  sample: {"backend": "frappe/erpnext:v16.32.3", "db": "mariadb:11.8.3"}
reasons:
  description: Why the project is not current, one line per container or service at fault (empty when current).
  returned: always
  type: list
  elements: str
  sample: ["backend: container erpnext-backend-1 was created from another configuration",
           "queue-short: 1 container(s), the configuration asks for 2"]
'''

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.erpstack.erpnext.plugins.module_utils._strict import refuse_coercions

COMPLETED = 'service_completed_successfully'
SERVICE_LABEL = 'com.docker.compose.service'
HASH_LABEL = 'com.docker.compose.config-hash'
ONEOFF_LABEL = 'com.docker.compose.oneoff'


def replicas(service):
    """How many containers ``up`` keeps for a service."""
    deploy = service.get('deploy') or {}
    if deploy.get('replicas') is not None:
        return int(deploy['replicas'])
    if service.get('scale') is not None:
        return int(service['scale'])
    return 1


def one_shot_services(services):
    """Services some other service waits for to complete: they run once per ``up`` and then exit."""
    names = set()
    for service in services.values():
        depends = service.get('depends_on') or {}
        if isinstance(depends, dict):
            names.update(name for name, spec in depends.items() if (spec or {}).get('condition') == COMPLETED)
    return names


class ComposeProject(object):
    """One Compose project as the Docker CLI reports it: its configuration, hashes, containers and images."""

    def __init__(self, module, docker, project_dir):
        self.module = module
        self.docker = docker
        self.compose = [docker, 'compose', '--project-directory', project_dir]

    def _run(self, argv):
        rc, out, err = self.module.run_command(argv)
        return rc, out, err

    def _run_ok(self, argv):
        rc, out, err = self._run(argv)
        if rc != 0:
            self.module.fail_json(msg='%s failed (rc %d): %s' % (' '.join(argv), rc, (err or out).strip()))
        return out

    def configuration(self):
        """The loaded configuration, or (None, reason) when Compose cannot load it."""
        rc, out, err = self._run(self.compose + ['config', '--format', 'json'])
        if rc != 0:
            return None, 'the configuration does not load: %s' % (err or out).strip()
        return json.loads(out), None

    def hashes(self):
        out = self._run_ok(self.compose + ['config', '--hash', '*'])
        result = {}
        for line in out.splitlines():
            if line.strip():
                service, _sep, digest = line.strip().partition(' ')
                result[service] = digest.strip()
        return result

    def containers(self, project):
        out = self._run_ok([self.docker, 'ps', '--all', '--quiet', '--no-trunc',
                            '--filter', 'label=com.docker.compose.project=%s' % project])
        ids = [line.strip() for line in out.splitlines() if line.strip()]
        if not ids:
            return []
        return json.loads(self._run_ok([self.docker, 'container', 'inspect'] + ids))

    def image_ids(self, references):
        """Image reference -> ID of the local image it names now (absent when the host has no such image)."""
        references = sorted(set(references))
        if not references:
            return {}
        # rc 1 when some image is missing: the ones found are still printed
        _rc, out, _err = self._run([self.docker, 'image', 'inspect'] + references)
        found = json.loads(out or '[]') or []
        result = {}
        for image in found:
            names = set(image.get('RepoTags') or []) | set(image.get('RepoDigests') or [])
            for reference in references:
                if reference in names or reference == image.get('Id'):
                    result[reference] = image['Id']
        return result


def running_images(containers):
    """Service -> the image reference (Config.Image) of its first container, one-off containers left out."""
    result = {}
    for container in sorted(containers, key=lambda c: c.get('Name', '')):
        config = container.get('Config') or {}
        labels = config.get('Labels') or {}
        if labels.get(ONEOFF_LABEL, 'False') == 'True' or SERVICE_LABEL not in labels:
            continue
        result.setdefault(labels[SERVICE_LABEL], config.get('Image', ''))
    return result


def compare(config, hashes, containers, images):
    """The reasons the project is not current (none when it is)."""
    services = config.get('services') or {}
    one_shot = one_shot_services(services)
    by_service = {}
    reasons = []
    for container in containers:
        labels = (container.get('Config') or {}).get('Labels') or {}
        if labels.get(ONEOFF_LABEL, 'False') == 'True':
            continue
        by_service.setdefault(labels.get(SERVICE_LABEL, ''), []).append(container)
    for name in sorted(by_service):
        if name not in services:
            reasons.append('%s: orphan container(s) %s' % (
                name, ', '.join(sorted(c.get('Name', '').lstrip('/') for c in by_service[name]))))
    for name in sorted(services):
        service = services[name]
        found = by_service.get(name, [])
        wanted = replicas(service)
        if len(found) != wanted:
            reasons.append('%s: %d container(s), the configuration asks for %d' % (name, len(found), wanted))
        image = images.get(service.get('image'))
        if image is None:
            reasons.append('%s: the host has no image %s' % (name, service.get('image')))
        for container in sorted(found, key=lambda c: c.get('Name', '')):
            reasons.extend(container_reasons(name, container, hashes.get(name), image, name in one_shot))
    return reasons


def container_reasons(service, container, digest, image, one_shot):
    cname = container.get('Name', '').lstrip('/')
    labels = (container.get('Config') or {}).get('Labels') or {}
    state = container.get('State') or {}
    reasons = []
    if labels.get(HASH_LABEL) != digest:
        reasons.append('%s: container %s was created from another configuration' % (service, cname))
    if image is not None and container.get('Image') != image:
        reasons.append('%s: container %s runs another image than the one its reference names now' % (service, cname))
    if one_shot:
        if state.get('Status') != 'exited' or state.get('ExitCode') != 0:
            reasons.append('%s: one-shot container %s is %s (exit code %s), not completed'
                           % (service, cname, state.get('Status'), state.get('ExitCode')))
    elif state.get('Status') != 'running':
        reasons.append('%s: container %s is %s' % (service, cname, state.get('Status')))
    elif state.get('Health') and state['Health'].get('Status') != 'healthy':
        reasons.append('%s: container %s is %s' % (service, cname, state['Health'].get('Status')))
    return reasons


def main():
    argument_spec = dict(project_dir=dict(type='path', required=True),
                         images=dict(type='list', elements='str', default=[]))
    refuse_coercions(argument_spec)
    module = AnsibleModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    wanted = module.params['images']
    project = ComposeProject(module, module.get_bin_path('docker', required=True), module.params['project_dir'])
    config, failure = project.configuration()
    services = (config or {}).get('services') or {}
    if config is not None:
        hashes, containers = project.hashes(), project.containers(config['name'])
    images = project.image_ids(list(wanted) + [s['image'] for s in services.values() if s.get('image')])
    missing = [ref for ref in wanted if ref not in images]
    if config is None:
        module.exit_json(changed=False, current=False, project='', reasons=[failure], images_missing=missing,
                         running_images={})
    reasons = compare(config, hashes, containers, images)
    module.exit_json(changed=False, current=not reasons, project=config['name'], reasons=reasons,
                     images_missing=missing, running_images=running_images(containers))


if __name__ == '__main__':
    main()
