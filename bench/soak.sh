#!/usr/bin/env bash
# Soak: the native exporter under steady ingest (HTTP NDJSON at --rate) and a scrape every second,
# for DURATION seconds (default 600). Every 30 s it samples the exporter's own process metrics;
# at the end it compares resident memory and GC counts between the first sample after warm-up and
# the last. Loopback only; stops by itself.   bench/soak.sh [seconds] [events-per-second]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-600}
rate=${2:-200000}
bin=dist/aishell
[[ -x $bin ]] || { echo "no $bin: run ./build.sh" >&2; exit 1; }
home=$(mktemp -d)
trap 'kill $exporter $scraper 2>/dev/null || true; rm -rf "$home"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HOME=$home AISHELL_CONFIG= $bin prometheus start --host 127.0.0.1 --port "$port" >"$home/exporter.log" 2>&1 &
exporter=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break; sleep 0.05; done
( while kill -0 $exporter 2>/dev/null; do curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" || true; sleep 1; done ) &
scraper=$!
HOME=$home $bin loadtest --target "http://127.0.0.1:$port/api/v1/events" --rate "$rate" --duration "${duration}s" --concurrency 2 >"$home/load.log" 2>&1 &
load=$!

sample() {
  curl -sf "http://127.0.0.1:$port/metrics" | awk '
    /^aishell_process_resident_memory_bytes / {rss=$2}
    /^aishell_process_gc_heap_bytes / {heap=$2}
    /^aishell_process_gc_collections_total\{generation="0"\}/ {g0=$2}
    /^aishell_process_gc_collections_total\{generation="2"\}/ {g2=$2}
    /^aishell_pipeline_events_received_total\{source="http"\}/ {ev=$2}
    END {printf "%d %d %d %d %.0f\n", rss/1048576, heap/1048576, g0, g2, ev}'
}

printf "%6s %8s %9s %7s %7s %14s\n" "t(s)" "RSS MiB" "heap MiB" "gen0" "gen2" "events"
start=$(date +%s)
first=""
while kill -0 $load 2>/dev/null; do
  sleep 30
  t=$(( $(date +%s) - start ))
  read -r rss heap g0 g2 ev < <(sample)
  printf "%6d %8d %9d %7d %7d %14s\n" "$t" "$rss" "$heap" "$g0" "$g2" "$ev"
  if [[ -z $first && $t -ge 60 ]]; then first="$rss $g2"; fi
  last="$rss $g2"
done
wait $load || true
tail -n 12 "$home/load.log"
read -r rss1 g21 <<<"${first:-$last}"
read -r rss2 g22 <<<"$last"
echo "RSS after warm-up ${rss1} MiB, at the end ${rss2} MiB; gen2 collections ${g21} -> ${g22}"
