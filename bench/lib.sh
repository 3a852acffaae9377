# Shared by the bench scripts (sourced, not run).

# bench_work [mktemp arguments]: a scratch directory in $work (readable by the postgres user, whose
# throwaway cluster may keep files there) and $pids, the processes to stop; on exit both are cleaned
# up, and the throwaway PostgreSQL cluster is destroyed when tests/postgres.sh started one.
bench_work() {
  work=$(mktemp -d "$@")
  chmod 755 "$work"
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ -n "${AISHELL_TEST_PG_DIR:-}" ]] && tests/postgres.sh destroy >/dev/null 2>&1 || true
  rm -rf "$work"
}

# A free TCP port on 127.0.0.1 (the kernel picks it; it may be taken again before use, rarely).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
