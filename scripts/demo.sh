#!/usr/bin/env bash
# The README's first command: the main job on its embedded default. It generates the synthetic
# motion benchmark, draws its contact sheet, checks that every video reads back, then runs the
# device runtime's demo (synthetic camera + bundled model, alerts live) for
# MOTUS_DEMO_SECONDS (30) seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --runtime
cargo build --release --locked -p motus
out=target/demo
bin=target/release/motus
"$bin" synth --out "$out" --videos-per-class 7 --seed 7 --contact-sheet "$out/contact-sheet.png"
"$bin" dataset check --data "$out"
echo "demo: the classes are drawn in $out/contact-sheet.png"
model=models/zoo/motus-synth-twostream.onnx
if [[ -f ${MOTUS_MODEL:-$model} ]]; then
  "$bin" demo --seconds "${MOTUS_DEMO_SECONDS:-30}"
else
  echo "demo: $model is missing (scripts/train-bundled.sh makes it; or set MOTUS_MODEL); skipping motus demo"
fi
