#!/usr/bin/env bash
# Native binary startup, idle memory and size: time from exec to the first successful scrape,
# RSS after a few idle seconds, and the size of dist/aishell. Runs N times (default 5), loopback only.
#   bench/startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=${AISHELL_BINARY:-dist/aishell}
[[ -x $bin ]] || { echo "no $bin: run ./build.sh" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "binary: $bin $(stat -c %s $bin) bytes ($(( $(stat -c %s $bin) / 1024 / 1024 )) MiB)"
# One Python process does the timing: it forks the binary and polls /metrics every millisecond over
# a raw socket, so neither a curl start per attempt nor the shell adds to the figure.
python3 - "$bin" "$port" "$home" "$runs" <<'PY'
import os, socket, subprocess, sys, time
bin, port, home, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
env = dict(os.environ, HOME=home, AISHELL_CONFIG="")
def scrape_ok():
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False
for r in range(1, runs + 1):
    start = time.perf_counter()
    p = subprocess.Popen([bin, "prometheus", "start", "--host", "127.0.0.1", "--port", str(port)],
                         env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = start + 10
    while not scrape_ok():
        if time.perf_counter() > deadline:
            sys.exit("no successful scrape within 10 s")
        time.sleep(0.001)
    first = (time.perf_counter() - start) * 1000
    time.sleep(3)
    status = open(f"/proc/{p.pid}/status").read()
    rss = int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1])
    anon = int(next(l for l in status.splitlines() if l.startswith("RssAnon")).split()[1])
    p.terminate()
    p.wait(10)
    print(f"run {r}: first scrape after {first:.1f} ms, idle RSS {rss / 1024:.1f} MiB ({rss} kB; anonymous {anon} kB, the rest file-backed)")
PY
