# -*- coding: utf-8 -*-
# Copyright (c) 2026 erpstack contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small Debug Adapter Protocol client, as an editor attaches to debugpy (standard library only).

    dap_client.py --port 5678 threads
        attach, list the debuggee's threads, detach; prints {"threads": [...]}
    dap_client.py --port 5678 breakpoint --file PATH --line N --url URL [--header 'Host: x']
        attach, set a breakpoint at PATH:N, request URL in a thread, wait for the debuggee to stop, read the frame it
        stopped in, continue, and print {"stopped": reason, "frame": {path, line, name}, "status": ..., "body": ...}

Messages are DAP's: a Content-Length header, then JSON. The attach sequence is the one VS Code follows with debugpy:
initialize, attach, (initialized event) setBreakpoints and configurationDone, then the attach response.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request


class Client(object):
    def __init__(self, host, port, timeout):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buffer = b""
        self.seq = 0
        self.pending = []

    def send(self, command, **arguments):
        self.seq += 1
        body = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments}).encode()
        self.sock.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        return self.seq

    def _read(self):
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        header, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        length = [int(line.split(b":", 1)[1]) for line in header.split(b"\r\n")
                  if line.lower().startswith(b"content-length:")][0]
        while len(self.buffer) < length:
            self._fill()
        message, self.buffer = self.buffer[:length], self.buffer[length:]
        return json.loads(message.decode())

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the debug adapter closed the connection")
        self.buffer += chunk

    def wait(self, predicate, deadline):
        """The first message (kept or read) that satisfies predicate; the others are kept for later waits."""
        for message in list(self.pending):
            if predicate(message):
                self.pending.remove(message)
                return message
        while time.time() < deadline:
            message = self._read()
            if predicate(message):
                return message
            self.pending.append(message)
        raise TimeoutError("no matching message before the deadline")

    def response(self, seq, deadline):
        message = self.wait(lambda m: m.get("type") == "response" and m.get("request_seq") == seq, deadline)
        if not message.get("success"):
            raise RuntimeError("%s failed: %s" % (message.get("command"), message.get("message")))
        return message

    def event(self, name, deadline):
        return self.wait(lambda m: m.get("type") == "event" and m.get("event") == name, deadline)


def attach(client, deadline, breakpoints=None):
    client.response(client.send("initialize", clientID="erpstack-tests", adapterID="debugpy", pathFormat="path",
                                linesStartAt1=True, columnsStartAt1=True), deadline)
    attach_seq = client.send("attach", justMyCode=False, subProcess=False)
    client.event("initialized", deadline)
    verified = []
    for path, lines in (breakpoints or {}).items():
        reply = client.response(client.send("setBreakpoints", source={"path": path},
                                            breakpoints=[{"line": line} for line in lines]), deadline)
        verified += reply["body"]["breakpoints"]
    client.response(client.send("configurationDone"), deadline)
    client.response(attach_seq, deadline)
    return verified


def request(url, headers, result):
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as reply:
            result.update(status=reply.status, body=reply.read().decode())
    except urllib.error.HTTPError as exc:
        result.update(status=exc.code, body=exc.read().decode())
    except Exception as exc:  # pylint: disable=broad-except
        result.update(status=None, body=repr(exc))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=60)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("threads")
    hit = sub.add_parser("breakpoint")
    hit.add_argument("--file", required=True)
    hit.add_argument("--line", type=int, required=True)
    hit.add_argument("--url", required=True)
    hit.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    deadline = time.time() + args.timeout
    client = Client(args.host, args.port, args.timeout)
    out = {}
    if args.action == "threads":
        attach(client, deadline)
        reply = client.response(client.send("threads"), deadline)
        out["threads"] = [t["name"] for t in reply["body"]["threads"]]
    else:
        out["breakpoints"] = attach(client, deadline, {args.file: [args.line]})
        headers = dict(h.split(": ", 1) for h in args.header)
        result = {}
        caller = threading.Thread(target=request, args=(args.url, headers, result))
        caller.start()
        stopped = client.event("stopped", deadline)
        out["stopped"] = stopped["body"].get("reason")
        thread = stopped["body"]["threadId"]
        frames = client.response(client.send("stackTrace", threadId=thread, startFrame=0, levels=1), deadline)
        frame = frames["body"]["stackFrames"][0]
        out["frame"] = {"path": frame["source"].get("path"), "line": frame["line"], "name": frame["name"]}
        # the response is held while the debuggee is stopped
        out["held"] = caller.is_alive()
        client.response(client.send("continue", threadId=thread), deadline)
        caller.join(max(1, deadline - time.time()))
        out.update(result)
    client.response(client.send("disconnect", terminateDebuggee=False), deadline)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
