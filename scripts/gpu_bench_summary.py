#!/usr/bin/env python3
"""Summarises a log written by scripts/gpu-bench.sh: the ratio table (PyTorch eager ms / our ms per
configuration), our AGR overhead over our AT, the paper's 200-epoch CIFAR-10 recipe projected from the
measured steps and evaluation, and the dispatch-overhead and operation-census lines.

gpu-bench.sh runs it at its end; run it by hand on a log fetched from a run that was cut short:
  python3 scripts/gpu_bench_summary.py gpu-bench.log [--out DIR]     (DIR/gpu-bench.json: the table)
Batch and image sizes are read from the log's '# device ...' line (gpu-bench.sh writes it first).
"""
import argparse, collections, json, re, sys

LINE = re.compile(r'^(agr-swift|torch-eager(?:-cpu)?) (.+?): ([0-9.]+) ms/(?:step|batch) ([0-9.]+) img/s ([0-9.]+) s/')
HEADER = re.compile(r'^# device (\S+), image size (\d+), batch sizes (\d+) / (\d+), evaluation batch (\d+)')


def median(values):
    return sorted(values)[len(values) // 2]


def base(tag):
    """The configuration without the choices only ours has (AGR path, CUDA graphs)."""
    return re.sub(r'\+agr/\S+', '+agr', tag).replace(' cuda-graphs', '')


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("log")
    p.add_argument("--out", help="folder for gpu-bench.json")
    a = p.parse_args()
    lines = open(a.log).read().splitlines()
    header = next((m for m in map(HEADER.match, lines) if m), None)
    if header is None:
        sys.exit(f"{a.log}: no '# device ...' line: not a gpu-bench.sh log")
    bs, eval_bs, image_size = int(header.group(3)), int(header.group(5)), int(header.group(2))
    img = f" img={image_size}" if image_size != 32 else ""

    ours, torch = collections.defaultdict(list), collections.defaultdict(list)
    for line in lines:
        m = LINE.match(line.strip())
        if m:
            (ours if m.group(1) == 'agr-swift' else torch)[m.group(2)].append(float(m.group(3)))
    rows = [(t, o, median(tv), median(ov), median(tv) / median(ov))
            for t, tv in torch.items() for o, ov in ours.items() if base(o) == base(t)]

    print()
    w = max([44] + [len(t) for t, *_ in rows] + [len(o) for _, o, *_ in rows])
    print(f"{'torch eager':{w}} {'ours':{w}} {'torch ms':>9} {'our ms':>8} {'ratio':>6}")
    for t, o, tm, om, r in rows:
        print(f"{t:{w}} {o:{w}} {tm:9.1f} {om:8.1f} {r:6.2f}")
    for o, ov in ours.items():
        if 'eval' in o:
            print(f"ours only: {o}: {median(ov):.1f} ms/batch")
    print("ratio = torch ms / our ms (above 1: ours is faster); medians over rounds")

    # AGR overhead of ours over our plain AT, same batch, precision, layout and graph setting.
    print()
    for o, ov in ours.items():
        plain = re.sub(r'\+agr/\S+', '', o)
        if '+agr/' in o and plain in ours:
            print(f"AGR overhead (ours): {o} vs {plain}: {100 * (median(ov) / median(ours[plain]) - 1):+.1f}%")

    # The paper's CIFAR-10 recipe: 200 epochs of 391 steps at batch 128 (in a rehearsal with other batch
    # sizes, 50,000 / batch), AT for epochs 1-154 and AT+AGR (flat) for 155-200, and a PGD-20 evaluation of
    # the 10,000 test images each epoch.
    for layout in ('', ' channels_last'):
        for graphs in ('', ' cuda-graphs'):
            at = f"preact18 at bs={bs} fp32{layout}{graphs}{img}"
            agr = f"preact18 at+agr/flat bs={bs} fp32{layout}{graphs}{img}"
            evaluation = f"preact18 pgd20-eval bs={eval_bs} fp32{layout}{graphs}"
            if at in ours and agr in ours and evaluation in ours:
                steps = -(-50000 // bs) * (154 * median(ours[at]) + 46 * median(ours[agr])) / 1000
                ev = 200 * median(ours[evaluation]) * 10000 / eval_bs / 1000
                print(f"projection, 200 epochs (AT+AGR from 155){layout}{graphs or ' eager'}: "
                      f"{(steps + ev) / 60:.1f} min ({steps / 60:.1f} training + {ev / 60:.1f} PGD-20 evaluation)")

    print()
    for line in lines:
        if ' dispatch ' in line and line.startswith(('agr-swift', 'torch-eager')) or line.startswith(('# ops', '# torch ops')) \
                or line.startswith('# ') and '.json: ' in line:
            print(line)
    for line in lines:
        if line.startswith('# check') and 'FAILED' in line or line.startswith('error'):
            print(line)

    if a.out:
        json.dump([dict(torch=t, ours=o, torch_ms=tm, our_ms=om, ratio=r) for t, o, tm, om, r in rows],
                  open(a.out + '/gpu-bench.json', 'w'), indent=1)


if __name__ == "__main__":
    main()
