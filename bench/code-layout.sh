#!/usr/bin/env bash
# Regenerates src/AiShell.Cli/aishell.order, the method order ILC lays the native binary's code out
# in (IlcOrderFile). The methods a running exporter executes are listed first, so they share a few
# hundred pages instead of being spread over all 9 MB of code: every page the exporter touches
# stays resident, and the kernel maps 64 KiB around each one it faults in.
#
#   bench/code-layout.sh            profile dist/aishell (build it first with ./build.sh)
#
# Runs dist/aishell under valgrind's callgrind (apt: valgrind) through three scenarios, loopback
# only, each bounded in time, and lists every method that ran, in this order:
#   1. no configuration: start, scrapes in both formats (plain, gzip, HEAD), /healthz, /ready, /api/v1/status;
#   2. what scenario 1 did not run, with two PostgreSQL databases (a throwaway cluster from
#      tests/postgres.sh), a SQL-defined metric, NDJSON and DogStatsD ingest, a reload (SIGHUP);
#   3. what 1 and 2 did not run, with TLS and bearer/basic access control;
#   4. what 1 to 3 did not run, as a cluster member that a second member joins and leaves.
# Within a scenario, the methods that executed the most instructions come first. Methods that do not
# exist in a later build are skipped by ILC: an order file that lags behind the code only loses
# locality, never correctness. build.sh prints how much of it the binary still matches.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=dist/aishell
dbg=artifacts/aishell.dbg
out=src/AiShell.Cli/aishell.order
[[ -x $bin && -f $dbg ]] || { echo "code-layout.sh: no $bin and $dbg: run ./build.sh" >&2; exit 1; }
for tool in valgrind callgrind_control objcopy nm curl python3 openssl; do
  if ! command -v "$tool" >/dev/null; then
    [[ $(id -u) -eq 0 ]] || { echo "code-layout.sh: $tool missing" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind binutils curl openssl >/dev/null
    break
  fi
done

. bench/lib.sh
bench_work /tmp/aishell-layout.XXXXXX

# valgrind reads the symbol table from a debug file named by the binary's debuglink; the published
# artifacts/aishell.dbg also carries DWARF 5, which valgrind 3.19 cannot parse, so give it the
# symbol table alone. The code is byte for byte the published binary's.
objcopy --strip-debug "$dbg" "$work/aishell.sym"
objcopy --remove-section=.gnu_debuglink "$bin" "$work/aishell"
objcopy --add-gnu-debuglink="$work/aishell.sym" "$work/aishell"


# Starts the profiled exporter with the given config file (may be empty) and waits for /healthz.
# $1 scenario name, $2 config file or "", $3 port.
start_profiled() {
  local name=$1 config=$2 port=$3 args=(prometheus start --host 127.0.0.1 --port "$port")
  [[ -n $config ]] && args+=(--config "$config")
  HOME=$work AISHELL_CONFIG="" valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" \
    "$work/aishell" "${args[@]}" >"$work/$name.log" 2>&1 &
  profiled=$!
  pids+=("$profiled")
  for _ in $(seq 1 240); do
    curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    curl -s -m 2 -k -o /dev/null "https://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.5
  done
  echo "code-layout.sh: scenario $name did not come up; its log:" >&2
  tail -20 "$work/$name.log" >&2
  exit 1
}

# Stops the profiled exporter the way an operator does (SIGTERM: graceful shutdown).
stop_profiled() {
  kill -TERM "$profiled"
  for _ in $(seq 1 120); do
    kill -0 "$profiled" 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL "$profiled" 2>/dev/null || true
}

scrapes() { # $1 base URL, $2.. extra curl flags
  local base=$1
  shift
  for _ in 1 2 3; do
    curl -sf "$@" -o /dev/null "$base/metrics"
    curl -sf "$@" -o /dev/null --compressed "$base/metrics"
    curl -sf "$@" -o /dev/null -H 'Accept: application/openmetrics-text; version=1.0.0' "$base/metrics"
    curl -sf "$@" -o /dev/null -I "$base/metrics"
    curl -sf "$@" -o /dev/null "$base/healthz"
    curl -sf "$@" -o /dev/null "$base/ready" || true
    curl -sf "$@" -o /dev/null "$base/api/v1/status" || true
    sleep 1
  done
}

echo "code-layout.sh: scenario 1 (defaults)"
port=$(free_port)
start_profiled defaults "" "$port"
sleep 2
scrapes "http://127.0.0.1:$port"
stop_profiled

echo "code-layout.sh: scenario 2 (PostgreSQL, ingest, reload)"
eval "$(tests/postgres.sh start)"
pg_port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$AISHELL_TEST_PG")
password=$(cat "$AISHELL_TEST_PG_PASSWORD_FILE")
PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d aishell_test >/dev/null <<'SQL'
CREATE TABLE orders AS SELECT g AS id, (ARRAY['new','paid','shipped'])[1 + g % 3] AS status FROM generate_series(1, 5000) g;
CREATE INDEX ON orders (id);
ANALYZE;
SELECT count(*) FROM orders WHERE id < 100;
CREATE DATABASE aishell_second;
SQL
port=$(free_port)
udp_port=$(free_port)
# The two databases scenarios 2 and 4 collect.
databases_yaml="  databases:
    - name: app
      connection_string: \"Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=aishell_test\"
      password_file: $AISHELL_TEST_PG_PASSWORD_FILE
    - name: second
      connection_string: \"Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=aishell_second\"
      password_file: $AISHELL_TEST_PG_PASSWORD_FILE"
cat >"$work/pg.yaml" <<YAML
prometheus:
  host: 127.0.0.1
  port: $port
  collect_interval: 2s
  ingest:
    udp_port: $udp_port
  custom_metrics:
    - name: open_orders
      type: gauge
      help: "Orders by status"
      labels: [status]
      query: "SELECT status, count(*) AS value FROM orders GROUP BY status"
      databases: [app]
    - name: business_transactions
      type: counter
      help: "Business transactions"
      labels: [type, status]
$databases_yaml
YAML
start_profiled pg "$work/pg.yaml" "$port"
base="http://127.0.0.1:$port"
cat >"$work/events.ndjson" <<'NDJSON'
{"kind":"query","database":"app","type":"SELECT","status":"success","duration_seconds":0.012,"trace_id":"4bf92f35"}
{"kind":"query","database":"app","type":"UPDATE","status":"error","duration_seconds":0.3,"error":"40P01"}
{"kind":"connection","database":"app","active":7,"pool_size":20,"wait_seconds":0.002}
{"kind":"connection_error","database":"app","error":"08006"}
{"kind":"request","method":"GET","endpoint":"/api/query","status":200,"duration_seconds":0.05,"size_bytes":512}
{"kind":"feature","feature":"nl2sql"}
{"kind":"users","role":"admin","active":3}
{"kind":"custom","name":"business_transactions","labels":{"type":"card","status":"ok"},"value":1}
NDJSON
for _ in 1 2 3 4 5; do
  curl -sf -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary @"$work/events.ndjson" "$base/api/v1/events"
  curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' --data-binary '{"kind":"query","duraton_seconds":1}' "$base/api/v1/events" || true
  python3 - "$udp_port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
lines = [b"aishell.query:12.5|ms|#database:app,type:SELECT,status:success",
         b"aishell.request:50|ms|#method:GET,endpoint:/api/query,status:200",
         b"aishell.connection.active:7|g|#database:app",
         b"aishell.feature:1|c|@0.5|#feature:nl2sql",
         b"not a statsd line"]
s.sendto(b"\n".join(lines), ("127.0.0.1", int(sys.argv[1])))
PY
  PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -d aishell_test -c "SELECT count(*) FROM orders WHERE status = 'paid'" >/dev/null
  scrapes "$base"
done
# The profile is only worth having if the collectors really reached PostgreSQL.
curl -sf "$base/metrics" | grep -q '^aishell_up{database="app"} 1' \
  || { echo "code-layout.sh: scenario 2 never collected from PostgreSQL; its log:" >&2; tail -20 "$work/pg.log" >&2; exit 1; }
sed -i 's/collect_interval: 2s/collect_interval: 3s/' "$work/pg.yaml"
kill -HUP "$profiled"
sleep 4
scrapes "$base"
stop_profiled

echo "code-layout.sh: scenario 3 (TLS and access control)"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/key.pem" -out "$work/cert.pem" >/dev/null 2>&1
token=layout-profile-token-0123456789
port=$(free_port)
cat >"$work/tls.yaml" <<YAML
prometheus:
  host: 127.0.0.1
  port: $port
  web:
    tls_server_config:
      cert_file: $work/cert.pem
      key_file: $work/key.pem
    bearer_tokens: ['$token']
YAML
start_profiled tls "$work/tls.yaml" "$port"
scrapes "https://127.0.0.1:$port" -k -H "Authorization: Bearer $token"
curl -s -k -o /dev/null "https://127.0.0.1:$port/metrics" || true # a 401
stop_profiled

echo "code-layout.sh: scenario 4 (a cluster member, with a second, unprofiled member that joins and leaves)"
port=$(free_port); http_a=$port; http_b=$(free_port); remote_a=$(free_port); remote_b=$(free_port)
for member in a b; do
  http_var=http_$member; remote_var=remote_$member
  cat >"$work/cluster-$member.yaml" <<YAML
prometheus:
  host: 127.0.0.1
  port: ${!http_var}
  collect_interval: 2s
  cluster:
    enabled: true
    host: 127.0.0.1
    port: ${!remote_var}
    seed_nodes: [127.0.0.1:$remote_a, 127.0.0.1:$remote_b]
    down_after: 20s
$databases_yaml
YAML
done
start_profiled cluster "$work/cluster-a.yaml" "$http_a"
HOME=$work AISHELL_CONFIG="" "$bin" prometheus start --config "$work/cluster-b.yaml" >"$work/cluster-b.log" 2>&1 &
member_b=$!
pids+=("$member_b")
for _ in 1 2 3 4 5 6; do
  scrapes "http://127.0.0.1:$http_a"
  curl -sf -o /dev/null "http://127.0.0.1:$http_a/api/v1/targets" || true
done
kill -TERM "$member_b" # its databases move to the profiled member
wait "$member_b" || true
for _ in 1 2 3 4; do
  scrapes "http://127.0.0.1:$http_a"
done
curl -sf "http://127.0.0.1:$http_a/metrics" | grep -q '^aishell_cluster_members{status="up"}' \
  || { echo "code-layout.sh: scenario 4 is not a cluster member; its log:" >&2; tail -20 "$work/cluster.log" >&2; exit 1; }
stop_profiled

# Every function the profiles saw that the binary's symbol table knows, scenario by scenario, the
# most instructions first within a scenario.
nm --defined-only "$work/aishell.sym" | awk '$2 ~ /^[tT]$/ { print $3 }' >"$work/symbols"
python3 - "$work/symbols" "$work/defaults.out" "$work/pg.out" "$work/tls.out" "$work/cluster.out" >"$out.new" <<'PY'
import re, sys
symbols = set(open(sys.argv[1]).read().split())
listed = set()
for profile in sys.argv[2:]:
    names, cost, current, call_line = {}, {}, None, False
    for line in open(profile):
        m = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if m:
            if m[3] is not None:
                names[m[2]] = m[3].split("'")[0]
            if m[1] == "fn":
                current = names[m[2]]
                cost.setdefault(current, 0)
            continue
        if line.startswith("calls="):
            call_line = True  # the next cost line is the call's inclusive cost, not this function's own
            continue
        parts = line.split()
        if current and len(parts) >= 2 and re.match(r"^[-+*0-9]", parts[0]) and parts[1].isdigit():
            if call_line:
                call_line = False
            else:
                cost[current] += int(parts[1])
    for name in sorted(cost, key=lambda n: (-cost[n], n)):
        if name in symbols and name not in listed:
            listed.add(name)
            print(name)
    print(f"code-layout.sh: {profile.rsplit('/', 1)[-1]}: {len(listed)} methods listed so far", file=sys.stderr)
PY
mv "$out.new" "$out"
echo "code-layout.sh: wrote $out ($(wc -l <"$out") methods); rebuild with ./build.sh"
