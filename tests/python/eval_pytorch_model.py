#!/usr/bin/env python3
"""`motus eval` on a model motus did not make: GUIDE.md's worked example, run for real.

A small 3D CNN is built in PyTorch, exported with torch.onnx.export (one `logits` output, no
motus metadata), given a TOML sidecar card, and evaluated on a small synthetic split. Checks:
the JSON report's fields, that motus's probabilities for one clip match PyTorch's on the same
tensor that motus's own preprocessing would build (recomputed here for a 32x32 source, where
resize and crop are the identity), and that a card with the labels in another order is refused.

Usage: eval_pytorch_model.py path/to/motus
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

CLASSES = ["idle", "walk_left", "walk_right", "approach", "recede", "spin_cw", "spin_ccw",
           "sit_down", "stand_up", "wave", "jump", "fall_down"]
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


class Tiny3d(torch.nn.Module):
    """conv3d → ReLU → global average → linear: a stand-in for any PyTorch video model."""

    def __init__(self, classes: int):
        super().__init__()
        self.conv = torch.nn.Conv3d(3, 8, kernel_size=3, padding=1)
        self.pool = torch.nn.AdaptiveAvgPool3d(1)
        self.fc = torch.nn.Linear(8, classes)

    def forward(self, clip):
        return self.fc(torch.flatten(self.pool(torch.relu(self.conv(clip))), 1))


CARD = """\
labels = {labels}
weights_sha256 = ""
producer = "torch.onnx.export (tests/python/eval_pytorch_model.py)"

[arch]
arch = "c3d"
num_classes = 12
clip_len = 8
input_size = 32
widths = [8]
depth = 1

[[inputs]]
name = "clip"
layout = "NCTHW"
shape = [-1, 3, 8, 32, 32]
dtype = "f32"

[input]
input_size = 32
resize_short = 32

[input.clip]
clip_len = 8
frame_stride = 1

[input.normalization]
mean = {mean}
std = {std}
"""


def run(*args, check=True):
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, args))} failed:\n{p.stderr}")
    return p


def read_y4m_420(path: Path):
    """Decodes an 8-bit 4:2:0 Y4M with BT.601 limited-range conversion (as motus does, up to
    rounding), for the probability cross-check."""
    data = path.read_bytes()
    header, rest = data.split(b"\n", 1)
    fields = {t[:1]: t[1:] for t in header.split()[1:]}
    w, h = int(fields[b"W"]), int(fields[b"H"])
    frames = []
    while rest.startswith(b"FRAME"):
        rest = rest.split(b"\n", 1)[1]
        y = np.frombuffer(rest[: w * h], np.uint8).reshape(h, w).astype(np.float64)
        u = np.frombuffer(rest[w * h: w * h + w * h // 4], np.uint8).reshape(h // 2, w // 2).astype(np.float64)
        v = np.frombuffer(rest[w * h + w * h // 4: w * h * 3 // 2], np.uint8).reshape(h // 2, w // 2).astype(np.float64)
        rest = rest[w * h * 3 // 2:]
        u = u.repeat(2, 0).repeat(2, 1) - 128
        v = v.repeat(2, 0).repeat(2, 1) - 128
        c = 1.164 * (y - 16)
        rgb = np.stack([c + 1.596 * v, c - 0.392 * u - 0.813 * v, c + 2.017 * u], -1)
        frames.append(np.clip(np.round(rgb), 0, 255))
    return np.stack(frames)


def main():
    motus = Path(sys.argv[1]).resolve()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data"
        run(motus, "synth", "--out", data, "--size", "32x32", "--frames", "16", "--videos-per-class", "1",
            "--splits", "0,0,100", "--seed", "4")
        model = Tiny3d(len(CLASSES)).eval()
        onnx_path = tmp / "tiny3d.onnx"
        torch.onnx.export(model, (torch.zeros(1, 3, 8, 32, 32),), str(onnx_path), input_names=["clip"],
                          output_names=["logits"], dynamic_axes={"clip": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=17, dynamo=False)
        card = CARD.format(labels=json.dumps(CLASSES), mean=json.dumps(MEAN), std=json.dumps(STD))
        (tmp / "tiny3d.card.toml").write_text(card)

        report = tmp / "report"
        p = run(motus, "eval", "--model", onnx_path, "--data", data / "test.txt", "--json", "--report", report)
        r = json.loads(p.stdout)
        assert r["card"] == "sidecar", r["card"]
        assert r["n_videos"] == 12 and r["n_clips"] == 12 and r["n_unreadable"] == 0, r
        for key in ("clip_top1", "video_top1", "video_top5", "mean_class_acc"):
            assert 0.0 <= r[key] <= 1.0, (key, r[key])
        assert len(r["per_class"]) == 12 and r["latency_ms"]["inference"]["p50"] > 0, r["latency_ms"]
        assert (report / "report.md").is_file() and (report / "confusion.png").is_file()

        # motus's prediction and its probability for each video must be PyTorch's on the same
        # clip (centre clip of 16 frames, 8 long: frames 4..12; no resize or crop at 32x32).
        assert len(r["videos"]) == 12
        worst = 0.0
        for v in r["videos"]:
            frames = read_y4m_420(Path(v["path"]))[4:12] / 255.0
            x = (frames - np.array(MEAN)) / np.array(STD)  # T, H, W, C
            x = torch.tensor(x.transpose(3, 0, 1, 2)[None], dtype=torch.float32)
            with torch.no_grad():
                probs = torch.softmax(model(x), 1)[0]
            assert int(probs.argmax()) == v["predicted"], (v, probs)
            worst = max(worst, abs(float(probs[v["predicted"]]) - v["confidence"]))
        assert worst < 2e-3, f"motus and PyTorch probabilities differ by {worst}"
        swapped = CLASSES[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        (tmp / "tiny3d.card.toml").write_text(CARD.format(labels=json.dumps(swapped), mean=json.dumps(MEAN), std=json.dumps(STD)))
        p = run(motus, "eval", "--model", onnx_path, "--data", data / "test.txt", check=False)
        assert p.returncode != 0 and "another order" in p.stderr, p.stderr
    print("motus eval on a PyTorch export: JSON, report, predictions and label check agree")


if __name__ == "__main__":
    main()
