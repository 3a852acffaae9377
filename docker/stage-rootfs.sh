#!/usr/bin/env bash
# docker/stage-rootfs.sh BINARY OUT: stages the runtime image's whole root filesystem in OUT.
#
# What the image holds, and nothing else: the native binary; exactly the shared libraries it loads:
# its own (libc, libm, the loader) and the ones it opens at run time (libssl and libcrypto for TLS
# and SCRAM, libgssapi_krb5 because Npgsql tries GSS encryption before TLS), each with its
# dependencies, copied from where this host's loader finds them; the CA certificates; passwd, group
# (the exporter's user, uid/gid 10001) and nsswitch.conf; an empty /tmp and home (nothing writes there). Used by docker/build-image.sh
# on the build host and by the Dockerfile's rootfs stage, so both paths ship the same files.
set -euo pipefail
bin=${1:?usage: stage-rootfs.sh BINARY OUT}
out=${2:?usage: stage-rootfs.sh BINARY OUT}

rm -rf "$out"
mkdir -p "$out/usr/local/bin" "$out/etc/ssl/certs" "$out/tmp" "$out/home/aishell"
install -m 0755 "$bin" "$out/usr/local/bin/aishell"

# The libraries the binary opens by name at run time, as this host's loader resolves them. The
# cache is read once (ldconfig is in /sbin, off a non-root PATH; awk stopping early would SIGPIPE it).
ldconfig=$(command -v ldconfig || echo /sbin/ldconfig)
ldcache=$("$ldconfig" -p)
runtime_libs=()
for soname in libssl.so.3 libcrypto.so.3 libgssapi_krb5.so.2; do
  path=$(awk -v so="$soname" '$1 == so && !found { print $NF; found = 1 }' <<<"$ldcache")
  if [[ -z $path ]]; then
    echo "stage-rootfs.sh: $soname not found on this host (Debian: apt-get install libssl3 libgssapi-krb5-2)" >&2
    exit 1
  fi
  runtime_libs+=("$path")
done

# Every file ldd names for the binary and those libraries (their dependencies included), and the
# loader, at the path the loader looks for it; symlinks resolved to the file they name.
declare -A copied=()
for object in "$bin" "${runtime_libs[@]}"; do
  # ldd's output checked first: a dependency it cannot find (or a binary of another architecture)
  # must stop the build here, not the container at its first connection.
  if ! deps=$(ldd "$object" 2>&1) || grep -q "not found" <<<"$deps"; then
    echo "stage-rootfs.sh: ldd $object: $deps" >&2
    exit 1
  fi
  while read -r lib; do
    [[ -n $lib && -z ${copied[$lib]:-} ]] || continue
    copied[$lib]=1
    mkdir -p "$out$(dirname "$lib")"
    cp -L "$lib" "$out$lib"
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$deps"; [[ $object == "$bin" ]] || echo "$object")
done

if [[ ! -f /etc/ssl/certs/ca-certificates.crt ]]; then
  echo "stage-rootfs.sh: /etc/ssl/certs/ca-certificates.crt not found (Debian: apt-get install ca-certificates)" >&2
  exit 1
fi
cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/ca-certificates.crt"

printf 'root:x:0:0:root:/root:/sbin/nologin\naishell:x:10001:10001:aishell exporter:/home/aishell:/sbin/nologin\n' >"$out/etc/passwd"
printf 'root:x:0:\naishell:x:10001:\n' >"$out/etc/group"
# Without this file glibc asks DNS before /etc/hosts and stops at any DNS answer: names the
# container runtime writes to /etc/hosts (--add-host, host.containers.internal, hostAliases) would fail.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$out/etc/nsswitch.conf"
chmod 1777 "$out/tmp"
echo "stage-rootfs.sh: $(find "$out" -type f | wc -l) files, $(du -sk "$out" | cut -f1) KiB in $out" >&2
