# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests of erpstack.erpnext.compose_state: the exact Docker CLI calls, and what makes a project not current.

The fake run_command serves the calls in order and fails on a missing, extra or different one. The documents it
serves are cut from a real bench (Compose 2.26, Docker 20.10): ``docker compose config --format json``, ``--hash``,
``docker container inspect`` and ``docker image inspect``.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy
import json

import pytest

from ansible.module_utils import basic

from ansible_collections.erpstack.erpnext.plugins.modules import compose_state
from ansible_collections.erpstack.erpnext.tests.unit.plugins.modules import test_bench_site as bench_tests
from ansible_collections.erpstack.erpnext.tests.unit.plugins.modules.test_bench_site import (
    ExitJson,
    FailJson,
    FakeRunCommand,
    patch_module_args,
)

# the same patched AnsibleModule as bench_site's tests: results and failures raised with their raw values
module_env = bench_tests.module_env

PROJECT = '/opt/erpstack/erpnext'
COMPOSE = ['/testbin/docker', 'compose', '--project-directory', PROJECT]
IMAGE = 'erpstack-test/erpnext:16.32.3'
DB_IMAGE = 'erpstack-test/mariadb:10.11.18'
IMAGE_ID = 'sha256:' + 'e5' * 32
DB_IMAGE_ID = 'sha256:' + 'db' * 32
CONFIG = {
    'name': 'erpnext',
    'services': {
        'configurator': {'image': IMAGE, 'depends_on': {'db': {'condition': 'service_healthy'}}},
        'backend': {'image': IMAGE, 'depends_on': {'configurator': {'condition': 'service_completed_successfully'}}},
        'queue-short': {'image': IMAGE, 'deploy': {'replicas': 2}},
        'db': {'image': DB_IMAGE},
    },
}
HASHES = {'configurator': 'c0' * 32, 'backend': 'ba' * 32, 'queue-short': 'a5' * 32, 'db': 'd0' * 32}
IMAGES = [{'Id': IMAGE_ID, 'RepoTags': [IMAGE], 'RepoDigests': []},
          {'Id': DB_IMAGE_ID, 'RepoTags': [DB_IMAGE], 'RepoDigests': []}]


def container(service, number=1, status='running', health='healthy', exit_code=0, digest=None, image=None,
              oneoff='False'):
    state = {'Status': status, 'ExitCode': exit_code}
    if health:
        state['Health'] = {'Status': health}
    return {
        'Id': '%s%d' % (service, number),
        'Name': '/erpnext-%s-%d' % (service, number),
        'Image': image or (DB_IMAGE_ID if service == 'db' else IMAGE_ID),
        'State': state,
        'Config': {'Image': DB_IMAGE if service == 'db' else IMAGE, 'Labels': {
            'com.docker.compose.project': 'erpnext',
            'com.docker.compose.service': service,
            'com.docker.compose.config-hash': digest or HASHES.get(service, 'ff' * 32),
            'com.docker.compose.oneoff': oneoff,
        }},
    }


# the release each service runs, as the erpnext role reads it to tell an upgrade from a converge
RUNNING = {'configurator': IMAGE, 'backend': IMAGE, 'queue-short': IMAGE, 'db': DB_IMAGE}
CONVERGED = [
    container('configurator', status='exited', health=None),
    container('backend'),
    container('queue-short', 1, health=None),
    container('queue-short', 2, health=None),
    container('db'),
]


def calls(containers, config=None, hashes=None, images=None, image_rc=0):
    config = config or CONFIG
    hashes = hashes or HASHES
    result = [
        {'argv': COMPOSE + ['config', '--format', 'json'], 'rc': 0, 'out': json.dumps(config)},
        {'argv': COMPOSE + ['config', '--hash', '*'], 'rc': 0,
         'out': ''.join('%s %s\n' % item for item in sorted(hashes.items()))},
        {'argv': ['/testbin/docker', 'ps', '--all', '--quiet', '--no-trunc', '--filter',
                  'label=com.docker.compose.project=erpnext'], 'rc': 0,
         'out': ''.join(c['Id'] + '\n' for c in containers)},
    ]
    if containers:
        result.append({'argv': ['/testbin/docker', 'container', 'inspect'] + [c['Id'] for c in containers],
                       'rc': 0, 'out': json.dumps(containers)})
    refs = sorted(set(s['image'] for s in config['services'].values()))
    result.append({'argv': ['/testbin/docker', 'image', 'inspect'] + refs, 'rc': image_rc,
                   'out': json.dumps(IMAGES if images is None else images)})
    return result


def run(monkeypatch, expected, check_mode=False, images=None):
    fake = FakeRunCommand(expected)

    def run_command(self, *args, **kwargs):
        return fake(self, *args, **kwargs)

    monkeypatch.setattr(basic.AnsibleModule, 'run_command', run_command)
    args = {'project_dir': PROJECT}
    if images is not None:
        args['images'] = images
    if check_mode:
        args['_ansible_check_mode'] = True
    with patch_module_args(args):
        with pytest.raises((ExitJson, FailJson)) as excinfo:
            compose_state.main()
    fake.assert_done()
    return excinfo.value.result


@pytest.mark.parametrize('check_mode', [False, True])
def test_a_converged_project_is_current(module_env, check_mode):
    result = run(module_env, calls(CONVERGED), check_mode=check_mode)
    assert result == {'changed': False, 'current': True, 'project': 'erpnext', 'reasons': [], 'images_missing': [],
                      'running_images': RUNNING}


def _replace(index, **kwargs):
    containers = copy.deepcopy(CONVERGED)
    service = containers[index]['Config']['Labels']['com.docker.compose.service']
    number = int(containers[index]['Name'].rsplit('-', 1)[1])
    defaults = {'health': None if service in ('configurator', 'queue-short') else 'healthy'}
    if service == 'configurator':
        defaults['status'] = 'exited'
    defaults.update(kwargs)
    containers[index] = container(service, number, **defaults)
    return containers


NOT_CURRENT = [
    ('configuration changed', _replace(1, digest='00' * 32),
     ['backend: container erpnext-backend-1 was created from another configuration']),
    ('image retagged', _replace(4, image='sha256:' + '01' * 32),
     ['db: container erpnext-db-1 runs another image than the one its reference names now']),
    ('stopped', _replace(1, status='exited', exit_code=137, health='unhealthy'),
     ['backend: container erpnext-backend-1 is exited']),
    ('health starting', _replace(4, health='starting'), ['db: container erpnext-db-1 is starting']),
    ('one-shot failed', _replace(0, exit_code=1),
     ['configurator: one-shot container erpnext-configurator-1 is exited (exit code 1), not completed']),
    ('one-shot still running', _replace(0, status='running'),
     ['configurator: one-shot container erpnext-configurator-1 is running (exit code 0), not completed']),
    ('replica missing', CONVERGED[:3] + CONVERGED[4:], ['queue-short: 1 container(s), the configuration asks for 2']),
    ('service missing', CONVERGED[:4], ['db: 0 container(s), the configuration asks for 1']),
    ('orphan', CONVERGED + [container('old-worker', health=None)], ['old-worker: orphan container(s) erpnext-old-worker-1']),
]


@pytest.mark.parametrize('containers, reasons', [case[1:] for case in NOT_CURRENT], ids=[case[0] for case in NOT_CURRENT])
def test_what_makes_a_project_not_current(module_env, containers, reasons):
    running = dict(RUNNING)
    if not [c for c in containers if c['Config']['Labels']['com.docker.compose.service'] == 'db']:
        del running['db']
    if [c for c in containers if c['Config']['Labels']['com.docker.compose.service'] == 'old-worker']:
        running['old-worker'] = IMAGE
    result = run(module_env, calls(containers))
    assert result == {'changed': False, 'current': False, 'project': 'erpnext', 'reasons': reasons,
                      'images_missing': [], 'running_images': running}


def test_one_off_containers_are_ignored(module_env):
    containers = CONVERGED + [container('backend', 9, status='exited', health=None, oneoff='True')]
    assert run(module_env, calls(containers))['current'] is True


def test_a_missing_image_makes_the_project_not_current(module_env):
    result = run(module_env, calls(CONVERGED, images=[IMAGES[0]], image_rc=1))
    assert result['current'] is False
    assert result['reasons'] == ['db: the host has no image %s' % DB_IMAGE]


def test_a_project_with_no_container_lists_every_service(module_env):
    result = run(module_env, calls([]))
    assert result['reasons'] == ['%s: 0 container(s), the configuration asks for %d' % (name, 2 if name == 'queue-short' else 1)
                                 for name in sorted(CONFIG['services'])]


NO_CONFIG = {'argv': COMPOSE + ['config', '--format', 'json'], 'rc': 14, 'out': '',
             'err': 'no configuration file provided: not found\n'}


def test_a_configuration_that_does_not_load_is_not_current_and_stops_there(module_env):
    result = run(module_env, [NO_CONFIG])
    assert result == {'changed': False, 'current': False, 'project': '', 'images_missing': [], 'running_images': {},
                      'reasons': ['the configuration does not load: no configuration file provided: not found']}


def test_the_images_asked_for_are_looked_for_on_a_fresh_host_too(module_env):
    inspect = {'argv': ['/testbin/docker', 'image', 'inspect', IMAGE, DB_IMAGE, 'redis:7.4.5-alpine'], 'rc': 1,
               'out': json.dumps(IMAGES[:1]), 'err': 'Error: No such image: redis:7.4.5-alpine\n'}
    result = run(module_env, [NO_CONFIG, inspect], images=[IMAGE, DB_IMAGE, 'redis:7.4.5-alpine'])
    assert result['images_missing'] == [DB_IMAGE, 'redis:7.4.5-alpine']
    assert result['current'] is False


def test_the_images_asked_for_share_the_project_s_image_inspect(module_env):
    expected = calls(CONVERGED)
    expected[-1] = dict(expected[-1], argv=['/testbin/docker', 'image', 'inspect', IMAGE, DB_IMAGE, 'redis:7.4.5-alpine'],
                        rc=1)
    result = run(module_env, expected, images=['redis:7.4.5-alpine', IMAGE])
    assert result['current'] is True
    assert result['images_missing'] == ['redis:7.4.5-alpine']


def test_a_failing_docker_ps_fails_the_module_with_its_error(module_env):
    expected = calls(CONVERGED)[:2] + [dict(calls(CONVERGED)[2], rc=1, out='',
                                            err='Cannot connect to the Docker daemon\n')]
    result = run(module_env, expected)
    assert result['failed'] is True
    assert 'Cannot connect to the Docker daemon' in result['msg']


def test_the_image_each_service_was_created_from_is_reported_one_off_containers_left_out(module_env):
    old = 'erpstack-test/erpnext:16.31.0'
    containers = [container('backend', image='sha256:' + '0a' * 32)] + CONVERGED[2:] + [
        container('backend', 9, status='exited', health=None, oneoff='True')]
    containers[0]['Config']['Image'] = old
    containers[-1]['Config']['Image'] = 'erpstack-test/erpnext:99.0.0'
    result = run(module_env, calls(containers))
    assert result['running_images'] == {'backend': old, 'queue-short': IMAGE, 'db': DB_IMAGE}
