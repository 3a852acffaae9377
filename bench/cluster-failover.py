#!/usr/bin/env python3
"""Cluster failover with the default settings, on the native binary, loopback only.

    bench/cluster-failover.py [runs] [binary]      (default 5 runs, dist/aishell)

Each run starts three members (default collect_interval and down_after) sharing 12 databases of a
throwaway PostgreSQL (tests/postgres.sh), waits until every database is collected by exactly one
member and every member owns a share, then kill -9's the oldest member (it hosts the shard
coordinator) and samples every member's /metrics every 250 ms until every database is collected
again, each once. The breakdown comes from the survivors' Akka log (AISHELL_AKKA_LOGLEVEL=INFO):
marked unreachable, downed by the split-brain resolver, first database back, all back. Prints
each run and the median. Every run is bounded (90 s to settle, 60 s to recover).
"""
import os, re, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
BIN = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "dist/aishell"))
DATABASES = 12
UP = re.compile(r'^aishell_up\{database="([^"]+)"\} 1$', re.M)
STAMP = re.compile(r"\[(\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{3})Z\]")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def owners(members):
    seen = {}
    for i, m in enumerate(members):
        if m["proc"] is None:
            continue
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{m['http']}/metrics", timeout=2).read().decode()
        except OSError:
            continue
        for db in UP.findall(text):
            seen.setdefault(db, []).append(i)
    return seen


def settled(seen, members, spread):
    if len(seen) != DATABASES or any(len(v) != 1 for v in seen.values()):
        return False
    return not spread or all(any(v[0] == i for v in seen.values()) for i, m in enumerate(members) if m["proc"])


def log_time(path, pattern):
    """Unix time of the first Akka log line matching pattern (Akka stamps UTC)."""
    with open(path, errors="replace") as f:
        for line in f:
            if re.search(pattern, line):
                m = STAMP.search(line)
                if m:
                    return time.mktime(time.strptime(m.group(1)[:19], "%m/%d/%Y %H:%M:%S")) - time.timezone + float("0." + m.group(1)[20:])
    return None


def main():
    if not os.access(BIN, os.X_OK):
        sys.exit(f"no {BIN}: run ./build.sh")
    env_pg = {}
    own_pg = "AISHELL_TEST_PG" not in os.environ
    if own_pg:
        out = subprocess.run([os.path.join(ROOT, "tests/postgres.sh"), "start"], check=True, capture_output=True, text=True).stdout
        for name, value in re.findall(r"export (\w+)='?([^'\n]*)'?", out):
            env_pg[name] = value
    else:
        env_pg = {k: v for k, v in os.environ.items() if k.startswith("AISHELL_TEST_PG")}
    conn = dict(kv.split("=", 1) for kv in env_pg["AISHELL_TEST_PG"].split(";") if kv)
    password = open(env_pg["AISHELL_TEST_PG_PASSWORD_FILE"]).read().strip()
    prefix = f"fo{os.getpid()}"
    psql = ["psql", "-q", "-h", "127.0.0.1", "-p", conn["Port"], "-U", conn["Username"], "-d", "postgres"]
    for i in range(1, DATABASES + 1):
        subprocess.run(psql + ["-c", f"CREATE DATABASE {prefix}_{i}"], check=True, env=dict(os.environ, PGPASSWORD=password), capture_output=True)
    results = []
    try:
        for run in range(1, RUNS + 1):
            results.append(one_run(run, prefix, conn, env_pg["AISHELL_TEST_PG_PASSWORD_FILE"]))
    finally:
        for i in range(1, DATABASES + 1):
            subprocess.run(psql + ["-c", f"DROP DATABASE IF EXISTS {prefix}_{i} WITH (FORCE)"], env=dict(os.environ, PGPASSWORD=password), capture_output=True)
        if own_pg:
            subprocess.run([os.path.join(ROOT, "tests/postgres.sh"), "destroy"], env=dict(os.environ, **env_pg), capture_output=True)
    totals = [r["all"] for r in results]
    print(f"median of {len(totals)}: kill -9 to every database collected again {statistics.median(totals):.1f} s "
          f"(min {min(totals):.1f}, max {max(totals):.1f}); unreachable {statistics.median(r['unreachable'] for r in results):.1f} s, "
          f"downed {statistics.median(r['downed'] for r in results):.1f} s, first back {statistics.median(r['first'] for r in results):.1f} s")


def one_run(run, prefix, conn, password_file):
    work = tempfile.mkdtemp(prefix="aishell-failover-")
    members = [{"http": free_port(), "remote": free_port(), "proc": None} for _ in range(3)]
    seeds = ", ".join(f"127.0.0.1:{m['remote']}" for m in members)
    dbs = "".join(f"""
    - name: {prefix}_{i}
      connection_string: "Host=127.0.0.1;Port={conn['Port']};Username={conn['Username']};Database={prefix}_{i}"
      password_file: {password_file}""" for i in range(1, DATABASES + 1))
    try:
        for n, m in enumerate(members):
            home = os.path.join(work, f"m{n}")
            os.makedirs(home)
            m["log"] = os.path.join(home, "log")
            with open(os.path.join(home, "config.yaml"), "w") as f:
                f.write(f"""prometheus:
  host: 127.0.0.1
  port: {m['http']}
  metrics:
    system: false
  cluster:
    enabled: true
    host: 127.0.0.1
    port: {m['remote']}
    seed_nodes: [{seeds}]
  databases:{dbs}
""")
            m["proc"] = subprocess.Popen([BIN, "prometheus", "start", "--config", os.path.join(home, "config.yaml")],
                                         env=dict(os.environ, HOME=home, AISHELL_CONFIG="", AISHELL_AKKA_LOGLEVEL="INFO"),
                                         stdout=open(m["log"], "w"), stderr=subprocess.STDOUT)
            time.sleep(0.3)
        deadline = time.time() + 90
        while not settled(owners(members), members, spread=True):
            if time.time() > deadline:
                raise SystemExit(f"run {run}: the three members did not share the databases within 90 s")
            time.sleep(0.25)
        members[0]["proc"].send_signal(signal.SIGKILL)
        killed = time.time()
        members[0]["proc"].wait()
        members[0]["proc"] = None
        while True:
            seen = owners(members)
            if time.time() - killed > 60:
                raise SystemExit(f"run {run}: not every database back within 60 s")
            if settled(seen, members, spread=False):
                break
            time.sleep(0.25)
        back = time.time() - killed
        survivor_logs = [m["log"] for m in members[1:]]
        unreachable = min(t for t in (log_time(p, r"Marking node\(s\) as UNREACHABLE") for p in survivor_logs) if t)
        downed = min(t for t in (log_time(p, r"Marking unreachable node .* as \[Down\]") for p in survivor_logs) if t)
        first_back = min(t for t in (started_after(p, killed) for p in survivor_logs) if t)
        r = {"all": back, "unreachable": unreachable - killed, "downed": downed - killed, "first": first_back - killed}
        print(f"run {run}: every database collected again {r['all']:.1f} s after kill -9 "
              f"(unreachable {r['unreachable']:.1f} s, downed {r['downed']:.1f} s, first database started on a survivor {r['first']:.1f} s)", flush=True)
        return r
    finally:
        for m in members:
            if m["proc"] is not None:
                m["proc"].terminate()
        for m in members:
            if m["proc"] is not None:
                try:
                    m["proc"].wait(30)
                except subprocess.TimeoutExpired:
                    m["proc"].kill()


def started_after(path, after):
    """Time of the first 'collecting database' line after `after` (the exporter's own ISO-stamped log)."""
    with open(path, errors="replace") as f:
        for line in f:
            m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z aishell: cluster: collecting database", line)
            if m:
                t = time.mktime(time.strptime(m.group(1)[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + m.group(1)[20:])
                if t >= after:
                    return t
    return None


if __name__ == "__main__":
    main()
