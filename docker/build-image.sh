#!/usr/bin/env bash
# docker/build-image.sh [TAG]: builds the runtime image of docker/Dockerfile from dist/aishell (run
# ./build.sh first) with podman or docker, whichever is present, pulling nothing: the root filesystem
# is staged here (docker/stage-rootfs.sh, libraries from this host) and imported as a local image
# that the Dockerfile's runtime stage copies from. Prints the tag and the image size.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=dist/aishell
[[ -x $bin ]] || { echo "build-image.sh: $bin not found; run ./build.sh first" >&2; exit 1; }
version=$("$bin" --version)
tag=${1:-aishell-exporter:${version%%+*}}

if command -v podman >/dev/null 2>&1; then
  engine=podman
  flags=(--pull=never --format docker) # docker format: keeps HEALTHCHECK (the OCI format has no field for it)
elif command -v docker >/dev/null 2>&1; then
  engine=docker
  flags=() # docker's --pull is true/false; BuildKit finds the imported image locally and skips the unused SDK stages
else
  echo "build-image.sh: neither podman nor docker found (Debian: apt-get install podman runc slirp4netns uidmap)" >&2
  exit 1
fi

work=$(mktemp -d)
staged=localhost/aishell-rootfs:staged-$$
cleanup() { rm -rf "$work"; "$engine" rmi -f "$staged" >/dev/null 2>&1 || true; }
trap cleanup EXIT

mkdir -p "$work/context"
docker/stage-rootfs.sh "$bin" "$work/files/rootfs"
tar -C "$work/files" --numeric-owner --owner=0 --group=0 -cf - rootfs | "$engine" import - "$staged" >/dev/null 2>"$work/import.log" || { cat "$work/import.log" >&2; exit 1; }

# The source label without credentials a CI clone URL may carry (https://token@host/...).
source=$(git remote get-url origin 2>/dev/null | sed -E 's#^([a-z+]+://)[^@/]+@#\1#' || true)
"$engine" build "${flags[@]}" -f docker/Dockerfile --target runtime \
  --build-arg ROOTFS="$staged" --build-arg VERSION="$version" \
  --build-arg SOURCE="${source:-unknown}" \
  --build-arg REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)" \
  -t "$tag" "$work/context" >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

size=$("$engine" image inspect --format '{{.Size}}' "$tag")
echo "build-image.sh: $tag, $size bytes ($engine)"
