"""The stand-in's releases and their patches, applied as Frappe's patch handler applies `patches.txt`.

`bench migrate` runs, in order, every patch of the bench's version that `tabPatch Log` does not list, logs each one
when it succeeds, and records the tables each patch touched (`frappe.flags.touched_tables`), which SiteMigration
writes to `sites/SITE/touched_tables.json` whether the migration succeeds or fails. A fresh site (new-site) gets
the current schema and every patch marked done, as `install_app` → `set_all_patches_as_completed` does.

Each patch stands for a real kind of migration: DDL (MariaDB commits it at once: no transaction undoes it) then
data. A release built with `--build-arg BROKEN_MIGRATION=1` carries a patch that fails after its first DDL, as a
broken release does: the site is left half-migrated, which only a restore undoes.
"""

import os

from frappe import database as db

_HERE = os.path.dirname(os.path.abspath(__file__))


def version_tuple(text):
    return tuple(int(part) for part in text.split("-")[0].split(".")[:3])


def _add_column(cur, table, column, definition):
    cur.execute(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
        "AND COLUMN_NAME = %s",
        (table, column),
    )
    if not cur.fetchone()[0]:
        cur.execute(f"ALTER TABLE `{table}` ADD COLUMN `{column}` {definition}")


def _color_schema(cur):
    _add_column(cur, "tabToDo", "color", "varchar(140) DEFAULT NULL")


def _color_data(cur):
    cur.execute("UPDATE `tabToDo` SET `color` = '#449CF0' WHERE `color` IS NULL")


def _note_schema(cur):
    _add_column(cur, "tabToDo", "reference_note", "varchar(140) DEFAULT NULL")


def _note_data(cur):
    cur.execute("UPDATE `tabToDo` SET `reference_note` = CONCAT('ref-', `name`) WHERE `reference_note` IS NULL")


class PatchError(Exception):
    pass


def _rank_schema(cur):
    _add_column(cur, "tabToDo", "priority_rank", "int(11) NOT NULL DEFAULT 0")


def _rank_data(cur):
    if os.path.exists(os.path.join(_HERE, "BROKEN_MIGRATION")):
        # the first row ranked, then an index: the DDL commits the row at once (MariaDB's implicit commit), so the
        # failure below leaves both behind, as a real half-migrated site
        cur.execute("UPDATE `tabToDo` SET `priority_rank` = 1 WHERE `priority_rank` = 0 LIMIT 1")
        cur.execute("ALTER TABLE `tabToDo` ADD INDEX `priority_rank` (`priority_rank`)")
        raise PatchError("pymysql.err.OperationalError: (1054, \"Unknown column 'priority_weight' in 'field list'\")")
    cur.execute("UPDATE `tabToDo` SET `priority_rank` = CASE `priority` WHEN 'High' THEN 3 WHEN 'Medium' THEN 2 "
                "ELSE 1 END")


# (patch name as in patches.txt, release that ships it, tables it touches, schema change, data change):
# v16.0 gives ToDo a colour (a major release), v16.33 a reference note (a minor one), v16.34 a priority rank (the
# broken build fails after the DDL, before the data)
PATCHES = (
    ("frappe.patches.v16_0.todo_add_color", "16.0.0", ("tabToDo",), _color_schema, _color_data),
    ("frappe.patches.v16_33.todo_add_reference_note", "16.33.0", ("tabToDo",), _note_schema, _note_data),
    ("frappe.patches.v16_34.todo_rank_priorities", "16.34.0", ("tabToDo",), _rank_schema, _rank_data),
)


def release_patches(version):
    """The patches a bench of `version` ships (its patches.txt)."""
    return [patch for patch in PATCHES if version_tuple(patch[1]) <= version_tuple(version)]


def applied(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT patch FROM `tabPatch Log`")
        return {row[0] for row in cur.fetchall()}


def log_patch(cur, name):
    ts = db.now()
    cur.execute(
        "INSERT INTO `tabPatch Log` (name, creation, modified, modified_by, owner, patch, skipped) "
        "VALUES (%s, %s, %s, 'Administrator', 'Administrator', %s, 0)",
        (os.urandom(5).hex(), ts, ts, name),
    )


def run_pending(conn, site, version, touched, report):
    """Run the patches of `version` that the site has not applied; add each patch's tables to `touched` before it
    runs (as Frappe's database layer records a table on its first write). Raises PatchError on a failing patch."""
    done = applied(conn)
    for name, _release, tables, schema, data in release_patches(version):
        if name in done:
            continue
        database = conn.db.decode() if isinstance(conn.db, bytes) else conn.db
        report(f"Executing {name} in {site} ({database})")
        touched.update(tables)
        with conn.cursor() as cur:
            schema(cur)
            data(cur)
            log_patch(cur, name)
        conn.commit()


def sync_fresh(conn, version):
    """A fresh install: the schema of `version` (from the doctypes, not the patches), every patch of it marked done."""
    done = applied(conn)
    with conn.cursor() as cur:
        for name, _release, _tables, schema, _data in release_patches(version):
            schema(cur)
            if name not in done:
                log_patch(cur, name)
    conn.commit()
