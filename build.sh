#!/usr/bin/env bash
# Publishes the Native AOT executable to dist/aishell.
#
# Installs clang and zlib1g-dev with apt when missing (the AOT linker needs them). Every ILC
# warning is classified by the assembly it comes from: any from our own code (AiShell.*), or from a
# third-party assembly not pinned below, or above its pinned count, fails the build. Keeping Akka's
# reflection-created types (src/AiShell.Cli/AkkaRoots.xml, AkkaClusterRoots.xml) brings the pinned
# third-party ones: Akka's reflection over config-named types (24 from Akka itself, 80 from remoting,
# cluster, sharding and distributed data), and DotNetty's lookup of its handlers' methods.
# Newtonsoft.Json is not in the binary (Akka's serializers are replaced by LocalOnlySerializer, and
# the JSON serializer's bodies by throws), and so is System.Configuration.ConfigurationManager (Akka's
# app.config lookup is stubbed out by src/AiShell.Cli/AkkaSubstitutions.xml).
set -euo pipefail
cd "$(dirname "$0")"

declare -A PINNED=(
  [Akka]=104
  [unclassified(DotNetty.Transport.Channels.AbstractChannelHandlerContext.IsSkippable)]=1
)

apt_install() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "build.sh: missing $* and not root; install them with apt-get" >&2
    exit 1
  fi
  if [[ -z "${APT_UPDATED:-}" ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    export APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
dpkg -s zlib1g-dev >/dev/null 2>&1 || missing+=(zlib1g-dev)
if ((${#missing[@]})); then
  echo "build.sh: installing ${missing[*]}"
  apt_install "${missing[@]}"
fi

case "$(uname -m)" in
  x86_64) rid=linux-x64 ;;
  aarch64) rid=linux-arm64 ;;
  *) echo "build.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac

mkdir -p artifacts
log=artifacts/publish.log
rm -rf dist
# ILC skips an up-to-date native build and then prints no warnings: always let it run.
rm -rf src/AiShell.Cli/obj/Release/net10.0/"$rid"/native
echo "build.sh: publishing src/AiShell.Cli for $rid (Native AOT)..."
if ! dotnet publish src/AiShell.Cli/AiShell.Cli.csproj -c Release -r "$rid" -o dist -nologo >"$log" 2>&1; then
  grep -E "error|Error" "$log" | sort -u | head -40 >&2
  echo "build.sh: publish failed; full log in $log" >&2
  exit 1
fi

# One line per distinct warning: ILC prints each once, MSBuild may repeat it in its summary.
mapfile -t warnings < <(grep -E "warning IL[23][0-9]{3}" "$log" | sed -E 's/ \[[^]]*\]$//' | sort -u)

declare -A counts=()
ours=()
for line in "${warnings[@]}"; do
  if [[ ! $line =~ ^ILC\ : ]]; then
    ours+=("$line")   # a warning with a source location is in code we compiled from source
    continue
  fi
  member=$(sed -E 's/.*warning IL[0-9]{4}: //' <<<"$line")
  case "$member" in
    AiShell.*) ours+=("$line"); continue ;;
    Akka.*) asm=Akka ;;
    Newtonsoft.Json.*) asm=Newtonsoft.Json ;;
    System.Configuration.*) asm=System.Configuration.ConfigurationManager ;;
    *) asm="unclassified(${member%%(*})" ;;
  esac
  counts[$asm]=$(( ${counts[$asm]:-0} + 1 ))
done

status=0
echo "build.sh: ILC warnings by assembly (pinned maximum in brackets):"
echo "  AiShell.* (ours): ${#ours[@]} [0]"
for asm in "${!counts[@]}"; do
  pin=${PINNED[$asm]:-}
  if [[ -z $pin ]]; then
    echo "  $asm: ${counts[$asm]} [not pinned: a new third-party source of warnings]"
    status=1
  elif (( counts[$asm] > pin )); then
    echo "  $asm: ${counts[$asm]} [$pin] MORE THAN PINNED"
    status=1
  else
    echo "  $asm: ${counts[$asm]} [$pin]"
  fi
done
if ((${#ours[@]})); then
  printf '  %s\n' "${ours[@]}" >&2
  status=1
fi
if ((status)); then
  echo "build.sh: warning policy violated; full log in $log" >&2
  exit 1
fi

# Keep dist/ to the executable; debug symbols go to artifacts/.
mv -f dist/*.dbg artifacts/ 2>/dev/null || true

# The code layout (src/AiShell.Cli/aishell.order, from bench/code-layout.sh) names methods: code
# changes rename or remove some, and the ones that no longer exist lose their place at the front.
# Below the floor, the idle RSS the layout buys is no longer there: regenerate it.
order=src/AiShell.Cli/aishell.order
order_floor=80
if [[ -f $order && -f artifacts/aishell.dbg ]]; then
  listed=$(grep -c . "$order")
  found=$(nm --defined-only artifacts/aishell.dbg | awk '$2 ~ /^[tT]$/ { print $3 }' | LC_ALL=C sort -u \
    | LC_ALL=C comm -12 - <(LC_ALL=C sort -u "$order") | wc -l)
  percent=$(( found * 100 / listed ))
  echo "build.sh: code layout: $found of $listed methods of $order are in the binary (${percent}%, floor ${order_floor}%)"
  if (( percent < order_floor )); then
    echo "build.sh: the code layout is stale; regenerate it with bench/code-layout.sh" >&2
    exit 1
  fi
fi
rm -f dist/*.pdb
size=$(stat -c %s dist/aishell)
echo "build.sh: dist/aishell ($(( size / 1024 / 1024 )) MiB, $size bytes)"
