"""Stand-in for frappe-bench's `bench start` and the process manager it runs (honcho).

bench/commands/utils.py `start` and bench/utils/system.py `start()`: in the bench directory, with
PYTHONUNBUFFERED=true and DEV_SERVER=true (unless --no-dev), exec the process manager on the bench's Procfile.
honcho is not packaged by Debian, so this file is the manager too, with honcho 2.0's behaviour (honcho/manager.py,
honcho/printer.py): every Procfile line runs through the shell as NAME.1 (NAME.1 ... NAME.N with --concurrency
NAME=N), each output line is printed as `HH:MM:SS NAME.1 | line` (names padded to the longest), the manager's own
lines come from `system`; when one process stops, or on SIGINT or SIGTERM, every other one gets SIGTERM, then SIGKILL
after 5 s, and the manager exits with the return code of the first process that stopped.
"""

import argparse
import datetime
import os
import re
import selectors
import signal
import subprocess
import sys
import time

PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+):\s*(.+)$")
KILL_WAIT = 5


def is_bench_directory(path):
    return all(os.path.exists(os.path.join(path, name)) for name in ("apps", "sites", "env", "sites/apps.txt"))


def read_procfile(path):
    """honcho.environ.parse_procfile: NAME: COMMAND lines, comments and blank lines skipped."""
    processes = {}
    with open(path) as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            match = PROCFILE_LINE.match(line)
            if match:
                processes[match.group(1)] = match.group(2)
    return processes


def parse_concurrency(value):
    """honcho's -c: 'web=2,worker=1'."""
    counts = {}
    for item in filter(None, (value or "").split(",")):
        name, _sep, count = item.partition("=")
        if not count.isdigit():
            raise ValueError(f"Invalid concurrency value: {item}")
        counts[name.strip()] = int(count)
    return counts


class Manager:
    def __init__(self, processes, env, prefix=True):
        self.processes = processes  # [(name, command)]
        self.env = env
        self.prefix = prefix
        self.width = max([len("system")] + [len(name) for name, _cmd in processes])
        self.running = {}
        self.returncode = None
        self.stopping = False

    def say(self, name, message):
        if self.prefix:
            stamp = datetime.datetime.now().strftime("%H:%M:%S")
            print(f"{stamp} {name.ljust(self.width)} | {message}", flush=True)
        else:
            print(message, flush=True)

    def start(self):
        self.selector = selectors.DefaultSelector()
        for index, (name, command) in enumerate(self.processes):
            env = dict(self.env, PORT=str(5000 + 100 * index))
            proc = subprocess.Popen(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True)
            self.running[name] = proc
            self.selector.register(proc.stdout, selectors.EVENT_READ, name)
            self.say("system", f"{name} started (pid={proc.pid})")

    def terminate(self, sig=signal.SIGTERM):
        label = "SIGTERM" if sig == signal.SIGTERM else "SIGKILL"
        for name, proc in self.running.items():
            if proc.poll() is None:
                self.say("system", f"sending {label} to {name} (pid {proc.pid})")
                try:
                    os.killpg(proc.pid, sig)
                except ProcessLookupError:
                    pass

    def loop(self):
        deadline = None
        while self.selector.get_map():
            for key, _events in self.selector.select(timeout=0.5):
                line = key.fileobj.readline()
                if line:
                    self.say(key.data, line.decode("utf-8", "replace").rstrip("\n"))
                else:
                    self.selector.unregister(key.fileobj)
            for name, proc in self.running.items():
                if proc.returncode is None and proc.poll() is not None:
                    self.say("system", f"{name} stopped (rc={proc.returncode})")
                    if self.returncode is None:
                        self.returncode = proc.returncode
                    if not self.stopping:
                        self.stopping = True
                        self.terminate()
                        deadline = time.time() + KILL_WAIT
            if deadline and time.time() > deadline:
                self.terminate(signal.SIGKILL)
                deadline = None
        for name, proc in self.running.items():
            if proc.returncode is None:
                proc.wait()
                self.say("system", f"{name} stopped (rc={proc.returncode})")
        return self.returncode or 0

    def signalled(self, signum, _frame):
        self.say("system", f"{signal.Signals(signum).name} received")
        if not self.stopping:
            self.stopping = True
            self.terminate()


def main(argv):
    parser = argparse.ArgumentParser(prog="bench start")
    parser.add_argument("--no-dev", action="store_true")
    parser.add_argument("--no-prefix", action="store_true", help="Hide process name from bench start log")
    parser.add_argument("--concurrency", "-c")
    parser.add_argument("--procfile", "-p")
    parser.add_argument("--man", "-m", help="Process Manager of your choice ;)")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    bench = os.getcwd()
    if not is_bench_directory(bench):
        print(f"bench.exceptions.NotInBenchDirectoryError: {os.path.realpath(bench)} is not a valid bench directory.",
              file=sys.stderr)
        return 1
    if args.man not in (None, "honcho"):
        # bench's get_process_manager looks for honcho, foreman or forego: only honcho is here
        print("Exception: No process manager found", file=sys.stderr)
        return 1
    procfile = args.procfile or os.path.join(bench, "Procfile")
    if not os.path.isfile(procfile):
        print("ERROR: Procfile does not exist or is not a file", file=sys.stderr)
        return 1
    entries = read_procfile(procfile)
    wanted = args.names or list(entries)
    unknown = [name for name in wanted if name not in entries]
    if unknown:
        print(f"ERROR: Process type {unknown[0]} does not exist in Procfile", file=sys.stderr)
        return 1
    try:
        counts = parse_concurrency(args.concurrency)
    except ValueError as err:
        print(f"ERROR: {err}", file=sys.stderr)
        return 1
    processes = [(f"{name}.{i}", entries[name]) for name in wanted for i in range(1, counts.get(name, 1) + 1)]
    env = dict(os.environ, PYTHONUNBUFFERED="true")
    if not args.no_dev:
        env["DEV_SERVER"] = "true"
    manager = Manager(processes, env, prefix=not args.no_prefix)
    signal.signal(signal.SIGTERM, manager.signalled)
    signal.signal(signal.SIGINT, manager.signalled)
    manager.start()
    return manager.loop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
