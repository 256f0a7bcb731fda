#!/usr/bin/env python3
"""Whole-process figures of http::Server and the SQL pool under faults, on loopback.

Each experiment runs the harness service (hello) and its baseline side by side in one
run; see docs/benchmarks-faults.md for the method. Every loop is bounded in count and
time; every address is 127.0.0.1.

    faults.py slowloris|idle|drain|outage  HELLO HELLO_BARE
"""

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

CONNECTIONS = int(os.environ.get("CONNECTIONS", "10000"))
IDLE_CONNECTIONS = int(os.environ.get("IDLE_CONNECTIONS", "19000"))
WATCH_SECONDS = int(os.environ.get("WATCH_SECONDS", "15"))
DRAIN_ROUNDS = int(os.environ.get("DRAIN_ROUNDS", "5"))
DRAIN_CLIENTS = int(os.environ.get("DRAIN_CLIENTS", "16"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, tries=400):
    for _ in range(tries):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.025)
    raise SystemExit(f"nothing listens on {port}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Server:
    """hello (harness) with a YAML configuration, or hello-bare (plain axum::serve)."""

    def __init__(self, kind, hello, bare, extra_yaml=None, db=None):
        extra_yaml = extra_yaml or {}
        self.port = free_port()
        self.dir = tempfile.mkdtemp()
        if kind == "bare":
            argv = [bare, str(self.port)]
        else:
            config = os.path.join(self.dir, "hello.yaml")
            with open(config, "w") as f:
                f.write("greeting: Hello\n")
                if db:
                    f.write(f"db:\n  value: {db}\n  min_size: 1\n  max_size: 4\n")
                    f.write(extra_yaml.get("db", ""))
                f.write(f"server:\n  bind:\n    host: 127.0.0.1\n    port: {self.port}\n")
                f.write(extra_yaml.get("server", ""))
            argv = [hello, config]
        self.log = open(os.path.join(self.dir, "stderr"), "w+")
        env = dict(os.environ, RUST_LOG="warn")
        self.process = subprocess.Popen(argv, stderr=self.log, stdout=subprocess.DEVNULL, env=env)
        wait_port(self.port)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


def probe(port, timeout=12.0):
    """Seconds a fresh GET / takes, or None when it fails within `timeout`."""
    started = time.monotonic()
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", "/")
        ok = conn.getresponse().status == 200
        conn.close()
        return time.monotonic() - started if ok else None
    except OSError:
        return None


def open_many(port, count, first_bytes, pid, peaks):
    """Opens up to `count` connections (0.5 s to connect each), each sending `first_bytes`;
    stops after 10 connects in a row fail (the server's backlog is full)."""
    opened, failed_in_a_row = [], 0
    for _ in range(count):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", port))
            if first_bytes:
                s.send(first_bytes)
            s.setblocking(False)
            opened.append(s)
            failed_in_a_row = 0
            if len(opened) % 500 == 0:
                peaks.append((rss_mib(pid), fds(pid)))
        except OSError:
            s.close()
            failed_in_a_row += 1
            if failed_in_a_row == 10:
                break
    return opened


def watch(server, sockets, trickle, seconds):
    """Samples RSS and open files every second, probing with a fresh request each time;
    `trickle` sends one more header line on every open socket every 2 s."""
    samples = []
    for tick in range(seconds):
        if trickle and tick % 2 == 0:
            for s in sockets:
                try:
                    s.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass
        started = time.monotonic()
        latency = probe(server.port, timeout=2.0)
        samples.append((rss_mib(server.process.pid), fds(server.process.pid), latency))
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
    return samples


def open_still(sockets):
    still = 0
    for s in sockets:
        try:
            still += 0 if s.recv(1) == b"" else 1
        except BlockingIOError:
            still += 1
        except OSError:
            pass
    return still


def flood(kind, hello, bare, first_bytes, count, trickle):
    server = Server(kind, hello, bare)
    pid = server.process.pid
    before = (rss_mib(pid), fds(pid))
    started = time.monotonic()
    peaks = []
    sockets = open_many(server.port, count, first_bytes, pid, peaks)
    opened_in = time.monotonic() - started
    samples = watch(server, sockets, trickle, WATCH_SECONDS)
    still = open_still(sockets)
    for s in sockets:
        s.close()
    time.sleep(1)
    after = (rss_mib(pid), fds(pid))
    warnings = [line for line in server.stderr().splitlines() if "WARN" in line]
    server.stop()
    answered = [l for (_, _, l) in samples if l is not None]
    return {
        "server": kind,
        "opened": len(sockets),
        "opened_in_s": round(opened_in, 1),
        "rss_mib_before": round(before[0], 1),
        "rss_mib_peak": round(max([r for (r, _, _) in samples] + [r for (r, _) in peaks]), 1),
        "rss_mib_after_close": round(after[0], 1),
        "fds_before": before[1],
        "fds_peak": max([f for (_, f, _) in samples] + [f for (_, f) in peaks]),
        "fds_at_end": samples[-1][1],
        "still_open_at_end": still,
        "probes_answered": f"{len(answered)}/{len(samples)}",
        "probe_max_s": round(max(answered), 3) if answered else None,
        "warnings": [w[-160:] for w in warnings[:3]],
    }


def slowloris(hello, bare):
    for kind in ("bare", "harness"):
        print(json.dumps(flood(kind, hello, bare, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", CONNECTIONS, True)), flush=True)


def idle(hello, bare):
    for kind in ("bare", "harness"):
        print(json.dumps(flood(kind, hello, bare, b"", IDLE_CONNECTIONS, False)), flush=True)


def keep_alive_client(port, stop_at, counts, lock):
    """GET / in a loop on one keep-alive connection until refused or `stop_at`."""
    answered = sent_unanswered = send_failed = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while time.monotonic() < stop_at:
        try:
            conn.request("GET", "/")
        except ConnectionRefusedError:
            break  # the server stopped listening: nothing was sent
        except OSError:
            send_failed += 1
            conn.close()
            continue
        try:
            response = conn.getresponse()
            response.read()
            answered += 1
        except (OSError, http.client.HTTPException):
            sent_unanswered += 1
            conn.close()
    with lock:
        counts["answered"] += answered
        counts["sent_unanswered"] += sent_unanswered
        counts["send_failed"] += send_failed


def drain_round(kind, hello, bare):
    server = Server(kind, hello, bare)
    counts = {"answered": 0, "sent_unanswered": 0, "send_failed": 0}
    lock = threading.Lock()
    stop_at = time.monotonic() + 6
    threads = [
        threading.Thread(target=keep_alive_client, args=(server.port, stop_at, counts, lock))
        for _ in range(DRAIN_CLIENTS)
    ]
    for t in threads:
        t.start()
    time.sleep(1.5)
    server.process.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(timeout=15)
    code = server.process.wait(timeout=15)
    counts["exit"] = code
    return counts


def drain(hello, bare):
    for kind in ("bare", "harness"):
        rounds = [drain_round(kind, hello, bare) for _ in range(DRAIN_ROUNDS)]
        print(json.dumps({
            "server": kind,
            "rounds": len(rounds),
            "answered": sum(r["answered"] for r in rounds),
            "sent_unanswered_per_round": [r["sent_unanswered"] for r in rounds],
            "send_failed_per_round": [r["send_failed"] for r in rounds],
            "exit_codes": sorted({r["exit"] for r in rounds}),
        }), flush=True)


class Proxy:
    """A TCP proxy to PostgreSQL that can stop listening (connections refused)."""

    def __init__(self, target):
        self.target = target
        self.port = free_port()
        self.listening = None
        self.conns = []
        self.lock = threading.Lock()
        self.start()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listening = listener
        threading.Thread(target=self.accept, args=(listener,), daemon=True).start()

    def accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        # shutdown first: close alone leaves a thread blocked in accept() listening.
        try:
            self.listening.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listening.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self.conns = []


def outage_run(label, hello, bare, acquire):
    proxy = Proxy(5432)
    db = f"postgres://postgres@127.0.0.1:{proxy.port}/test"
    extra = {"db": f"  acquire_timeout: {acquire}\n" if acquire else ""}
    server = Server("harness", hello, bare, extra_yaml=extra, db=db)
    healthy = [probe(server.port) for _ in range(5)]
    proxy.stop()
    during = []
    for _ in range(10):
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", "/")
        body = conn.getresponse().read().decode()
        during.append((time.monotonic() - started, "database error" in body))
        conn.close()
    proxy.start()
    after = [probe(server.port) for _ in range(3)]
    server.stop()
    latencies = [d for (d, _) in during]
    return {
        "pool": label,
        "request_ms_before": round(1000 * statistics.median([h for h in healthy if h]), 1),
        "request_ms_during_median": round(1000 * statistics.median(latencies), 1),
        "request_ms_during_max": round(1000 * max(latencies), 1),
        "failed_during": f"{sum(1 for (_, e) in during if e)}/{len(during)}",
        "answered_after": f"{sum(1 for a in after if a)}/{len(after)}",
    }


def outage(hello, bare):
    print(json.dumps(outage_run("acquire_timeout 5s (the former fixed value)", hello, bare, "5s")), flush=True)
    print(json.dumps(outage_run("acquire_timeout unset (default 1 s)", hello, bare, None)), flush=True)


if __name__ == "__main__":
    experiment, hello, bare = sys.argv[1:4]
    {"slowloris": slowloris, "idle": idle, "drain": drain, "outage": outage}[experiment](hello, bare)
