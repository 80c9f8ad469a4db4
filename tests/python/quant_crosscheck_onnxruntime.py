#!/usr/bin/env python3
"""The int8 models motus quant writes run in onnxruntime and agree with tract.

    MOTUS_QUANT_DUMP=/tmp/quant-dump cargo test -p motus-lab --lib quantize::tests::dump_for_onnxruntime -- --ignored --exact
    .venv/bin/python tests/python/quant_crosscheck_onnxruntime.py /tmp/quant-dump

For every architecture of the zoo (tiny, random weights) and every form (qoperator, qdq,
weights): the ONNX checker, then onnxruntime on the clips tract ran. Agreement is measured as
max |logit(ort) - logit(tract)| over the spread (std) of the float logits: the two runtimes may
round a requantization differently by one level, which moves logits by a fraction of a percent
of their spread; a misread scale, zero point or axis moves them by about the spread itself.
Fails above 5% (int8 forms) or 1e-3 (weight-only, float compute), or on a top-1 disagreement
where tract's top two logits are not within that tolerance of each other.
"""
import glob, json, sys
import numpy as np, onnx, onnxruntime as ort
import onnx_checker

root = sys.argv[1] if len(sys.argv) > 1 else "/tmp/quant-dump"
files = sorted(glob.glob(f"{root}/*.json"))
if not files:
    print("no models to check: the dump is empty"); sys.exit(1)
ok, passed, failed = True, 0, 0
so = ort.SessionOptions()
so.intra_op_num_threads = 1
for j in files:
    d = json.load(open(j))
    f = j[:-5] + ".onnx"
    m = onnx.load(f)
    chk, good = onnx_checker.check(m)
    sess = ort.InferenceSession(f, so, providers=["CPUExecutionProvider"])
    ops = sorted({n.op_type for n in m.graph.node if "uantize" in n.op_type or n.op_type.startswith("QLinear") or "Integer" in n.op_type})
    worst, flips = 0.0, 0
    tol = 1e-3 if d["format"] == "weights" else 0.05
    for c in d["clips"]:
        feeds = {k: np.array(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in c["inputs"].items()}
        (logits,) = sess.run(["logits"], feeds)
        t = np.array(c["tract_logits"], dtype=np.float64)
        spread = max(np.std(np.array(c["float_logits"])), 1e-6)
        rel = float(np.abs(logits.ravel() - t).max() / spread)
        worst = max(worst, rel)
        top = np.sort(t)[::-1]
        if int(np.argmax(logits)) != int(np.argmax(t)) and (top[0] - top[1]) / spread > tol:
            flips += 1
    good &= worst <= tol and flips == 0
    print(f"{d['arch']:26} {d['format']:10} {chk:10} ort-vs-tract max|dlogit|/spread {worst:.2e} top-1 flips {flips} ops {','.join(ops)}")
    passed += good; failed += not good; ok &= good
print(f"onnxruntime int8 cross-check: {passed} passed, {failed} failed")
sys.exit(0 if ok else 1)
