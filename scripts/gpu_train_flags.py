#!/usr/bin/env python3
"""Reads a scripts/gpu-bench.sh log and prints the `agr train` flags of the fastest fp32 AT step at the log's
batch size whose fast paths passed the fast-vs-plain check (for AT and, where measured, AT+AGR with the same
settings): any of --channels-last, --eval-batch-norm native, --cuda-graphs. Used by scripts/gpu-session.sh to
run the short CIFAR-10 check in the configuration the bench found fastest.
  python3 scripts/gpu_train_flags.py gpu-bench.log"""
import re, sys

SETTINGS = {" channels_last": "--channels-last", " bn-native": "--eval-batch-norm native", " cuda-graphs": "--cuda-graphs"}


def main():
    lines = open(sys.argv[1]).read().splitlines()
    header = next(m for m in map(re.compile(r'^# device \S+, image size (\d+), batch sizes (\d+)').match, lines) if m)
    img = f" img={header.group(1)}" if header.group(1) != "32" else ""
    bs = header.group(2)
    times, failed = {}, set()
    for line in lines:
        m = re.match(r'^agr-swift (preact18 at bs=\d+ fp32.*?): ([0-9.]+) ms/step', line)
        if m:
            times[m.group(1)] = float(m.group(2))
        m = re.match(r'^# check (.+?) vs plain path: .*FAILED$', line)
        if m:
            failed.add(re.sub(r'\+agr/\S+', '', m.group(1)))
    best = None
    for tag, ms in times.items():
        rest = tag[len(f"preact18 at bs={bs} fp32"):len(tag) - len(img) or None] if tag.startswith(f"preact18 at bs={bs} fp32") else None
        if rest is None or tag in failed or any(s not in SETTINGS for s in re.findall(r' \S+', rest)):
            continue
        if best is None or ms < best[1]:
            best = (rest, ms)
    if best:
        print(" ".join(SETTINGS[s] for s in re.findall(r' \S+', best[0])))


if __name__ == "__main__":
    main()
