#!/usr/bin/env bash
# Builds the creni-node container image with docker or podman and checks it end to end: C-ECHO, one C-STORE, one
# result in the mounted OUTPUT/, the health check, and a clean drain on SIGTERM. Prints the image size and which
# way the image ran. Run as root (podman builds without a daemon: --isolation=chroot).
#
# Where no registry is reachable, the Debian 12 base (debian:12-slim) is made locally with debootstrap from the
# Debian archive. Where the OCI runtime may not start containers here, the exported image root is run with chroot
# as the image's user and entrypoint instead: the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."

image="${CRENI_IMAGE:-creni-node:test}"
say() { printf 'container-test: %s\n' "$*"; }
fail() { say "FAILED: $*"; exit 1; }

if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=docker
elif command -v podman >/dev/null; then
  engine=podman
else
  scripts/install-deps.sh container
  engine=podman
fi
command -v storescu >/dev/null || scripts/install-deps.sh test
say "engine: $engine"

work="$(mktemp -d /var/tmp/creni-container-test.XXXXXX)"
container=""
node_pid=""
cleanup() {
  if [ -n "$container" ]; then $engine rm -f "$container" >/dev/null 2>&1 || true; fi
  if [ -n "$node_pid" ] && kill -0 "$node_pid" 2>/dev/null; then kill -KILL "$node_pid" 2>/dev/null || true; fi
  if mountpoint -q "$work/root/proc" 2>/dev/null; then umount "$work/root/proc" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --- the base image -------------------------------------------------------------------------------------------
if ! $engine image inspect debian:12-slim >/dev/null 2>&1; then
  if ! timeout 60 $engine pull docker.io/library/debian:12-slim >/dev/null 2>&1; then
    say "no registry: making debian:12-slim with debootstrap --variant=minbase bookworm"
    command -v debootstrap >/dev/null || scripts/install-deps.sh container
    base="$work/base"
    debootstrap --variant=minbase bookworm "$base" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
    # What the official slim image leaves out: documentation, manuals, translations, package caches.
    cat >"$base/etc/dpkg/dpkg.cfg.d/slim" <<'SLIM'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
SLIM
    find "$base/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
    rm -rf "$base"/usr/share/{man,info,locale,lintian}/* "$base"/var/cache/apt/archives/*.deb \
           "$base"/var/lib/apt/lists/*
    tar -C "$base" -c . | $engine import - debian:12-slim >/dev/null
    rm -rf "$base"
  fi
fi

# --- build ------------------------------------------------------------------------------------------------------
say "building $image"
if [ "$engine" = podman ]; then
  # docker format keeps HEALTHCHECK (the OCI format has no field for it).
  podman build --isolation=chroot --format docker -t "$image" . >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log"; fail "image build"; }
else
  docker build -t "$image" . >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "image build"; }
fi
size_bytes="$($engine image inspect "$image" --format '{{.Size}}')"
size_mb=$((size_bytes / 1000000))
say "image size: ${size_mb} MB"
[ "$size_mb" -lt 300 ] || fail "the image is ${size_mb} MB, over the 300 MB budget"
[ "$($engine image inspect "$image" --format '{{.Config.User}}')" = "10001:10001" ] || fail "image user is not 10001"
healthcheck="$($engine image inspect "$image" --format '{{json .Config.Healthcheck}}')"
case "$healthcheck" in *healthz*) ;; *) fail "no HEALTHCHECK on /healthz: $healthcheck" ;; esac

# --- test data: one CT slice ------------------------------------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
http_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/data/INPUT" "$work/data/OUTPUT" "$work/data/state" "$work/conf"
python3 - "$work/slice.dcm" <<'PY'
import sys
sys.path.insert(0, "bench")
import dicomgen
dicomgen.write_slice(sys.argv[1], dicomgen.uid(9, 1), dicomgen.uid(9, 2), dicomgen.uid(9, 3, 1), 1,
                     dicomgen.make_pixels(64, 64, 1), 64, 64)
PY
# The image's own config with this run's ports (host networking: the test's ports must be free ones).
sed -e "s/^port = 11112/port = $port/" -e "s/^bind = .*/bind = \"127.0.0.1\"/" conf/creni-node.toml \
  > "$work/conf/creni-node.toml"
if grep -q '^\[http\]' "$work/conf/creni-node.toml"; then
  sed -i "s/^listen = .*/listen = \"127.0.0.1:$http_port\"/" "$work/conf/creni-node.toml"
else
  printf '\n[http]\nlisten = "127.0.0.1:%s"\n' "$http_port" >>"$work/conf/creni-node.toml"
fi
chown -R 10001:10001 "$work/data"

health() {  # the image's HEALTHCHECK command, on this run's HTTP port
  bash -c "exec 3<>/dev/tcp/127.0.0.1/$http_port && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && head -n1 <&3 | grep -q ' 200 '"
}
wait_for() {  # seconds, command...
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do [ $SECONDS -lt $deadline ] || return 1; sleep 0.3; done
}

# --- run: a container if the runtime starts one here, else the exported root under chroot ----------------------
way=""
if $engine run -d --name "creni-container-test-$$" --network host --read-only --tmpfs /tmp \
     -v "$work/data:/data" -v "$work/conf:/etc/creni-node:ro" "$image" >"$work/run.log" 2>&1; then
  container="creni-container-test-$$"
  if wait_for 30 health; then
    way="container ($engine run --read-only, user 10001, host network)"
  else
    say "the container did not become healthy; its log:"; $engine logs "$container" 2>&1 | tail -20
    $engine rm -f "$container" >/dev/null 2>&1 || true; container=""
  fi
else
  say "$engine run refused here: $(tail -1 "$work/run.log")"
fi
if [ -z "$way" ]; then
  say "running the exported image root with chroot as user 10001 and the image's entrypoint instead"
  id="$($engine create "$image")"; mkdir -p "$work/root"
  $engine export "$id" | tar -C "$work/root" -x; $engine rm "$id" >/dev/null
  cp "$work/conf/creni-node.toml" "$work/root/etc/creni-node/creni-node.toml"
  rm -rf "$work/root/data" && mv "$work/data" "$work/root/data" && ln -s "$work/root/data" "$work/data"
  mount -t proc proc "$work/root/proc"
  # tini is not PID 1 here: as a child subreaper it still reaps what the node's children leave behind.
  TINI_SUBREAPER=1 chroot --userspec=10001:10001 "$work/root" /bin/bash -c \
    'cd /data && exec /usr/bin/tini -- /usr/local/bin/creni-node run --config /etc/creni-node/creni-node.toml' \
    >"$work/node.log" 2>&1 &
  node_pid=$!
  wait_for 30 health || { tail -20 "$work/node.log"; fail "the node in the image root did not become healthy"; }
  way="chroot of the exported image root (user 10001, the image's entrypoint)"
fi
say "ran as: $way"

# --- end to end -------------------------------------------------------------------------------------------------
echoscu -aec CRENI 127.0.0.1 "$port" || fail "C-ECHO"
say "C-ECHO ok"
storescu -aet GATEWAY_1 -aec CRENI 127.0.0.1 "$port" "$work/slice.dcm" || fail "C-STORE"
say "C-STORE ok"
wait_for 60 bash -c "find '$work/data/OUTPUT' -name '*.dcm' | grep -q ." || fail "no result in the mounted OUTPUT"
result="$(find "$work/data/OUTPUT" -name '*.dcm' | head -1)"
dcmdump +P 0008,1030 "$result" | grep -q ScreenedByAI || fail "the result is not marked"
say "result in OUTPUT: ${result#"$work"/data/}"

# --- drain on SIGTERM -------------------------------------------------------------------------------------------
if [ -n "$container" ]; then
  $engine stop -t 30 "$container" >/dev/null
  code="$($engine inspect "$container" --format '{{.State.ExitCode}}')"
else
  kill -TERM "$node_pid"; code=0; wait "$node_pid" || code=$?; node_pid=""
fi
[ "$code" = 0 ] || fail "the node exited $code on SIGTERM"
say "stopped cleanly on SIGTERM (exit 0)"
say "PASSED: image ${size_mb} MB, ran as $way"
