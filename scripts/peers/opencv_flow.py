#!/usr/bin/env python3
"""OpenCV optical flow as the peer of `motus bench flow`: DIS (medium, fast) and DualTVL1 on
the same Middlebury frames, resized the same way, timed the same way (median ms per pair).

Prints one JSON object on stdout. Run inside the project's venv (scripts/setup.sh installs
opencv-contrib-python-headless there); never a runtime dependency of motus.
"""
import argparse
import json
import os
import statistics
import sys
import time

import cv2
import numpy as np


def read_flo(path):
    with open(path, "rb") as f:
        magic = np.frombuffer(f.read(4), np.float32)[0]
        if abs(magic - 202021.25) > 1e-3:
            raise ValueError(f"{path}: bad .flo magic")
        w, h = np.frombuffer(f.read(8), np.int32)
        data = np.frombuffer(f.read(), np.float32).reshape(h, w, 2)
    return data


def epe(flow, gt):
    valid = (np.abs(gt[..., 0]) < 1e9) & (np.abs(gt[..., 1]) < 1e9)
    d = np.sqrt(((flow - gt) ** 2).sum(-1))
    return float(d[valid].mean())


def methods(names):
    out = {}
    for name in names:
        if name == "dis_medium":
            out[name] = lambda: cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        elif name == "dis_fast":
            out[name] = lambda: cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        elif name == "dual_tvl1":
            out[name] = lambda: cv2.optflow.DualTVL1OpticalFlow_create()
        else:
            raise SystemExit(f"unknown method {name}")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--middlebury", required=True)
    ap.add_argument("--sizes", default="native,128,224")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--methods", default="dis_medium,dis_fast,dual_tvl1")
    ap.add_argument("--tvl1-native-pairs", type=int, default=2,
                    help="DualTVL1 takes ~18 s per native pair: time only this many at native size")
    args = ap.parse_args()
    cv2.setNumThreads(args.threads)
    seqs = sorted(d for d in os.listdir(args.middlebury)
                  if os.path.exists(os.path.join(args.middlebury, d, "flow10.flo")))
    frames = {}
    for s in seqs:
        a = cv2.imread(os.path.join(args.middlebury, s, "frame10.png"))
        b = cv2.imread(os.path.join(args.middlebury, s, "frame11.png"))
        frames[s] = (cv2.cvtColor(a, cv2.COLOR_BGR2GRAY), cv2.cvtColor(b, cv2.COLOR_BGR2GRAY),
                     read_flo(os.path.join(args.middlebury, s, "flow10.flo")))
    report = {"peer": f"opencv {cv2.__version__}", "threads": args.threads, "methods": {}}
    for name, make in methods(args.methods.split(",")).items():
        per_size = {}
        for size in args.sizes.split(","):
            times, epes = [], {}
            use = seqs
            if name == "dual_tvl1" and size == "native":
                use = seqs[: args.tvl1_native_pairs]
            for s in use:
                a, b, gt = frames[s]
                if size != "native":
                    n = int(size)
                    a = cv2.resize(a, (n, n), interpolation=cv2.INTER_AREA)
                    b = cv2.resize(b, (n, n), interpolation=cv2.INTER_AREA)
                engine = make()
                reps = 1 if name == "dual_tvl1" and size == "native" else args.reps
                for _ in range(reps):
                    t = time.perf_counter()
                    flow = engine.calc(a, b, None)
                    times.append(1000 * (time.perf_counter() - t))
                if size == "native":
                    epes[s] = epe(flow, gt)
            entry = {"ms_per_pair": statistics.median(times), "pairs": len(use)}
            if epes:
                entry["per_sequence"] = epes
                entry["mean_epe"] = sum(epes.values()) / len(epes)
            per_size[size] = entry
            print(f"peer {name} {size}: {entry['ms_per_pair']:.2f} ms/pair", file=sys.stderr)
        report["methods"][name] = per_size
    json.dump(report, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
