"""`bench worker --queue q1,q2`: a long-running worker that registers itself in Redis the way RQ does and
consumes jobs from the `rq:queue:<name>` lists.

A job is a JSON object {"site": ..., "method": ...}; the stand-in logs it and counts it in the worker's hash
(successful_job_count / failed_job_count) instead of running Python code.

The connection comes from `queue_connection()` (Frappe's RedisQueue.get_connection): the `redis_queue` URL, whose
credentials (`redis://:PASSWORD@host:port`) every connection, including each reconnection, authenticates with; or,
with `redis_queue_sentinel_enabled`, the master of `redis_queue_master_service` as the sentinels name it on each new
connection (redis-py's SentinelConnectionPool, as RQ uses it in Frappe), so that after a failover the reconnect loop
reaches the promoted replica. A rejected password or no reachable master at start is fatal (exit 1); URLs and
passwords are only logged masked.
"""

import contextlib
import json
import os
import signal
import socket
import sys
import time
import uuid

import redis

from frappe import conf as config
from frappe.utils.redis_wrapper import Target, describe_error, get_url, queue_connection

WORKER_TTL = 420  # RQ's default worker_ttl
DEQUEUE_TIMEOUT = 2  # seconds; short, so heartbeats and shutdown stay prompt


def log(message):
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


class Worker:
    def __init__(self, queues, conf, quiet=False):
        self.queues = queues
        self.quiet = quiet
        self.name = uuid.uuid4().hex
        self.key = f"rq:worker:{self.name}"
        self.stopping = False
        self.successful = 0
        self.failed = 0
        self.conf = conf
        self.target = Target(conf, "redis_queue")
        self.client = None

    def connect(self):
        """RedisQueue.get_connection (PINGs). client_name: every (re)connection announces itself with CLIENT SETNAME,
        as RQ names its connection; one connection of that pool carries the worker's commands."""
        conn = queue_connection(
            self.conf, client_name=self.key, socket_connect_timeout=5, socket_timeout=DEQUEUE_TIMEOUT + 10
        )
        self.client = redis.Redis(connection_pool=conn.connection_pool, single_connection_client=True)

    def register(self):
        """register_birth(): named connection, worker hash, membership of rq:workers and per-queue sets."""
        self.client.client_setname(self.key)
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        pipe = self.client.pipeline()
        pipe.delete(self.key)
        pipe.hset(
            self.key,
            mapping={
                "birth": now,
                "last_heartbeat": now,
                "queues": ",".join(self.queues),
                "pid": os.getpid(),
                "hostname": socket.gethostname(),
                "state": "idle",
                "successful_job_count": self.successful,
                "failed_job_count": self.failed,
                "total_working_time": 0,
            },
        )
        pipe.expire(self.key, WORKER_TTL)
        pipe.sadd("rq:workers", self.key)
        for queue in self.queues:
            pipe.sadd("rq:queues", f"rq:queue:{queue}")
            pipe.sadd(f"rq:workers:{queue}", self.key)
        pipe.execute()

    def unregister(self):
        pipe = self.client.pipeline()
        pipe.srem("rq:workers", self.key)
        for queue in self.queues:
            pipe.srem(f"rq:workers:{queue}", self.key)
        pipe.delete(self.key)
        pipe.execute()

    def heartbeat(self):
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime())
        pipe = self.client.pipeline()
        pipe.hset(self.key, "last_heartbeat", now)
        pipe.expire(self.key, WORKER_TTL)
        pipe.execute()

    def perform(self, queue_key, payload):
        queue = queue_key.decode().removeprefix("rq:queue:")
        try:
            job = json.loads(payload)
            site, method = job["site"], job["method"]
        except (ValueError, KeyError, TypeError):
            self.failed += 1
            self.client.hincrby(self.key, "failed_job_count", 1)
            log(f"{queue}: invalid job {payload[:200]!r} (failed jobs: {self.failed})")
            return
        self.client.hset(self.key, "state", "busy")
        self.successful += 1
        self.client.hincrby(self.key, "successful_job_count", 1)
        self.client.hset(self.key, "state", "idle")
        if not self.quiet:
            log(f"{queue}: {site} {method} (jobs done: {self.successful})")

    def stop(self, signum, frame):
        log("Warm shut down requested")
        self.stopping = True

    def work(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log(f"Connecting to {self.target.describe()}")
        self.connect()
        self.register()
        log(f"Worker {self.key} started with PID {os.getpid()}")
        log(f"*** Listening on {','.join(self.queues)}...")
        keys = [f"rq:queue:{queue}" for queue in self.queues]
        backoff = 1
        registered = True
        while not self.stopping:
            try:
                if not registered:
                    # the first command after a lost connection opens a new one (with Sentinel: to the master the
                    # sentinels name now); the registration may be gone with the old server, so register again
                    self.register()
                    registered = True
                    log(f"Reconnected to Redis as {self.key}")
                item = self.client.blpop(keys, timeout=DEQUEUE_TIMEOUT)
                if item:
                    self.perform(*item)
                self.heartbeat()
                backoff = 1
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as err:
                verb = "Lost connection to Redis" if registered else "Reconnection failed"
                registered = False
                log(f"{verb} ({describe_error(err, self.target)}); reconnecting in {backoff}s")
                self.client.connection.disconnect()
                self._sleep(backoff)
                backoff = min(backoff * 2, 10)
        with contextlib.suppress(redis.exceptions.RedisError):
            self.unregister()
        log(f"Worker {self.key}: stopped")
        return 0

    def _sleep(self, seconds):
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(0.2)


def start_worker(queues, quiet=False):
    """Exit 1 when Redis is unreachable or rejects the credentials at start (redis-py's AuthenticationError, e.g.
    `invalid username-password pair or user is disabled.`, is a ConnectionError; so is redis-py's MasterNotFoundError
    when no sentinel names a reachable master)."""
    conf = config.get_common_config()
    target = Target(conf, "redis_queue")
    if not target.sentinel:
        get_url("redis_queue", conf)
    try:
        return Worker(queues, conf, quiet=quiet).work()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
        print(describe_error(err, target), file=sys.stderr, flush=True)
        return 1
