"""The User doctype's whitelisted methods the stand-in emulates (frappe/core/doctype/user/user.py)."""

import frappe
from frappe import auth
from frappe import conf as config


@frappe.whitelist(methods=["POST"])
def generate_keys(user):
    """A new api_secret (and an api_key if the user has none), saved encrypted; returns {"api_secret": ...}."""
    frappe.only_for("System Manager")
    conn = frappe.local.conn
    with conn.cursor() as cur:
        cur.execute("SELECT api_key FROM `tabUser` WHERE name = %s", (user,))
        row = cur.fetchone()
        if not row:
            raise frappe.DoesNotExistError(f"User {user} not found")
        api_key = row[0] or config.generate_hash(15)
        cur.execute("UPDATE `tabUser` SET api_key = %s, modified = NOW(6) WHERE name = %s", (api_key, user))
    api_secret = config.generate_hash(15)
    auth.set_encrypted_password(conn, frappe.local.conf, "User", user, api_secret, fieldname="api_secret")
    conn.commit()
    return {"api_secret": api_secret}
