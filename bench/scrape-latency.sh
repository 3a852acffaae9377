#!/usr/bin/env bash
# HTTP scrape latency: dist/aishell against Debian's prometheus-postgres-exporter, the same five
# PostgreSQL databases, the same run, scrapes alternating one for one. Loopback only, bounded.
#   bench/scrape-latency.sh [scrapes-per-exporter, default 200]
# Needs root (apt installs prometheus-postgres-exporter and PostgreSQL when missing; the throwaway
# cluster runs as the postgres user, from tests/postgres.sh). Prints median/p90/p99 and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
scrapes=${1:-200}
bin=${AISHELL_BINARY:-dist/aishell}
[[ -x $bin ]] || { echo "no $bin: run ./build.sh" >&2; exit 1; }
if ! command -v prometheus-postgres-exporter >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus-postgres-exporter >/dev/null
fi

. bench/lib.sh
bench_work
eval "$(tests/postgres.sh start)"
port=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$AISHELL_TEST_PG")
password=$(cat "$AISHELL_TEST_PG_PASSWORD_FILE")

# Five databases, each with a few tables so the per-table views have rows to report.
dbs=(bench1 bench2 bench3 bench4 bench5)
for db in "${dbs[@]}"; do
  PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$port" -U postgres -d aishell_test -c "CREATE DATABASE $db" >/dev/null
  PGPASSWORD=$password psql -q -h 127.0.0.1 -p "$port" -U postgres -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE TABLE t1 AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g;
CREATE TABLE t2 AS SELECT g AS id FROM generate_series(1, 5000) g;
CREATE INDEX ON t1 (id);
ANALYZE;
SELECT count(*) FROM t1 WHERE id < 100;
SQL
done

# aishell: the five databases, default collectors (host included), collect interval 5 s.
ours_port=$(free_port)
{
  echo "prometheus:"
  echo "  enabled: true"
  echo "  host: 127.0.0.1"
  echo "  port: $ours_port"
  echo "  databases:"
  for db in "${dbs[@]}"; do
    echo "    - name: $db"
    echo "      connection_string: \"Host=127.0.0.1;Port=$port;Username=postgres;Database=$db\""
    echo "      password_file: $AISHELL_TEST_PG_PASSWORD_FILE"
  done
} >"$work/config.yaml"
HOME=$work $bin prometheus start --config "$work/config.yaml" >"$work/aishell.log" 2>&1 &
pids+=($!)

# postgres_exporter: the same five databases, discovered from one DSN (a DSN list to one server
# makes it answer 500: the server-wide views collide across DSNs); default collectors, which
# include the settings and the statements a typical deployment scrapes.
theirs_port=$(free_port)
DATA_SOURCE_NAME="postgresql://postgres:$password@127.0.0.1:$port/postgres?sslmode=disable" \
  prometheus-postgres-exporter --web.listen-address="127.0.0.1:$theirs_port" --log.level=warn \
  --auto-discover-databases --include-databases="$(IFS=,; echo "${dbs[*]}")" \
  >"$work/postgres_exporter.log" 2>&1 &
pids+=($!)

python3 - "$ours_port" "$theirs_port" "$scrapes" <<'PY'
import http.client, statistics, sys, time

ours, theirs, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def connect(port):
    deadline = time.time() + 30
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/metrics")
            body = c.getresponse().read()
            return c, body
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.05)

def scrape(c):
    start = time.perf_counter()
    c.request("GET", "/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    r = c.getresponse()
    body = r.read()
    took = time.perf_counter() - start
    if r.status != 200:
        raise SystemExit(f"scrape of port {c.port} answered {r.status}: {body[:300]!r}")
    return took, body

c_ours, _ = connect(ours)
c_theirs, _ = connect(theirs)
time.sleep(6)  # both past their first collection: ours has folded every database once
for c in (c_ours, c_theirs):  # warm up connections and caches
    for _ in range(5):
        scrape(c)

lat = {"aishell": [], "postgres_exporter": []}
sizes = {}
for i in range(n):
    order = [("aishell", c_ours), ("postgres_exporter", c_theirs)]
    if i % 2:
        order.reverse()  # alternate who goes first
    for name, c in order:
        took, body = scrape(c)
        lat[name].append(took * 1000)
        sizes[name] = (len(body), sum(1 for l in body.split(b"\n") if l and not l.startswith(b"#")))

def q(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]

print(f"{n} scrapes each, alternating, 5 databases, one keep-alive connection per exporter")
print(f"{'exporter':<18} {'median ms':>10} {'p90 ms':>8} {'p99 ms':>8} {'bytes':>8} {'samples':>8}")
for name in lat:
    v = lat[name]
    print(f"{name:<18} {statistics.median(v):>10.2f} {q(v, .9):>8.2f} {q(v, .99):>8.2f} {sizes[name][0]:>8} {sizes[name][1]:>8}")
ratio = statistics.median(lat["postgres_exporter"]) / statistics.median(lat["aishell"])
print(f"median ratio (postgres_exporter / aishell): {ratio:.1f}x")
PY
echo "RSS after the run: aishell $(awk '/VmRSS/ {print $2}' /proc/${pids[0]}/status) kB, postgres_exporter $(awk '/VmRSS/ {print $2}' /proc/${pids[1]}/status) kB"
