#!/usr/bin/env python3
"""Compares two agr runs' last.safetensors and per-epoch test counts (numpy only, no torch or safetensors).

Usage: compare_runs.py REFERENCE RUN [--tolerance 1e-5] [--noise NOISE_RUN]
Prints the largest weight difference and whether the test accuracies agree; with --noise, the reference
against a repeat of itself (the device's run-to-run difference) is printed too, and a difference up to
twice that also passes (non-deterministic GPU kernels). Exit status 1 when the check fails.
"""
import argparse, json, struct, sys
import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32, "BF16": None}


def tensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            continue
        out[name] = np.frombuffer(data[start:end], dtype=dtype).astype(np.float64)
    return out


def largest_difference(a, b):
    ta, tb = tensors(a + "/last.safetensors"), tensors(b + "/last.safetensors")
    if sorted(ta) != sorted(tb):
        return float("inf")
    return max(float(np.max(np.abs(ta[k] - tb[k]))) if ta[k].size else 0.0 for k in ta)


def test_counts(run):
    rows = []
    with open(run + "/metrics.jsonl") as f:
        for line in f:
            record = json.loads(line)
            rows.append((record.get("testCleanAccuracy", record.get("test_clean_accuracy")),
                         record.get("testRobustAccuracy", record.get("test_robust_accuracy"))))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("reference")
    p.add_argument("run")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--noise")
    a = p.parse_args()
    difference = largest_difference(a.reference, a.run)
    noise = largest_difference(a.reference, a.noise) if a.noise else 0.0
    same_counts = test_counts(a.reference) == test_counts(a.run)
    limit = max(a.tolerance, 2 * noise)
    ok = difference <= limit and (same_counts or noise > 0)
    print(f"{a.run} vs {a.reference}: largest weight difference {difference:.3g} (limit {limit:.3g}"
          + (f"; run-to-run {noise:.3g}" if a.noise else "") + f"), test accuracies "
          + ("equal" if same_counts else f"differ {test_counts(a.reference)} vs {test_counts(a.run)}")
          + f": {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
