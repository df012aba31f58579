#!/usr/bin/env python3
"""Projects data-parallel step times of PreAct-ResNet-18 on CIFAR-10 (AT and AT+AGR) with the gradient
all-reduce overlapped with the backward passes, as `agr train` does it (buckets of --bucket-mb, the first
capped at 1 MiB, in reverse parameter order, started in order as their gradients become ready).

Model (a projection, not a measurement):
- the one-GPU step time is measured (docs/performance.md); the update's backward passes take the share
  BACKWARD_SHARE of it (one backward ~ 2 forwards: PGD-10 + 2 forwards + 2 backwards = 36 forward units, of
  which each update backward is 2; AT without AGR has one update backward of 33 units);
- within a backward pass, a parameter's gradient is ready when the backward has done the FLOPs of the layers
  after it (at 32x32 every stage of the network has about the same FLOPs);
- the buckets' all-reduces run one after another (one NCCL stream) at the link's bus bandwidth:
  a bucket of S bytes over N ranks takes S * 2 (N - 1) / N / bandwidth;
- exposed communication = when the last all-reduce ends minus when the last backward ends (0 if before).
Usage: project_data_parallel.py [--step-ms 47.5] [--bucket-mb 25]
"""
import argparse


def preact_resnet18():
    """(name, parameter count, forward FLOPs of its layer) in parameter (state_dict) order."""
    params = [("conv1", 3 * 64 * 9, 32 * 32 * 3 * 64 * 9)]
    size, cin = 32, 64
    for stage, (cout, stride) in enumerate([(64, 1), (128, 2), (256, 2), (512, 2)], start=1):
        for block in range(2):
            s = stride if block == 0 else 1
            out = size // s
            p = f"layer{stage}.{block}"
            params += [(p + ".bn1.weight", cin, 0), (p + ".bn1.bias", cin, 0),
                       (p + ".conv1", cin * cout * 9, out * out * cin * cout * 9),
                       (p + ".bn2.weight", cout, 0), (p + ".bn2.bias", cout, 0),
                       (p + ".conv2", cout * cout * 9, out * out * cout * cout * 9)]
            if s != 1 or cin != cout:
                params.append((p + ".shortcut", cin * cout, out * out * cin * cout))
            size, cin = out, cout
    params += [("bn.weight", 512, 0), ("bn.bias", 512, 0), ("linear.weight", 5120, 5120), ("linear.bias", 10, 0)]
    return params


def buckets(params, cap_bytes):
    """Lists of parameter indices, reverse order, the first bucket capped at 1 MiB (as the reducer)."""
    result, sizes = [], []
    for i in reversed(range(len(params))):
        b = params[i][1] * 4
        cap = min(cap_bytes, 1 << 20) if len(result) <= 1 else cap_bytes
        if not result or (sizes[-1] > 0 and sizes[-1] + b > cap):
            result.append([])
            sizes.append(0)
        result[-1].append(i)
        sizes[-1] += b
    return result, sizes


def exposed_ms(params, cap_bytes, backward_ms, passes, ranks, bandwidth):
    total_flops = sum(f for _, _, f in params)
    # ready time of each parameter within one backward pass (reverse order)
    ready, done = {}, 0.0
    for i in reversed(range(len(params))):
        done += params[i][2]
        ready[i] = done / total_flops * backward_ms
    groups, sizes = buckets(params, cap_bytes)
    clock = 0.0
    for p in range(passes):
        offset = p * backward_ms
        for members, size in zip(groups, sizes):
            start = max(clock, offset + max(ready[i] for i in members))
            clock = start + size * 2 * (ranks - 1) / ranks / (bandwidth * 1e9) * 1e3
    return max(0.0, clock - passes * backward_ms)


def serial_ms(params, passes, ranks, bandwidth):
    total = sum(n for _, n, _ in params) * 4 * passes
    return total * 2 * (ranks - 1) / ranks / (bandwidth * 1e9) * 1e3


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--step-ms", type=float, default=47.5, help="one-GPU AT+AGR step (H100, docs/performance.md)")
    a.add_argument("--bucket-mb", type=float, default=25)
    args = a.parse_args()
    params = preact_resnet18()
    print(f"PreAct-ResNet-18: {sum(n for _, n, _ in params) / 1e6:.2f} M parameters; "
          f"{len(buckets(params, int(args.bucket_mb * 1e6))[0])} buckets of up to {args.bucket_mb:g} MB")
    print("| setup | bus bandwidth (assumed) | exposed all-reduce AT+AGR: flat / overlapped | step AT+AGR | images/s vs 1 GPU |")
    print("|---|---|---|---|---|")
    for name, gpus, bandwidth in [("8 GPUs, NVLink (NCCL)", 8, 350), ("2 nodes x 8, 100 Gb/s", 16, 12.5),
                                  ("2 nodes x 8, 400 Gb/s", 16, 50), ("4 nodes x 8, 100 Gb/s", 32, 12.5),
                                  ("4 nodes x 8, 400 Gb/s", 32, 50)]:
        backward = args.step_ms * 2 / 36
        flat = serial_ms(params, 2, gpus, bandwidth)
        overlapped = exposed_ms(params, int(args.bucket_mb * 1e6), backward, 2, gpus, bandwidth)
        step = args.step_ms + overlapped
        print(f"| {name} | {bandwidth:g} GB/s | {flat:.1f} / {overlapped:.1f} ms | {step:.1f} ms | "
              f"{gpus * args.step_ms / step:.1f}x |")


if __name__ == "__main__":
    main()
