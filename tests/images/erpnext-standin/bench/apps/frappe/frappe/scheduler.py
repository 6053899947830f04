"""`bench schedule`: every tick (common config `scheduler_tick_interval`, default 60 s, as in Frappe) enqueue a
`frappe.scheduler` job on `rq:queue:default` for each site whose scheduler is enabled and that is not in
maintenance mode. It authenticates with the credentials of the `redis_queue` URL, which it only logs masked."""

import json
import signal
import sys
import time

import pymysql
import redis

from frappe import conf as config
from frappe import database as db
from frappe.utils.redis_wrapper import connect, describe_error, get_url, mask_url
from frappe.worker import log


class Scheduler:
    def __init__(self, url):
        self.stopping = False
        self.url = url
        self.client = connect(url)

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
                log(f"{site}: cannot enqueue ({describe_error(err, self.url)}); retrying next tick")

    def run(self):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log(f"Connecting to {mask_url(self.url)}")
        self.client.ping()
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
    url = get_url("redis_queue")
    try:
        return Scheduler(url).run()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ValueError) as err:
        print(describe_error(err, url), file=sys.stderr, flush=True)
        return 1
