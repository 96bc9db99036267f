#!/usr/bin/env bash
# The Docker engine and images the image tests need: `bash scripts/docker.sh up|down|base|image`.
#
#   up     install Debian's docker.io when there is no engine, and start a daemon when none runs. The daemon gets no
#          bridge and no iptables rules: containers run with --network host only, so no traffic can go anywhere
#          but loopback. Prints nothing on success; says why on stderr and exits 1 when Docker cannot run here.
#   down   stop the daemon that `up` started (by the pid it recorded), and only that one.
#   base   print the base image to build FROM: Airbyte's python-connector-base when it is already in the local
#          image store, else a stand-in built once from Debian packages (debootstrap, the mirror of this machine's
#          own apt sources) and kept in the image store for later runs.
#   image  build the connector image from ./Dockerfile on that base and print its tag.
set -euo pipefail
cd "$(dirname "$0")/.."

AIRBYTE_BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)
# Bump the suffix when the recipe below changes, so a cached stand-in is rebuilt.
STANDIN_BASE=source-pinterest-standin-base:bookworm-py311-1
IMAGE=source-pinterest:dev
RUN_DIR=/tmp/source-pinterest-dockerd
PID_FILE="$RUN_DIR/dockerd.pid"

say() { echo "docker.sh: $*" >&2; }

engine_up() { docker info >/dev/null 2>&1; }

up() {
  if engine_up; then return 0; fi
  if ! command -v dockerd >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
      say "no Docker engine, and Debian's docker.io cannot be installed here (needs root and apt-get)"; return 1
    fi
    say "installing Debian's docker.io"
    (apt-get install -y -qq docker.io >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq docker.io; }) \
      >/dev/null || { say "apt-get install docker.io failed"; return 1; }
  fi
  if [ "$(id -u)" != 0 ]; then say "a Docker daemon must be started as root"; return 1; fi
  mkdir -p "$RUN_DIR"
  dockerd --bridge=none --iptables=false --ip-masq=false --pidfile "$PID_FILE" >"$RUN_DIR/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do
    if engine_up; then say "started dockerd (pid $(cat "$PID_FILE"), log $RUN_DIR/dockerd.log)"; return 0; fi
    sleep 0.5
  done
  say "dockerd did not come up within 30 s; its log:"; tail -n 20 "$RUN_DIR/dockerd.log" >&2 || true
  return 1
}

down() {
  [ -f "$PID_FILE" ] || return 0
  local pid; pid=$(cat "$PID_FILE")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    say "stopped dockerd (pid $pid)"
  fi
  rm -f "$PID_FILE"
}

apt_mirror() {
  # The first deb URI of this machine's apt sources that serves bookworm (deb822 or one-line format).
  local uri
  uri=$(awk '/^URIs:/{u=$2} /^Suites:/{ if ($0 ~ /[ \t]bookworm([ \t]|$)/ && u != "") {print u; exit} }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "$uri"
}

build_standin() {
  command -v debootstrap >/dev/null 2>&1 || apt-get install -y -qq debootstrap >/dev/null
  local mirror root
  mirror=$(apt_mirror)
  [ -n "$mirror" ] || { say "no bookworm mirror in this machine's apt sources"; return 1; }
  root=$(mktemp -d /tmp/source-pinterest-rootfs.XXXXXX)
  say "building the stand-in base $STANDIN_BASE (debootstrap bookworm, about a minute)"
  debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$root" "$mirror" \
    >"$root.log" 2>&1 || { say "debootstrap failed; see $root.log"; return 1; }
  # This network's TLS proxy signs with the host's CA bundle; pip in the image build needs it.
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  chroot "$root" python3 -m venv /usr/local/venv
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  tar -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    - "$STANDIN_BASE" >/dev/null
  rm -rf "$root" "$root.log"
}

base() {
  if docker image inspect "$AIRBYTE_BASE" >/dev/null 2>&1; then echo "$AIRBYTE_BASE"; return 0; fi
  docker image inspect "$STANDIN_BASE" >/dev/null 2>&1 || build_standin
  echo "$STANDIN_BASE"
}

image() {
  local from; from=$(base)
  say "building $IMAGE FROM $from"
  docker build --quiet --network host --build-arg BASE_IMAGE="$from" -t "$IMAGE" . >/dev/null
  echo "$IMAGE"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  base) base ;;
  image) image ;;
  *) echo "usage: bash scripts/docker.sh up|down|base|image" >&2; exit 2 ;;
esac
