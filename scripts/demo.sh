#!/usr/bin/env bash
# The README's first command: the main job on its embedded default. Until the device runtime
# lands this generates the synthetic motion benchmark, draws its contact sheet and checks that
# every video reads back.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --runtime
cargo build --release --locked -p motus
out=target/demo
bin=target/release/motus
"$bin" synth --out "$out" --videos-per-class 7 --seed 7 --contact-sheet "$out/contact-sheet.png"
"$bin" dataset check --data "$out"
echo "demo: the classes are drawn in $out/contact-sheet.png"
