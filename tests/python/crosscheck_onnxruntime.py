#!/usr/bin/env python3
"""Cross-check motus ONNX exports with the official ONNX checker and onnxruntime.

    MOTUS_ZOO_DUMP=/tmp/zoo-dump cargo test -p motus-core --lib infer::tests::dump_for_other_runtimes -- --ignored --exact
    .venv/bin/python tests/python/crosscheck_onnxruntime.py /tmp/zoo-dump

For every dumped model: onnx.checker (full check, with shape inference), then onnxruntime on
the same batch-3 inputs as tract; fails when |logit difference| > 1e-4. scripts/test.sh runs it
after the Rust tests, in the venv scripts/setup.sh makes (onnx, onnxruntime).
"""
import json, glob, sys
import numpy as np, onnx, onnxruntime as ort
import onnx_checker
ok = True
passed = failed = 0
files = sorted(glob.glob(f"{sys.argv[1] if len(sys.argv) > 1 else '/tmp/zoo-dump'}/*.onnx"))
if not files:
    print("no models to check: the dump is empty"); sys.exit(1)
for f in files:
    m = onnx.load(f)
    chk, good = onnx_checker.check(m)
    j = json.load(open(f[:-5] + ".json"))
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    feeds = {k: np.array(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in j["inputs"].items()}
    logits, probs = sess.run(["logits", "probs"], feeds)
    d = np.abs(logits.ravel() - np.array(j["logits"])).max()
    meta = {p.key for p in m.metadata_props}
    print(f"{f.split('/')[-1]:32} {chk:12} opset {m.opset_import[0].version} ort-vs-tract max|dlogit| {d:.2e} keys {len(meta)}")
    good &= bool(d < 1e-4)
    passed += good; failed += not good; ok &= good
print(f"onnxruntime cross-check: {passed} passed, {failed} failed")
sys.exit(0 if ok else 1)
sys.exit(0 if ok else 1)
