#!/usr/bin/env bash
# Native binary startup, idle memory and size: time from exec to the first successful scrape,
# RSS after a few idle seconds, and the size of dist/aishell. Runs N times (default 5), loopback only.
#   bench/startup.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=dist/aishell
[[ -x $bin ]] || { echo "no $bin: run ./build.sh" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "binary: $bin $(stat -c %s $bin) bytes ($(( $(stat -c %s $bin) / 1024 / 1024 )) MiB)"
for ((r = 1; r <= runs; r++)); do
  start=$(date +%s%N)
  HOME=$home AISHELL_CONFIG= $bin prometheus start --host 127.0.0.1 --port "$port" >/dev/null 2>&1 &
  pid=$!
  for ((i = 0; i < 2000; i++)); do
    if curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; then break; fi
    sleep 0.002
  done
  first=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 3
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill -TERM $pid
  wait $pid || true
  echo "run $r: first scrape after ${first} ms, idle RSS $(( rss / 1024 )) MiB (${rss} kB)"
done
