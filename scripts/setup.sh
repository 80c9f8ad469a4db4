#!/usr/bin/env bash
# Installs what motus needs on a Debian 12 machine with Rust and Python 3.11. Idempotent:
# each step checks first, so a second run takes seconds.
#
#   scripts/setup.sh            everything: system packages + the Python venv for tch
#   scripts/setup.sh --runtime  only what the device binary and the demo need
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_only=0
[[ "${1:-}" == "--runtime" ]] && runtime_only=1

say() { echo "setup: $*" >&2; }

# --- system packages -------------------------------------------------------------------
# ffmpeg: video containers; mesa-vulkan-drivers: Vulkan on the CPU (lavapipe) for wgpu where
# no GPU exists; clang/libclang-dev: bindgen for v4l2-sys; pkg-config for -sys crates;
# mosquitto + mosquitto-clients: the real MQTT broker and subscriber the sink tests start.
packages=(ffmpeg mesa-vulkan-drivers)
[[ $runtime_only == 1 ]] || packages+=(clang libclang-dev pkg-config mosquitto mosquitto-clients)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [[ $(id -u) != 0 ]]; then
    command -v sudo >/dev/null || { say "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=sudo
  fi
  say "installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[[ $runtime_only == 1 ]] && exit 0

# --- Python venv: PyTorch for tch (the trainer links libtorch from it) -----------------------
# tch 0.26 is built against PyTorch 2.13.0 (LIBTORCH_USE_PYTORCH=1 finds it through this venv).
TORCH_VERSION=2.13.0
venv=.venv
if [[ ! -x $venv/bin/python ]]; then
  say "creating $venv"
  python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  say "installing torch==$TORCH_VERSION into $venv (large download, once)"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION"
fi
# Peers for side-by-side benchmarks and cross-checks (never runtime dependencies of motus).
PEERS=(opencv-contrib-python-headless==5.0.0.93 numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0)
if ! "$venv/bin/python" -c "import cv2, numpy, sys; import onnx, onnxruntime; sys.exit(cv2.__version__ != '5.0.0' or numpy.__version__ != '2.4.6' or onnx.__version__ != '1.23.2' or onnxruntime.__version__ != '1.32.0')" 2>/dev/null; then
  say "installing ${PEERS[*]} into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "${PEERS[@]}"
fi
say "ready"
