"""Compares two `motus eval --json` results (x86_64 and aarch64 under qemu) field by field,
leaving out the measurements of time. Accuracy, counts, per-class figures and the confusion
matrix must be equal exactly; any other number may differ by at most 1e-6 (the two builds
run tract's kernels for different instruction sets)."""
import json
import sys

TIMING = ("latency", "ms", "seconds", "per_s", "elapsed", "threads", "workers")


def walk(a, b, path, diffs):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if any(t in k for t in TIMING):
                continue
            if k not in a or k not in b:
                diffs.append(f"{path}.{k}: only in {'first' if k in a else 'second'}")
                continue
            walk(a[k], b[k], f"{path}.{k}", diffs)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            diffs.append(f"{path}: lengths {len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]", diffs)
    elif isinstance(a, float) or isinstance(b, float):
        if not (isinstance(a, (int, float)) and isinstance(b, (int, float)) and abs(a - b) <= 1e-6):
            diffs.append(f"{path}: {a} vs {b}")
    elif a != b:
        diffs.append(f"{path}: {a!r} vs {b!r}")


def main():
    a, b = (json.load(open(p)) for p in sys.argv[1:3])
    diffs = []
    walk(a, b, "", diffs)
    if diffs:
        print("eval results differ:\n  " + "\n  ".join(diffs[:40]), file=sys.stderr)
        sys.exit(1)
    print(f"eval results agree: video_top1 {a.get('video_top1')}, clip_top1 {a.get('clip_top1')}, {a.get('n_videos')} videos")


if __name__ == "__main__":
    main()
