"""Test webhook receiver: prints each Alertmanager notification as one JSON line (read back with docker logs)."""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        payload = json.loads(body)
        print(json.dumps({"received": time.time(), "status": payload.get("status"),
                          "alerts": [{"status": a["status"], "labels": a["labels"]} for a in payload["alerts"]]}),
              flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


print("listening", flush=True)
sys.stdout.flush()
HTTPServer(("0.0.0.0", 9000), Handler).serve_forever()
