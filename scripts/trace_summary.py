#!/usr/bin/env python3
"""Where the time of a training step goes, from profiler traces (Chrome trace JSON) of ours
(`agr bench --trace DIR`) and of PyTorch eager (`count_torch_ops.py --trace FILE`), read the same way.

For each trace, per step: the traced window (first to last event), the host time inside ATen operations
(top-level cpu_op events), and on a GPU the time the GPU was busy (the union of kernel, memcpy and memset
intervals), its share of the window, kernels and launch calls. A GPU busy well below 100% while the host
is busy is a launch-bound step: what CUDA graphs and fewer operations are for.

  python3 scripts/trace_summary.py [--steps 2] [--top 5] TRACE.json ...
"""
import argparse, collections, json, os


LAUNCHES = ("cudaLaunchKernel", "cudaLaunchCooperativeKernel", "cudaGraphLaunch", "cuLaunchKernel", "cuGraphLaunch")


def load(path):
    data = json.load(open(path))
    events = data["traceEvents"] if isinstance(data, dict) else data
    return [e for e in events if e.get("ph") == "X" and "dur" in e]


def union(intervals):
    total, end = 0.0, None
    for start, stop in sorted(intervals):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def top_level_cpu_time(events):
    """Summed duration of cpu_op events not inside another cpu_op of the same thread."""
    by_thread = collections.defaultdict(list)
    for e in events:
        if e.get("cat") == "cpu_op":
            by_thread[(e.get("pid"), e.get("tid"))].append((e["ts"], e["ts"] + e["dur"]))
    return sum(union(v) for v in by_thread.values())


def summarise(path, steps, top):
    events = load(path)
    if not events:
        return f"{os.path.basename(path)}: no events"
    start = min(e["ts"] for e in events)
    stop = max(e["ts"] + e["dur"] for e in events)
    window = (stop - start) / 1000 / steps  # ms per step (trace times are microseconds)
    host = top_level_cpu_time(events) / 1000 / steps
    gpu = [e for e in events if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    line = f"{os.path.basename(path)}: {window:.2f} ms/step traced, {host:.2f} ms/step in ATen calls on the host"
    if gpu:
        busy = union([(e["ts"], e["ts"] + e["dur"]) for e in gpu]) / 1000 / steps
        kernels = sum(1 for e in gpu if e.get("cat") == "kernel") / steps
        # runtime and driver API launches (cuDNN and cuBLAS launch through the driver)
        launches = sum(1 for e in events if e.get("cat") in ("cuda_runtime", "cuda_driver")
                       and e.get("name", "").startswith(LAUNCHES)) / steps
        line += (f"; GPU busy {busy:.2f} ms/step ({100 * busy / window:.0f}% of the window), "
                 f"{kernels:.0f} kernels and {launches:.0f} launch calls per step")
        time_by_kernel = collections.Counter()
        for e in gpu:
            time_by_kernel[e.get("name", "?")[:60]] += e["dur"] / 1000 / steps
        for name, ms in time_by_kernel.most_common(top):
            line += f"\n    {ms:8.2f} ms/step  {name}"
    return line


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("traces", nargs="+")
    p.add_argument("--steps", type=int, default=2, help="training steps in each trace (both tools trace 2)")
    p.add_argument("--top", type=int, default=5, help="GPU kernels listed by time")
    a = p.parse_args()
    for path in a.traces:
        try:
            print(summarise(path, a.steps, a.top))
        except (OSError, ValueError, KeyError) as error:
            print(f"{path}: unreadable trace ({error})")


if __name__ == "__main__":
    main()
