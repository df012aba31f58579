#!/usr/bin/env python3
"""Counts the ATen operations one training step of shared/bench/torch_reference.py (the PyTorch eager
peer) dispatches, the way `agr bench --count-ops` counts ours (Sources/CTorch/op_census.cpp): an
operation counts when nothing it dispatched did work and it is not a view, metadata read or bare
allocation (the NO_KERNEL list, read from op_census.cpp); a multi-tensor aten::_foreach_* counts once where
it takes CUDA's fused route (lists of equally shaped tensors) and otherwise by what it dispatches.
A proxy for kernel launches per step, measurable without a GPU: it runs the peer's own `run()` on the
CPU (its CUDA calls redirected, and SGD on its multi-tensor path as on a GPU) and profiles one step
after two warm-up steps.

  python3 scripts/count_torch_ops.py --method at --agr --agr-style foreach [--names]
Prints: # torch ops <tag>: N kernel ops, H host reads per step (C ATen calls)

With --time it instead times the peer's steps on the CPU (`agr bench --device cpu` is the other side):
with small images (--image-size 8) little is left but the framework's per-operation cost, the host
work that bounds a step on a fast GPU.
  python3 scripts/count_torch_ops.py --time --image-size 8 --threads 1 --steps 20
Needs torch (e.g. 2.11.0); finds torch_reference.py like pytorch_logits.py ($TORCH_REFERENCE, ../shared/bench).
"""
import argparse, collections, contextlib, io, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_path import torch_reference_path


def no_kernel_list():
    source = open(os.path.join(HERE, "../Sources/CTorch/op_census.cpp")).read()
    block = re.search(r"NO_KERNEL = \{(.*?)\};", source, re.S).group(1)
    return set(re.findall(r'"([^"]+)"', block))


def fused_route(e, argument_types):
    """Whether a multi-tensor operation takes CUDA's fused route, as op_census.cpp decides it: its tensor lists
    pair tensors of equal sizes. The profiler keeps the argument types (`argument_types`, by event id) but not
    the lists' shapes; on the CPU, though, a foreach operation dispatches one operation per index whose first
    arguments are the lists' entries: a list against a list of 0-dim factors shows as differing shapes there."""
    lists = sum(1 for t in argument_types.get(e.id, []) if t == "TensorList")
    if lists < 2:
        return True
    return all(len({tuple(s) for s in c.input_shapes[:lists]}) == 1 for c in e.cpu_children)


def census(events, argument_types, no_kernel):
    counts = collections.Counter()

    def walk(e, in_fused):
        fused = not in_fused and e.name.startswith("aten::_foreach_") and fused_route(e, argument_types)
        below = False
        for c in e.cpu_children:
            below |= walk(c, in_fused or fused)
        # a multi-tensor operation off its fused route is a wrapper: what it dispatched counts
        counts_here = fused or (not in_fused and not below and e.name.startswith("aten::")
                                and not e.name.startswith("aten::_foreach_") and e.name not in no_kernel)
        if counts_here:
            counts[e.name] += 1
        return counts_here or below

    for e in events:
        if e.cpu_parent is None:
            walk(e, False)
    calls = sum(1 for e in events if e.name.startswith("aten::"))
    return counts, calls


def dispatch_overhead(torch, device, count=20000, rounds=3):
    """Microseconds per `a + b` on 1-element tensors of `device`, best of `rounds` after a warm-up round."""
    import time
    a, b = torch.ones(1, device=device), torch.ones(1, device=device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    best = float("inf")
    for r in range(rounds + 1):
        sync()
        start = time.perf_counter()
        for _ in range(count):
            a + b
        sync()
        if r > 0:
            best = min(best, (time.perf_counter() - start) / count * 1e6)
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="preact18", choices=["preact18", "wrn34-10"])
    p.add_argument("--method", default="at", choices=["at", "trades", "mart"])
    p.add_argument("--agr", action="store_true")
    p.add_argument("--agr-style", default="loop", choices=["loop", "foreach"])
    p.add_argument("--batch-size", type=int, default=2, help="op counts do not depend on it (default 2)")
    p.add_argument("--names", action="store_true", help="also list the counted operations by name")
    p.add_argument("--time", action="store_true", help="time steps on the CPU instead of counting operations")
    p.add_argument("--image-size", type=int, default=32, help="side of the synthetic images (the peer's is 32)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's choice)")
    p.add_argument("--bf16", action="store_true", help="the peer's --bf16 (--time; its CUDA autocast does nothing on a CPU)")
    p.add_argument("--channels-last", action="store_true", help="the peer's --channels-last (--time)")
    p.add_argument("--steps", type=int, default=20, help="timed steps (--time)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up steps (--time)")
    p.add_argument("--trace", metavar="FILE",
                   help="instead of counting, save a profiler trace (Chrome trace JSON; GPU kernels too with "
                        "--device cuda) of 2 steps after 3 warm-up steps, as agr bench --trace saves ours")
    p.add_argument("--dispatch-overhead", action="store_true",
                   help="only the host cost of one dispatched operation (a 1-element add, best of 3 x 20,000), "
                        "as agr bench --dispatch-overhead times ours")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"],
                   help="cuda: count on the GPU, the peer run as it is (the GPU machine's dispatch)")
    a = p.parse_args()
    if a.device == "cuda" and (a.time or a.image_size != 32):
        p.error("--device cuda counts operations (or traces) only, at the peer's image size")
    if a.trace and a.time:
        p.error("--trace and --time exclude each other")
    if (a.bf16 or a.channels_last) and not a.time:
        p.error("--bf16 and --channels-last apply to --time only (the count is of the fp32 step)")

    import importlib.util
    import torch
    if a.dispatch_overhead:
        print(f"torch-eager dispatch {a.device}: {dispatch_overhead(torch, a.device):.2f} us/op "
              f"(1-element add, best of 3 x 20000)")
        return
    spec = importlib.util.spec_from_file_location("torch_reference", torch_reference_path())
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)

    # The peer's run() on the CPU: .cuda() and device="cuda" become no-ops; its synchronisations bracket
    # the timed steps, which is where the profiler is switched on and off.
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.device == "cpu":
        torch.Tensor.cuda = lambda self, *args, **kwargs: self
        torch.nn.Module.cuda = lambda self, *args, **kwargs: self
        rand, randint = torch.rand, torch.randint
        # the peer draws its batch as torch.rand(bs, 3, 32, 32, device="cuda")
        torch.rand = lambda *shape, device=None, **kwargs: rand(*shape[:-2], a.image_size, a.image_size, **kwargs)
        torch.randint = lambda *args, device=None, **kwargs: randint(*args, **kwargs)
        # On a GPU torch.optim.SGD takes its multi-tensor (foreach) path by default; on a CPU a per-parameter
        # loop. The count stands for the GPU, so the GPU's choice is made here.
        sgd = torch.optim.SGD
        torch.optim.SGD = lambda *args, **kwargs: sgd(*args, foreach=True, **kwargs)
    real_synchronize = torch.cuda.synchronize
    tag = f"{a.model} {a.method}{'+agr/' + a.agr_style if a.agr else ''} bs={a.batch_size} fp32"
    if a.device == "cuda":
        tag += " cuda"
    if a.image_size != 32:
        tag += f" img={a.image_size}"
    import warnings
    warnings.simplefilter("ignore")  # autocast("cuda", enabled=False) without CUDA
    if a.time:
        torch.cuda.synchronize = lambda *args: None
        args = argparse.Namespace(model=a.model, method=a.method, agr=a.agr, agr_style=a.agr_style, steps=a.steps,
                                  warmup=a.warmup)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            ref.run(args, a.batch_size, a.bf16, a.channels_last)
        # the peer's own line, marked as a CPU run and with the image size in its tag (as agr bench's)
        line = re.search(r"^torch-eager (.+?): (.+)$", out.getvalue(), re.M)
        img = f" img={a.image_size}" if a.image_size != 32 else ""
        print(f"torch-eager-cpu {line.group(1)}{img}: {line.group(2)} ({torch.get_num_threads()} threads, "
              f"{a.warmup} warm-up + {a.steps} timed)")
        return
    activities = [torch.profiler.ProfilerActivity.CPU]
    if a.trace and a.device == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    profiler = torch.profiler.profile(activities=activities, record_shapes=not a.trace)
    marks = []

    def synchronize(*args):
        if a.device == "cuda":
            real_synchronize()
        # a CUDA profiler synchronises the device itself when it stops: through the real function, not this one
        torch.cuda.synchronize = real_synchronize
        try:
            (profiler.start if not marks else profiler.stop)()
        finally:
            torch.cuda.synchronize = synchronize
        marks.append(1)

    torch.cuda.synchronize = synchronize
    steps, warmup = (2, 3) if a.trace else (1, 2)
    args = argparse.Namespace(model=a.model, method=a.method, agr=a.agr, agr_style=a.agr_style, steps=steps,
                              warmup=warmup)
    with contextlib.redirect_stdout(io.StringIO()):
        ref.run(args, a.batch_size, False, False)
    if a.trace:
        profiler.export_chrome_trace(a.trace)
        print(f"# trace torch {tag}: {a.trace}")
        return
    argument_types = {k.correlation_id(): k.dtypes() for k in profiler.profiler.kineto_results.events()
                      if k.name().startswith("aten::_foreach_")}
    counts, calls = census(profiler.events(), argument_types, no_kernel_list())
    print(f"# torch ops {tag}: {sum(counts.values())} kernel ops, {counts['aten::_local_scalar_dense']} host reads "
          f"per step ({calls} ATen calls)")
    if a.names:
        for name, n in counts.most_common():
            print(f"  {name} {n}")


if __name__ == "__main__":
    main()
