#!/usr/bin/env bash
# Builds one container image from Debian packages, without a registry. The recipe comes from
# the environment (the lab's `DebianImage` sets it; the script is embedded in the binary and
# written to a temporary file, so an installed binary needs no source tree):
#   PC_IMAGE         image reference to create, NAME:TAG
#   PC_SUITE         Debian suite (bookworm, trixie, ...)
#   PC_PACKAGES      packages to install, separated by spaces (apt resolves their dependencies)
#   PC_POST_INSTALL  optional shell snippet run with /bin/sh inside the new root (chroot)
#   PC_CHANGES       optional image settings, one Dockerfile instruction a line
#                    (ENTRYPOINT [...], CMD [...], ENV K=V, WORKDIR, EXPOSE)
#   DEBIAN_MIRROR    optional; default: the host's apt mirror, else deb.debian.org
# By hand: PC_IMAGE=x/y:t PC_SUITE=bookworm PC_PACKAGES="socat" bash build-debian-image.sh
#
# Where debian:<suite>-slim is already present locally it builds with `docker build` from a
# generated Dockerfile; otherwise it bootstraps a minimal Debian root from the mirror
# (debootstrap --variant=minbase), installs the packages with apt-get inside it, runs the
# post-install snippet, and imports the tree with `docker import`.
set -euo pipefail
image=${PC_IMAGE:?PC_IMAGE (NAME:TAG) is required}
suite=${PC_SUITE:?PC_SUITE is required}
packages=${PC_PACKAGES:?PC_PACKAGES is required}
post_install=${PC_POST_INSTALL:-}
changes=${PC_CHANGES:-}
tmp=${TMPDIR:-/tmp}

# One build at a time on this machine, whatever the image: a second run (another test process,
# CI job) waits here and then finds the image built. Under the lock, the rootfs folders of
# interrupted builds are removed (nobody else can be using them).
exec 9>"$tmp/proxy-conformance-image-build.lock"
flock 9
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image was built meanwhile"
  exit 0
fi
rm -rf "$tmp"/proxy-conformance-rootfs.* 2>/dev/null || true

if docker image inspect "debian:${suite}-slim" >/dev/null 2>&1; then
  echo "building $image with docker build (base debian:${suite}-slim is present)"
  context=$(mktemp -d "$tmp/proxy-conformance-rootfs.XXXXXX")
  trap 'rm -rf "$context"' EXIT
  printf '%s\n' "$post_install" >"$context/post-install.sh"
  {
    echo "FROM debian:${suite}-slim"
    echo "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages && rm -rf /var/lib/apt/lists/*"
    echo "COPY post-install.sh /tmp/post-install.sh"
    echo "RUN /bin/sh -e /tmp/post-install.sh && rm /tmp/post-install.sh"
    printf '%s\n' "$changes"
  } >"$context/Dockerfile"
  docker build -q -t "$image" "$context" >/dev/null
  echo "built $image"
  exit 0
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

rootfs=$(mktemp -d "$tmp/proxy-conformance-rootfs.XXXXXX")
log="$rootfs.log"
trap 'rm -rf "$rootfs" "$log"' EXIT
step() { # step DESCRIPTION COMMAND...: runs quietly, shows the log's tail on failure
  local what=$1; shift
  echo "$what"
  if ! "$@" >>"$log" 2>&1; then
    echo "failed: $what" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 HOME=/root "$@"; }

step "bootstrapping Debian $suite from $mirror into $rootfs" \
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror"
# Packages go in with apt-get, not `debootstrap --include`: debootstrap does not resolve
# virtual packages (mitmproxy's python3-cffi-backend-api-* left python3-cryptography
# unconfigured). Services must not start inside the build root.
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"
step "installing $packages" in_root sh -c \
  "apt-get update -q && apt-get install -y -q --no-install-recommends $packages"
if [ -n "$post_install" ]; then
  printf '%s\n' "$post_install" >"$rootfs/tmp/post-install.sh"
  step "running the post-install snippet" in_root /bin/sh -e /tmp/post-install.sh
  rm -f "$rootfs/tmp/post-install.sh"
fi
in_root apt-get clean >/dev/null 2>&1 || true
rm -f "$rootfs/usr/sbin/policy-rc.d"
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
  "$rootfs"/usr/share/doc "$rootfs"/usr/share/man "$rootfs"/usr/share/locale \
  "$rootfs"/var/log/apt/* "$rootfs"/var/log/dpkg.log "$rootfs"/var/log/bootstrap.log
: >"$rootfs/etc/resolv.conf"

import_changes=()
while IFS= read -r line; do
  [ -n "$line" ] && import_changes+=(--change "$line")
done <<<"$changes"
echo "importing $image"
tar -C "$rootfs" -c . | docker import "${import_changes[@]}" - "$image" >/dev/null
echo "built $image"
