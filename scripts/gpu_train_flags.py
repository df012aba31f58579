#!/usr/bin/env python3
"""Reads a scripts/gpu-bench.sh log and prints the `agr train` flags of the fastest fp32 AT step at the log's
batch size whose fast paths passed the fast-vs-plain check (for AT and, where measured, AT+AGR with the same
settings): --channels-last or --no-channels-last (training's default on CUDA is channels-last), and
--cuda-graphs where it won. Used by scripts/gpu-session.sh to run the short
CIFAR-10 check in the configuration the bench found fastest.
  python3 scripts/gpu_train_flags.py gpu-bench.log"""
import re, sys

from gpu_bench_summary import HEADER, LINE

SETTINGS = {" channels_last": "--channels-last", " cuda-graphs": "--cuda-graphs"}


def main():
    lines = open(sys.argv[1]).read().splitlines()
    header = next(m for m in map(HEADER.match, lines) if m)
    img = f" img={header.group(2)}" if header.group(2) != "32" else ""
    plain = re.compile(rf"preact18 at bs={header.group(3)} fp32((?: \S+)*?){re.escape(img)}$")
    failed = {re.sub(r'\+agr/\S+', '', m.group(1))
              for m in (re.match(r'^# check (.+?) vs plain path: .*FAILED$', line) for line in lines) if m}
    best = None
    for m in map(LINE.match, lines):
        if not m or m.group(1) != "agr-swift" or m.group(2) in failed:
            continue
        config = plain.match(m.group(2))
        settings = config and re.findall(r' \S+', config.group(1))
        if config and all(s in SETTINGS for s in settings) and (best is None or float(m.group(3)) < best[1]):
            best = (settings, float(m.group(3)))
    if best:
        flags = [SETTINGS[s] for s in best[0]]
        print(" ".join(flags if " channels_last" in best[0] else ["--no-channels-last"] + flags))


if __name__ == "__main__":
    main()
