#!/bin/bash
# Proof for the .deb on a bare Debian 12: install with apt (Depends only, no Recommends),
# check no required library is missing, run `fid-studio --selftest` offscreen, open the
# window under Xvfb (time to window + screenshot), purge, and check nothing is left.
#   sudo packaging/test_deb_bare.sh [DEB]     (default: the newest packaging/out/*.deb)
# Env: ROOT (default /var/tmp/fid-bare-bookworm), MIRROR (default: the first Debian URI in
# /etc/apt/sources.list.d/debian.sources or sources.list), SHOT (screenshot path,
# default packaging/out/screenshot-bare.png), DISPLAY_NUM (default 97).
# Needs root, debootstrap, Xvfb, xdotool, x11-utils, bc, and the venv (for the screenshot).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
DEB=$(readlink -f "${1:-$(ls -t packaging/out/*.deb | head -1)}")
ROOT=${ROOT:-/var/tmp/fid-bare-bookworm}
SHOT=${SHOT:-$REPO/packaging/out/screenshot-bare.png}
DISPLAY_NUM=${DISPLAY_NUM:-97}
eval "$(python3 packaging/app_meta.py)"   # APP_NAME (the window title), APP_ID
APP=$APP_ID                                # command, /opt/<APP_ID>
PKG=$(dpkg-deb -f "$DEB" Package)          # fid-studio, or fid-studio-cpu
if [ -z "${MIRROR:-}" ]; then
    MIRROR=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
             /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}' || true)
    MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
step() { echo; echo "== $*"; }
in_root() { chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

cleanup() {
    [ -n "${XVFB_PID:-}" ] && kill "$XVFB_PID" 2>/dev/null || true
    for m in tmp/.X11-unix dev/pts dev proc sys; do
        mountpoint -q "$ROOT/$m" && umount -l "$ROOT/$m" || true
    done
}
trap cleanup EXIT

step "bare Debian 12 root at $ROOT (debootstrap --variant=minbase bookworm $MIRROR)"
if [ ! -f "$ROOT.pristine.tar" ]; then
    rm -rf "$ROOT"
    debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
    tar -C "$ROOT" -cf "$ROOT.pristine.tar" .
fi
rm -rf "$ROOT" && mkdir -p "$ROOT" && tar -C "$ROOT" -xf "$ROOT.pristine.tar"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount --rbind /dev "$ROOT/dev"
mount -t sysfs sys "$ROOT/sys"
in_root apt-get update -qq
snapshot() {   # every path outside the volatile places, for the "nothing left" check
    in_root find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /tmp -o -path /root \
        -o -path /var/cache -o -path /var/lib/apt -o -path /var/log -o -path /var/lib/dpkg \
        -o -path /run -o -path /etc/resolv.conf \) -prune -o -print | sort
}
snapshot > /tmp/fid-bare-before.txt
in_root dpkg-query -W -f '${Package}\n' | sort > /tmp/fid-bare-pkgs-before.txt

step "apt-get install --no-install-recommends $(basename "$DEB")"
cp "$DEB" "$ROOT/tmp/"
t0=$(date +%s)
in_root apt-get install -y -q --no-install-recommends "/tmp/$(basename "$DEB")" > /tmp/fid-bare-apt.log
echo "installed in $(( $(date +%s) - t0 )) s; $(grep -E '^[0-9]+ upgraded' /tmp/fid-bare-apt.log)"
grep -E '^After this operation' /tmp/fid-bare-apt.log || true
echo "package Installed-Size: $(dpkg-deb -f "$DEB" Installed-Size) KiB; on disk: $(du -sh "$ROOT/opt/$APP" | cut -f1)"

step "libraries: every DT_NEEDED of the bundle resolves on this root"
"$REPO/.venv/bin/python" packaging/find_depends.py "$ROOT" --prefix "/opt/$APP"

step "fid-studio --selftest (offscreen, in the chroot)"
t0=$(date +%s.%N)
in_root QT_QPA_PLATFORM=offscreen "$APP" --selftest
echo "selftest wall time: $(echo "$(date +%s.%N) - $t0" | bc) s"

step "window under Xvfb :$DISPLAY_NUM (app in the chroot, screenshot from outside)"
Xvfb ":$DISPLAY_NUM" -screen 0 1600x1000x24 -nolisten tcp >/tmp/fid-bare-xvfb.log 2>&1 &
XVFB_PID=$!
sleep 1
mkdir -p "$ROOT/tmp/.X11-unix" && mount --bind /tmp/.X11-unix "$ROOT/tmp/.X11-unix"
for i in 1 2 3; do
    DISPLAY=":$DISPLAY_NUM" PYTHON="$REPO/.venv/bin/python" packaging/time_to_window.sh "$APP_NAME" \
        "${SHOT%.png}-$i.png" chroot "$ROOT" /usr/bin/env -i HOME=/root LANG=C.UTF-8 PATH=/usr/bin:/bin \
        DISPLAY=":$DISPLAY_NUM" "$APP"
done
cp "${SHOT%.png}-3.png" "$SHOT"
umount "$ROOT/tmp/.X11-unix"
kill "$XVFB_PID"; XVFB_PID=

step "desktop entry and icons"
ls "$ROOT/usr/share/applications/$APP.desktop" "$ROOT/usr/share/icons/hicolor/"*"/apps/$APP."*
readlink "$ROOT/usr/bin/$APP"

step "apt-get purge $PKG && apt-get autoremove --purge: nothing left"
in_root apt-get purge -y -q "$PKG" >/dev/null
in_root apt-get autoremove --purge -y -q >/dev/null
snapshot > /tmp/fid-bare-after.txt
in_root dpkg-query -W -f '${Package}\n' | sort > /tmp/fid-bare-pkgs-after.txt
if diff /tmp/fid-bare-before.txt /tmp/fid-bare-after.txt && diff /tmp/fid-bare-pkgs-before.txt /tmp/fid-bare-pkgs-after.txt; then
    echo "clean: the file system and the package list are as before the install"
else
    echo "LEFT BEHIND (diff above)"; exit 1
fi
echo "user files the app created while running (not the package's; ~/.config etc.):"
(cd "$ROOT/root" && find . -mindepth 1 -maxdepth 4 | grep -i fid || echo "  none")
