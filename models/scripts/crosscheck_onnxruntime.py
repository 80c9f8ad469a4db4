#!/usr/bin/env python3
"""Cross-check motus ONNX exports with the official ONNX checker and onnxruntime.

    MOTUS_ZOO_DUMP=/tmp/zoo-dump cargo test -p motus --lib infer::tests::dump -- --ignored
    python3 -m venv /tmp/zoo-venv && /tmp/zoo-venv/bin/pip install onnx onnxruntime numpy
    /tmp/zoo-venv/bin/python models/scripts/crosscheck_onnxruntime.py /tmp/zoo-dump

For every dumped model: onnx.checker (full check, with shape inference), then onnxruntime on
the same batch-3 inputs as tract; fails when |logit difference| > 1e-4. Not part of the Rust
test suite (it needs Python packages); run it after changing the ONNX writer.
"""
import json, glob, sys
import numpy as np, onnx, onnxruntime as ort
ok = True
for f in sorted(glob.glob(f"{sys.argv[1] if len(sys.argv) > 1 else '/tmp/zoo-dump'}/*.onnx")):
    m = onnx.load(f)
    try:
        onnx.checker.check_model(m, full_check=True)
        chk = "checker ok"
    except Exception as e:
        chk = f"checker FAIL: {e}"; ok = False
    j = json.load(open(f[:-5] + ".json"))
    sess = ort.InferenceSession(f, providers=["CPUExecutionProvider"])
    feeds = {k: np.array(v["data"], dtype=np.float32).reshape(v["shape"]) for k, v in j["inputs"].items()}
    logits, probs = sess.run(["logits", "probs"], feeds)
    d = np.abs(logits.ravel() - np.array(j["logits"])).max()
    meta = {p.key for p in m.metadata_props}
    print(f"{f.split('/')[-1]:32} {chk:12} opset {m.opset_import[0].version} ort-vs-tract max|dlogit| {d:.2e} keys {len(meta)}")
    ok &= d < 1e-4
print("ALL OK" if ok else "MISMATCH")
sys.exit(0 if ok else 1)
