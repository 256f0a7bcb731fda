#!/usr/bin/env python3
"""Whole-process figures of the harness runtime; see docs/benchmarks-runtime.md.

usage: measure.py start|rss|http|codegen  (run by run.sh, which builds first)
"""
import os, re, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
RELEASE = os.path.join(TARGET, "release")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path="/"):
    """One HTTP/1.1 GET; the status code, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        return int(data.split(b" ")[1])
    except (ConnectionRefusedError, IndexError, OSError):
        return None


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def write(dir, name, text):
    path = os.path.join(dir, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def hello_yaml(port, db):
    text = f"greeting: Hello\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {port}\n"
    if db:
        text += "db:\n  url: postgres://postgres@127.0.0.1:5432/test\n  min_size: 1\n  max_size: 4\n"
    return text


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def start_to_first_answer(runs=30):
    """Process spawn -> first 200 from GET / (the handler queries PostgreSQL when db is set)."""
    results = {}
    with tempfile.TemporaryDirectory() as dir:
        for db in (False, True):
            samples = []
            for _ in range(runs):
                port = free_port()
                config = write(dir, "hello.yaml", hello_yaml(port, db))
                t0 = time.perf_counter()
                proc = subprocess.Popen([os.path.join(RELEASE, "hello"), config],
                                        stderr=subprocess.DEVNULL)
                while get(port) != 200:
                    if proc.poll() is not None:
                        sys.exit("hello exited")
                    time.sleep(0.0005)
                samples.append((time.perf_counter() - t0) * 1000)
                stop(proc)
            results["with PostgreSQL pool" if db else "HTTP only"] = samples
    print("| hello, start → first answer | median ms | p90 ms | min ms | runs |")
    print("| --- | --- | --- | --- | --- |")
    for name, s in results.items():
        s = sorted(s)
        print(f"| {name} | {statistics.median(s):.1f} | {s[int(len(s) * 0.9) - 1]:.1f} | {s[0]:.1f} | {len(s)} |")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


def idle_rss():
    with tempfile.TemporaryDirectory() as dir:
        sp, kp = free_port(), free_port()
        scotty = write(dir, "scotty.yaml", f"db:\n  address:\n    host: 127.0.0.1\n    port: 5432\n  username: postgres\n  database: test\n  min_size: 1\n  max_size: 8\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {sp}\n")
        kirk = write(dir, "kirk.yaml", f"scotty:\n  address:\n    host: 127.0.0.1\n    port: {sp}\nserver:\n  bind:\n    host: 127.0.0.1\n    port: {kp}\n")
        secrets = write(dir, "secrets.yaml", "db:\n  url: postgres://postgres:pw@127.0.0.1:5432/test\n  min_size: 1\n  max_size: 8\n")
        ps = subprocess.Popen([os.path.join(RELEASE, "scotty"), scotty], stderr=subprocess.DEVNULL)
        pk = subprocess.Popen([os.path.join(RELEASE, "kirk"), kirk, "--merge", secrets], stderr=subprocess.DEVNULL)
        while get(kp, "/_/health") != 200 or get(sp, "/") is None and not port_open(sp):
            time.sleep(0.01)
        after_start = rss_kb(pk.pid)
        for _ in range(100):
            assert get(kp, "/beam/Sulu") == 200
        time.sleep(2)
        after_requests = rss_kb(pk.pid)
        scotty_rss = rss_kb(ps.pid)
        stop(pk)
        stop(ps)
    print("| process | idle RSS after start | idle RSS after 100 requests |")
    print("| --- | --- | --- |")
    print(f"| kirk (HTTP server, PostgreSQL pool, gRPC channel) | {after_start / 1024:.1f} MiB | {after_requests / 1024:.1f} MiB |")
    print(f"| scotty (gRPC server, PostgreSQL pool), after serving | | {scotty_rss / 1024:.1f} MiB |")


def wrk(port, seconds, connections):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return rps, float(p99.group(1)) * scale, errors.group(0) if errors else ""


def http_throughput(rounds=3, seconds=10, connections=64):
    """http::Server (harness) vs the same router on plain axum::serve, alternating."""
    with tempfile.TemporaryDirectory() as dir:
        hp, bp = free_port(), free_port()
        config = write(dir, "hello.yaml", hello_yaml(hp, False))
        harness = subprocess.Popen([os.path.join(RELEASE, "hello"), config], stderr=subprocess.DEVNULL)
        bare = subprocess.Popen([os.path.join(RELEASE, "hello-bare"), str(bp)])
        while get(hp) != 200 or get(bp) != 200:
            time.sleep(0.01)
        rows = []
        for r in range(rounds):
            for name, port in (("bare axum", bp), ("harness http::Server", hp)):
                rps, p99, errors = wrk(port, seconds, connections)
                rows.append((r + 1, name, rps, p99, errors))
        stop(harness)
        bare.kill()
        bare.wait()
    print(f"| round | server | requests/s | p99 ms | errors |")
    print("| --- | --- | --- | --- | --- |")
    for r, name, rps, p99, errors in rows:
        print(f"| {r} | {name} | {rps:.0f} | {p99:.2f} | {errors} |")
    def med(name, i):
        return statistics.median([row[i] for row in rows if row[1] == name])
    rps_ratio = med("harness http::Server", 2) / med("bare axum", 2)
    p99_ratio = med("harness http::Server", 3) / med("bare axum", 3)
    print(f"\nmedian of rounds: throughput {rps_ratio * 100:.1f}% of bare axum, p99 {p99_ratio * 100:.1f}% of bare axum")


def codegen(runs=20):
    """Time of hello's build script (protox + prost-build + wiring + prettyplease), run
    directly as cargo runs it; and whether an unchanged proto reruns anything."""
    scripts = sorted(
        (os.path.join(d, "build-script-build") for d in
         [os.path.join(TARGET, "debug", "build", x) for x in os.listdir(os.path.join(TARGET, "debug", "build"))
          if x.startswith("hello-")]
         if os.path.exists(os.path.join(d, "build-script-build"))),
        key=os.path.getmtime)
    script = scripts[-1]
    samples = []
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, OUT_DIR=out, CARGO_MANIFEST_DIR=os.path.join(ROOT, "examples", "hello"))
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([script], cwd=os.path.join(ROOT, "examples", "hello"), env=env,
                           check=True, stdout=subprocess.DEVNULL)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    print(f"| hello's build script (debug, as cargo runs it) | median {statistics.median(samples):.1f} ms | min {samples[0]:.1f} ms | max {samples[-1]:.1f} ms | {runs} runs |")
    print("| --- | --- | --- | --- | --- |")


if __name__ == "__main__":
    {"start": start_to_first_answer, "rss": idle_rss, "http": http_throughput, "codegen": codegen}[sys.argv[1]]()
