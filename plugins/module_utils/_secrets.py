# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private helpers for file-based compose secrets (used by erpstack.erpnext.stack_secret).

Nothing in here ever logs, prints or puts a secret value into an exception message.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import binascii
import errno
import grp
import hashlib
import hmac
import os
import pwd
import re
import secrets
import stat
import string
import tempfile


SECRET_NAME_RE = re.compile(r'^[a-z0-9][a-z0-9_.-]{0,199}$')

SALT_FILE_NAME = '.fingerprint-salt'
SALT_BYTES = 32
SALT_MODE = 0o400
SECRETS_DIR_MODE = 0o700

ALLOWED_MODES = (0o400, 0o440, 0o600, 0o640)

GENERATE_MIN_LENGTH = 16
GENERATE_MAX_LENGTH = 1024

# A supplied secret larger than this is almost certainly the wrong file (a key bundle, a dump...).
MAX_SUPPLIED_BYTES = 64 * 1024

FINGERPRINT_HEX_CHARS = 16

# Characters that break naive consumers (shell snippets, .env style parsers, YAML) are left out of
# ascii_printable: quotes of all kinds, the backslash and whitespace.
_UNSAFE_PRINTABLE = set('\'"`\\') | set(string.whitespace)

CHARSETS = {
    'alnum': string.ascii_letters + string.digits,
    'urlsafe': string.ascii_letters + string.digits + '-_',
    'hex': '0123456789abcdef',
    'ascii_printable': ''.join(c for c in string.printable if c not in _UNSAFE_PRINTABLE),
}

# Characters never accepted inside a supplied secret: they cannot survive the consumers that read
# the file (entrypoints doing "$(cat file)", Frappe reading site_config, ...).
_FORBIDDEN_CHARS = (('\n', 'a newline'), ('\r', 'a carriage return'), ('\x00', 'a NUL character'))


class SecretError(Exception):
    """A user-facing error. Messages never contain the secret value."""


def validate_name(name):
    if not SECRET_NAME_RE.match(name or ''):
        raise SecretError(
            "name {0!r} is not a valid secret name: use 1 to 63 characters, lower-case letters, digits, "
            "'_', '.' or '-', starting with a letter or a digit".format(name))
    return name


def parse_mode(raw):
    """Return the integer permission bits for ``raw`` ('0400', '400', '0o400' or an int such as 0o400)."""
    if isinstance(raw, bool):
        raise SecretError('mode must be one of {0}, got a boolean'.format(format_allowed_modes()))
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw).strip().lower()
        if text.startswith('0o'):
            text = text[2:]
        try:
            value = int(text, 8)
        except ValueError:
            raise SecretError('mode must be one of {0}, got {1!r}'.format(format_allowed_modes(), raw))
    if value not in ALLOWED_MODES:
        raise SecretError('mode must be one of {0}, got {1!r} ({2}); secrets are never executable nor readable by '
                          'others'.format(format_allowed_modes(), raw, format_mode(value)))
    return value


def format_mode(value):
    return '{0:04o}'.format(value)


def format_allowed_modes():
    return ', '.join(format_mode(m) for m in ALLOWED_MODES)


def resolve_uid(owner):
    """Return the numeric uid for a user name or a numeric id (given as int or digit string)."""
    text = str(owner).strip()
    if text.isdigit():
        return int(text)
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        raise SecretError('owner {0!r} is neither a numeric uid nor a user known on this host'.format(owner))


def resolve_gid(group):
    """Return the numeric gid for a group name or a numeric id (given as int or digit string)."""
    text = str(group).strip()
    if text.isdigit():
        return int(text)
    try:
        return grp.getgrnam(text).gr_gid
    except KeyError:
        raise SecretError('group {0!r} is neither a numeric gid nor a group known on this host'.format(group))


def check_generate_options(length, charset):
    if charset not in CHARSETS:
        raise SecretError('charset must be one of {0}, got {1!r}'.format(', '.join(sorted(CHARSETS)), charset))
    if not GENERATE_MIN_LENGTH <= length <= GENERATE_MAX_LENGTH:
        raise SecretError('length must be between {0} and {1}, got {2}'.format(
            GENERATE_MIN_LENGTH, GENERATE_MAX_LENGTH, length))


def generate_secret(length, charset):
    """Return a new random secret of ``length`` characters drawn uniformly (CSPRNG) from ``charset``."""
    check_generate_options(length, charset)
    alphabet = CHARSETS[charset]
    return ''.join(secrets.choice(alphabet) for dummy in range(length))


def check_supplied(text, min_length, origin):
    """Refuse a supplied secret that is empty, too short or contains characters consumers cannot handle.

    ``origin`` describes where the value came from ("value", "the content of /path"); it is the only
    thing that identifies the secret in the error message.
    """
    if text == '':
        raise SecretError('{0} is empty; refusing to store an empty secret'.format(origin))
    for char, label in _FORBIDDEN_CHARS:
        if char in text:
            hint = ''
            if char == '\n':
                hint = " (a YAML block scalar '|' adds a trailing newline, use '|-' instead)"
            raise SecretError('{0} contains {1}; secrets must be a single line{2}'.format(origin, label, hint))
    if len(text) < min_length:
        raise SecretError('{0} is shorter than min_length ({1} characters); refusing to store a weak '
                          'secret'.format(origin, min_length))
    return text


def decode_file_secret(data, origin):
    """Turn the bytes of a source file into the secret text: UTF-8, minus ONE trailing newline."""
    if len(data) > MAX_SUPPLIED_BYTES:
        raise SecretError('{0} is larger than {1} bytes, this does not look like a secret'.format(
            origin, MAX_SUPPLIED_BYTES))
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        raise SecretError('{0} is not valid UTF-8 text'.format(origin))
    if text.endswith('\r\n'):
        text = text[:-2]
    elif text.endswith('\n'):
        text = text[:-1]
    return text


def fingerprint(salt, data):
    """First FINGERPRINT_HEX_CHARS hex digits of HMAC-SHA256(key=salt, data); ``data`` is bytes."""
    return hmac.new(salt, data, hashlib.sha256).hexdigest()[:FINGERPRINT_HEX_CHARS]


def same_secret(left, right):
    """Constant time comparison of two secrets given as bytes."""
    return hmac.compare_digest(left, right)


def lstat_or_none(path):
    try:
        return os.lstat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def read_regular_file(path, max_bytes=None, what='file'):
    """Return (bytes, stat) of a regular file, refusing symlinks, devices, FIFOs and directories.

    Returns None when the path does not exist.
    """
    st = lstat_or_none(path)
    if st is None:
        return None
    if stat.S_ISLNK(st.st_mode):
        raise SecretError('{0} {1} is a symbolic link; refusing to follow it'.format(what, path))
    if not stat.S_ISREG(st.st_mode):
        raise SecretError('{0} {1} exists but is not a regular file'.format(what, path))
    if max_bytes is not None and st.st_size > max_bytes:
        raise SecretError('{0} {1} is larger than {2} bytes, this does not look like a secret'.format(
            what, path, max_bytes))
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SecretError('{0} {1} changed while being read'.format(what, path))
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            if max_bytes is not None and sum(len(c) for c in chunks) > max_bytes:
                raise SecretError('{0} {1} is larger than {2} bytes, this does not look like a secret'.format(
                    what, path, max_bytes))
    finally:
        os.close(fd)
    return b''.join(chunks), st


def fsync_directory(path):
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_CLOEXEC', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_private_temp(directory, base, data, mode, uid, gid):
    """Create a temp file next to ``base`` with its final owner and mode, THEN write ``data`` and fsync it.

    The file is created 0600 by mkstemp (never readable by anyone else), ownership and final mode are
    applied to the open descriptor before a single byte of the secret is written.
    """
    fd, tmp_path = tempfile.mkstemp(prefix='.{0}.'.format(base), suffix='.tmp', dir=directory)
    try:
        try:
            st = os.fstat(fd)
            if (st.st_uid, st.st_gid) != (uid, gid):
                os.fchown(fd, uid, gid)
            # chmod after chown: chown may clear mode bits, and mkstemp's 0600 ignores the wanted mode.
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        _unlink_quietly(tmp_path)
        raise
    return tmp_path


def _unlink_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def write_temp(path, data, mode, uid, gid):
    """A temporary file beside ``path`` holding ``data`` (bytes), already owned by uid:gid with ``mode``."""
    directory, base = os.path.split(path)
    return _write_private_temp(directory, base, data, mode, uid, gid)


def atomic_replace(tmp_path, path):
    """Move the temporary file ``tmp_path`` (from write_temp) over ``path``, durably."""
    try:
        os.rename(tmp_path, path)
    except BaseException:
        _unlink_quietly(tmp_path)
        raise
    fsync_directory(os.path.dirname(path))


def atomic_write(path, data, mode, uid, gid):
    """Replace ``path`` atomically with ``data`` (bytes), owned by uid:gid with ``mode``.

    AnsibleModule.atomic_move() is not used on purpose: for a new destination it applies the default
    0666 & ~umask permissions after the move, which would briefly expose the secret.
    """
    atomic_replace(write_temp(path, data, mode, uid, gid), path)


def create_exclusive(path, data, mode, uid, gid):
    """Create ``path`` with ``data`` only if it does not exist yet (atomic, no clobber).

    Returns True when this call created the file, False when another writer got there first.
    """
    directory, base = os.path.split(path)
    tmp_path = _write_private_temp(directory, base, data, mode, uid, gid)
    try:
        os.link(tmp_path, path)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            return False
        raise
    finally:
        _unlink_quietly(tmp_path)
    fsync_directory(directory)
    return True


def new_salt():
    """A fresh fingerprint salt, stored hex encoded so the file stays printable."""
    return binascii.hexlify(secrets.token_bytes(SALT_BYTES))


def fix_ownership_and_mode(path, uid, gid, mode):
    """Apply uid:gid and mode to an existing regular file without touching its content."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SecretError('{0} is not a regular file'.format(path))
        if (st.st_uid, st.st_gid) != (uid, gid):
            os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
