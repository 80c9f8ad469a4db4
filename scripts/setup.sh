#!/usr/bin/env bash
# Installs what motus needs on a Debian 12 machine with Rust and Python 3.11. Idempotent:
# each step checks first, so a second run takes seconds.
#
#   scripts/setup.sh            everything: system packages, the Jetson deployment tools, and
#                               the Python venv for tch
#   scripts/setup.sh --runtime  only what the device binary and the demo need
#   scripts/setup.sh --deploy   the runtime packages plus the deployment tools (deploy/)
set -euo pipefail
cd "$(dirname "$0")/.."

runtime_only=0 deploy_only=0
[[ "${1:-}" == "--runtime" ]] && runtime_only=1
[[ "${1:-}" == "--deploy" ]] && deploy_only=1

say() { echo "setup: $*" >&2; }

# --- system packages -------------------------------------------------------------------
# ffmpeg: video containers; mesa-vulkan-drivers: Vulkan on the CPU (lavapipe) for wgpu where
# no GPU exists; clang/libclang-dev/linux-libc-dev: bindgen for v4l2-sys (V4L2 cameras are in
# the default build, so the demo's build needs them too); pkg-config for -sys crates;
# mosquitto + mosquitto-clients: the real MQTT broker and subscriber the sink tests start.
# Deployment (deploy/): qemu-user + libc6-arm64-cross run the aarch64 build, binutils for
# aarch64 reads its symbol versions (objdump -T) and strips it, openssh-server is the real sshd
# the flash test talks to, systemd brings systemd-analyze and systemd-sysusers.
packages=(ffmpeg mesa-vulkan-drivers clang libclang-dev linux-libc-dev)
[[ $runtime_only == 1 ]] || packages+=(pkg-config qemu-user libc6-arm64-cross binutils-aarch64-linux-gnu openssh-server systemd)
[[ $runtime_only == 1 || $deploy_only == 1 ]] || packages+=(mosquitto mosquitto-clients)
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

venv=.venv
if [[ ! -x $venv/bin/python ]]; then
  say "creating $venv"
  python3 -m venv "$venv"
fi

# --- The formatter and the linter the test command checks the sources with -----------------------
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    say "adding the Rust component $component"
    rustup component add "$component"
  fi
done

# --- Jetson cross-build: the aarch64 std, cargo-zigbuild and zig (both from PyPI wheels) -------
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  say "adding the Rust target aarch64-unknown-linux-gnu"
  rustup target add aarch64-unknown-linux-gnu
fi
ZIGBUILD=(cargo-zigbuild==0.24.1 ziglang==0.17.1)
if [[ $("$venv/bin/python" -m pip freeze --disable-pip-version-check 2>/dev/null | grep -cxF -e "${ZIGBUILD[0]}" -e "${ZIGBUILD[1]}") != 2 ]]; then
  say "installing ${ZIGBUILD[*]} into $venv"
  "$venv/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check "${ZIGBUILD[@]}"
fi
[[ $deploy_only == 1 ]] && { say "ready (deploy)"; exit 0; }

# --- Python venv: PyTorch for tch (the trainer links libtorch from it) -----------------------
# tch 0.26 is built against PyTorch 2.13.0 (LIBTORCH_USE_PYTORCH=1 finds it through this venv).
TORCH_VERSION=2.13.0
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  say "installing torch==$TORCH_VERSION into $venv (large download, once)"
  "$venv/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check "torch==$TORCH_VERSION"
fi
# Peers for side-by-side benchmarks and cross-checks (never runtime dependencies of motus).
PEERS=(opencv-contrib-python-headless==5.0.0.93 numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0)
if ! "$venv/bin/python" -c "import cv2, numpy, sys; import onnx, onnxruntime; sys.exit(cv2.__version__ != '5.0.0' or numpy.__version__ != '2.4.6' or onnx.__version__ != '1.23.2' or onnxruntime.__version__ != '1.32.0')" 2>/dev/null; then
  say "installing ${PEERS[*]} into $venv"
  "$venv/bin/python" -m pip install -q --no-cache-dir --disable-pip-version-check "${PEERS[@]}"
fi
say "ready"
