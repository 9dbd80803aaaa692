#!/usr/bin/env bash
# A second Blender, 4.x, beside Debian 12's 3.4: builds (once) a Debian 13 root holding Debian's
# `blender` (4.3) and numpy, writes a wrapper that runs Blender inside it, and prints the
# wrapper's path. Use it as `BLENDER="$(bash scripts/blender-4.sh)" <any synthline command>`.
#
# Why a chroot: Debian 12 ships only Blender 3.4, and the official 4.x builds are not reachable
# from these machines (npm and Debian only); Debian 13's package is. The root is cached outside
# the checkout (SYNTHLINE_BLENDER4_ROOT, default /var/cache/synthline/debian13-blender), so a
# second run, or a second clone, reuses it.
#
# Why no mounts are left behind: the wrapper bind-mounts what Blender must see (/dev, /proc, /tmp,
# the checkout's parent folder, and SYNTHLINE_BLENDER4_MOUNTS, colon-separated) in a private mount
# namespace of its own (unshare), which ends with the Blender process. The host's mount table never
# changes, and a Blender killed with SIGKILL takes its mounts with it. The wrapper execs down to
# Blender, so the PID the render server holds is Blender's own. Needs root (chroot, mount).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
root="${SYNTHLINE_BLENDER4_ROOT:-/var/cache/synthline/debian13-blender}"
suite="${SYNTHLINE_BLENDER4_SUITE:-trixie}"
mirror="${SYNTHLINE_BLENDER4_MIRROR:-http://deb.debian.org/debian}"
wrapper="$root.blender"
# libegl1 and libegl-mesa0: EEVEE renders through EGL (Mesa's software rasteriser without a GPU);
# Blender's package does not pull them in.
packages="blender python3-numpy libegl1 libegl-mesa0"
stamp="$root/.synthline-packages"

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/blender-4.sh needs root (debootstrap, chroot and bind mounts)" >&2
  exit 1
fi

if [ ! -x "$root/usr/bin/blender" ]; then
  if ! command -v debootstrap >/dev/null 2>&1; then
    echo "installing from Debian: debootstrap" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  # Built in a sibling folder and renamed when complete: an interrupted build is never taken
  # for a usable root.
  partial="$root.partial"
  rm -rf "$partial"
  mkdir -p "$(dirname "$root")"
  echo "building a Debian $suite root with Blender in $root (once; a few minutes)" >&2
  debootstrap --variant=minbase --include="${packages// /,}" "$suite" "$partial" "$mirror" >"$partial.log" 2>&1 || {
    echo "debootstrap failed; its log: $partial.log" >&2
    tail -n 20 "$partial.log" >&2
    exit 1
  }
  echo "$packages" >"$partial/.synthline-packages"
  rm -rf "$root"
  mv "$partial" "$root"
  rm -f "$partial.log"
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$packages" ]; then
  # A root cached by an older version of this script: add what it lacks.
  echo "installing into $root: $packages" >&2
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # shellcheck disable=SC2086 # the package list is split on purpose
  unshare --mount --propagation private sh -c 'mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && shift && DEBIAN_FRONTEND=noninteractive chroot "$0" sh -c "apt-get update -qq && apt-get install -y -qq $*"' "$root" "$root" $packages >"$root.install.log" 2>&1 || {
    echo "installing $packages into $root failed; its log: $root.install.log" >&2
    tail -n 20 "$root.install.log" >&2
    exit 1
  }
  echo "$packages" >"$stamp"
fi

# The checkout's parent holds the checkout and its neighbours (../shared/assets): both visible
# to Blender at the same paths as on the host.
parent="$(dirname "$here")"
if [ "$parent" = / ]; then parent="$here"; fi
mounts="/dev:/proc:/tmp:$parent${SYNTHLINE_BLENDER4_MOUNTS:+:$SYNTHLINE_BLENDER4_MOUNTS}"
{
  echo '#!/bin/sh'
  echo "# Written by scripts/blender-4.sh: Debian 13's Blender in $root, run in a private mount"
  echo "# namespace whose bind mounts end with the process. Usage: BLENDER=$wrapper"
  printf 'ROOT=%q\nMOUNTS=%q\n' "$root" "$mounts"
  cat <<'EOF'
if [ "${SYNTHLINE_BLENDER4_NS:-}" != "$ROOT" ]; then
  SYNTHLINE_BLENDER4_NS="$ROOT" exec unshare --mount --propagation private "$0" "$@"
fi
unset SYNTHLINE_BLENDER4_NS # Blender gets the environment it was given, nothing more
IFS=:
for m in $MOUNTS; do
  [ -d "$m" ] || continue
  mkdir -p "$ROOT$m"
  if [ "$m" = /proc ]; then mount -t proc proc "$ROOT/proc"; else mount --rbind "$m" "$ROOT$m"; fi
done
unset IFS
exec chroot "$ROOT" /bin/sh -c 'cd "$1" 2>/dev/null || cd /; unset OLDPWD; shift; exec /usr/bin/blender "$@"' sh "$(pwd)" "$@"
EOF
} >"$wrapper.tmp"
chmod +x "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"
echo "$wrapper"
