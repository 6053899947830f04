# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Run Frappe's ``bench`` inside a Docker Compose service.

Private helper shared by the collection's bench modules. It is not a public API:
its names may change between releases.

Everything here keeps secrets off argument lists: a command that needs a password
receives it on standard input (``bench`` reads its prompts from stdin when no
terminal is attached), and every text that leaves the module through
:meth:`BenchRunner.fail` is scrubbed of the passwords the runner knows about.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re
import shlex

from ansible.module_utils.common.text.converters import to_native, to_text


BENCH_DIR = '/home/frappe/frappe-bench'
BENCH_USER = 'frappe'
MASK = '********'

# File names ``docker compose`` looks for in a project directory, preferred first.
COMPOSE_FILE_NAMES = ('compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml')

# Directories under ``sites/`` that are not sites, so can never be site names.
RESERVED_SITE_NAMES = frozenset(['assets'])

# Frappe apps are Python packages.
_APP_NAME_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
_LABEL_RE = re.compile(r'^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')

# Lines Docker Compose writes to stderr on its own account while the command in the
# container succeeds or fails normally (logrus text format with and without a terminal).
_COMPOSE_NOISE_RE = re.compile(r'^(WARN\[\d+\]|time="[^"]*" level=(warning|info|debug))')

TAIL_LINES = 20


def bench_argument_spec():
    """Options every bench module shares: where the compose project is and how to reach it."""
    return dict(
        project_dir=dict(type='path', required=True),
        service=dict(type='str', default='backend'),
        container=dict(type='str'),
        docker_cli=dict(type='path', default='docker'),
    )


class BenchError(Exception):
    """A problem the module should report with ``fail_json``."""


def validate_site_name(name):
    """Return an error message if ``name`` is not a usable site name, else ``None``.

    A site name is a lower-case DNS host name: it names the directory under
    ``sites/`` and is the Host header the site answers to.
    """
    if not name:
        return 'Site name must not be empty.'
    if len(name) > 253:
        return 'Site name %r is %d characters long; a host name has at most 253.' % (name, len(name))
    if name in RESERVED_SITE_NAMES:
        return 'Site name %r is reserved: sites/%s is not a site in a Frappe bench.' % (name, name)
    for label in name.split('.'):
        if not _LABEL_RE.match(label):
            return ('Site name %r is not a valid lower-case DNS host name: each dot-separated label must be '
                    '1-63 characters of a-z, 0-9 and "-", and must not start or end with "-" '
                    '(offending label: %r).' % (name, label))
    return None


def validate_app_name(name):
    """Return an error message if ``name`` cannot be a Frappe app name, else ``None``."""
    if not _APP_NAME_RE.match(name or ''):
        return ('App name %r is not valid: Frappe apps are Python packages '
                '(letters, digits and "_", not starting with a digit).' % (name,))
    return None


def unique(items):
    """Return ``items`` without duplicates, first occurrence kept."""
    seen = set()
    result = []
    for item in items:
        if item not in seen:
            seen.add(item)
            result.append(item)
    return result


def scrub(text, secrets):
    """Replace every occurrence of each secret in ``text`` with :data:`MASK`."""
    text = to_text(text or '', errors='surrogate_or_replace')
    # Longest first, so a secret that contains another one is masked whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def strip_compose_noise(err):
    """Drop the warnings Docker Compose itself prints to stderr."""
    lines = to_text(err or '').splitlines()
    return '\n'.join(line for line in lines if line.strip() and not _COMPOSE_NOISE_RE.match(line))


def output_tail(out, err, lines=TAIL_LINES):
    """Return the last ``lines`` non-empty lines of stdout followed by stderr.

    ``bench`` reports some errors on stdout (``Site X already exists``) and
    tracebacks on stderr, so both are kept, stdout first.
    """
    combined = [line for line in (to_text(out or '') + '\n' + to_text(err or '')).splitlines() if line.strip()]
    return '\n'.join(combined[-lines:])


def parse_list_apps(output, site):
    """Parse ``bench --site SITE list-apps --format json``.

    Frappe prints ``frappe.as_json({SITE: [app, ...]})`` (indented JSON over several
    lines). Anything bench or the image prints before the document (a warning, a
    banner) is skipped: the first line that starts a JSON object holding ``SITE``
    is parsed. Raises :class:`BenchError` when no such document is found.
    """
    text = to_text(output or '', errors='surrogate_or_replace')
    decoder = json.JSONDecoder()
    lines = text.splitlines(True)
    offset = 0
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith('{'):
            start = offset + len(line) - len(stripped)
            try:
                document, dummy = decoder.raw_decode(text, start)
            except ValueError:
                document = None
            if isinstance(document, dict) and site in document:
                apps = document[site]
                if not isinstance(apps, list) or not all(isinstance(app, str) for app in apps):
                    raise BenchError('bench list-apps returned %r for site %s, expected a list of app names.'
                                     % (apps, site))
                return list(apps)
        offset += len(line)
    raise BenchError('Could not find the JSON list of installed apps for site %s in the output of '
                     'bench list-apps. Output was:\n%s' % (site, output_tail(text, '')))


def site_config_path(site):
    """Path of a site's configuration file, relative to the bench directory."""
    return 'sites/%s/site_config.json' % site


def db_password_script(site):
    """Shell script that sets ``db_password`` in the site's ``site_config.json`` to its standard input.

    The new password is read whole from stdin by ``jq --rawfile`` (so it never is
    an argument, unlike with ``bench set-config``), every other key is kept, and
    the file is replaced atomically by a ``mv`` within its directory, with its mode
    preserved. A failure at any step leaves the file as it was and removes the
    temporary file. The script holds no secret; ``site`` is quoted for the shell.
    """
    return ('set -eu; f=%s; t=$(mktemp "$f.XXXXXX"); trap \'rm -f "$t"\' EXIT; '
            'jq --rawfile pw /dev/stdin \'.db_password = $pw\' "$f" > "$t"; '
            'chmod --reference="$f" "$t"; mv "$t" "$f"' % shlex.quote(site_config_path(site)))


def parse_db_identity(output, site):
    """Parse the output of ``jq -c '{db_name, db_user}' site_config.json`` into ``(db_name, db_user)``.

    ``db_user`` defaults to ``db_name`` when absent or null, as in Frappe. Raises
    :class:`BenchError` when the output is not such an object or ``db_name`` is missing.
    """
    document = None
    for line in to_text(output or '', errors='surrogate_or_replace').splitlines():
        if line.strip().startswith('{'):
            try:
                document = json.loads(line)
            except ValueError:
                document = None
            if isinstance(document, dict):
                break
    if not isinstance(document, dict):
        raise BenchError('Could not read db_name and db_user of site %s: %s did not yield a JSON object. '
                         'Output was:\n%s' % (site, site_config_path(site), output_tail(output, '')))
    db_name = document.get('db_name')
    db_user = document.get('db_user')
    if db_user is None:
        db_user = db_name
    for key, value in (('db_name', db_name), ('db_user', db_user)):
        if not isinstance(value, str) or not value:
            raise BenchError('%s of site %s has no usable %s (found %s).'
                             % (site_config_path(site), site, key, json.dumps(value)))
    return db_name, db_user


def read_secret_file(path, what):
    """Read a one-line secret from ``path`` on the managed host.

    A trailing newline is removed. Raises :class:`BenchError` (never showing the
    content) if the file cannot be read, is empty, or holds more than one line,
    since secrets are handed to bench as one line of standard input.
    """
    try:
        with open(path, 'rb') as handle:
            content = handle.read()
    except (IOError, OSError) as exc:
        raise BenchError('Cannot read %s from %s: %s' % (what, path, to_native(exc.strerror or exc)))
    try:
        value = content.decode('utf-8')
    except UnicodeDecodeError:
        raise BenchError('%s in %s is not valid UTF-8.' % (_capitalize(what), path))
    value = value.rstrip('\r\n')
    problem = secret_problem(value, what)
    if problem:
        raise BenchError('%s (read from %s)' % (problem, path))
    return value


def secret_problem(value, what):
    """Return why ``value`` cannot be passed as one line of stdin, else ``None``."""
    if not value:
        return '%s is empty.' % _capitalize(what)
    if '\n' in value or '\r' in value:
        return '%s must be a single line: bench reads it as one line of standard input.' % _capitalize(what)
    return None


def _capitalize(text):
    return text[:1].upper() + text[1:]


def find_compose_file(project_dir):
    """Return the compose file of the project in ``project_dir`` or ``None``."""
    for name in COMPOSE_FILE_NAMES:
        candidate = os.path.join(project_dir, name)
        if os.path.isfile(candidate):
            return candidate
    return None


class BenchRunner(object):
    """Build and run ``docker compose exec ... bench`` command lines for one compose project.

    ``module`` is the :class:`AnsibleModule`; only its ``run_command``,
    ``get_bin_path``, ``fail_json`` and ``no_log_values`` are used.
    """

    def __init__(self, module, project_dir, service='backend', docker_cli='docker', container=None):
        self.module = module
        self.project_dir = project_dir
        self.service = service
        self.container = container
        self.docker_cli = docker_cli
        self.secrets = set()

    # ----------------------------------------------------------------- setup
    def add_secret(self, value):
        """Remember a secret so it is scrubbed from every message and masked by Ansible."""
        if value:
            self.secrets.add(value)
            self.module.no_log_values.add(value)

    def check_project(self):
        """Fail unless ``project_dir`` holds a compose project; resolve the docker CLI."""
        if not os.path.isdir(self.project_dir):
            raise BenchError('project_dir %s does not exist or is not a directory; it must be the directory '
                             'of the bench\'s compose project.' % self.project_dir)
        if self.container is None and find_compose_file(self.project_dir) is None:
            raise BenchError('No compose project in %s: expected %s there.'
                             % (self.project_dir, ' or '.join(COMPOSE_FILE_NAMES)))
        if os.sep not in self.docker_cli:
            self.docker_cli = self.module.get_bin_path(self.docker_cli, required=True)

    # ----------------------------------------------------------------- argv
    def exec_argv(self, args):
        """``docker compose exec`` in the bench directory, as user frappe, without a TTY (``docker exec -i`` in
        ``container`` when one is given)."""
        if self.container:
            return [self.docker_cli, 'exec', '-i', '-u', BENCH_USER, '-w', BENCH_DIR, self.container] + list(args)
        return [self.docker_cli, 'compose', '--project-directory', self.project_dir,
                'exec', '-T', '-u', BENCH_USER, '-w', BENCH_DIR, self.service] + list(args)

    def bench_argv(self, args, site=None):
        """``bench [--site SITE] ARGS`` run through :meth:`exec_argv`."""
        prefix = ['bench']
        if site is not None:
            prefix += ['--site', site]
        return self.exec_argv(prefix + list(args))

    # ----------------------------------------------------------------- running
    def run(self, argv, stdin_lines=None, stdin_data=None):
        """Run ``argv`` with secrets (if any) on its standard input, never on its command line.

        ``stdin_lines`` are written one per line, each ending with a newline (answers to
        prompts); ``stdin_data`` is written exactly as given, without a newline added
        (content read whole, such as ``jq --rawfile``). At most one of them may be set.

        Returns ``(rc, stdout, stderr)`` as text. Never fails by itself.
        """
        if stdin_lines and stdin_data is not None:
            raise ValueError('stdin_lines and stdin_data are mutually exclusive')
        if stdin_data is not None:
            rc, out, err = self.module.run_command(argv, data=stdin_data, binary_data=True)
        else:
            data = None
            if stdin_lines:
                # run_command appends the final newline itself (binary_data=False).
                data = '\n'.join(stdin_lines)
            rc, out, err = self.module.run_command(argv, data=data, binary_data=False)
        return rc, to_text(out or ''), to_text(err or '')

    def failure_message(self, what, rc, out, err):
        """Describe a failed command with the tail of its output, secrets masked."""
        tail = output_tail(out, err)
        msg = '%s failed (rc=%s)' % (what, rc)
        if tail:
            msg += ':\n' + tail
        return scrub(msg, self.secrets)

    def fail(self, what, argv, rc, out, err, **extra):
        """``fail_json`` for a failed command: bench's own words, rc, and the argv (never holds secrets)."""
        self.module.fail_json(msg=self.failure_message(what, rc, out, err), rc=rc, cmd=list(argv), **extra)

    def run_checked(self, what, argv, stdin_lines=None, **extra):
        """Run ``argv`` and fail the module on a non-zero exit code."""
        rc, out, err = self.run(argv, stdin_lines)
        if rc != 0:
            self.fail(what, argv, rc, out, err, **extra)
        return out, err

    # ----------------------------------------------------------------- queries
    def site_exists(self, site, **extra):
        """Whether ``sites/SITE/site_config.json`` exists in the service's container.

        ``test -f`` exits 1 without output when the file is missing. Docker Compose
        also exits 1 when it cannot run the command at all (service not running,
        no such service), but then says why on stderr, so rc 1 only counts as
        "missing" when nothing but Compose's own warnings was printed.
        """
        argv = self.exec_argv(['test', '-f', site_config_path(site)])
        rc, out, err = self.run(argv)
        if rc == 0:
            return True
        if rc == 1 and not out.strip() and not strip_compose_noise(err):
            return False
        self.fail('Checking whether site %s exists' % site, argv, rc, out, err, **extra)

    def common_config_keys(self, keys, **extra):
        """Which of ``keys`` ``sites/common_site_config.json`` sets; their values are never read.

        Frappe only prompts for a password (and so only reads a line of stdin) when the
        bench configuration does not already hold it; callers need to know which prompts
        will come. ``grep -o`` prints just the matched key names.
        """
        if not all(re.match(r'^[A-Za-z0-9_]+$', key) for key in keys):
            raise ValueError('config keys must be identifiers: %r' % (keys,))
        pattern = '"(%s)"[[:space:]]*:' % '|'.join(keys)
        argv = self.exec_argv(['grep', '-o', '-E', pattern, 'sites/common_site_config.json'])
        rc, out, err = self.run(argv)
        if rc == 1 and not out.strip() and not strip_compose_noise(err):
            return []
        if rc != 0:
            self.fail('Reading the keys of sites/common_site_config.json', argv, rc, out, err, **extra)
        found = []
        for line in out.splitlines():
            match = re.match(r'^"([^"]+)"', line.strip())
            if match and match.group(1) in keys and match.group(1) not in found:
                found.append(match.group(1))
        return found

    def installed_apps(self, site, **extra):
        """Apps installed on ``site``, in installation order."""
        argv = self.bench_argv(['list-apps', '--format', 'json'], site=site)
        out, err = self.run_checked('Listing the apps of site %s' % site, argv, **extra)
        try:
            return parse_list_apps(out, site)
        except BenchError as exc:
            self.module.fail_json(msg=scrub(to_native(exc), self.secrets), cmd=argv, **extra)

    def db_identity(self, site, **extra):
        """``(db_name, db_user)`` of ``site``, read from its ``site_config.json`` (read-only).

        Only these two keys are selected, so no password is ever read. Frappe uses
        ``db_name`` as the database user name when ``db_user`` is not set.
        """
        argv = self.exec_argv(['jq', '-c', '{db_name, db_user}', site_config_path(site)])
        out, err = self.run_checked('Reading the database name and user of site %s' % site, argv, **extra)
        try:
            return parse_db_identity(out, site)
        except BenchError as exc:
            self.module.fail_json(msg=scrub(to_native(exc), self.secrets), cmd=argv, **extra)

    def try_installed_apps(self, site):
        """Like :meth:`installed_apps`, but ``None`` instead of failing (for informative output only)."""
        rc, out, dummy = self.run(self.bench_argv(['list-apps', '--format', 'json'], site=site))
        if rc != 0:
            return None
        try:
            return parse_list_apps(out, site)
        except BenchError:
            return None
