#!/usr/bin/env python3
"""The official AutoAttack (fra31/auto-attack's code, as the `pyautoattack` package on PyPI ships it) on an agr
checkpoint and the first N test images of an idx dataset, for comparison with `agr eval` on the same points.

usage: reference_autoattack.py ARCH CHECKPOINT IDX_DIR N EPS [VERSION] [--norm Linf|L2|L1] [--seed S]
                                [--compare FLAGS_JSON]
  e.g. reference_autoattack.py smallcnn runs/quickstart/best.safetensors /usr/share/datasets/fashion-mnist 200 0.1
VERSION:
  standard  (default) AutoAttack(version='standard'): APGD-CE, APGD-T, FAB-T, Square as a cascade on the points
            still robust; prints each stage's robust accuracy, as `agr eval --attacks aa` prints its stages
  square    Square alone, as the standard version builds it (5,000 queries, p_init 0.8, resc_schedule=False),
            on the clean-correct points: compare with `agr eval --attacks square`
  apgd      APGD-CE + APGD-T only (version='custom', 1 restart, 9 targets), as `agr eval --attacks aa-apgd`
  apgd-l1   L1 only: APGD-CE (5 restarts) + APGD-T (5 targets), both with the larger-epsilon schedule, as the
            official L1 standard version sets them up without its FAB-T and Square: `agr eval --norm l1 --attacks aa`
--norm      the threat model (default Linf), as agr eval's --norm
--compare   the flags file `agr eval --save-flags` wrote beside the checkpoint (eval-<stem>.flags.json): prints how
            many points both call robust, both broken, and where they disagree (the first attack's flags, or
            the one named --compare-attack)
Runs on the CPU, where Square draws its random numbers from the same generator as ours: the two Square
results should then be the same point for point. Both sides must see the N points in one batch
(`agr eval --batch-size` >= N), since each batch reseeds the attacks.
Needs torch, safetensors, numpy and pyautoattack (`pip install --no-deps pyautoattack`); not this project's venv.
"""
import argparse, gzip, logging, os, sys, time
import numpy as np
import torch
from safetensors.torch import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_logits import SmallCNN, PreActResNet18, WRN34_10


def idx(path):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(folder, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    sys.exit(f"{folder}: no {stem}[.gz]")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("arch", choices=["smallcnn", "preact18", "wrn34-10"])
    parser.add_argument("checkpoint")
    parser.add_argument("folder")
    parser.add_argument("n", type=int)
    parser.add_argument("eps", type=float)
    parser.add_argument("version", nargs="?", default="standard", choices=["standard", "square", "apgd", "apgd-l1"])
    parser.add_argument("--norm", default="Linf", choices=["Linf", "L2", "L1"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compare")
    parser.add_argument("--compare-attack", type=int, default=0)
    a = parser.parse_args()
    from pyautoattack import AutoAttack

    images = idx(find(a.folder, "t10k-images-idx3-ubyte"))[:a.n]
    labels = idx(find(a.folder, "t10k-labels-idx1-ubyte"))[:a.n]
    x = torch.tensor(images, dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.tensor(labels, dtype=torch.int64)
    model = {"smallcnn": SmallCNN, "preact18": PreActResNet18, "wrn34-10": WRN34_10}[a.arch]()
    model.load_state_dict(load_file(a.checkpoint), strict=True)
    model.eval()
    with torch.no_grad():
        clean = model(x).argmax(1) == y
    print(f"clean {clean.float().mean().item() * 100:.2f}% ({int(clean.sum())}/{a.n})", flush=True)

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the per-stage lines AutoAttack logs
    if a.version == "standard":
        adversary = AutoAttack(model, norm=a.norm, eps=a.eps, version="standard", seed=a.seed, device="cpu")
    elif a.version == "apgd-l1":
        if a.norm != "L1":
            sys.exit("apgd-l1 is the L1 standard version's APGD part: give --norm L1")
        adversary = AutoAttack(model, norm="L1", eps=a.eps, version="custom", attacks=["apgd-ce", "apgd-t"], seed=a.seed,
                               device="cpu")
        adversary.apgd.use_largereps = adversary.apgd_targeted.use_largereps = True
        adversary.apgd.n_restarts = 5
        adversary.apgd_targeted.n_target_classes = 5
    else:
        # custom versions keep the attacks as AutoAttack's __init__ builds them: Square as in the standard version
        attacks = ["square"] if a.version == "square" else ["apgd-ce", "apgd-t"]
        adversary = AutoAttack(model, norm=a.norm, eps=a.eps, version="custom", attacks=attacks, seed=a.seed, device="cpu")
        adversary.apgd.n_restarts = 1
        adversary.apgd_targeted.n_target_classes = 9
    start = time.time()
    adv = adversary.run_standard_evaluation(x, y, batch_size=a.n)
    if isinstance(adv, tuple):  # the PyPI packaging returns (adversarial examples, ...)
        adv = adv[0]
    with torch.no_grad():
        robust = (model(adv).argmax(1) == y) & clean
    print(f"reference AutoAttack ({a.version}, {a.norm}) eps {a.eps}: {robust.float().mean().item() * 100:.2f}% "
          f"({int(robust.sum())}/{a.n}) in {time.time() - start:.0f} s", flush=True)
    print("robust flags: " + "".join("1" if r else "0" for r in robust.tolist()))
    if a.compare:
        compare(robust.tolist(), a.compare, a.compare_attack)


def compare(reference, path, attack):
    """Per-sample agreement with `agr eval --save-flags`'s flags (robust: correct and not broken)."""
    import json
    with open(path) as f:
        state = json.load(f)
    ours = state["robust"][attack][:len(reference)]
    name = state["settings"]["attacks"][attack]
    if len(ours) < len(reference):
        sys.exit(f"{path} holds {len(ours)} points, the reference {len(reference)}")
    both = sum(r and o for r, o in zip(reference, ours))
    neither = sum(not r and not o for r, o in zip(reference, ours))
    only_ours = [i for i, (r, o) in enumerate(zip(reference, ours)) if o and not r]
    only_theirs = [i for i, (r, o) in enumerate(zip(reference, ours)) if r and not o]
    print(f"agreement with agr eval's {name}: {both + neither}/{len(reference)} points (robust in both {both}, "
          f"broken or wrong in both {neither}); robust only for agr: {only_ours}; robust only for the reference: "
          f"{only_theirs}")


if __name__ == "__main__":
    main()
