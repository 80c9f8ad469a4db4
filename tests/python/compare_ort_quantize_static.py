#!/usr/bin/env python3
"""motus quant's int8 models beside onnxruntime's own static quantizer, same calibration clips.

    motus quant --model FLOAT.onnx --calib CALIB_LIST --val VAL_LIST --format qdq --out motus.qdq.onnx --dump-clips CLIPS
    .venv/bin/python tests/python/compare_ort_quantize_static.py --float FLOAT.onnx --clips CLIPS \
        --motus motus.qdq.onnx [--motus motus.qoperator.onnx ...] [--json out.json]

CLIPS/calib and CLIPS/val hold the clips motus built (its own preprocessing and TV-L1 flow),
as `<input>.npy` plus `clips.json` (video, label). onnxruntime.quantization.quantize_static
calibrates on CLIPS/calib (QDQ and QOperator formats, per-channel s8 weights, u8 activations,
MinMax, the settings motus uses). Every model is then scored in onnxruntime on CLIPS/val:
clip Hit@1 and video Hit@1 (a video's score is the mean of its clips' probabilities), and
top-1 agreement with the float model.
"""
import argparse, json, os, tempfile
import numpy as np, onnx, onnxruntime as ort
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)


def load_set(d):
    meta = json.load(open(os.path.join(d, "clips.json")))
    arrays = {f[:-4]: np.load(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".npy")}
    return arrays, meta


class Reader(CalibrationDataReader):
    def __init__(self, arrays):
        n = len(next(iter(arrays.values())))
        self.feeds = iter([{k: v[i:i + 1] for k, v in arrays.items()} for i in range(n)])

    def get_next(self):
        return next(self.feeds, None)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def score(path, arrays, meta):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    n = len(meta)
    probs = np.stack([softmax(s.run(["logits"], {k: v[i:i + 1] for k, v in arrays.items()})[0][0]) for i in range(n)])
    labels = np.array([c["label"] for c in meta])
    clip = float((probs.argmax(1) == labels).mean())
    videos = {}
    for p, c in zip(probs, meta):
        videos.setdefault(c["video"], [c["label"], []])[1].append(p)
    vid = float(np.mean([np.mean(ps, axis=0).argmax() == lab for lab, ps in videos.values()]))
    return probs, {"clip_top1": clip, "video_top1": vid, "n_clips": n, "n_videos": len(videos),
                   "bytes": os.path.getsize(path)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--float", required=True)
    ap.add_argument("--clips", required=True)
    ap.add_argument("--motus", action="append", default=[])
    ap.add_argument("--json")
    a = ap.parse_args()
    calib, _ = load_set(os.path.join(a.clips, "calib"))
    val, meta = load_set(os.path.join(a.clips, "val"))
    tmp = tempfile.mkdtemp()
    models = {"float": a.float}
    for m in a.motus:
        q = json.loads({p.key: p.value for p in onnx.load(m).metadata_props}["motus.quantization"])
        models[f"motus {q['format']} {q['observer']}"] = m
    for fmt in (QuantFormat.QDQ, QuantFormat.QOperator):
        out = os.path.join(tmp, f"ort-{fmt.name.lower()}.onnx")
        quantize_static(a.float, out, Reader(calib), quant_format=fmt, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
        models[f"onnxruntime quantize_static {fmt.name}"] = out
    rows, float_probs = {}, None
    for name, path in models.items():
        probs, r = score(path, val, meta)
        if float_probs is None:
            float_probs = probs
        r["top1_agreement_with_float"] = float((probs.argmax(1) == float_probs.argmax(1)).mean())
        rows[name] = r
        print(f"{name:42} video Hit@1 {100 * r['video_top1']:6.2f}%  clip Hit@1 {100 * r['clip_top1']:6.2f}%  "
              f"agreement {100 * r['top1_agreement_with_float']:6.2f}%  {r['bytes']:>8} bytes")
    if a.json:
        json.dump({"runtime": f"onnxruntime {ort.__version__}", "val_clips": len(meta), "calib_clips": len(next(iter(calib.values()))),
                   "models": rows}, open(a.json, "w"), indent=2)


if __name__ == "__main__":
    main()
