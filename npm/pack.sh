#!/usr/bin/env bash
# Packs the npm packages around dist/aishell (run ./build.sh first) into artifacts/npm/:
# the launcher @aishell/prometheus-exporter and the package for this machine's platform.
#   npm/pack.sh                 -> artifacts/npm/*.tgz
#   npm install -g artifacts/npm/aishell-prometheus-exporter-linux-x64-*.tgz artifacts/npm/aishell-prometheus-exporter-[0-9]*.tgz
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x dist/aishell ]] || { echo "npm/pack.sh: no dist/aishell; run ./build.sh first" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm/pack.sh: npm not found" >&2; exit 1; }
version=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' Directory.Build.props)
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) echo "unsupported $(uname -m)" >&2; exit 1 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out="$PWD/artifacts/npm"
mkdir -p "$out"
rm -f "$out"/*.tgz

cp -r npm/prometheus-exporter "$work/launcher"
cp -r "npm/prometheus-exporter-linux-$arch" "$work/platform"
mkdir -p "$work/platform/bin"
cp dist/aishell "$work/platform/bin/aishell"
chmod 755 "$work/platform/bin/aishell" "$work/launcher/bin/aishell.js"
for pkg in "$work/launcher/package.json" "$work/platform/package.json"; do
  sed -i "s/0.0.0-set-by-pack/$version/g" "$pkg"
done

(cd "$work/platform" && npm pack --silent --pack-destination "$out" >/dev/null)
(cd "$work/launcher" && npm pack --silent --pack-destination "$out" >/dev/null)
ls -1 "$out"
