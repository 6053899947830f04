"""Redis connections from sites/common_site_config.json (merged with the site's config where a site is known).

As in Frappe, a URL (`redis_cache`, `redis_queue`, `redis_socketio`) may carry credentials:
`redis://:PASSWORD@host:port` or `redis://USER:PASSWORD@host:port`, both percent-encoded. redis-py decodes them and authenticates every new
connection (`AUTH [USER] PASSWORD`), so callers only pass the URL on.

Also as in Frappe, `redis_cache_sentinel_enabled` / `redis_queue_sentinel_enabled` replace the URL by the master of a
Redis Sentinel service (`<key>_sentinels`, `<key>_master_service`, `<key>_sentinel_username`/`_password`,
`<key>_master_username`/`_password`): `setup_cache()` is frappe.utils.redis_wrapper.setup_cache, `queue_connection()`
is frappe.utils.redis_queue.RedisQueue.get_connection. redis-py's SentinelConnectionPool asks the sentinels for the
master's address on every new connection, so a client reaches a promoted replica once its old connection is lost.

Neither a URL nor a password may be logged as it is: `Target(conf, key).describe()` gives the form to log,
`describe_error()` the form of an exception to print.
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
    """What the traceback's last line would say (`redis.exceptions.AuthenticationError: ...`), without credentials.
    `url` is a URL or a Target (whose Sentinel passwords are scrubbed too)."""
    module = type(err).__module__
    name = type(err).__name__ if module == "builtins" else f"{module}.{type(err).__name__}"
    if isinstance(url, Target):
        return url.scrub(f"{name}: {err}")
    return scrub(f"{name}: {err}", url)


class Target:
    """What the component using `key` (`redis_cache` or `redis_queue`) connects to according to `conf`: the URL, or
    the master of a Sentinel service. Knows how to describe itself for a log and which secrets to scrub."""

    DEFAULTS = {"redis_cache": "redis://127.0.0.1:13000", "redis_queue": "redis://127.0.0.1:11000"}

    def __init__(self, conf, key):
        self.key = key
        self.url = conf.get(key) or self.DEFAULTS.get(key, "")
        self.sentinel = bool(conf.get(f"{key}_sentinel_enabled"))
        self.nodes = list(conf.get(f"{key}_sentinels", []) or []) if self.sentinel else []
        self.service = conf.get(f"{key}_master_service") if self.sentinel else None
        self.passwords = [
            str(conf[name]) for name in (f"{key}_sentinel_password", f"{key}_master_password") if conf.get(name)
        ] if self.sentinel else []

    def describe(self):
        """The form to log: the masked URL, or `Redis Sentinel master 'SERVICE' via host:port,...`."""
        if self.sentinel:
            nodes = ",".join(self.scrub(str(node)) for node in self.nodes) or "(no sentinels)"
            return f"Redis Sentinel master {self.service!r} via {nodes}"
        return mask_url(self.url)

    def scrub(self, text):
        text = scrub(text, self.url) if self.url else str(text)
        forms = {form for pw in self.passwords for form in (pw, quote(pw, safe=""))}
        for secret in sorted(forms, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def identity(self):
        """A hashable key of the settings a client is made from (the SiteCache client cache)."""
        return (self.key, self.url, self.sentinel, tuple(map(str, self.nodes)), self.service, tuple(self.passwords))


def get_sentinel_connection(
    sentinels, sentinel_username=None, sentinel_password=None, master_username=None, master_password=None,
    **connection_kwargs,
):
    """frappe.utils.redis_wrapper.get_sentinel_connection. The sentinels are asked without socket timeouts, as in
    Frappe (sentinel_kwargs holds only the credentials); connection_kwargs (the stand-in's timeouts, the worker's
    client name) apply to the connections to the master."""
    from redis.sentinel import Sentinel

    sentinel_kwargs = {}
    if sentinel_username:
        sentinel_kwargs["username"] = sentinel_username
    if sentinel_password:
        sentinel_kwargs["password"] = sentinel_password
    return Sentinel(
        sentinels=sentinels,
        sentinel_kwargs=sentinel_kwargs,
        username=master_username,
        password=master_password,
        **connection_kwargs,
    )


def setup_cache(conf, **kwargs):
    """frappe.utils.redis_wrapper.setup_cache: the master of the `redis_cache_master_service` Sentinel service when
    `redis_cache_sentinel_enabled`, else the `redis_cache` URL. No connection is opened yet."""
    kwargs.setdefault("socket_connect_timeout", 5)
    kwargs.setdefault("socket_timeout", 10)
    if conf.get("redis_cache_sentinel_enabled"):
        sentinels = [tuple(node.split(":")) for node in conf.get("redis_cache_sentinels", [])]
        sentinel = get_sentinel_connection(
            sentinels=sentinels,
            sentinel_username=conf.get("redis_cache_sentinel_username"),
            sentinel_password=conf.get("redis_cache_sentinel_password"),
            master_username=conf.get("redis_cache_master_username"),
            master_password=conf.get("redis_cache_master_password"),
            **kwargs,
        )
        return sentinel.master_for(conf.get("redis_cache_master_service"))
    return connect(conf.get("redis_cache") or Target.DEFAULTS["redis_cache"], **kwargs)


def queue_connection(conf, username=None, password=None, **kwargs):
    """frappe.utils.redis_queue.RedisQueue.get_connection: the master of the `redis_queue_master_service` Sentinel
    service when `redis_queue_sentinel_enabled` (master credentials from `redis_queue_master_username`/`_password`,
    else the arguments), else the `redis_queue` URL; PINGed before it is returned (errors propagate)."""
    kwargs.setdefault("socket_connect_timeout", 5)
    kwargs.setdefault("socket_timeout", 10)
    if conf.get("redis_queue_sentinel_enabled"):
        sentinels = [tuple(node.split(":")) for node in conf.get("redis_queue_sentinels", [])]
        sentinel = get_sentinel_connection(
            sentinels=sentinels,
            sentinel_username=conf.get("redis_queue_sentinel_username"),
            sentinel_password=conf.get("redis_queue_sentinel_password"),
            master_username=conf.get("redis_queue_master_username", username),
            master_password=conf.get("redis_queue_master_password", password),
            **kwargs,
        )
        conn = sentinel.master_for(conf.get("redis_queue_master_service"))
        conn.ping()
        return conn
    url = conf.get("redis_queue") or Target.DEFAULTS["redis_queue"]
    if username is not None or password is not None:
        kwargs.update(username=username, password=password)
    conn = connect(url, **kwargs)
    conn.ping()
    return conn


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
    target = Target(conf, "redis_queue")
    try:
        client = queue_connection(conf)
        for queue in client.smembers("rq:queues") or []:
            for payload in client.lrange(queue, 0, -1):
                try:
                    if json.loads(payload).get("site") == site:
                        return True
                except (ValueError, AttributeError):
                    continue
    except (redis.exceptions.RedisError, ValueError) as err:
        from frappe.conf import BenchError

        raise BenchError(describe_error(err, target)) from None
    return False


def make_key(db_name, key):
    """RedisWrapper.make_key: keys of a site are prefixed with its database name."""
    return f"{db_name}|{key}"


class SiteCache:
    """The parts of Frappe's RedisWrapper (`frappe.cache`) the stand-in uses, for one site's `redis_cache` (or the
    Sentinel master service that replaces it: `setup_cache`).

    Like RedisWrapper, a failing Redis (unreachable, or rejecting the credentials: redis-py's AuthenticationError is a
    ConnectionError) is not an error for the caller: reads miss and writes are dropped. The stand-in says so once per
    instance on stderr, with the URL masked.
    """

    _clients = {}

    def __init__(self, conf):
        self.conf = conf
        self.target = Target(conf, "redis_cache")
        # without a URL and without Sentinel the site has no cache (reads miss, writes are dropped)
        self.enabled = bool(conf.get("redis_cache") or self.target.sentinel)
        self.db_name = conf.get("db_name") or ""
        self.warned = False

    def _client(self):
        client = self._clients.get(self.target.identity())
        if client is None:
            client = setup_cache(self.conf, socket_connect_timeout=2, socket_timeout=5)
            self._clients[self.target.identity()] = client
        return client

    def _warn(self, err):
        if self.warned:
            return
        self.warned = True
        print(
            f"redis_cache ({self.target.describe()}) unavailable: {describe_error(err, self.target)}",
            file=sys.stderr,
            flush=True,
        )

    def hget(self, name, key):
        if not self.enabled:
            return None
        try:
            return self._client().hget(make_key(self.db_name, name), key)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)
            return None

    def hset(self, name, key, value):
        if not self.enabled:
            return
        try:
            self._client().hset(make_key(self.db_name, name), key, value)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)

    def hdel(self, name, *keys):
        if not self.enabled or not keys:
            return
        try:
            self._client().hdel(make_key(self.db_name, name), *keys)
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
            self._warn(err)
