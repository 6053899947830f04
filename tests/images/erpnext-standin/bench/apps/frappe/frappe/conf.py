"""Bench layout and configuration files: sites/common_site_config.json and sites/<site>/site_config.json."""

import importlib
import json
import os
import secrets


class BenchError(Exception):
    """An error the CLI reports as a message and an exit code (no traceback)."""

    def __init__(self, message, exit_code=1, stream="stderr"):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.stream = stream


def sites_path():
    """Commands and the web application run with the sites directory as working directory."""
    return os.path.abspath(os.environ.get("SITES_PATH") or os.getcwd())


def bench_path():
    return os.path.dirname(sites_path())


def site_path(site, *parts):
    return os.path.join(sites_path(), site, *parts)


def common_config_path():
    return os.path.join(sites_path(), "common_site_config.json")


def site_config_path(site):
    return site_path(site, "site_config.json")


def read_json(path):
    with open(path) as f:
        return json.load(f)


def is_valid_site_name(site):
    return bool(site) and site not in (".", "..") and "/" not in site and "\x00" not in site


def site_exists(site):
    return is_valid_site_name(site) and os.path.isfile(site_config_path(site))


def get_common_config():
    path = common_config_path()
    if not os.path.exists(path):
        return {}
    return read_json(path)


def get_site_config(site):
    """Common config overlaid with the site's own config, as Frappe merges them."""
    if not site_exists(site):
        raise BenchError(f"frappe.exceptions.IncorrectSitePath: 404 Not Found: {site} does not exist")
    conf = dict(get_common_config())
    conf.update(read_json(site_config_path(site)))
    return conf


def write_json(path, data):
    """Frappe writes its config files with indent=1 and sorted keys."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def update_config(path, key, value):
    """Same coercions as frappe.installer.update_site_config: "0"/"1" become ints, "true"/"false" booleans,
    "None" removes the key."""
    with open(path) as f:
        conf = json.loads(f.read())
    if value in ("0", "1"):
        value = int(value)
    if value == "false":
        value = False
    if value == "true":
        value = True
    if value == "None":
        conf.pop(key, None)
    else:
        conf[key] = value
    write_json(path, conf)


def get_sites():
    """Sites are the directories under sites/ that hold a site_config.json, sorted by name."""
    root = sites_path()
    found = []
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if (
            os.path.isdir(path)
            and not os.path.islink(path)
            and os.path.isfile(os.path.join(path, "site_config.json"))
        ):
            found.append(name)
    return sorted(found)


def get_current_site():
    path = os.path.join(sites_path(), "currentsite.txt")
    if os.path.exists(path):
        with open(path) as f:
            return f.read().strip() or None
    return None


def get_apps_txt():
    """Apps of the bench as listed in sites/apps.txt (written by the configurator)."""
    path = os.path.join(sites_path(), "apps.txt")
    if not os.path.exists(path):
        raise BenchError(f"FileNotFoundError: {path} not found")
    with open(path) as f:
        apps = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    if "frappe" in apps:
        apps.remove("frappe")
    return ["frappe", *apps]


def app_version(app):
    """The app's __version__, and its git branch (none: the image deletes the apps' .git, as the real one does)."""
    module = importlib.import_module(app)
    return module.__version__, getattr(module, "__branch__", "")


def app_is_present(app):
    """An app is usable when it is on the bench (apps/<app>) and importable."""
    if not app or "/" in app or not os.path.isdir(os.path.join(bench_path(), "apps", app)):
        return False
    try:
        importlib.import_module(app)
    except ImportError:
        return False
    return True


def generate_hash(length=10):
    """frappe.generate_hash: random lowercase hex of the given length."""
    return secrets.token_hex((length + 1) // 2)[:length]


def random_string(length=16):
    """frappe.utils.random_string: letters and digits."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "".join(secrets.choice(alphabet) for _char in range(length))


def db_params(conf):
    """Where and as whom a site connects: the site's config overrides the common config."""
    return {
        "host": conf.get("db_host") or "127.0.0.1",
        "port": int(conf.get("db_port") or 3306),
        "user": conf.get("db_user") or conf["db_name"],
        "password": conf.get("db_password") or "",
        "database": conf["db_name"],
    }
