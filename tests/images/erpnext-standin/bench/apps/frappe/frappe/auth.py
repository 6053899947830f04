"""Password hashes in `__Auth` (passlib's pbkdf2_sha256 format, as Frappe stores them) and sessions.

Sessions live in `tabSessions` and, as in Frappe, in the site's `redis_cache` hash `<db_name>|session` (sid -> session
data), which is read first; a cache that cannot be reached or rejects the credentials only means the database is used.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os

import frappe
from frappe.database import now

ROUNDS = 29000
SALT_BYTES = 16
SESSION_COOKIE_MAX_AGE = 240 * 3600  # Frappe's default session_expiry, "240:00"


def _ab64_encode(data):
    return base64.b64encode(data).decode().rstrip("=").replace("+", ".")


def _ab64_decode(text):
    text = text.replace(".", "+")
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_password(password, rounds=ROUNDS):
    """`$pbkdf2-sha256$<rounds>$<salt>$<checksum>` with passlib's adapted base64."""
    salt = os.urandom(SALT_BYTES)
    checksum = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, rounds, 32)
    return f"$pbkdf2-sha256${rounds}${_ab64_encode(salt)}${_ab64_encode(checksum)}"


def verify_password(password, stored):
    try:
        _prefix, scheme, rounds, salt, checksum = stored.split("$")
        if scheme != "pbkdf2-sha256":
            return False
        expected = _ab64_decode(checksum)
        actual = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), _ab64_decode(salt), int(rounds), len(expected)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


def set_user_password(conn, user, password):
    """frappe.utils.password.update_password: the hash login checks, upserted into `__Auth` (not committed)."""
    hashed = hash_password(password)
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO `__Auth` (doctype, name, fieldname, password, encrypted) "
            "VALUES ('User', %s, 'password', %s, 0) ON DUPLICATE KEY UPDATE password = %s, encrypted = 0",
            (user, hashed, hashed),
        )


def check_user_password(conn, user, password):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT password FROM `__Auth` WHERE doctype = 'User' AND name = %s AND fieldname = 'password' "
            "AND encrypted = 0",
            (user,),
        )
        row = cur.fetchone()
    return bool(row) and verify_password(password, row[0])


def create_session(conn, user, ipaddress, cache=None):
    """Session.start(): a `tabSessions` row and the cache entry (Session.insert_session_record)."""
    sid = os.urandom(28).hex()[:56]
    data = {"user": user, "session_ip": ipaddress, "last_updated": str(now()), "session_expiry": "240:00"}
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO `tabSessions` (user, sid, sessiondata, ipaddress, lastupdate, device, status) "
            "VALUES (%s, %s, %s, %s, %s, 'desktop', 'Active')",
            (user, sid, json.dumps(data), (ipaddress or "")[:16], now()),
        )
    if cache is not None:
        cache.hset("session", sid, json.dumps({"user": user, "sid": sid, "data": data}))
    return sid


def _cached_session_user(cache, sid):
    """Session.get_session_data_from_cache: the user of a cached, unexpired session; expired entries are dropped."""
    raw = cache.hget("session", sid)
    if not raw:
        return None
    try:
        record = json.loads(raw)
        updated = datetime.datetime.fromisoformat(record["data"]["last_updated"])
    except (ValueError, KeyError, TypeError):
        return None
    if (now() - updated).total_seconds() > SESSION_COOKIE_MAX_AGE:
        cache.hdel("session", sid)
        return None
    return record.get("user")


def session_user(conn, sid, cache=None):
    """The user of an active, unexpired session (from the cache, else the database), or Guest."""
    if not sid or sid == "Guest":
        return "Guest"
    if cache is not None:
        user = _cached_session_user(cache, sid)
        if user:
            return user
    with conn.cursor() as cur:
        cur.execute(
            "SELECT user FROM `tabSessions` WHERE sid = %s AND status = 'Active' "
            "AND lastupdate > NOW(6) - INTERVAL %s SECOND",
            (sid, SESSION_COOKIE_MAX_AGE),
        )
        row = cur.fetchone()
    return row[0] if row else "Guest"


def clear_sessions(conn, user, cache=None):
    """frappe.sessions.clear_sessions(user, force=True) from the command line: deletes the user's (up to 100 most
    recent) sessions from `tabSessions` and from the cache. Returns how many were deleted (not committed)."""
    with conn.cursor() as cur:
        cur.execute("SELECT sid FROM `tabSessions` WHERE user = %s ORDER BY lastupdate DESC LIMIT 100", (user,))
        sids = [row[0] for row in cur.fetchall()]
        for sid in sids:
            if cache is not None:
                cache.hdel("session", sid)
                cache.hdel("last_db_session_update", sid)
            cur.execute("DELETE FROM `tabSessions` WHERE sid = %s", (sid,))
    return len(sids)


@frappe.whitelist()
def get_logged_user():
    """frappe.auth.get_logged_user: the session's user (a Guest gets Frappe's 403: not allow_guest)."""
    return frappe.session.user


# --- encrypted fields and API keys (frappe/utils/password.py, frappe/auth.py) ---------------------------------


def _fernet(conf):
    from cryptography.fernet import Fernet

    key = conf.get("encryption_key")
    if not key:
        raise frappe.AuthenticationError("encryption_key is not set in the site config")
    return Fernet(key.encode() if isinstance(key, str) else key)


def set_encrypted_password(conn, conf, doctype, name, password, fieldname="password"):
    """frappe.utils.password.set_encrypted_password: Fernet with the site's encryption_key, `encrypted` = 1."""
    token = _fernet(conf).encrypt(password.encode()).decode()
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO `__Auth` (doctype, name, fieldname, password, encrypted) VALUES (%s, %s, %s, %s, 1) "
            "ON DUPLICATE KEY UPDATE password = %s, encrypted = 1",
            (doctype, name, fieldname, token, token),
        )


def get_decrypted_password(conn, conf, doctype, name, fieldname="password"):
    """get_decrypted_password(raise_exception=False): None when there is no row or the key does not open it."""
    from cryptography.fernet import InvalidToken

    with conn.cursor() as cur:
        cur.execute(
            "SELECT password FROM `__Auth` WHERE doctype = %s AND name = %s AND fieldname = %s AND encrypted = 1",
            (doctype, name, fieldname),
        )
        row = cur.fetchone()
    if not row:
        return None
    try:
        return _fernet(conf).decrypt(row[0].encode()).decode()
    except InvalidToken:
        return None


def find_user(conn, user_name):
    """User.find_by_credentials without login by mobile number or user name (both off by default): the user whose
    name is the one given, with its enabled flag."""
    with conn.cursor() as cur:
        cur.execute("SELECT name, enabled FROM `tabUser` WHERE name = %s", (user_name,))
        row = cur.fetchone()
    return {"name": row[0], "enabled": bool(row[1])} if row else None


def validate_api_key_secret(conn, conf, api_key, api_secret):
    """frappe.auth.validate_api_key_secret: the enabled user holding the key whose decrypted api_secret matches."""
    if not api_key or not api_secret:
        raise frappe.AuthenticationError("")
    with conn.cursor() as cur:
        cur.execute("SELECT name FROM `tabUser` WHERE api_key = %s AND enabled = 1", (api_key,))
        row = cur.fetchone()
    if not row:
        raise frappe.AuthenticationError("")
    secret = get_decrypted_password(conn, conf, "User", row[0], fieldname="api_secret")
    if not secret or not hmac.compare_digest(secret, api_secret):
        raise frappe.AuthenticationError("")
    return row[0]


def validate_auth_via_api_keys(conn, conf, header):
    """frappe.auth.validate_auth: `Authorization: token KEY:SECRET` or `Basic base64(KEY:SECRET)`; a header of two
    words that does not authenticate (OAuth bearer tokens are not emulated) is an AuthenticationError."""
    parts = header.split(" ")
    if len(parts) != 2:
        return None
    auth_type, token = parts
    try:
        if auth_type.lower() == "basic":
            api_key, api_secret = base64.b64decode(token).decode().split(":")
        elif auth_type.lower() == "token":
            api_key, api_secret = token.split(":")
        else:
            raise frappe.AuthenticationError("")
    except (ValueError, TypeError, UnicodeDecodeError):
        raise frappe.AuthenticationError("") from None
    return validate_api_key_secret(conn, conf, api_key, api_secret)
