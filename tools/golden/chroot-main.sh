#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# transformers main (Qwen2.5-VL, Qwen3-VL) needs torch >= 2.4: Debian 13's torch 2.6 in a chroot.
#   tools/golden/chroot-main.sh setup ROOT            debootstrap trixie into ROOT and install python3-torch & co
#   tools/golden/chroot-main.sh run ROOT CMD [ARG...]  run CMD inside ROOT with /work bound and PYTHONPATH set
# Environment for `run`: TRANSFORMERS_MAIN_SRC (transformers' src/ at a commit with qwen3_vl, e.g. the fork
# JJJYmmm/transformers at c9de1097eed992fe205f876415e7a7cfaa06be50) and HUB_MAIN_SRC (huggingface_hub
# v1.28.0's src/), both under /work so the chroot sees them. pyshim-main/ satisfies transformers' import-time
# version checks (metadata only) and stands in for the Rust tokenizers; tokenize outside the chroot with
# transformers 4.45.1's slow tokenizer (hf_common.py), which gives the same ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?setup or run}; root=${2:?chroot folder}; shift 2
case "$cmd" in
setup)
    command -v debootstrap >/dev/null || apt-get install -y debootstrap
    [ -x "$root/usr/bin/python3" ] || debootstrap --variant=minbase trixie "$root" http://deb.debian.org/debian
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount --bind /proc "$root/proc"
    trap 'umount "$root/proc"' EXIT
    chroot "$root" bash -c "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libopenblas0-pthread python3-torch python3-torchvision python3-safetensors python3-pil python3-regex python3-numpy python3-yaml \
        python3-packaging python3-tqdm python3-filelock python3-requests python3-typing-extensions python3-fsspec \
        python3-httpx python3-typer python3-click"
    ;;
run)
    : "${TRANSFORMERS_MAIN_SRC:?} ${HUB_MAIN_SRC:?}"
    mkdir -p "$root/work"
    mount --bind /proc "$root/proc"
    mount --bind /work "$root/work"
    trap 'umount "$root/work"; umount "$root/proc"' EXIT
    chroot "$root" env PYTHONPATH="$here/pyshim-main:$TRANSFORMERS_MAIN_SRC:$HUB_MAIN_SRC" "$@"
    ;;
*) echo "usage: $0 setup|run ROOT ..." >&2; exit 2 ;;
esac
