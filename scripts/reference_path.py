"""Where shared/bench/torch_reference.py (the PyTorch eager peer) is: $TORCH_REFERENCE, beside the repository
(../shared/bench), or in carry/ on a GPU machine (build-gpu-carry.sh). Shared by the scripts that use it."""
import os, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def torch_reference_path():
    for candidate in (os.environ.get("TORCH_REFERENCE", ""), os.path.join(HERE, "..", "..", "shared", "bench", "torch_reference.py"),
                      "/work/shared/bench/torch_reference.py", os.path.join(HERE, "..", "carry", "torch_reference.py")):
        if candidate and os.path.isfile(candidate):
            return candidate
    sys.exit("torch_reference.py not found (set TORCH_REFERENCE=path)")
