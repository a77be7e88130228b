#!/usr/bin/env bash
# Installs every Debian 12 package UniRank Studio needs to build, test and run.
# Idempotent: apt-get skips what is already installed. Run as root (or with sudo available).
# --fuzz adds clang 16 and its libFuzzer/sanitizer runtimes (scripts/run-fuzz.sh).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  # core: tensors (libtorch 1.13, CPU) and the BLAS it must use: without libopenblas0-pthread Debian's
  # libtorch falls back to the reference BLAS and fp32 GEMM is ~40x slower.
  libtorch-dev libopenblas0-pthread
  # core: image decoding and resampling (only the three OpenCV modules we use)
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  # core/storage: JSON, hashing, Unicode regex, command line
  nlohmann-json3-dev libssl-dev libpcre2-dev libicu-dev zlib1g-dev libcli11-dev libfmt-dev libsqlite3-dev
  # storage: team projects on a PostgreSQL server (libpq); the tests start their own server
  libpq-dev postgresql
  # ui and tests
  # (Qt Charts' CMake package needs Qt6OpenGL's, which Debian ships in libqt6opengl6-dev)
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite xvfb xauth
)
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang-16 libclang-rt-16-dev)
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
