#!/usr/bin/env bash
# Builds the lab's Squid image (squid-openssl, socat, ca-certificates) without a registry.
# Usage: build-squid-image.sh IMAGE:TAG
# Where a Debian base image is already present locally it builds from the Dockerfile beside
# this script; otherwise it bootstraps a minimal Debian rootfs from the host's Debian mirror
# (debootstrap --variant=minbase) and imports it with `docker import`.
set -euo pipefail
image=${1:?usage: build-squid-image.sh IMAGE:TAG}
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
packages=squid-openssl,socat,ca-certificates

# One build at a time on this machine: a second run (another test process, CI job) waits here
# and then finds the image built. Under the lock, rootfs folders of interrupted builds are
# removed.
exec 9>"${TMPDIR:-/tmp}/proxy-conformance-image-build.lock"
flock 9
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image was built meanwhile"
  exit 0
fi
rm -rf "${TMPDIR:-/tmp}"/proxy-conformance-rootfs.* 2>/dev/null || true

if docker image inspect "debian:${suite}-slim" >/dev/null 2>&1; then
  echo "building $image from the Dockerfile (base debian:${suite}-slim is present)"
  exec docker build -t "$image" -f "$here/Dockerfile" "$here"
fi

mirror=${DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?$|https?://[^ ]+/debian ' | head -n1 | tr -d ' ' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

if ! command -v debootstrap >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "debootstrap is missing and this is not root: install it with 'sudo apt-get install -y debootstrap'" >&2
    exit 1
  fi
  echo "installing debootstrap"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

rootfs=$(mktemp -d "${TMPDIR:-/tmp}/proxy-conformance-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT
echo "bootstrapping Debian $suite from $mirror into $rootfs"
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale
echo "importing $image"
tar -C "$rootfs" -c . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "built $image"
