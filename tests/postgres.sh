#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, from Debian's packages (installed when missing),
# on 127.0.0.1 and a free port, with pg_stat_statements preloaded and password (scram) auth.
#
#   eval "$(tests/postgres.sh start)"   creates and starts it; prints the exports the tests read:
#                                       AISHELL_TEST_PG (Npgsql connection string), AISHELL_TEST_PG_DIR,
#                                       AISHELL_TEST_PG_CTL (this script), AISHELL_TEST_PG_PASSWORD_FILE
#   tests/postgres.sh stop|restart|freeze|thaw   (needs AISHELL_TEST_PG_DIR)
#   tests/postgres.sh standby            starts a streaming standby; prints its connection string
#   tests/postgres.sh standby-destroy    stops and removes it
#   tests/postgres.sh destroy                          stops it and removes its directory
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -z $dir ]]; then
    echo "postgres.sh: installing postgresql with apt" >&2
    [[ $(id -u) -eq 0 ]] || { echo "postgres.sh: need root to install postgresql" >&2; exit 1; }
    [[ -n "${APT_UPDATED:-}" ]] || DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib >/dev/null 2>&1 \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    # The package may start its own cluster on 5432; ours uses its own port and directory.
    dir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$dir"
}

as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

need_dir() {
  [[ -n "${AISHELL_TEST_PG_DIR:-}" && -d "$AISHELL_TEST_PG_DIR/data" ]] \
    || { echo "postgres.sh: AISHELL_TEST_PG_DIR does not name a cluster" >&2; exit 1; }
}

postmaster_pid() { head -n 1 "$AISHELL_TEST_PG_DIR/data/postmaster.pid"; }

cmd=${1:-}
case "$cmd" in
  start)
    bin=$(pg_bin)
    dir=$(mktemp -d /tmp/aishell-pg.XXXXXX)
    chmod 755 "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
    printf '%s' "$password" >"$dir/password"
    chmod 600 "$dir/password"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir"
    as_pg "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # TLS with a throwaway self-signed certificate: clients may ask for sslmode=require (the container test does).
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=aishell-test-pg" \
      -keyout "$dir/server.key" -out "$dir/server.crt" >/dev/null 2>&1
    chmod 600 "$dir/server.key"
    [[ $(id -u) -eq 0 ]] && chown postgres "$dir/server.key" "$dir/server.crt"
    as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
max_connections = 60
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
CONF
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres)
    as_pg "${psql[@]}" -d postgres -c "ALTER USER postgres PASSWORD '$password'" -c "CREATE DATABASE aishell_test" >/dev/null
    as_pg "${psql[@]}" -d aishell_test -c "CREATE EXTENSION pg_stat_statements" >/dev/null
    echo "export AISHELL_TEST_PG='Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=aishell_test'"
    echo "export AISHELL_TEST_PG_DIR='$dir'"
    echo "export AISHELL_TEST_PG_CTL='$(cd "$(dirname "$0")" && pwd)/postgres.sh'"
    echo "export AISHELL_TEST_PG_PASSWORD_FILE='$dir/password'"
    echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir" >&2
    ;;
  stop)
    need_dir
    as_pg "$(pg_bin)/pg_ctl" -D "$AISHELL_TEST_PG_DIR/data" -m fast -w stop >/dev/null
    ;;
  restart | start-again)
    need_dir
    as_pg "$(pg_bin)/pg_ctl" -D "$AISHELL_TEST_PG_DIR/data" -l "$AISHELL_TEST_PG_DIR/server.log" -w -t 60 start >/dev/null
    ;;
  standby)
    # A streaming standby of the cluster on another free port; prints its Npgsql connection string.
    need_dir
    bin=$(pg_bin)
    port=$(awk -F'[ =]+' '/^port/ {print $2}' "$AISHELL_TEST_PG_DIR/data/postgresql.conf" | tail -n 1)
    sport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    rm -rf "$AISHELL_TEST_PG_DIR/standby"
    as_pg "$bin/pg_basebackup" -h "$AISHELL_TEST_PG_DIR" -p "$port" -U postgres -D "$AISHELL_TEST_PG_DIR/standby" -R -X stream -c fast >/dev/null
    echo "port = $sport" | as_pg tee -a "$AISHELL_TEST_PG_DIR/standby/postgresql.auto.conf" >/dev/null
    echo "primary_conninfo = 'host=$AISHELL_TEST_PG_DIR port=$port user=postgres application_name=aishell_standby'" \
      | as_pg tee -a "$AISHELL_TEST_PG_DIR/standby/postgresql.auto.conf" >/dev/null
    as_pg "$bin/pg_ctl" -D "$AISHELL_TEST_PG_DIR/standby" -l "$AISHELL_TEST_PG_DIR/standby.log" -w -t 60 start >/dev/null \
      || { cat "$AISHELL_TEST_PG_DIR/standby.log" >&2; exit 1; }
    echo "Host=127.0.0.1;Port=$sport;Username=postgres;Password=$(cat "$AISHELL_TEST_PG_DIR/password");Database=aishell_test"
    ;;
  standby-destroy)
    need_dir
    if [[ -d "$AISHELL_TEST_PG_DIR/standby" ]]; then
      as_pg "$(pg_bin)/pg_ctl" -D "$AISHELL_TEST_PG_DIR/standby" -m immediate -w stop >/dev/null 2>&1 || true
      rm -rf "$AISHELL_TEST_PG_DIR/standby"
    fi
    ;;
  freeze)
    # The postmaster and every backend: existing connections hang too, as on a frozen host.
    need_dir
    pid=$(postmaster_pid)
    kill -STOP "$pid" $(pgrep -P "$pid") ;;
  thaw)
    need_dir
    pid=$(postmaster_pid)
    kill -CONT "$pid" $(pgrep -P "$pid") ;;
  destroy)
    if [[ -n "${AISHELL_TEST_PG_DIR:-}" && -d "$AISHELL_TEST_PG_DIR" ]]; then
      if [[ -d "$AISHELL_TEST_PG_DIR/standby" ]]; then
        as_pg "$(pg_bin)/pg_ctl" -D "$AISHELL_TEST_PG_DIR/standby" -m immediate -w stop >/dev/null 2>&1 || true
      fi
      kill -CONT "$(postmaster_pid 2>/dev/null)" 2>/dev/null || true
      as_pg "$(pg_bin)/pg_ctl" -D "$AISHELL_TEST_PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
      rm -rf "$AISHELL_TEST_PG_DIR"
    fi
    ;;
  *)
    echo "usage: $0 start|stop|restart|standby|standby-destroy|freeze|thaw|destroy" >&2
    exit 2
    ;;
esac
