#!/usr/bin/env python3
"""Hostile-load figures against the native binary, all on 127.0.0.1, bounded in count and time.

  bench/hostile.py auth  [BINARY] [N]   401 latency: unknown user vs known user with a wrong password
                                        (distinct passwords, so no remembered results), and a repeat
  bench/hostile.py burst [BINARY] [N]   N concurrent 4 MiB event POSTs: statuses, peak RSS, RSS after
  bench/hostile.py udp   [BINARY]       a DogStatsD flood into a 64 KiB receive buffer: datagrams sent,
                                        taken, and counted as dropped by the kernel
  bench/hostile.py multivalue [BINARY] [N]  one datagram holding a timing with N values, then one small
                                        line: how long until the small line shows in a scrape
"""
import base64, http.client, os, re, socket, statistics, subprocess, sys, tempfile, threading, time

def start(binary, extra=""):
    d = tempfile.mkdtemp(prefix="aishell-hostile-")
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    cfg = os.path.join(d, "c.yaml")
    open(cfg, "w").write(f"prometheus:\n  host: 127.0.0.1\n  port: {port}\n  metrics:\n    system: false\n{extra}")
    log = open(os.path.join(d, "stderr.log"), "w")  # a file, not a pipe: a full pipe would block the exporter's log writes
    p = subprocess.Popen([binary, "prometheus", "start", "--config", cfg], stdout=subprocess.DEVNULL, stderr=log, env={**os.environ, "HOME": d})
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close(); return p, port
        except OSError: time.sleep(0.1)
    p.kill()
    raise SystemExit("exporter did not start: " + open(os.path.join(d, "stderr.log")).read())

def get(port, path, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", path, headers=headers or {}); r = c.getresponse(); body = r.read(); c.close()
    return r.status, body.decode()

def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024

def auth(binary, n):
    h = subprocess.run(["htpasswd", "-nbB", "alice", "correct-horse"], capture_output=True, text=True, check=True).stdout.strip().split(":", 1)[1]
    p, port = start(binary, f"  web:\n    basic_auth_users:\n      alice: '{h}'\n")
    def once(user, pw):
        tok = base64.b64encode(f"{user}:{pw}".encode()).decode()
        t = time.perf_counter(); st, _ = get(port, "/metrics", {"Authorization": "Basic " + tok}); return st, (time.perf_counter() - t) * 1e6
    res = {"unknown user": [], "known user, wrong password": [], "repeat (remembered)": []}
    once("alice", "warmup")
    for i in range(n):
        for key, user, pw in (("unknown user", f"mallory{i}", f"pw{i}"), ("known user, wrong password", "alice", f"wrong{i}"), ("repeat (remembered)", "alice", "wrong0")):
            st, t = once(user, pw); assert st == 401, st; res[key].append(t)
    assert once("alice", "correct-horse")[0] == 200
    for k, v in res.items():
        v = sorted(v); print(f"{k:28s} median {statistics.median(v):7.0f} us   p10 {v[len(v)//10]:7.0f}   p90 {v[len(v)*9//10]:7.0f}")
    print(f"known/unknown median ratio: {statistics.median(res['known user, wrong password']) / statistics.median(res['unknown user']):.2f}")
    p.terminate(); p.wait()

def burst(binary, n):
    p, port = start(binary)
    line = b'{"kind":"feature","feature":"burst"}\n'
    body = line * ((4 * 1024 * 1024 - 1) // len(line))
    statuses, peak, done = [], [0], [False]
    def sample():
        while not done[0]: peak[0] = max(peak[0], rss(p.pid)); time.sleep(0.02)
    def post():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        c.request("POST", "/api/v1/events", body=body); r = c.getresponse(); r.read(); statuses.append(r.status); c.close()
    print(f"idle RSS {rss(p.pid)} MB")
    sampler = threading.Thread(target=sample); sampler.start()
    posts = [threading.Thread(target=post) for _ in range(n)]
    [t.start() for t in posts]; [t.join() for t in posts]
    done[0] = True; sampler.join()
    print(f"{n} concurrent 4 MiB POSTs: statuses {dict(sorted({s: statuses.count(s) for s in set(statuses)}.items()))}, peak RSS {peak[0]} MB")
    for s in (5, 30, 60):
        time.sleep(s - (0 if s == 5 else (5 if s == 30 else 30))); print(f"  {s:2d} s after: RSS {rss(p.pid)} MB")
    p.terminate(); p.wait()

def udp(binary):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); uport = s.getsockname()[1]; s.close()
    p, port = start(binary, f"  ingest:\n    udp_port: {uport}\n    udp_receive_buffer_bytes: 65536\n")
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dgram = b"\n".join(b"hostile.count:1|c|#k:v" for _ in range(20))
    sent, deadline = 0, time.time() + 3
    while time.time() < deadline and sent < 2_000_000:
        out.sendto(dgram, ("127.0.0.1", uport)); sent += 1
    time.sleep(2.5)  # the kernel drop count is polled once a second
    _, m = get(port, "/metrics")
    def value(pattern):
        hit = re.search(pattern + r" (\S+)", m); return float(hit.group(1)) if hit else 0.0
    dropped = value(r'aishell_pipeline_udp_datagrams_dropped_total\{reason="kernel"\}')
    # Every line read is counted once: received, rejected (this name is no known metric) or dropped.
    lines = sum(float(v) for v in re.findall(r'aishell_pipeline_events_(?:received|rejected|dropped)_total\{source="udp"[^}]*\} (\S+)', m))
    read = lines / 20
    print(f"datagrams sent {sent}, read {read:.0f}, kernel drops counted {dropped:.0f} ({dropped / sent:.0%}); unaccounted {sent - read - dropped:.0f}")
    p.terminate(); p.wait()

def multivalue(binary, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); uport = s.getsockname()[1]; s.close()
    p, port = start(binary, f"  ingest:\n    udp_port: {uport}\n  custom_metrics:\n    - name: lat\n      type: histogram\n      help: l\n"
                            f"      labels: [kind]\n    - name: tx\n      type: counter\n      help: t\n      labels: [kind]\n")
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    t = time.perf_counter()
    out.sendto(("aishell.custom.lat:" + ":".join(["1"] * n) + "|ms|#kind:big").encode(), ("127.0.0.1", uport))
    out.sendto(b"aishell.custom.tx:1|c|#kind:after", ("127.0.0.1", uport))
    seen = False
    while time.perf_counter() - t < 60 and not seen:
        seen = 'aishell_tx_total{kind="after"} 1' in get(port, "/metrics")[1]
    print(f"{n} values in one line: the next line scraped after {time.perf_counter() - t:.3f} s" + ("" if seen else " (not seen in 60 s)"))
    p.terminate(); p.wait()

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "auth"
    binary = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "dist", "aishell")
    n = int(sys.argv[3]) if len(sys.argv) > 3 else {"auth": 60, "burst": 128, "multivalue": 32000}.get(what, 0)
    {"auth": lambda: auth(binary, n), "burst": lambda: burst(binary, n), "udp": lambda: udp(binary),
     "multivalue": lambda: multivalue(binary, n)}[what]()
