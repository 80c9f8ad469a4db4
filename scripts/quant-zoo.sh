#!/usr/bin/env bash
# Quantizes every model a `motus-train experiment` run exported and measures what int8 costs
# each architecture: `motus quant` (qoperator, percentile observer, accuracy guard on the
# validation split with a 1-point budget), then `motus eval --compare` of float and int8 on
# the same test clips. Writes EXP_DIR/quant/<arch>.{int8.onnx,quant.json,eval.json} and a
# Markdown table on stdout (docs/quant-zoo.md is this table).
#
# usage: scripts/quant-zoo.sh EXP_DIR DATASET_DIR [ARCH...]
set -euo pipefail
cd "$(dirname "$0")/.."
exp=${1:?usage: scripts/quant-zoo.sh EXP_DIR DATASET_DIR [ARCH...]}
data=${2:?usage: scripts/quant-zoo.sh EXP_DIR DATASET_DIR [ARCH...]}
shift 2
motus=${MOTUS:-target/release/motus}
views=${VIEWS:-3}
[ -x "$motus" ] || { echo "quant-zoo: $motus is missing (cargo build --release -p motus, or set MOTUS)" >&2; exit 1; }
archs=("$@")
if [ ${#archs[@]} -eq 0 ]; then
  for d in "$exp"/*/; do
    a=$(basename "$d")
    [ -f "$d/$a.onnx" ] && archs+=("$a")
  done
fi
[ ${#archs[@]} -gt 0 ] || { echo "quant-zoo: no exported models under $exp" >&2; exit 1; }
mkdir -p "$exp/quant"
for a in "${archs[@]}"; do
  model="$exp/$a/$a.onnx"
  [ -f "$model" ] || { echo "quant-zoo: $model is missing" >&2; exit 1; }
  q="$exp/quant/$a"
  if [ ! -f "$q.quant.json" ]; then
    echo "quant-zoo: $a: quantizing" >&2
    "$motus" quant --model "$model" --calib "$data/train.txt" --val "$data/val.txt" \
      --format qoperator --max-drop 1.0 --out "$q.int8.onnx" --json > "$q.quant.json.tmp"
    mv "$q.quant.json.tmp" "$q.quant.json"
  fi
  if [ ! -f "$q.eval.json" ]; then
    echo "quant-zoo: $a: float vs int8 on the test split" >&2
    "$motus" eval --model "$model" --compare "$q.int8.onnx" --data "$data/test.txt" \
      --protocol "clips=$views" --json > "$q.eval.json.tmp"
    mv "$q.eval.json.tmp" "$q.eval.json"
  fi
done
python3 - "$exp/quant" "$views" "${archs[@]}" <<'EOF'
import json, sys
qdir, views, archs = sys.argv[1], sys.argv[2], sys.argv[3:]
print("| architecture | float file | int8 file (% of float) | layers kept in float | val Hit@1 float → int8 | test video Hit@1 float | int8 | drop (points) | test clip Hit@1 float → int8 | video agreement |")
print("|---|---|---|---|---|---|---|---|---|---|")
for a in archs:
    q = json.load(open(f"{qdir}/{a}.quant.json"))
    e = json.load(open(f"{qdir}/{a}.eval.json"))
    c = e["compare"]
    g = q["guard"]
    kept = ", ".join(f"`{f['node']}`" for f in q["float_nodes"]) or "none"
    print(f"| {a} | {q['float_bytes']:,} | {q['int8_bytes']:,} ({100*q['size_ratio']:.1f}%) | {kept} "
          f"| {100*g['float']['video_top1']:.1f}% → {100*g['int8']['video_top1']:.1f}% "
          f"| {100*c['a']['video_top1']:.2f}% | {100*c['b']['video_top1']:.2f}% | {(-100*c['video_top1_diff']) + 0.0:.2f} "
          f"| {100*c['a']['clip_top1']:.1f}% → {100*c['b']['clip_top1']:.1f}% | {100*c['agreement']:.1f}% |")
print(f"\nTest protocol: `clips={views}` (probabilities averaged per video), the same clips for both models.")
EOF
