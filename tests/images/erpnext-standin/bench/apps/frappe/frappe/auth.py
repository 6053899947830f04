"""Password hashes in `__Auth` (passlib's pbkdf2_sha256 format, as Frappe stores them) and sessions."""

import base64
import hashlib
import hmac
import json
import os

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
    with conn.cursor() as cur:
        cur.execute(
            "REPLACE INTO `__Auth` (doctype, name, fieldname, password, encrypted) "
            "VALUES ('User', %s, 'password', %s, 0)",
            (user, hash_password(password)),
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


def create_session(conn, user, ipaddress):
    sid = os.urandom(28).hex()[:56]
    data = {"user": user, "session_ip": ipaddress, "last_updated": str(now()), "session_expiry": "240:00"}
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO `tabSessions` (user, sid, sessiondata, ipaddress, lastupdate, device, status) "
            "VALUES (%s, %s, %s, %s, %s, 'desktop', 'Active')",
            (user, sid, json.dumps(data), (ipaddress or "")[:16], now()),
        )
    return sid


def session_user(conn, sid):
    """The user of an active, unexpired session, or Guest."""
    if not sid or sid == "Guest":
        return "Guest"
    with conn.cursor() as cur:
        cur.execute(
            "SELECT user FROM `tabSessions` WHERE sid = %s AND status = 'Active' "
            "AND lastupdate > NOW(6) - INTERVAL %s SECOND",
            (sid, SESSION_COOKIE_MAX_AGE),
        )
        row = cur.fetchone()
    return row[0] if row else "Guest"
