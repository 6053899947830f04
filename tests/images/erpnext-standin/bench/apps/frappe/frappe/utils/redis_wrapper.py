"""Redis connections from the URLs in sites/common_site_config.json (`redis_cache`, `redis_queue`, `redis_socketio`).

As in Frappe, a URL may carry credentials: `redis://:PASSWORD@host:port` or `redis://USER:PASSWORD@host:port`, both
percent-encoded. redis-py decodes them and authenticates every new connection (`AUTH [USER] PASSWORD`), so callers only
pass the URL on. A URL must never be logged as it is: `mask_url()` gives the form to log, `describe_error()` the form of
an exception to print.
"""

import json
import socket
import sys
from urllib.parse import quote, unquote, urlsplit

import redis

from frappe import conf as config

MASK = "***"

# Frappe pins a newer redis-py (4.5+/5.x) whose parser maps Redis 6+'s replies to a rejected or needless AUTH to
# AuthenticationError (a ConnectionError); Debian's 4.3 raises a plain ResponseError for them. Map them the same way,
# so that wrong credentials fail (and are tolerated) exactly as with Frappe's client.
redis.connection.BaseParser.EXCEPTION_CLASSES.setdefault("WRONGPASS", redis.exceptions.AuthenticationError)
redis.connection.BaseParser.EXCEPTION_CLASSES["ERR"].setdefault(
    "AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    redis.exceptions.AuthenticationError,
)


def get_url(key, conf=None):
    """The URL under `key` in the given config (default: the common config); BenchError when it is missing."""
    conf = config.get_common_config() if conf is None else conf
    url = conf.get(key)
    if not url:
        raise config.BenchError(f"{key} is not set in common_site_config.json")
    return url


def _userinfo(url):
    """(user, password) of a URL; password is None when the URL has no ":" in its credentials part."""
    netloc = urlsplit(str(url)).netloc
    if "@" not in netloc:
        return None, None
    user, sep, password = netloc.rsplit("@", 1)[0].partition(":")
    return user, (password if sep else None)


def mask_url(url):
    """`redis://:***@host:port` for a URL with a password (`redis://USER:***@host:port` with a user name), the URL
    itself without credentials. A user name without a password may be a misplaced password: it is masked too."""
    try:
        parts = urlsplit(str(url))
        user, password = _userinfo(url)
    except ValueError:
        return "<unparsable Redis URL>"
    if not parts.netloc:  # not scheme://host...: keep only what follows a possible credential
        return f"{MASK}@{str(url).rsplit('@', 1)[1]}" if "@" in str(url) else str(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    if password is not None:
        host = f"{user}:{MASK}@{host}"
    elif user is not None:
        host = f"{MASK}@{host}"
    query = f"?{MASK}" if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{query}"


def scrub(text, url):
    """`text` with the URL and its secret (the password, else a lone user name) replaced by their masked form,
    whether the secret appears percent-encoded, decoded or re-encoded."""
    text = str(text).replace(str(url), mask_url(url))
    try:
        user, password = _userinfo(url)
    except ValueError:
        return text
    secret = password if password is not None else user
    if secret:
        for form in sorted({secret, unquote(secret), quote(unquote(secret), safe="")}, key=len, reverse=True):
            text = text.replace(form, MASK)
    return text


def describe_error(err, url):
    """What the traceback's last line would say (`redis.exceptions.AuthenticationError: ...`), without credentials."""
    module = type(err).__module__
    name = type(err).__name__ if module == "builtins" else f"{module}.{type(err).__name__}"
    return scrub(f"{name}: {err}", url)


def connect(url, **kwargs):
    """A client for the URL; redis-py authenticates each connection of its pool with the URL's credentials."""
    kwargs.setdefault("socket_connect_timeout", 5)
    kwargs.setdefault("socket_timeout", 10)
    return redis.Redis.from_url(url, **kwargs)


def is_open(url, timeout=10):
    """frappe.utils.connections.is_open: can a TCP connection be opened to the URL's host and port (no AUTH)?"""
    try:
        parts = urlsplit(str(url))
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def pending_jobs(conf, site):
    """frappe.utils.doctor.any_job_pending: whether a job of the site waits in a queue of redis_queue. Jobs are JSON
    {"site", "method"} in the rq:queue:<name> lists (the stand-in's workers take them with BLPOP and finish them at
    once, so a queued job is the only pending kind). Unreachable Redis or rejected credentials: the error, exit 1."""
    url = conf.get("redis_queue") or "redis://127.0.0.1:11000"
    try:
        client = connect(url)
        for queue in client.smembers("rq:queues") or []:
            for payload in client.lrange(queue, 0, -1):
                try:
                    if json.loads(payload).get("site") == site:
                        return True
                except (ValueError, AttributeError):
                    continue
    except (redis.exceptions.RedisError, ValueError) as err:
        from frappe.conf import BenchError

        raise BenchError(describe_error(err, url)) from None
    return False


def make_key(db_name, key):
    """RedisWrapper.make_key: keys of a site are prefixed with its database name."""
    return f"{db_name}|{key}"


class SiteCache:
    """The parts of Frappe's RedisWrapper (`frappe.cache`) the stand-in uses, for one site's `redis_cache`.

    Like RedisWrapper, a failing Redis (unreachable, or rejecting the credentials: redis-py's AuthenticationError is a
    ConnectionError) is not an error for the caller: reads miss and writes are dropped. The stand-in says so once per
    instance on stderr, with the URL masked.
    """

    _clients = {}

    def __init__(self, conf):
        self.url = conf.get("redis_cache") or ""
        self.db_name = conf.get("db_name") or ""
        self.warned = False

    def _client(self):
        client = self._clients.get(self.url)
        if client is None:
            client = connect(self.url, socket_connect_timeout=2, socket_timeout=5)
            self._clients[self.url] = client
        return client

    def _warn(self, err):
        if self.warned:
            return
        self.warned = True
        print(f"redis_cache ({mask_url(self.url)}) unavailable: {describe_error(err, self.url)}", file=sys.stderr, flush=True)

    def hget(self, name, key):
        if not self.url:
            return None
        try:
            return self._client().hget(make_key(self.db_name, name), key)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)
            return None

    def hset(self, name, key, value):
        if not self.url:
            return
        try:
            self._client().hset(make_key(self.db_name, name), key, value)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)

    def hdel(self, name, *keys):
        if not self.url or not keys:
            return
        try:
            self._client().hdel(make_key(self.db_name, name), *keys)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)
