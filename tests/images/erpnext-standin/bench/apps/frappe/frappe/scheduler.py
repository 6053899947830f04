"""`bench schedule`: every tick (common config `scheduler_tick_interval`, default 60 s, as in Frappe) enqueue a
`frappe.scheduler` job on `rq:queue:default` for each site whose scheduler is enabled and that is not in
maintenance mode. Its connection is Frappe's enqueue connection (`queue_connection()`, RedisQueue.get_connection): the
`redis_queue` URL, with whose credentials it authenticates and which it only logs masked, or the master of the Sentinel
service `redis_queue_master_service` when `redis_queue_sentinel_enabled` (found again after a failover)."""

import json
import signal
import sys
import time

import pymysql
import redis

from frappe import conf as config
from frappe import database as db
from frappe.utils.redis_wrapper import Target, describe_error, get_url, queue_connection
from frappe.worker import log


class Scheduler:
    def __init__(self, conf):
        self.stopping = False
        self.conf = conf
        self.target = Target(conf, "redis_queue")
        self.client = None

    def stop(self, signum, frame):
        self.stopping = True

    def tick_interval(self):
        try:
            return int(config.get_common_config().get("scheduler_tick_interval") or 60)
        except (TypeError, ValueError):
            return 60

    def site_is_active(self, site):
        conf = config.get_site_config(site)
        # frappe.utils.scheduler.is_scheduler_inactive: maintenance mode or a paused scheduler (site or common config)
        if conf.get("maintenance_mode") or conf.get("pause_scheduler"):
            return False
        conn = db.connect_site(config.db_params(conf))
        try:
            return db.scheduler_enabled(conn)
        finally:
            conn.close()

    def enqueue_events_for_all_sites(self):
        for site in config.get_sites():
            try:
                if not self.site_is_active(site):
                    continue
            except (pymysql.MySQLError, config.BenchError, OSError, ValueError) as err:
                log(f"{site}: skipped, cannot read its scheduler state ({err})")
                continue
            try:
                self.client.sadd("rq:queues", "rq:queue:default")
                self.client.rpush(
                    "rq:queue:default", json.dumps({"site": site, "method": "frappe.scheduler"})
                )
                log(f"{site}: enqueued frappe.scheduler on default")
            except redis.exceptions.RedisError as err:
                log(f"{site}: cannot enqueue ({describe_error(err, self.target)}); retrying next tick")

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log(f"Connecting to {self.target.describe()}")
        self.client = queue_connection(self.conf)  # PINGs
        log("Scheduler started")
        while not self.stopping:
            deadline = time.monotonic() + self.tick_interval()
            while not self.stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if not self.stopping:
                self.enqueue_events_for_all_sites()
        log("Scheduler stopped")
        return 0


def start_scheduler():
    """Exit 1 when redis_queue is unreachable or rejects the credentials at start."""
    conf = config.get_common_config()
    target = Target(conf, "redis_queue")
    if not target.sentinel:
        get_url("redis_queue", conf)
    try:
        return Scheduler(conf).run()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
        print(describe_error(err, target), file=sys.stderr, flush=True)
        return 1
