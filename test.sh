#!/usr/bin/env bash
# Runs every test: installs what the tests need (promtool and prometheus from the apt package
# `prometheus`; node and npm (and, with npm ci, the DogStatsD clients of tests/clients), htpasswd, openssl and podman when missing; PostgreSQL from apt, started as a throwaway cluster by tests/postgres.sh; clang and
# zlib1g-dev for the AOT build), publishes dist/aishell with ./build.sh, then runs all test
# projects. Integration tests start that native binary. A PostgreSQL test fails, never skips,
# when no server is reachable.
#
#   ./test.sh                      everything
#   ./test.sh --filter NAME        pass a filter to dotnet test (e.g. FullyQualifiedName~Config)
#   AISHELL_SKIP_BUILD=1 ./test.sh reuse an existing dist/aishell
set -euo pipefail
cd "$(dirname "$0")"

apt_packages=()
command -v promtool >/dev/null 2>&1 || apt_packages+=(prometheus)
command -v prometheus >/dev/null 2>&1 || apt_packages+=(prometheus)
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)   # the npm package test packs and installs for real
command -v htpasswd >/dev/null 2>&1 || apt_packages+=(apache2-utils)   # bcrypt hashes for the basic-auth tests
command -v openssl >/dev/null 2>&1 || apt_packages+=(openssl)   # test certificates for TLS
# The container image test: podman (runc: crun refuses some cgroup layouts), and the libraries the
# image carries, taken from this host by docker/stage-rootfs.sh.
command -v podman >/dev/null 2>&1 || apt_packages+=(podman)
command -v runc >/dev/null 2>&1 || apt_packages+=(runc)
command -v slirp4netns >/dev/null 2>&1 || apt_packages+=(slirp4netns)
command -v newuidmap >/dev/null 2>&1 || apt_packages+=(uidmap)
for pkg in libssl3 libgssapi-krb5-2 ca-certificates; do
  dpkg -s "$pkg" >/dev/null 2>&1 || apt_packages+=("$pkg")
done
if ((${#apt_packages[@]})); then
  echo "test.sh: installing ${apt_packages[*]} with apt"
  if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: need root (or preinstalled ${apt_packages[*]})" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}" >/dev/null
  export APT_UPDATED=1
fi
# The Debian package starts a prometheus service on :9090 on install; the tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl stop prometheus || true
fi

# Real DogStatsD clients from npm (hot-shots) for the client tests, at the versions package-lock.json pins.
# Their optional native addon (unix-dgram, for Unix sockets) is not built: the tests use UDP.
(cd tests/clients && npm ci --no-audit --no-fund --omit=optional --ignore-scripts --loglevel=error)

# A throwaway PostgreSQL (apt) for the PostgreSQL tests, unless one is handed in with AISHELL_TEST_PG.
if [[ -z "${AISHELL_TEST_PG:-}" ]]; then
  eval "$(tests/postgres.sh start)"
  trap 'tests/postgres.sh destroy' EXIT
fi

if [[ "${AISHELL_SKIP_BUILD:-}" != 1 || ! -x dist/aishell ]]; then
  ./build.sh
fi
export AISHELL_BINARY="$PWD/dist/aishell"

results=$(mktemp -d)
trap 'rm -rf "$results"; [[ -n "${AISHELL_TEST_PG_DIR:-}" ]] && tests/postgres.sh destroy' EXIT
set +e
dotnet test AiShell.Pipeline.sln -c Release -nologo -m:1 --blame-hang-timeout 10m --blame-hang-dump-type none "$@" 2>&1 \
  | tee "$results/console.log"
rc=${PIPESTATUS[0]}
# The exposition writer copies with 256-bit vectors where the CPU has them and 128-bit ones
# otherwise, which is what the native binary runs (Native AOT's default instruction set has no
# AVX2): the metrics tests again with AVX2 off, so the shipped path is tested under the JIT too.
for isa in DOTNET_EnableAVX2=0; do
  echo "test.sh: metrics tests with $isa"
  env "$isa" dotnet test tests/AiShell.Pipeline.Metrics.Tests -c Release -nologo --no-build "$@" 2>&1 \
    | tee -a "$results/console.log"
  (( PIPESTATUS[0] == 0 )) || rc=1
done
set -e

# One plain closing line for CI, summed over the per-project summaries
# ("Passed!  - Failed: 0, Passed: 47, Skipped: 0, Total: 47, ...").
read -r passed failed skipped < <(awk '
  /^(Passed|Failed)! +- +Failed: / {
    gsub(/,/, ""); f += $4; p += $6; s += $8
  }
  END { printf "%d %d %d\n", p, f, s }' "$results/console.log")
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if (( rc == 0 && passed == 0 )); then
  echo "test.sh: no test ran" >&2
  exit 1
fi
exit "$rc"
