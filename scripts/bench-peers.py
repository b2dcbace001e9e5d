#!/usr/bin/env python3
"""Times the peer libraries' segmentation losses in PyTorch, on one CPU thread: a baseline for bench/RESULTS.md.

This is not a test and checks no values: it measures what MONAI, segmentation_models_pytorch ("smp"),
torchvision and torch.nn.functional take for the losses of `segloss bench zoo`, on the same machine and
in the same minute as segloss's own numbers, so that the two can be compared. Run it right before or
after `segloss bench zoo`, with the machine otherwise as quiet as it was for that.

Setup (Debian 12; no pip), the peers' sources exactly as for scripts/peer-fixtures.py:

    apt-get install python3-torch python3-numpy python3-torchvision   # torch 1.13.1, torchvision 0.14.1
    git --git-dir=<MONAI.git> archive HEAD | tar -x -C /tmp/monai
    git --git-dir=<MONAI.git> rev-parse HEAD > /tmp/monai/PEER_COMMIT
    git --git-dir=<smp.git> archive HEAD | tar -x -C /tmp/smp
    git --git-dir=<smp.git> rev-parse HEAD > /tmp/smp/PEER_COMMIT

    /usr/bin/python3 scripts/bench-peers.py [--quick] [--json FILE] [--monai /tmp/monai] [--smp /tmp/smp]

`--quick` is a smoke run (one tiny shape, few repetitions), not numbers to quote. `--json FILE` also
writes every row (name, shape, medianMs, p25Ms, p75Ms, melemPerS, or the reason a row could not run).

Method (as segloss's src/bench/harness.ts): each row is forward + backward, `loss.backward()` w.r.t. a
float32 channels-first input with requires_grad (the gradient is reset between runs), timed with
time.perf_counter; 3 warm-up runs, then runs until at least 7 runs and at least 0.3 s are done; the row
gives the median and the 25th-75th percentiles. Melem/s = input.numel() / median. torch runs in float32
with torch.set_num_threads(1) (and set_num_interop_threads(1)); its parallel config is printed, and any
OPENBLAS_*/OMP_*/MKL_* variables of the environment are printed and left as they are.

Inputs: logits ~ N(0, 2) (as `segloss bench zoo`), class indices uniform in [0, C), and a float 0/1
mask with ~30% ones (uniform > 0.7) for the sigmoid / multi-label losses, all from fixed seeds. The
softmax losses get the labels in their peer's own convention: MONAI [N, 1, ...] indices with
to_onehot_y=True (the one-hot is made inside the timed loss, as segloss's int32 labels are), smp and
torch [N, ...] int64 indices. Shapes, channels-first: [8, 4, 128, 128] and [2, 4, 48, 48, 48]
(segloss's [8,128,128,4] and [2,48,48,48,4]); plain CCE also at C = 2 [8, 2, 128, 128] and C = 8
[2, 8, 256, 256]. A row a peer cannot run is printed with the reason instead of a number.
"""

import argparse
import datetime
import json
import os
import sys
import time
import warnings

from peers import add_source_args, import_monai_losses, import_sigmoid_focal_loss, import_smp_losses, read_commit  # noqa: E402

T0 = time.time()

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--quick", action="store_true",
                    help="smoke run: [2, 4, 32, 32] only, few repetitions (not numbers to quote)")
parser.add_argument("--json", metavar="FILE", help="also write every row as JSON")
add_source_args(parser)
args = parser.parse_args()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # only settable before any parallel work
    pass
torch.set_default_dtype(torch.float32)
warnings.filterwarnings("ignore")

SEED = 20240611
SHAPES = [[2, 4, 32, 32]] if args.quick else [[8, 4, 128, 128], [2, 4, 48, 48, 48]]
# Plain CCE at other class counts (segloss's [8,128,128,2] and, smaller than its [2,512,512,8], C = 8).
CCE_SHAPES = [[2, 2, 32, 32], [2, 8, 32, 32]] if args.quick else [[8, 2, 128, 128], [2, 8, 256, 256]]
TIMING = dict(warmup=1, min_runs=3, min_s=0.05) if args.quick else dict(warmup=3, min_runs=7, min_s=0.3)
MAX_RUNS = 200


# ----------------------------------------------------------------------------------------------
# The peers, imported as scripts/peer-fixtures.py imports them; a failure is kept as the reason.
# ----------------------------------------------------------------------------------------------

def reason(e):
    return f"{type(e).__name__}: {e}".splitlines()[0][:160]


ML = SL = tv_sigmoid_focal_loss = None
MONAI_ERR = SMP_ERR = VISION_ERR = None
VISION = "?"

try:
    ML = import_monai_losses(args.monai)
except Exception as e:  # noqa: BLE001
    MONAI_ERR = "MONAI import failed: " + reason(e)

try:
    SL = import_smp_losses(args.smp)
except Exception as e:  # noqa: BLE001
    SMP_ERR = "smp losses import failed: " + reason(e)

try:
    tv_sigmoid_focal_loss, from_debian = import_sigmoid_focal_loss(args.vision)
    if from_debian:
        import torchvision  # noqa: E402
        VISION = f"torchvision {torchvision.__version__}"
    else:
        VISION = f"torchvision/ops/focal_loss.py @ {read_commit(args.vision)}"
except Exception as e:  # noqa: BLE001
    VISION_ERR = "torchvision import failed: " + reason(e)


def need(mod, err):
    """The loss factory's guard: raises the import failure as the row's reason."""
    if mod is None:
        raise RuntimeError(err)
    return mod


# ----------------------------------------------------------------------------------------------
# The rows: name, labels ('index' or 'mask'), and a factory returning loss(x, labels) -> tensor.
# Labels come as a dict: 'idx' [N, ...] int64, 'idx1' [N, 1, ...] int64, 'mask' float32 like x.
# ----------------------------------------------------------------------------------------------

def monai(cls, **kw):
    def make():
        loss = getattr(need(ML, MONAI_ERR), cls)(**kw)
        return lambda x, y: loss(x, y["idx1"] if kw.get("to_onehot_y") else y["mask"])
    return make


def smp(cls, **kw):
    def make():
        loss = getattr(need(SL, SMP_ERR), cls)(**kw)
        return lambda x, y: loss(x, y["idx"])
    return make


def torchvision_focal():
    fn = need(tv_sigmoid_focal_loss, VISION_ERR)
    return lambda x, y: fn(x, y["mask"], alpha=0.25, gamma=2, reduction="mean")


SOFTMAX_1H = dict(softmax=True, to_onehot_y=True, batch=True)

ROWS = [
    ("Dice (MONAI DiceLoss softmax, batch)", monai("DiceLoss", **SOFTMAX_1H), ""),
    ("Dice, Jaccard (MONAI)", monai("DiceLoss", jaccard=True, **SOFTMAX_1H), ""),
    ("Dice, sigmoid (MONAI, multi-label)", monai("DiceLoss", sigmoid=True, batch=True), "float mask"),
    ("generalized Dice (MONAI)", monai("GeneralizedDiceLoss", **SOFTMAX_1H), ""),
    ("Tversky 0.3/0.7 (MONAI)", monai("TverskyLoss", alpha=0.3, beta=0.7, **SOFTMAX_1H), ""),
    ("focal Tversky (smp, gamma 0.75)",
     smp("TverskyLoss", mode="multiclass", alpha=0.3, beta=0.7, gamma=0.75), ""),
    ("focal, softmax (MONAI, gamma 2)", monai("FocalLoss", use_softmax=True, to_onehot_y=True, gamma=2.0), ""),
    ("focal, sigmoid (torchvision, gamma 2)", torchvision_focal, "float mask"),
    ("BCE (torch)", lambda: (lambda x, y: F.binary_cross_entropy_with_logits(x, y["mask"])), "float mask"),
    ("CCE, label smoothing 0.1 (torch)",
     lambda: (lambda x, y: F.cross_entropy(x, y["idx"], label_smoothing=0.1)), ""),
    ("CCE (torch F.cross_entropy)", lambda: (lambda x, y: F.cross_entropy(x, y["idx"])), ""),
    ("Dice + CE (MONAI DiceCELoss)", monai("DiceCELoss", **SOFTMAX_1H), ""),
    # MONAI's DiceFocalLoss passes neither use_softmax nor to_onehot_y to its FocalLoss: its focal term
    # is the sigmoid focal loss on the one-hot (MONAI's own convention; timed as the peer ships it).
    ("Dice + focal (MONAI DiceFocalLoss)", monai("DiceFocalLoss", gamma=2.0, **SOFTMAX_1H),
     "MONAI's focal term here is sigmoid focal on the one-hot"),
    ("Lovász-softmax (smp)", smp("LovaszLoss", mode="multiclass"), ""),
    ("Dice + BCE, sigmoid (MONAI DiceCELoss)", monai("DiceCELoss", sigmoid=True, batch=True), "float mask"),
]
CCE_ROW = ROWS[10]


# ----------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------

def quantile(sorted_xs, q):
    at = (len(sorted_xs) - 1) * q
    lo, hi = int(at // 1), -int(-at // 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (at - lo)


def time_fwd_bwd(loss, x, labels, warmup, min_runs, min_s):
    def run():
        x.grad = None
        out = loss(x, labels)
        (out if out.dim() == 0 else out.sum()).backward()

    for _ in range(warmup):
        run()
    samples = []
    start = time.perf_counter()
    while len(samples) < MAX_RUNS and (len(samples) < min_runs or time.perf_counter() - start < min_s):
        t0 = time.perf_counter()
        run()
        samples.append(time.perf_counter() - t0)
    samples.sort()
    ms = [s * 1e3 for s in samples]
    return dict(medianMs=quantile(ms, 0.5), p25Ms=quantile(ms, 0.25), p75Ms=quantile(ms, 0.75), runs=len(ms))


def make_inputs(shape):
    """Logits ~ N(0, 2) with requires_grad, class indices in [0, C), and a ~30% 0/1 float mask."""
    n, c, spatial = shape[0], shape[1], shape[2:]
    g = torch.Generator().manual_seed(SEED)
    x = (torch.randn(shape, generator=g, dtype=torch.float32) * 2.0).requires_grad_(True)
    idx = torch.randint(0, c, [n, *spatial], generator=g, dtype=torch.int64)
    mask = (torch.rand(shape, generator=g, dtype=torch.float32) > 0.7).to(torch.float32)
    return x, dict(idx=idx, idx1=idx.unsqueeze(1), mask=mask)


def fmt_shape(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


results = []


def bench_row(name, make, shape, x, labels):
    elements = x.numel()
    row = dict(name=name, shape=fmt_shape(shape), elements=elements)
    try:
        loss = make()
        t = time_fwd_bwd(loss, x, labels, **TIMING)
        if x.grad is None or not torch.isfinite(x.grad).all():
            raise RuntimeError("no finite gradient reached the input")
        row.update(t, melemPerS=elements / (t["medianMs"] * 1e3))
        print("  ".join([name.ljust(44), f"{t['medianMs']:9.3f} ms",
                         f"[{t['p25Ms']:.3f}–{t['p75Ms']:.3f}]".rjust(20),
                         f"{row['melemPerS']:8.1f} Melem/s", f"({t['runs']} runs)"]), flush=True)
    except Exception as e:  # noqa: BLE001
        row.update(medianMs=None, melemPerS=None, error=reason(e))
        print(f"{name.ljust(44)}  could not run: {row['error']}", flush=True)
    results.append(row)


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------

date = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
monai_commit = read_commit(args.monai)
smp_commit = read_commit(args.smp)
print(f"bench-peers {date}  torch {torch.__version__}  MONAI {monai_commit}  smp {smp_commit}  {VISION}"
      f"{'  (--quick: a smoke run, not numbers to quote)' if args.quick else ''}")
parallel_info = torch.__config__.parallel_info().strip().splitlines()
print("torch: " + " | ".join(l.strip() for l in parallel_info[:6]))
env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))}
if env:
    print("env: " + " ".join(f"{k}={v}" for k, v in env.items()))
for err in (MONAI_ERR, SMP_ERR, VISION_ERR):
    if err:
        print("note: " + err)
print(f"forward + backward w.r.t. the float32 input, {torch.get_num_threads()} thread; median of "
      f">= {TIMING['min_runs']} runs and >= {TIMING['min_s']} s after {TIMING['warmup']} warm-up")

for shape in SHAPES:
    x, labels = make_inputs(shape)
    print(f"\n{fmt_shape(shape)}  ({x.numel() / 1e6:.2f} M elements; channels-first)")
    for name, make, _note in ROWS:
        bench_row(name, make, shape, x, labels)
    del x, labels

print("\nCCE (torch F.cross_entropy) at other class counts")
for shape in CCE_SHAPES:
    x, labels = make_inputs(shape)
    bench_row(f"CCE C={shape[1]} {fmt_shape(shape)}", CCE_ROW[1], shape, x, labels)
    del x, labels

notes = [f"{name}: {note}" for name, _m, note in ROWS if note and note != "float mask"]
print("\nnotes: sigmoid / multi-label rows take a float 0/1 mask (~30% ones), the others class indices; "
      + "; ".join(notes))
print(f"done in {time.time() - T0:.1f} s")

if args.json:
    with open(args.json, "w") as f:
        json.dump(dict(date=date, torch=torch.__version__, monaiCommit=monai_commit, smpCommit=smp_commit,
                       torchvision=VISION, quick=args.quick, threads=torch.get_num_threads(),
                       parallelInfo=parallel_info[:6], env=env, rows=results), f, indent=2, ensure_ascii=False)
    print(f"wrote {args.json}")
