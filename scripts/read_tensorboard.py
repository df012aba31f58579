#!/usr/bin/env python3
"""Reads a folder of TensorBoard event files with TensorBoard's own reader and prints, as JSON, every
scalar tag with its (step, value) pairs and every histogram tag with its (step, count) pairs.

    python3 scripts/read_tensorboard.py runs/NAME/tensorboard

Needs the `tensorboard` package (pip install tensorboard); the opt-in test TensorBoardTests uses it when
AGR_TENSORBOARD_PYTHON names a Python that has it."""
import json
import sys

from tensorboard.backend.event_processing import event_accumulator


def main(folder):
    accumulator = event_accumulator.EventAccumulator(folder, size_guidance={"scalars": 0, "histograms": 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    out = {
        "scalars": {t: [[e.step, e.value] for e in accumulator.Scalars(t)] for t in tags["scalars"]},
        "histograms": {t: [[e.step, e.histogram_value.num] for e in accumulator.Histograms(t)] for t in tags["histograms"]},
    }
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
