#!/usr/bin/env bash
# Ingest throughput of the native binary, one command: the pipeline alone (--synthetic, RecordAll
# and one Record call per event), HTTP NDJSON and DogStatsD UDP against an exporter this script
# starts on loopback. Each run is bounded by --duration; the exporter is stopped at the end.
#   bench/ingest.sh [seconds per run, default 10]
# For UDP it reports what the exporter received (aishell_pipeline_events_received_total{source="udp"}):
# the sender counts what it sent, and the kernel drops datagrams when the socket buffer overflows.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
bin=${AISHELL_BINARY:-dist/aishell}
[[ -x $bin ]] || { echo "no $bin: run ./build.sh" >&2; exit 1; }
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
work=$(mktemp -d)
exporter=""
cleanup() {
  [[ -n $exporter ]] && kill "$exporter" 2>/dev/null && wait "$exporter" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
. bench/lib.sh # free_port
summary() { grep -E '^  (throughput|latency p50|latency p99|errors|drops|counted|observed|samples folded)' "$1"; }

echo "binary: $bin ($(stat -c %s "$bin") bytes), $(nproc) CPUs, runs of ${seconds}s"
echo "== pipeline alone, RecordAll (256 events per call), 2 producers"
HOME=$work "$bin" loadtest --synthetic --duration "${seconds}s" --concurrency 2 >"$work/synthetic.txt" 2>&1
summary "$work/synthetic.txt"
echo "== pipeline alone, one Record call per event, 2 producers"
HOME=$work "$bin" loadtest --synthetic --per-event --duration "${seconds}s" --concurrency 2 >"$work/per-event.txt" 2>&1
summary "$work/per-event.txt"

port=$(free_port)
udp=$(free_port)
cat >"$work/exporter.yaml" <<YAML
prometheus:
  host: 127.0.0.1
  port: $port
  ingest:
    udp_port: $udp
YAML
HOME=$work "$bin" prometheus start --config "$work/exporter.yaml" >"$work/exporter.log" 2>&1 &
exporter=$!
for _ in $(seq 1 200); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
  sleep 0.05
done
received() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v s="$1" '$1 == "aishell_pipeline_events_received_total{source=\"" s "\"}" { print $2 }'; }

echo "== HTTP NDJSON, 1,000 events per request, 4 senders"
HOME=$work "$bin" loadtest --target "http://127.0.0.1:$port/api/v1/events" --batch 1000 --duration "${seconds}s" --concurrency 4 >"$work/http.txt" 2>&1
summary "$work/http.txt"
echo "  exporter received: $(received http) events"

# UDP three times: a sender as fast as it can go (it shares the 2 cores, and the kernel drops what
# the socket buffer cannot hold), then one paced at the goal's 2 M events/s (what arrives of what is
# offered), then one paced at 3 M events/s (what the exporter takes above the goal).
udp_run() { # $1 title, $2... extra loadtest arguments
  local title=$1; shift
  echo "== DogStatsD UDP, 1 sender, $title"
  local before after
  before=$(received udp)
  HOME=$work "$bin" loadtest --udp "127.0.0.1:$udp" --duration "${seconds}s" --concurrency 1 "$@" >"$work/udp.txt" 2>&1
  sleep 1 # what the kernel still holds is drained
  after=$(received udp)
  summary "$work/udp.txt"
  python3 -c "import sys; n=float(sys.argv[2] or 0)-float(sys.argv[1] or 0); print(f'  exporter received: {n:,.0f} events, {n/float(sys.argv[3])/1e6:.2f} M events/s')" "${before:-0}" "${after:-0}" "$seconds"
}
udp_run "unpaced"
udp_run "paced at 2 M events/s" --rate 2000000
udp_run "paced at 3 M events/s" --rate 3000000 # above the goal: how much more arrives
