"""`bench worker --queue q1,q2`: a long-running worker that registers itself in Redis the way RQ does and
consumes jobs from the `rq:queue:<name>` lists.

A job is a JSON object {"site": ..., "method": ...}; the stand-in logs it and counts it in the worker's hash
(successful_job_count / failed_job_count) instead of running Python code.

The `redis_queue` URL may carry credentials (`redis://:PASSWORD@host:port`): every connection, including each
reconnection, authenticates with them. A rejected password at start is fatal (exit 1); the URL is only logged masked.
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

from frappe.utils.redis_wrapper import describe_error, get_url, mask_url

WORKER_TTL = 420  # RQ's default worker_ttl
DEQUEUE_TIMEOUT = 2  # seconds; short, so heartbeats and shutdown stay prompt


def log(message):
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


class Worker:
    def __init__(self, queues, url, quiet=False):
        self.queues = queues
        self.quiet = quiet
        self.name = uuid.uuid4().hex
        self.key = f"rq:worker:{self.name}"
        self.stopping = False
        self.successful = 0
        self.failed = 0
        self.url = url
        # client_name: every (re)connection announces itself with CLIENT SETNAME, as RQ names its connection.
        pool = redis.ConnectionPool.from_url(
            self.url,
            client_name=self.key,
            socket_connect_timeout=5,
            socket_timeout=DEQUEUE_TIMEOUT + 10,
        )
        self.client = redis.Redis(connection_pool=pool, single_connection_client=True)

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
        log(f"Connecting to {mask_url(self.url)}")
        self.register()
        log(f"Worker {self.key} started with PID {os.getpid()}")
        log(f"*** Listening on {','.join(self.queues)}...")
        keys = [f"rq:queue:{queue}" for queue in self.queues]
        backoff = 1
        while not self.stopping:
            try:
                item = self.client.blpop(keys, timeout=DEQUEUE_TIMEOUT)
                if item:
                    self.perform(*item)
                self.heartbeat()
                backoff = 1
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as err:
                log(f"Lost connection to Redis ({describe_error(err, self.url)}); reconnecting in {backoff}s")
                self._sleep(backoff)
                backoff = min(backoff * 2, 10)
                self._reconnect()
        with contextlib.suppress(redis.exceptions.RedisError):
            self.unregister()
        log(f"Worker {self.key}: stopped")
        return 0

    def _sleep(self, seconds):
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            time.sleep(0.2)

    def _reconnect(self):
        """After a Redis restart the registration is gone: register again on the new connection."""
        if self.stopping:
            return
        try:
            self.client.connection.disconnect()
            self.register()
            log(f"Reconnected to Redis as {self.key}")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
            pass


def start_worker(queues, quiet=False):
    """Exit 1 when Redis is unreachable or rejects the credentials at start (redis-py's AuthenticationError, e.g.
    `invalid username-password pair or user is disabled.`, is a ConnectionError)."""
    url = get_url("redis_queue")
    try:
        return Worker(queues, url, quiet=quiet).work()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
        print(describe_error(err, url), file=sys.stderr, flush=True)
        return 1
