#!/usr/bin/env bash
# Builds the Debian package of UniRank Studio (release preset, CPack) into build/package/:
# unirank and unirank-cli in /usr/bin, the desktop entry, icon, AppStream metadata and MIME type, the
# demo data set and the shipped tiny models in /usr/share/unirank-studio. Dependencies are read off
# the binaries (dpkg-shlibdeps). Prints the package's path. Idempotent; installs missing packages.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p build/package
(cd build/package && cpack -G DEB --config ../release/CPackConfig.cmake >/dev/null)
deb=$(ls -t build/package/unirank-studio_*.deb | head -n 1)
dpkg-deb --info "$deb" | sed -n '/Package:/,/Description:/p'
echo "$deb"
