#!/usr/bin/env bash
# Installs the Debian package on a clean Debian 12 and checks that it runs: a minimal bookworm made
# by debootstrap (cached as build/deb-check/bookworm.tar, unpacked afresh each time), the package
# installed with apt (which fetches its dependencies from Debian), then inside it: unirank-cli
# --version, unirank --version (offscreen), `unirank-cli demo` with the installed resources, the
# desktop app opening that project and showing a ranked list (offscreen), and the desktop entry and
# AppStream metadata validated. Needs root and Debian's mirror; builds the package
# first when there is none (scripts/package-deb.sh).
#   scripts/check-deb.sh [PACKAGE.deb]
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(ls -t build/package/unirank-studio_*.deb 2>/dev/null | head -n 1 || true)}
[ -n "$deb" ] || deb=$(scripts/package-deb.sh | tail -n 1)
deb=$(realpath "$deb")
work=$PWD/build/deb-check
mkdir -p "$work"
export DEBIAN_FRONTEND=noninteractive
dpkg-query -W -f='${Status}' debootstrap 2>/dev/null | grep -q 'install ok installed' || apt-get install -y -qq debootstrap
if [ ! -f "$work/bookworm.tar" ]; then
  rm -rf "$work/seed"
  debootstrap --variant=minbase bookworm "$work/seed" http://deb.debian.org/debian
  tar -C "$work/seed" -cf "$work/bookworm.tar" .
  rm -rf "$work/seed"
fi
root=$work/root
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root"
}
trap cleanup EXIT
cleanup
mkdir -p "$root"
tar -C "$root" -xf "$work/bookworm.tar"
mount -t proc proc "$root/proc"
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -qq
before=$(in_root dpkg-query -W -f='.\n' | wc -l)
in_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends "/tmp/$(basename "$deb")" >/dev/null
echo "== installed: $(in_root dpkg-query -W -f='${Package} ${Version} (${Installed-Size} KiB)' unirank-studio)," \
  "with $(( $(in_root dpkg-query -W -f='.\n' | wc -l) - before - 1 )) dependencies from Debian"
echo "== unirank-cli --version: $(in_root unirank-cli --version)"
echo "== unirank --version: $(in_root env QT_QPA_PLATFORM=offscreen unirank --version)"
in_root unirank-cli demo /tmp/demo/demo.unirank 2>/dev/null | grep -E "^(metric|ndcg_cut_10|map) |demo project"
echo "== the desktop app on the demo project (offscreen): $(in_root env QT_QPA_PLATFORM=offscreen unirank --bench-startup /tmp/demo/demo.unirank 2>/dev/null)"
in_root apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends appstream desktop-file-utils >/dev/null 2>&1
in_root desktop-file-validate /usr/share/applications/io.unirank.Studio.desktop
in_root appstreamcli validate --no-net /usr/share/metainfo/io.unirank.Studio.metainfo.xml
in_root ls /usr/share/icons/hicolor/scalable/apps/io.unirank.Studio.svg /usr/share/icons/hicolor/256x256/apps/io.unirank.Studio.png
echo "check-deb: $(basename "$deb") installs and runs on a clean Debian 12"
