#!/usr/bin/env python3
"""Float64 reference fixtures for segloss's losses, computed by the peer libraries' own code.

Writes test/fixtures/peer_losses.json: every case is a segloss op with its options, a small
channels-last input, its labels, and the loss and d(sum of loss)/d(input) that a peer library
(MONAI, segmentation_models_pytorch "smp", torchvision, or torch.nn.functional itself) computes
for the same thing, in torch float64 with autograd. No peer code is copied here: the peers are
imported from source trees outside this repository, given on the command line.

Setup (Debian 12; no pip):

    apt-get install python3-torch python3-numpy python3-torchvision   # torch 1.13.1, torchvision 0.14.1
    # MONAI and smp sources, unpacked from a git snapshot (git archive), anywhere outside the repo:
    git --git-dir=<MONAI.git> archive HEAD | tar -x -C /tmp/monai
    git --git-dir=<MONAI.git> rev-parse HEAD > /tmp/monai/PEER_COMMIT
    git --git-dir=<smp.git> archive HEAD | tar -x -C /tmp/smp
    git --git-dir=<smp.git> rev-parse HEAD > /tmp/smp/PEER_COMMIT
    /usr/bin/python3 scripts/peer-fixtures.py --monai /tmp/monai --smp /tmp/smp

The fixture was generated from MONAI d388d1c6fec8cb3a0eebee5b5a0b9776ca59ca83 (tag 1.5.0),
smp 5006616357631a48c7c8e11977cf5abb00803590 (0.5.1.dev0), Debian's python3-torchvision 0.14.1-2
and python3-torch 1.13.1+dfsg-4; the JSON records what was actually used.

Conventions (see the fixture's top-level "conventions"): segloss is channels-last, the peers are
channels-first; "input" is [N, ...spatial, C] flat row-major, int32 labels are [N, ...spatial],
float32 labels are [N, ...spatial, C]. Inputs and float labels are float32 values (rounded with
numpy.float32) and are then computed with in float64. Each case's inputs come from its own seed
(SEED and the CRC-32 of its name), so adding or removing a case changes no other case.

Where a peer computes part of a loss in float32 even for float64 inputs (MONAI's FocalLoss casts
with .float(); MONAI's GeneralizedDiceLoss takes its class weights from ground_o.float(); smp's
Lovasz casts with .float() and then cannot run on float64 at all; MONAI's to_onehot_y makes a float32
one-hot, which squared_pred's ord-2 norms then square-root and square in float32), the peer's code is
run with that cast made a no-op for float64 tensors (see `float64_casts`, `GeneralizedDiceLoss64`),
or given a float64 one-hot made by MONAI's own one_hot: the formulas are the peer's, only the
precision is ours. Each such case says so in its note, with the value that the unpatched peer gives
where it gives one.

The script ends with hand checks: several cases are recomputed from their formulas in numpy float64
and must agree with the peer to 1e-12 (relative), and one gradient is checked by central differences.
"""

import argparse
import contextlib
import importlib
import json
import os
import subprocess
import sys
import time
import warnings
import zlib

import numpy as np

from peers import add_source_args, import_monai_losses, import_sigmoid_focal_loss, import_smp_losses, read_commit  # noqa: E402

T0 = time.time()

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
add_source_args(parser)
parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "..", "test", "fixtures", "peer_losses.json"))
args = parser.parse_args()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)  # deterministic reductions, and the machine is shared
warnings.filterwarnings("ignore")

SEED = 20240611
F64 = torch.float64


# ----------------------------------------------------------------------------------------------
# The peers
# ----------------------------------------------------------------------------------------------

def deb_version(pkg):
    try:
        return subprocess.check_output(["dpkg-query", "-W", "-f=${Version}", pkg], text=True).strip()
    except Exception:
        return None


ML = import_monai_losses(args.monai)
import monai  # noqa: E402
from monai.losses.dice import GeneralizedDiceLoss  # noqa: E402
from monai.networks import one_hot as monai_one_hot  # noqa: E402

SL = import_smp_losses(args.smp)
smp_lovasz = importlib.import_module("segmentation_models_pytorch.losses.lovasz")
_smp_version = {}
exec(open(os.path.join(sys.modules["segmentation_models_pytorch"].__path__[0], "__version__.py")).read(), _smp_version)

tv_sigmoid_focal_loss, _from_debian = import_sigmoid_focal_loss(args.vision)
if _from_debian:
    import torchvision  # noqa: E402
    VISION = {"version": torchvision.__version__, "source": "Debian python3-torchvision",
              "debianPackage": deb_version("python3-torchvision")}
else:
    VISION = {"source": "torchvision/ops/focal_loss.py", "commit": read_commit(args.vision)}


@contextlib.contextmanager
def float64_casts():
    """Makes Tensor.float() return float64 tensors unchanged while a peer runs.

    MONAI's FocalLoss.forward does `input = input.float()` (and GeneralizedDiceLoss
    `ground_o.float()`), which would compute a float64 input in float32. Every other line of the
    peer's code runs as written."""
    orig = torch.Tensor.float

    def keep_float64(self, *a, **k):
        return self if self.dtype == torch.float64 else orig(self, *a, **k)

    torch.Tensor.float = keep_float64
    try:
        yield
    finally:
        torch.Tensor.float = orig


class GeneralizedDiceLoss64(GeneralizedDiceLoss):
    """MONAI's GeneralizedDiceLoss with its class weights evaluated in float64.

    MONAI calls w_func(ground_o.float()): with hard labels ground_o holds exact integer counts, so
    upcasting them here gives the exact float64 weights 1/g^2 (square) or 1/g (simple)."""

    def w_func(self, grnd):
        return super().w_func(grnd.to(torch.float64))


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------

def rng_for(name):
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


def f32(a):
    """Rounds to float32 values, held as float64."""
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def logits(rng, shape, scale=4.0, saturate=0):
    """Uniform in [-scale, scale]; `saturate` entries set to ±(28..32)."""
    z = rng.uniform(-scale, scale, size=shape)
    if saturate:
        flat = z.reshape(-1)
        idx = rng.choice(flat.size, size=saturate, replace=False)
        flat[idx] = rng.choice([-1.0, 1.0], size=saturate) * rng.uniform(28, 32, size=saturate)
    return f32(z)


def softmax_np(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def softmax_probs(rng, shape):
    """Probabilities for activation 'none', softmax-style: a softmax of random logits."""
    return f32(softmax_np(rng.uniform(-3, 3, size=shape)))


def multilabel_probs(rng, shape):
    """Probabilities for activation 'none', multi-label: independent values in (0.02, 0.98)."""
    return f32(rng.uniform(0.02, 0.98, size=shape))


def index_labels(rng, shape, C, present=None, absent=(), per_image=False):
    """int class indices of `shape` = [N, ...spatial] in [0, C) without the classes of `absent`.

    present: the classes that must occur (default: all allowed ones), in the batch, or in each
    image when per_image."""
    allowed = [c for c in range(C) if c not in absent]
    must = allowed if present is None else present
    for _ in range(10000):
        y = rng.choice(allowed, size=shape)
        groups = [y[i] for i in range(shape[0])] if per_image else [y]
        if all(set(must) <= set(np.unique(g).tolist()) for g in groups):
            return y.astype(np.int64)
    raise RuntimeError("no labels with every class present")


def multilabel_targets(rng, shape):
    """{0,1} per channel, channels-last; every channel has a 1 and a 0 somewhere."""
    for _ in range(10000):
        y = (rng.random(shape) < 0.45).astype(np.float64)
        per_channel = y.reshape(-1, shape[-1])
        if (per_channel.max(0) == 1).all() and (per_channel.min(0) == 0).all():
            return y
    raise RuntimeError("no multi-label targets")


def soft_labels(rng, shape):
    """Soft labels, channels-last, rows summing to 1 (up to float32 rounding)."""
    return f32(softmax_np(rng.uniform(-2, 2, size=shape) * 1.5))


def onehot_np(y, C):
    return np.eye(C)[y]


def with_ignored(rng, y, ignore, fraction=0.25):
    """Sets about `fraction` of the pixels of y to `ignore` (at least one)."""
    y = y.copy()
    flat = y.reshape(-1)
    k = max(1, int(round(fraction * flat.size)))
    flat[rng.choice(flat.size, size=k, replace=False)] = ignore
    return y


# channels-last (segloss) <-> channels-first (peers)
def cf(a):
    return torch.tensor(np.moveaxis(a, -1, 1).copy(), dtype=F64)


def idx(y):  # [N, ...spatial] class indices, as torch/smp/CE want them
    return torch.tensor(y, dtype=torch.long)


def idx1(y):  # [N, 1, ...spatial] class indices, as MONAI's to_onehot_y wants them
    return torch.tensor(y[:, None], dtype=torch.long)


def w64(w):
    return None if w is None else torch.tensor(w, dtype=F64)


# ----------------------------------------------------------------------------------------------
# Cases
# ----------------------------------------------------------------------------------------------

CASES = []
CHECKS = []  # (description, relative difference) of the hand checks


def flat_channels_last(t):
    """A channels-first per-element tensor [N, C, ...] as flat channels-last."""
    return np.moveaxis(t.detach().numpy(), 1, -1).reshape(-1)


def add(name, peer, op, options, x, labels, fn, labels_dtype=None, loss_none=None, note=None):
    """Runs fn (channels-first float64 input -> loss) with autograd and records the case.

    x: channels-last float64 array of float32 values. labels: int array [N, ...spatial] or float
    channels-last array. loss_none: for reduction 'none', (tensor -> (flat array, shape))."""
    assert not any(c["name"] == name for c in CASES), name
    xt = cf(x).requires_grad_(True)
    loss = fn(xt)
    loss.sum().backward()
    if labels_dtype is None:
        labels_dtype = "int32" if np.issubdtype(labels.dtype, np.integer) else "float32"
    case = {"name": name, "peer": peer, "op": op, "options": options,
            "shape": list(x.shape), "labelsDtype": labels_dtype}
    if labels_dtype == "float32":
        assert np.array_equal(labels, f32(labels)), name
    case["labels"] = [int(v) for v in labels.reshape(-1)] if labels_dtype == "int32" \
        else [float(v) for v in labels.reshape(-1)]
    case["input"] = [float(v) for v in x.reshape(-1)]
    if loss_none is not None:
        values, shape = loss_none(loss.detach())
        case["loss"] = [float(v) for v in np.asarray(values).reshape(-1)]
        case["lossShape"] = list(shape)
    else:
        assert loss.numel() == 1, name
        case["loss"] = float(loss.detach().reshape(()))
    g = np.moveaxis(xt.grad.numpy(), 1, -1)
    case["grad"] = [float(v) for v in g.reshape(-1)]
    assert np.all(np.isfinite(case["grad"])) and np.all(np.isfinite(case["loss"])), name
    if note:
        case["note"] = note
    CASES.append(case)
    return case


def none_flat(t):
    """MONAI Dice/Tversky reduction 'none': [C',1..] or [N,C',1..] -> [C'] or [N, C']."""
    shape = list(t.shape)
    while len(shape) > 1 and shape[-1] == 1:
        shape.pop()
    return t.numpy().reshape(-1), shape


def eps(nr, dr):
    return {"numerator": nr, "denominator": dr}


ACT = {"softmax": dict(softmax=True), "sigmoid": dict(sigmoid=True), "none": {}}


# ---- 1. dice: MONAI DiceLoss ------------------------------------------------------------------

def monai_dice(name, shape, activation, *, batch, squared=False, jaccard=False, include_bg=True,
               weight=None, nr=1e-5, dr=1e-5, reduction="mean", labels="index", absent=(),
               absent_per_image=False, saturate=0, note=None):
    rng = rng_for(name)
    C = shape[-1]
    if activation == "none":
        x = multilabel_probs(rng, shape) if labels == "multilabel" else softmax_probs(rng, shape)
    else:
        x = logits(rng, shape, saturate=saturate)
    if labels == "index":
        y = index_labels(rng, shape[:-1], C, absent=absent, per_image=not batch and not absent_per_image)
        if absent_per_image:  # the classes of `absent` are missing from image 0 only
            y0 = index_labels(rng, shape[1:-1], C, absent=absent)[None]
            y1 = index_labels(rng, shape[1:-1], C)[None]
            y = np.concatenate([y0, y1], 0)
        target = idx1(y)
        onehot = True
        if squared:
            # to_onehot_y makes a float32 one-hot, whose ord-2 norm MONAI takes in float32 (sqrt(count)^2 is
            # then off by ~1e-7 relative): one-hot in float64 with MONAI's own one_hot instead.
            raw_fn = ML.DiceLoss(include_background=include_bg, to_onehot_y=True, squared_pred=True,
                                 jaccard=jaccard, reduction=reduction, smooth_nr=nr, smooth_dr=dr, batch=batch,
                                 weight=w64(None if weight is None else (weight[1:] if not include_bg else weight)),
                                 **ACT[activation])
            raw = raw_fn(cf(x), target)
            target = monai_one_hot(target, C, dtype=F64)
            onehot = False
            note = ((note + "; ") if note else "") + (
                "peer given a float64 one-hot of the labels (monai.networks.one_hot(y, C, dtype=float64)) instead "
                "of to_onehot_y=True, whose float32 one-hot loses precision in the ord-2 norms of squared_pred: "
                f"with to_onehot_y MONAI gives {raw.reshape(-1).tolist()!r}")
    else:
        y = multilabel_targets(rng, shape) if labels == "multilabel" else soft_labels(rng, shape)
        target = cf(y)
        onehot = False
    mw = None if weight is None else (weight[1:] if not include_bg else weight)
    loss_fn = ML.DiceLoss(include_background=include_bg, to_onehot_y=onehot, squared_pred=squared,
                          jaccard=jaccard, reduction=reduction, smooth_nr=nr, smooth_dr=dr,
                          batch=batch, weight=w64(mw), **ACT[activation])
    peer = (f"monai.losses.DiceLoss({', '.join(k + '=True' for k in ACT[activation])}"
            f"{', ' if ACT[activation] else ''}to_onehot_y={onehot}, batch={batch}, squared_pred={squared}, "
            f"jaccard={jaccard}, include_background={include_bg}, smooth_nr={nr}, smooth_dr={dr}"
            f"{', weight=' + str(mw) if mw else ''}, reduction='{reduction}')")
    opts = {"activation": activation, "perImage": not batch, "includeBackground": include_bg,
            "epsilon": eps(nr, dr)}
    if squared:
        opts["square"] = True
    if jaccard:
        opts["jaccard"] = True
    if weight is not None:
        opts["classWeights"] = weight
    if reduction != "mean":
        opts["reduction"] = reduction
    notes = []
    if jaccard:
        notes.append("MONAI jaccard: 1 - (2*I + smooth_nr) / (2*(Sy + Sp - I) + smooth_dr), i.e. "
                     "1 - (I + nr/2) / (U + dr/2) with U = Sy + Sp - I (squared: Sy2 + Sp2 - I)")
    if note:
        notes.append(note)
    return add(name, peer, "dice", opts, x, y, lambda z: loss_fn(z, target),
               loss_none=none_flat if reduction == "none" else None,
               note="; ".join(notes) or None)


def smp_targets(rng, shape, mode, ignore):
    """smp's labels: class indices [N, ...] for multiclass (with `ignore`, redrawn until every class
    keeps a pixel outside the ignored ones), a multi-label mask otherwise; returns (y, torch target)."""
    C = shape[-1]
    if mode == "multiclass":
        y = index_labels(rng, shape[:-1], C)
        if ignore is not None:
            for _ in range(1000):
                yi = with_ignored(rng, y, ignore)
                if set(range(C)) <= set(np.unique(yi).tolist()):
                    break
            else:
                raise RuntimeError("no labels with every class present outside the ignored pixels")
            y = yi
        return y, idx(y)
    y = multilabel_targets(rng, shape)
    return y, cf(y)


def smp_dice(name, shape, mode, *, smooth, log_loss, ignore=None, saturate=0):
    """smp DiceLoss (sums over batch and space). smp's smooth s enters as (I + s)/((Sp + Sy)/2 + s),
    i.e. segloss's (2I + e)/(Sp + Sy + e) with e = 2s."""
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    y, target = smp_targets(rng, shape, mode, ignore)
    loss_fn = SL.DiceLoss(mode, log_loss=log_loss, from_logits=True, smooth=smooth,
                          ignore_index=ignore, eps=1e-12)
    peer = (f"segmentation_models_pytorch.losses.DiceLoss(mode='{mode}', log_loss={log_loss}, "
            f"from_logits=True, smooth={smooth}, eps=1e-12{', ignore_index=' + str(ignore) if ignore is not None else ''})")
    opts = {"activation": "softmax" if mode == "multiclass" else "sigmoid", "perImage": False,
            "includeBackground": True, "epsilon": eps(2 * smooth, 2 * smooth)}
    if log_loss:
        opts["log"] = True
    if ignore is not None:
        opts["ignoreIndex"] = ignore
    note = (f"smp smooth={smooth} is the Dice epsilon {2 * smooth} on numerator and denominator: smp "
            f"score = (I + s) / ((Sp + Sy)/2 + s) = (2I + 2s) / (Sp + Sy + 2s). smp sums over batch "
            f"and space (perImage false); every class occurs in the labels (smp sets the loss of a class "
            f"without true pixels to 0 but still divides by C)")
    if log_loss:
        note += "; log: loss = mean over classes of -log(dice_c), clamped at 1e-12 (not -log of the mean)"
    if ignore is not None:
        note += "; ignored pixels: p = 0 and y = 0 for every class (smp multiplies both by the mask)"
    return add(name, peer, "dice", opts, x, y, lambda z: loss_fn(z, target), note=note), (x, y)


def dice_cases():
    monai_dice("monai DiceLoss softmax C=3 batch=True", [2, 3, 4, 3], "softmax", batch=True)
    monai_dice("monai DiceLoss softmax C=3 batch=False", [2, 3, 4, 3], "softmax", batch=False)
    monai_dice("monai DiceLoss softmax rank5 C=4 batch=True squared_pred", [2, 2, 3, 3, 4], "softmax",
               batch=True, squared=True)
    monai_dice("monai DiceLoss softmax rank5 C=4 batch=False squared_pred", [2, 2, 3, 3, 4], "softmax",
               batch=False, squared=True)
    monai_dice("monai DiceLoss softmax rank3 C=2 batch=True include_background=False", [2, 5, 2],
               "softmax", batch=True, include_bg=False)
    monai_dice("monai DiceLoss softmax C=5 batch=False include_background=False weight", [2, 3, 4, 5],
               "softmax", batch=False, include_bg=False, weight=[9.0, 0.5, 1.25, 2.0, 0.75])
    monai_dice("monai DiceLoss softmax C=3 batch=True weight", [2, 3, 4, 3], "softmax", batch=True,
               weight=[0.25, 1.5, 2.0])
    monai_dice("monai DiceLoss softmax C=3 batch=True jaccard", [2, 3, 4, 3], "softmax", batch=True,
               jaccard=True)
    monai_dice("monai DiceLoss softmax C=3 batch=False jaccard squared_pred", [2, 3, 4, 3], "softmax",
               batch=False, jaccard=True, squared=True)
    monai_dice("monai DiceLoss softmax C=4 batch=True smooth_nr=0 smooth_dr=1e-6", [2, 3, 4, 4], "softmax",
               batch=True, nr=0.0, dr=1e-6)
    monai_dice("monai DiceLoss softmax C=4 batch=False smooth_nr=1e-3 smooth_dr=0.5", [2, 3, 4, 4],
               "softmax", batch=False, nr=1e-3, dr=0.5)
    monai_dice("monai DiceLoss softmax C=4 batch=True class 3 absent", [2, 3, 4, 4], "softmax",
               batch=True, absent=(3,))
    monai_dice("monai DiceLoss softmax C=4 batch=False class 2 absent from image 0", [2, 3, 4, 4],
               "softmax", batch=False, absent=(2,), absent_per_image=True)
    monai_dice("monai DiceLoss softmax C=4 batch=False smooth 1 class 1 absent", [2, 3, 4, 4], "softmax",
               batch=False, absent=(1,), nr=1.0, dr=1.0)
    monai_dice("monai DiceLoss softmax C=3 batch=True soft labels", [2, 3, 4, 3], "softmax", batch=True,
               labels="soft", note="soft labels with MONAI soft_label=False (the default): "
               "I = sum(p*y), denominator Sp + Sy; MONAI's soft_label=True would use the L1 "
               "formulation I = (Sp + Sy - sum|p - y|)/2 instead")
    monai_dice("monai DiceLoss softmax C=3 batch=False squared_pred soft labels", [2, 3, 4, 3], "softmax",
               batch=False, squared=True, labels="soft",
               note="soft labels, soft_label=False: ord 2 norms, I = sum(p*y), denominator Sp2 + Sy2")
    monai_dice("monai DiceLoss softmax C=3 batch=True reduction=none", [2, 3, 4, 3], "softmax", batch=True,
               reduction="none")
    monai_dice("monai DiceLoss softmax C=3 batch=False reduction=none include_background=False",
               [2, 3, 4, 3], "softmax", batch=False, reduction="none", include_bg=False)
    monai_dice("monai DiceLoss softmax C=4 batch=False reduction=sum weight", [2, 3, 4, 4], "softmax",
               batch=False, reduction="sum", weight=[0.5, 1.0, 1.5, 2.0])
    monai_dice("monai DiceLoss softmax rank3 C=5 batch=False", [2, 5, 5], "softmax", batch=False)
    monai_dice("monai DiceLoss softmax C=3 batch=True saturated logits", [2, 3, 4, 3], "softmax",
               batch=True, saturate=6)
    monai_dice("monai DiceLoss sigmoid C=1 batch=True", [2, 3, 4, 1], "sigmoid", batch=True,
               labels="multilabel")
    monai_dice("monai DiceLoss sigmoid rank3 C=1 batch=False", [2, 5, 1], "sigmoid", batch=False,
               labels="multilabel")
    monai_dice("monai DiceLoss sigmoid C=3 multi-label batch=True", [2, 3, 4, 3], "sigmoid", batch=True,
               labels="multilabel")
    monai_dice("monai DiceLoss sigmoid rank5 C=2 multi-label batch=False squared_pred", [2, 2, 3, 3, 2],
               "sigmoid", batch=False, squared=True, labels="multilabel")
    monai_dice("monai DiceLoss sigmoid C=3 int labels batch=True", [2, 3, 4, 3], "sigmoid", batch=True,
               note="int32 labels with a sigmoid: one-hot of the class index (MONAI to_onehot_y=True)")
    monai_dice("monai DiceLoss sigmoid C=3 batch=True saturated logits", [2, 3, 4, 3], "sigmoid",
               batch=True, labels="multilabel", saturate=6)
    monai_dice("monai DiceLoss none softmax-probabilities C=3 batch=True", [2, 3, 4, 3], "none", batch=True)
    monai_dice("monai DiceLoss none multi-label probabilities C=3 batch=False", [2, 3, 4, 3], "none",
               batch=False, labels="multilabel")
    monai_dice("monai DiceLoss none C=4 batch=False jaccard include_background=False", [2, 3, 4, 4],
               "none", batch=False, jaccard=True, include_bg=False)
    smp_dice("smp DiceLoss multiclass log_loss smooth=1", [2, 3, 4, 3], "multiclass", smooth=1.0,
             log_loss=True)
    smp_dice("smp DiceLoss multilabel log_loss smooth=0", [2, 3, 4, 3], "multilabel", smooth=0.0,
             log_loss=True)
    smp_dice("smp DiceLoss multiclass log_loss rank5 C=4 smooth=0.25 saturated", [2, 2, 3, 3, 4],
             "multiclass", smooth=0.25, log_loss=True, saturate=5)
    c, (x, y) = smp_dice("smp DiceLoss multiclass ignore_index=255 smooth=0.5", [2, 3, 4, 3], "multiclass",
                         smooth=0.5, log_loss=False, ignore=255)
    # Cross-check against MONAI: softmax, then p = 0 and y = 0 at ignored pixels, epsilon 2s.
    mask = torch.tensor((y != 255)[:, None], dtype=F64)
    p = torch.softmax(cf(x), 1) * mask
    t = F.one_hot(idx(np.where(y == 255, 0, y)), 3).movedim(-1, 1).to(F64) * mask
    m = ML.DiceLoss(batch=True, smooth_nr=1.0, smooth_dr=1.0)(p, t)
    CHECKS.append(("smp DiceLoss ignore_index=255 vs MONAI DiceLoss on masked p and y",
                   abs(float(m) - c["loss"]) / abs(c["loss"])))
    smp_dice("smp DiceLoss multiclass rank5 C=4 ignore_index=-1 smooth=0", [2, 2, 3, 3, 4], "multiclass",
             smooth=0.0, log_loss=False, ignore=-1)


# ---- 2. generalizedDice: MONAI GeneralizedDiceLoss ----------------------------------------------

def monai_gdl(name, shape, activation, w_type, *, batch, include_bg=True, nr=1e-5, dr=1e-5,
              labels="index", absent=(), absent_image=None, saturate=0, reduction="mean"):
    rng = rng_for(name)
    C = shape[-1]
    if activation == "none":
        x = softmax_probs(rng, shape)
    else:
        x = logits(rng, shape, saturate=saturate)
    if labels == "index":
        if absent_image is None:
            y = index_labels(rng, shape[:-1], C, absent=absent, per_image=not batch)
        else:  # `absent` missing from image `absent_image` only
            ys = [index_labels(rng, shape[1:-1], C, absent=absent if i == absent_image else ())[None]
                  for i in range(shape[0])]
            y = np.concatenate(ys, 0)
        target = idx1(y)
        onehot = True
    else:
        y = multilabel_targets(rng, shape)
        target = cf(y)
        onehot = False
    kw = dict(include_background=include_bg, to_onehot_y=onehot, w_type=w_type, smooth_nr=nr,
              smooth_dr=dr, batch=batch, reduction=reduction, **ACT[activation])
    loss_fn = GeneralizedDiceLoss64(**kw)
    peer = (f"monai.losses.GeneralizedDiceLoss({', '.join(k + '=True' for k in ACT[activation])}"
            f"{', ' if ACT[activation] else ''}to_onehot_y={onehot}, w_type='{w_type}', batch={batch}, "
            f"include_background={include_bg}, smooth_nr={nr}, smooth_dr={dr}, reduction='{reduction}')")
    opts = {"activation": activation, "weightType": w_type, "perImage": not batch,
            "includeBackground": include_bg, "epsilon": eps(nr, dr)}
    if reduction != "mean":
        opts["reduction"] = reduction
    raw = GeneralizedDiceLoss(**kw)(cf(x), target).reshape(-1).tolist()  # unpatched: float32 class weights
    raw = raw[0] if len(raw) == 1 else raw
    note = ("MONAI: w_c = 1/G_c^2 (square), 1/G_c (simple) or 1 (uniform), G_c = sum of y_c over the "
            "reduced axes; loss = 1 - (2 sum_c w_c I_c + nr) / (sum_c w_c (Sp_c + Sy_c) + dr); "
            + ("sums over batch and space, one value" if batch else
               "per image, then the mean over images"))
    if absent or absent_image is not None:
        note += ("; an absent class (G_c = 0, infinite weight) gets the largest finite weight "
                 + ("over all classes" if batch else "of its own image"))
    note += (f"; peer run with its class weights in float64 (MONAI computes w from ground_o.float(), "
             f"in float32): unpatched MONAI gives {raw!r}")
    loss_none = None
    if reduction == "none":  # MONAI: [1, 1, 1...] with batch=True, [N, 1, 1...] without
        loss_none = lambda t: (t.numpy().reshape(-1), [1] if batch else [shape[0], 1])  # noqa: E731
    add(name, peer, "generalizedDice", opts, x, y, lambda z: loss_fn(z, target), loss_none=loss_none, note=note)


def gdl_cases():
    monai_gdl("monai GeneralizedDiceLoss square softmax C=3 batch=True", [2, 3, 4, 3], "softmax", "square",
              batch=True)
    monai_gdl("monai GeneralizedDiceLoss square softmax C=3 batch=False", [2, 3, 4, 3], "softmax", "square",
              batch=False)
    monai_gdl("monai GeneralizedDiceLoss simple softmax rank5 C=4 batch=True", [2, 2, 3, 3, 4], "softmax",
              "simple", batch=True)
    monai_gdl("monai GeneralizedDiceLoss simple softmax C=4 batch=False", [2, 3, 4, 4], "softmax",
              "simple", batch=False)
    monai_gdl("monai GeneralizedDiceLoss uniform softmax rank3 C=3 batch=False", [2, 5, 3], "softmax",
              "uniform", batch=False)
    monai_gdl("monai GeneralizedDiceLoss square softmax C=4 batch=True class 3 absent", [2, 3, 4, 4],
              "softmax", "square", batch=True, absent=(3,))
    monai_gdl("monai GeneralizedDiceLoss square softmax C=4 batch=False class 1 absent from image 1",
              [2, 3, 4, 4], "softmax", "square", batch=False, absent=(1,), absent_image=1)
    monai_gdl("monai GeneralizedDiceLoss simple softmax C=4 batch=False class 2 absent", [2, 3, 4, 4],
              "softmax", "simple", batch=False, absent=(2,))
    monai_gdl("monai GeneralizedDiceLoss square softmax C=4 batch=True include_background=False",
              [2, 3, 4, 4], "softmax", "square", batch=True, include_bg=False)
    monai_gdl("monai GeneralizedDiceLoss simple sigmoid multi-label C=3 batch=False", [2, 3, 4, 3],
              "sigmoid", "simple", batch=False, labels="multilabel")
    monai_gdl("monai GeneralizedDiceLoss uniform none C=3 batch=True smooth_nr=0 smooth_dr=1e-6",
              [2, 3, 4, 3], "none", "uniform", batch=True, nr=0.0, dr=1e-6)
    monai_gdl("monai GeneralizedDiceLoss square softmax C=3 batch=True saturated logits", [2, 3, 4, 3],
              "softmax", "square", batch=True, saturate=6)
    monai_gdl("monai GeneralizedDiceLoss square softmax C=3 batch=False reduction=none", [2, 3, 4, 3],
              "softmax", "square", batch=False, reduction="none")
    monai_gdl("monai GeneralizedDiceLoss simple softmax C=3 batch=True reduction=none", [2, 3, 4, 3],
              "softmax", "simple", batch=True, reduction="none")
    monai_gdl("monai GeneralizedDiceLoss square softmax rank3 C=4 batch=False reduction=sum", [2, 5, 4],
              "softmax", "square", batch=False, reduction="sum")


# ---- 3. tversky: MONAI TverskyLoss, smp TverskyLoss (focal) ------------------------------------

def monai_tversky(name, shape, activation, alpha, beta, *, batch, include_bg=True, nr=1e-5, dr=1e-5,
                  reduction="mean", labels="index", saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    if activation == "none":
        x = multilabel_probs(rng, shape) if labels == "multilabel" else softmax_probs(rng, shape)
    else:
        x = logits(rng, shape, saturate=saturate)
    if labels == "index":
        y = index_labels(rng, shape[:-1], C, per_image=not batch)
        target, onehot = idx1(y), True
    else:
        y = multilabel_targets(rng, shape) if labels == "multilabel" else soft_labels(rng, shape)
        target, onehot = cf(y), False
    loss_fn = ML.TverskyLoss(include_background=include_bg, to_onehot_y=onehot, alpha=alpha, beta=beta,
                             reduction=reduction, smooth_nr=nr, smooth_dr=dr, batch=batch,
                             **ACT[activation])
    peer = (f"monai.losses.TverskyLoss({', '.join(k + '=True' for k in ACT[activation])}"
            f"{', ' if ACT[activation] else ''}to_onehot_y={onehot}, alpha={alpha}, beta={beta}, "
            f"batch={batch}, include_background={include_bg}, smooth_nr={nr}, smooth_dr={dr}, "
            f"reduction='{reduction}')")
    opts = {"activation": activation, "alpha": alpha, "beta": beta, "perImage": not batch,
            "includeBackground": include_bg, "epsilon": eps(nr, dr)}
    if reduction != "mean":
        opts["reduction"] = reduction
    note = ("MONAI: 1 - (TP + nr) / (TP + alpha*FP + beta*FN + dr), TP = sum p*y, FP = sum p*(1-y), "
            "FN = sum (1-p)*y (no factor 2, unlike its Dice)")
    add(name, peer, "tversky", opts, x, y, lambda z: loss_fn(z, target),
        loss_none=none_flat if reduction == "none" else None, note=note)


class TverskyPerClassGamma(SL.TverskyLoss):
    """smp's TverskyLoss with its final aggregation mean_c(loss_c)^gamma replaced by mean_c(loss_c^gamma).

    segloss's focal Tversky raises each class's 1 - T_c to gamma before the class mean; smp raises the
    mean. Everything before the aggregation (activation, ignore mask, per-class scores) is smp's."""

    def aggregate_loss(self, loss):
        return (loss ** self.gamma).mean()


def smp_tversky(name, shape, mode, alpha, beta, gamma, smooth, *, ignore=None, saturate=0, per_class=False):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    y, target = smp_targets(rng, shape, mode, ignore)
    kw = dict(from_logits=True, smooth=smooth, eps=1e-12, alpha=alpha, beta=beta, gamma=gamma, ignore_index=ignore)
    loss_fn = (TverskyPerClassGamma if per_class else SL.TverskyLoss)(mode, **kw)
    other = float((SL.TverskyLoss if per_class else TverskyPerClassGamma)(mode, **kw)(cf(x), target))
    peer = (f"{'(aggregation replaced) ' if per_class else ''}"
            f"segmentation_models_pytorch.losses.TverskyLoss(mode='{mode}', from_logits=True, alpha={alpha}, "
            f"beta={beta}, gamma={gamma}, smooth={smooth}, eps=1e-12"
            f"{', ignore_index=' + str(ignore) if ignore is not None else ''})")
    opts = {"activation": "softmax" if mode == "multiclass" else "sigmoid", "alpha": alpha, "beta": beta,
            "gamma": gamma, "perImage": False, "includeBackground": True, "epsilon": eps(smooth, smooth)}
    if ignore is not None:
        opts["ignoreIndex"] = ignore
    if per_class:
        note = ("NOT smp's own result: smp's TverskyLoss with aggregate_loss replaced by this script, "
                "loss = mean over classes of (1 - T_c)^gamma (segloss's documented focal Tversky); smp's own "
                f"(mean_c (1 - T_c))^gamma gives {other!r}")
    else:
        note = ("smp focal Tversky: loss = (mean over classes of (1 - T_c))^gamma — gamma applied once, after "
                "the class mean, not per class"
                + (f" (the per-class form mean_c (1 - T_c)^gamma gives {other!r})" if gamma != 1 else ""))
    note += ("; T_c = (TP + s)/(TP + alpha*FP + beta*FN + s), sums over batch and space; every class occurs "
             "in the labels")
    if ignore is not None:
        note += "; ignored pixels: p = 0 and y = 0 for every class"
    add(name, peer, "tversky", opts, x, y, lambda z: loss_fn(z, target), note=note)


def tversky_cases():
    monai_tversky("monai TverskyLoss softmax C=3 alpha=0.3 beta=0.7 batch=True", [2, 3, 4, 3], "softmax",
                  0.3, 0.7, batch=True)
    monai_tversky("monai TverskyLoss softmax rank5 C=3 alpha=0.7 beta=0.3 batch=False", [2, 2, 3, 3, 3],
                  "softmax", 0.7, 0.3, batch=False)
    monai_tversky("monai TverskyLoss sigmoid rank3 C=2 multi-label alpha=0.5 beta=0.5 batch=True", [2, 5, 2],
                  "sigmoid", 0.5, 0.5, batch=True, labels="multilabel")
    monai_tversky("monai TverskyLoss softmax C=4 alpha=0.4 beta=0.6 batch=False include_background=False",
                  [2, 3, 4, 4], "softmax", 0.4, 0.6, batch=False, include_bg=False)
    monai_tversky("monai TverskyLoss none C=3 alpha=0.2 beta=0.8 batch=True reduction=none", [2, 3, 4, 3],
                  "none", 0.2, 0.8, batch=True, reduction="none")
    monai_tversky("monai TverskyLoss softmax C=3 alpha=0.6 beta=0.4 batch=False reduction=none",
                  [2, 3, 4, 3], "softmax", 0.6, 0.4, batch=False, reduction="none")
    monai_tversky("monai TverskyLoss softmax C=3 alpha=0.3 beta=0.7 batch=True reduction=sum smooth 1",
                  [2, 3, 4, 3], "softmax", 0.3, 0.7, batch=True, reduction="sum", nr=1.0, dr=1.0)
    monai_tversky("monai TverskyLoss softmax C=3 alpha=0.3 beta=0.7 soft labels", [2, 3, 4, 3], "softmax",
                  0.3, 0.7, batch=True, labels="soft")
    monai_tversky("monai TverskyLoss softmax C=3 alpha=0.5 beta=0.5 saturated logits", [2, 3, 4, 3],
                  "softmax", 0.5, 0.5, batch=True, saturate=6)
    smp_tversky("smp TverskyLoss multiclass C=3 alpha=0.3 beta=0.7 gamma=0.75 smooth=1", [2, 3, 4, 3],
                "multiclass", 0.3, 0.7, 0.75, 1.0)
    smp_tversky("smp TverskyLoss multiclass rank5 C=4 alpha=0.7 beta=0.3 gamma=2 smooth=0",
                [2, 2, 3, 3, 4], "multiclass", 0.7, 0.3, 2.0, 0.0)
    smp_tversky("smp TverskyLoss multilabel C=3 alpha=0.5 beta=0.5 gamma=1.5 smooth=0.5", [2, 3, 4, 3],
                "multilabel", 0.5, 0.5, 1.5, 0.5)
    smp_tversky("smp TverskyLoss multiclass C=3 ignore_index=255 alpha=0.6 beta=0.4 gamma=1 smooth=0.25",
                [2, 3, 4, 3], "multiclass", 0.6, 0.4, 1.0, 0.25, ignore=255)
    smp_tversky("smp TverskyLoss per-class gamma multiclass C=3 alpha=0.3 beta=0.7 gamma=0.75 smooth=1",
                [2, 3, 4, 3], "multiclass", 0.3, 0.7, 0.75, 1.0, per_class=True)
    smp_tversky("smp TverskyLoss per-class gamma multilabel rank5 C=2 alpha=0.7 beta=0.3 gamma=2 smooth=0",
                [2, 2, 3, 3, 2], "multilabel", 0.7, 0.3, 2.0, 0.0, per_class=True)


# ---- 4. focal: MONAI FocalLoss (softmax), torchvision sigmoid_focal_loss ----------------------

def monai_focal(name, shape, gamma, *, alpha=None, weight=None, labels="index", saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    if labels == "index":
        y = index_labels(rng, shape[:-1], C)
        target, onehot = idx1(y), True
    else:
        y = soft_labels(rng, shape)
        target, onehot = cf(y), False
    kw = dict(to_onehot_y=onehot, gamma=gamma, alpha=alpha, weight=w64(weight), use_softmax=True,
              reduction="mean")
    loss_fn = ML.FocalLoss(**kw)
    peer = (f"monai.losses.FocalLoss(use_softmax=True, to_onehot_y={onehot}, gamma={gamma}"
            f"{', alpha=' + str(alpha) if alpha is not None else ''}"
            f"{', weight=' + str(weight) if weight is not None else ''}, reduction='mean')")
    opts = {"activation": "softmax", "gamma": gamma}
    if alpha is not None:
        opts["alpha"] = alpha
    if weight is not None:
        opts["alpha"] = weight
    raw = float(ML.FocalLoss(**kw)(cf(x), target))  # unpatched: computed in float32
    note = (f"MONAI's 'mean' is over pixels x classes (loss.mean() of the [N, C, ...spatial] tensor of "
            f"-(1 - p_c)^gamma * y_c * log p_c): it is segloss's mean over pixels divided by C = {C}. "
            f"Multiply loss and grad by {C} for the per-pixel mean")
    if alpha is not None:
        note += (f"; MONAI's scalar alpha is per class alpha_c = [1 - alpha, alpha, ..., alpha] = "
                 f"{[1 - alpha] + [alpha] * (C - 1)} (background 1 - alpha), not alpha for every class")
    if weight is not None:
        note += ("; per-class alpha_c given to MONAI as weight=[...] (MONAI 1.5.0's alpha is a float only); "
                 "it multiplies each class's term")
    note += (f"; peer run with its input.float() cast made a no-op for float64: unpatched MONAI (float32) "
             f"gives {raw!r}")
    add(name, peer, "focal", opts, x, y, lambda z: _float64(loss_fn, z, target), note=note)


def _float64(loss_fn, z, target):
    with float64_casts():
        return loss_fn(z, target)


def tv_focal(name, shape, gamma, alpha, *, labels="multilabel", saturate=0):
    rng = rng_for(name)
    x = logits(rng, shape, saturate=saturate)
    y = multilabel_targets(rng, shape) if labels == "multilabel" else multilabel_probs(rng, shape)
    target = cf(y)
    peer = (f"torchvision.ops.sigmoid_focal_loss(inputs, targets, alpha={alpha if alpha is not None else -1}, "
            f"gamma={gamma}, reduction='mean')")
    opts = {"activation": "sigmoid", "gamma": gamma}
    if alpha is not None:
        opts["alpha"] = alpha
    note = ("torchvision: mean over all N*spatial*C elements of alpha_t * (1 - p_t)^gamma * BCE, "
            "p_t = p*y + (1-p)*(1-y), alpha_t = alpha*y + (1-alpha)*(1-y)")
    if alpha is None:
        note += "; no alpha weighting: torchvision called with alpha=-1"
    if labels != "multilabel":
        note += "; soft targets in (0,1)"
    fn = lambda z: tv_sigmoid_focal_loss(z, target, alpha=alpha if alpha is not None else -1.0,  # noqa: E731
                                         gamma=gamma, reduction="mean")
    # MONAI's sigmoid focal loss (use_softmax=False) is the same for {0,1} targets: cross-check it.
    with float64_casts():
        m = float(ML.FocalLoss(gamma=gamma, alpha=alpha, reduction="mean")(cf(x), target))
    if labels != "multilabel":
        note += (f"; with soft targets MONAI's sigmoid FocalLoss differs: its focal factor is "
                 f"sigmoid(-z*(2y-1))^gamma instead of (1 - p_t)^gamma, giving {m!r}")
    c = add(name, peer, "focal", opts, x, y, fn, note=note)
    if labels == "multilabel":
        CHECKS.append((f"torchvision vs MONAI sigmoid focal ({name})", abs(m - c["loss"]) / abs(c["loss"])))


def focal_cases():
    monai_focal("monai FocalLoss softmax C=3 gamma=2", [2, 3, 4, 3], 2.0)
    monai_focal("monai FocalLoss softmax C=3 gamma=2 alpha=0.25", [2, 3, 4, 3], 2.0, alpha=0.25)
    monai_focal("monai FocalLoss softmax rank5 C=4 gamma=0.5 alpha=0.75", [2, 2, 3, 3, 4], 0.5, alpha=0.75)
    monai_focal("monai FocalLoss softmax rank3 C=2 gamma=0", [2, 5, 2], 0.0)
    monai_focal("monai FocalLoss softmax C=4 gamma=1.5 per-class alpha (weight)", [2, 3, 4, 4], 1.5,
                weight=[0.25, 0.5, 1.0, 2.0])
    monai_focal("monai FocalLoss softmax C=5 gamma=3 alpha=0.625", [2, 3, 4, 5], 3.0, alpha=0.625)
    monai_focal("monai FocalLoss softmax C=3 gamma=2 soft labels", [2, 3, 4, 3], 2.0, labels="soft")
    monai_focal("monai FocalLoss softmax C=3 gamma=2 saturated logits", [2, 3, 4, 3], 2.0, saturate=6)
    tv_focal("torchvision sigmoid_focal_loss C=3 alpha=0.25 gamma=2", [2, 3, 4, 3], 2.0, 0.25)
    tv_focal("torchvision sigmoid_focal_loss rank3 C=1 no alpha gamma=2", [2, 5, 1], 2.0, None)
    tv_focal("torchvision sigmoid_focal_loss rank5 C=2 alpha=0.625 gamma=1", [2, 2, 3, 3, 2], 1.0, 0.625)
    tv_focal("torchvision sigmoid_focal_loss C=2 alpha=0.5 gamma=0", [2, 3, 4, 2], 0.0, 0.5)
    tv_focal("torchvision sigmoid_focal_loss C=3 alpha=0.25 gamma=1.5 soft targets", [2, 3, 4, 3], 1.5,
             0.25, labels="soft")
    tv_focal("torchvision sigmoid_focal_loss C=3 alpha=0.25 gamma=2 saturated logits", [2, 3, 4, 3], 2.0,
             0.25, saturate=6)


# ---- 5. binaryCrossEntropy: torch binary_cross_entropy_with_logits -----------------------------

def bce(name, shape, *, pos_weight=None, smoothing=0.0, reduction="mean", labels="multilabel",
        huge=0, saturate=0):
    rng = rng_for(name)
    x = logits(rng, shape, saturate=saturate)
    if huge:
        flat = x.reshape(-1)
        i = rng.choice(flat.size, size=huge, replace=False)
        flat[i] = f32(rng.choice([-1.0, 1.0], size=huge) * rng.uniform(100, 1e4, size=huge))
        flat[i[:2]] = [1e4, -1e4]
    y = multilabel_targets(rng, shape) if labels == "multilabel" else multilabel_probs(rng, shape)
    target = cf(y)
    if smoothing:
        target = target * (1 - smoothing) + smoothing / 2
    pw = None if pos_weight is None else w64(pos_weight).view([-1] + [1] * (len(shape) - 2))
    fn = lambda z: F.binary_cross_entropy_with_logits(z, target, pos_weight=pw, reduction=reduction)  # noqa
    peer = (f"torch.nn.functional.binary_cross_entropy_with_logits(z, "
            f"{'y*(1-s)+s/2 with s=' + str(smoothing) if smoothing else 'y'}"
            f"{', pos_weight=' + str(pos_weight) + ' per channel' if pos_weight else ''}, reduction='{reduction}')")
    opts = {}
    if pos_weight is not None:
        opts["posWeight"] = pos_weight
    if smoothing:
        opts["labelSmoothing"] = smoothing
    if reduction != "mean":
        opts["reduction"] = reduction
    note = ("per element -(pw_c * y * log sigmoid(z) + (1 - y) * log(1 - sigmoid(z))); mean over all "
            "N*spatial*C elements")
    if smoothing:
        note += f"; label smoothing applied by this script to the targets: y*(1-s) + s/2, s = {smoothing}"
    loss_none = None
    if reduction == "none":
        loss_none = lambda t: (flat_channels_last(t), shape)  # noqa: E731
    add(name, peer, "binaryCrossEntropy", opts, x, y, fn, loss_none=loss_none, note=note)


def bce_cases():
    bce("torch BCE-with-logits C=3 mean", [2, 3, 4, 3])
    bce("torch BCE-with-logits C=3 pos_weight mean", [2, 3, 4, 3], pos_weight=[2.0, 0.5, 1.25])
    bce("torch BCE-with-logits rank5 C=2 label smoothing 0.1 mean", [2, 2, 3, 3, 2], smoothing=0.1)
    bce("torch BCE-with-logits C=3 pos_weight label smoothing 0.2 sum", [2, 3, 4, 3],
        pos_weight=[3.0, 1.0, 0.25], smoothing=0.2, reduction="sum")
    bce("torch BCE-with-logits rank3 C=2 none", [2, 5, 2], reduction="none")
    bce("torch BCE-with-logits C=2 logits up to 1e4 pos_weight mean", [2, 3, 4, 2], pos_weight=[1.5, 0.75],
        huge=8)
    bce("torch BCE-with-logits rank5 C=1 soft targets sum", [2, 2, 3, 3, 1], labels="soft", reduction="sum")
    bce("torch BCE-with-logits C=3 saturated logits mean", [2, 3, 4, 3], saturate=6)


# ---- 6. categoricalCrossEntropy: torch cross_entropy -------------------------------------------

def cce(name, shape, *, smoothing=0.0, weight=None, ignore=None, reduction="mean", labels="index",
        saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    if labels == "index":
        y = index_labels(rng, shape[:-1], C)
        if ignore is not None:
            y = with_ignored(rng, y, ignore, fraction=0.2)
        target = idx(y)
    else:
        y = soft_labels(rng, shape)
        target = cf(y)
    kw = dict(weight=w64(weight), label_smoothing=smoothing, reduction=reduction)
    if ignore is not None:
        kw["ignore_index"] = ignore
    fn = lambda z: F.cross_entropy(z, target, **kw)  # noqa: E731
    peer = (f"torch.nn.functional.cross_entropy(z, {'y_index' if labels == 'index' else 'y_probabilities'}"
            f"{', label_smoothing=' + str(smoothing) if smoothing else ''}"
            f"{', weight=' + str(weight) if weight else ''}"
            f"{', ignore_index=' + str(ignore) if ignore is not None else ''}, reduction='{reduction}')")
    opts = {}
    if smoothing:
        opts["labelSmoothing"] = smoothing
    if weight is not None:
        opts["classWeights"] = weight
    if ignore is not None:
        opts["ignoreIndex"] = ignore
    if reduction != "mean":
        opts["reduction"] = reduction
    if labels == "index":
        note = ("torch, class indices: l_i = w_{y_i} * (1-s) * (-log p_{i,y_i}) + (s/C) * sum_c w_c * (-log p_{i,c}) "
                "(w = 1 without weights); ignored pixels give 0; 'mean' = sum_i l_i / sum_{i not ignored} w_{y_i}")
    else:
        note = ("torch, class probabilities: y' = y*(1-s) + s/C, l_i = -sum_c w_c y'_c log p_{i,c}; "
                "'mean' divides by the number of pixels (NOT by a sum of weights, unlike class-index targets)")
    loss_none = None
    if reduction == "none":
        loss_none = lambda t: (t.numpy().reshape(-1), shape[:-1])  # noqa: E731
    add(name, peer, "categoricalCrossEntropy", opts, x, y, fn, loss_none=loss_none, note=note)


def cce_cases():
    cce("torch cross_entropy C=3 mean", [2, 3, 4, 3])
    cce("torch cross_entropy rank5 C=4 label_smoothing=0.1", [2, 2, 3, 3, 4], smoothing=0.1)
    cce("torch cross_entropy C=3 weight", [2, 3, 4, 3], weight=[0.5, 2.0, 1.25])
    cce("torch cross_entropy C=3 ignore_index=255", [2, 3, 4, 3], ignore=255)
    cce("torch cross_entropy C=4 weight label_smoothing=0.2 ignore_index=-1", [2, 3, 4, 4],
        weight=[1.0, 0.25, 3.0, 1.5], smoothing=0.2, ignore=-1)
    cce("torch cross_entropy rank3 C=3 weight sum", [2, 5, 3], weight=[0.75, 1.5, 2.5], reduction="sum")
    cce("torch cross_entropy C=3 ignore_index=255 label_smoothing=0.2 none", [2, 3, 4, 3], ignore=255,
        smoothing=0.2, reduction="none")
    cce("torch cross_entropy C=4 ignore_index=0 (in range) weight", [2, 3, 4, 4], ignore=0,
        weight=[5.0, 0.5, 1.0, 2.0])
    cce("torch cross_entropy C=5 saturated logits", [2, 3, 4, 5], saturate=6)
    cce("torch cross_entropy C=3 soft labels", [2, 3, 4, 3], labels="soft")
    cce("torch cross_entropy C=3 soft labels label_smoothing=0.1 weight", [2, 3, 4, 3], labels="soft",
        smoothing=0.1, weight=[0.5, 2.0, 1.25])


# ---- 7. lovaszSoftmax: smp LovaszLoss ----------------------------------------------------------

def lovasz(name, shape, *, per_image, ignore=None, classes="present", absent=(), saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    y = index_labels(rng, shape[:-1], C, absent=absent)
    if ignore is not None:
        y = with_ignored(rng, y, ignore, fraction=0.2)
    target = idx(y)
    note = ""
    if len(shape) == 3:
        # smp reads a rank-3 probability tensor as sigmoid output [B, H, W] (and then fails for C > 1):
        # give it [N, C, L, 1], which is the same loss.
        target = target.unsqueeze(-1)
        note = "rank-3 input given to smp as [N, C, L, 1] (smp takes a rank-3 tensor for a sigmoid output [B, H, W]); "
    if classes == "present":
        loss_fn = SL.LovaszLoss("multiclass", per_image=per_image, ignore_index=ignore, from_logits=True)
        fn = lambda z: loss_fn(z if len(shape) > 3 else z.unsqueeze(-1), target)  # noqa: E731
        peer = (f"segmentation_models_pytorch.losses.LovaszLoss(mode='multiclass', per_image={per_image}, "
                f"ignore_index={ignore}, from_logits=True)")
    else:
        fn = lambda z: smp_lovasz._lovasz_softmax(  # noqa: E731
            (z if len(shape) > 3 else z.unsqueeze(-1)).softmax(dim=1), target, classes="all",
            per_image=per_image, ignore=ignore)
        peer = (f"segmentation_models_pytorch.losses.lovasz._lovasz_softmax(softmax(z), y, classes='all', "
                f"per_image={per_image}, ignore={ignore})")
        note += ("classes='all' is not reachable through smp's LovaszLoss (its forward always uses the default "
                "'present'); this calls smp's module function _lovasz_softmax, as LovaszLoss.forward does, "
                "with classes='all'. ")
    note += ("smp: softmax always applied (LovaszLoss ignores from_logits); per class c, errors |fg_c - p_c| "
             "sorted descending, loss_c = dot(errors_sorted, Lovasz gradient of the Jaccard loss); mean over "
             + ("the classes present in the labels" if classes == "present" else "all C classes")
             + (", per image, then mean over images" if per_image else " of the whole batch")
             + ("; ignored pixels are removed" if ignore is not None else ""))
    note += ("; peer run with Tensor.float() a no-op for float64 (smp's _lovasz_grad casts the sorted "
             "labels with .float() and then fails on a float64 dot product; the casts only hold 0/1 and "
             "integer counts)")
    # The smallest gap between two errors of one class (among the pixels sorted together): an order that
    # a float32 implementation could not resolve would change the grad of those entries.
    p = torch.softmax(cf(x), 1).movedim(1, -1).reshape(-1, C).numpy()
    flat_y = y.reshape(-1)
    groups = np.split(np.arange(flat_y.size), shape[0]) if per_image else [np.arange(flat_y.size)]
    gap = min(float(np.min(np.diff(np.sort(np.abs((flat_y[g] == k) - p[g, k])))))
              for g in (g[flat_y[g] != ignore] if ignore is not None else g for g in groups) for k in range(C))
    note += f"; smallest gap between two sorted errors of a class: {gap:.3g}"
    if gap < 1e-9:
        note += (" (between errors of saturated pixels, whose dp/dz is ~1e-13, so their order moves the grad "
                 "by less than ~1e-12)")
    opts = {"perImage": per_image, "classes": classes}
    if ignore is not None:
        opts["ignoreIndex"] = ignore
    add(name, peer, "lovaszSoftmax", opts, x, y, lambda z: _float64(lambda a, b: fn(a), z, None), note=note)


def lovasz_cases():
    lovasz("smp LovaszLoss multiclass C=3 per_image=False", [2, 3, 4, 3], per_image=False)
    lovasz("smp LovaszLoss multiclass C=3 per_image=True", [2, 3, 4, 3], per_image=True)
    lovasz("smp LovaszLoss multiclass C=4 per_image=False ignore_index=255", [2, 3, 4, 4], per_image=False,
           ignore=255)
    lovasz("smp LovaszLoss multiclass rank5 C=4 per_image=True ignore_index=255", [2, 2, 3, 3, 4],
           per_image=True, ignore=255)
    lovasz("smp LovaszLoss multiclass C=4 per_image=False class 2 absent", [2, 3, 4, 4], per_image=False,
           absent=(2,))
    lovasz("smp LovaszLoss multiclass rank3 C=2 per_image=False", [2, 5, 2], per_image=False)
    lovasz("smp LovaszLoss multiclass C=5 per_image=True", [2, 3, 4, 5], per_image=True)
    lovasz("smp LovaszLoss multiclass C=3 per_image=False saturated logits", [2, 3, 4, 3], per_image=False,
           saturate=6)
    lovasz("smp _lovasz_softmax classes=all C=4 per_image=False class 2 absent", [2, 3, 4, 4],
           per_image=False, classes="all", absent=(2,))
    lovasz("smp _lovasz_softmax classes=all C=3 per_image=True ignore 255", [2, 3, 4, 3], per_image=True,
           classes="all", ignore=255)


# ---- 8. diceCrossEntropy, diceFocal: MONAI DiceCELoss, DiceFocalLoss ----------------------------

def dice_ce(name, shape, lambda_dice, lambda_ce, *, batch, include_bg=True, weight=None, smoothing=0.0,
            nr=1e-5, dr=1e-5, reduction="mean", saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    y = index_labels(rng, shape[:-1], C, per_image=not batch)
    target = idx1(y)
    loss_fn = ML.DiceCELoss(include_background=include_bg, to_onehot_y=True, softmax=True, reduction=reduction,
                            smooth_nr=nr, smooth_dr=dr, batch=batch, weight=w64(weight),
                            lambda_dice=lambda_dice, lambda_ce=lambda_ce, label_smoothing=smoothing)
    peer = (f"monai.losses.DiceCELoss(softmax=True, to_onehot_y=True, lambda_dice={lambda_dice}, "
            f"lambda_ce={lambda_ce}, batch={batch}, include_background={include_bg}, smooth_nr={nr}, "
            f"smooth_dr={dr}{', weight=' + str(weight) if weight else ''}"
            f"{', label_smoothing=' + str(smoothing) if smoothing else ''}, reduction='{reduction}')")
    dice = {"perImage": not batch, "includeBackground": include_bg, "epsilon": eps(nr, dr)}
    ce = {}
    if weight is not None:
        dice["classWeights"] = weight
        ce["classWeights"] = weight
    if smoothing:
        ce["labelSmoothing"] = smoothing
    opts = {"lambdaDice": lambda_dice, "lambdaCe": lambda_ce, "dice": dice, "ce": ce}
    if reduction != "mean":
        opts["reduction"] = reduction
    note = ("lambda_dice * DiceLoss(softmax) + lambda_ce * torch CrossEntropyLoss(class indices); the CE part "
            "always includes the background")
    if weight is not None:
        note += ("; MONAI's weight goes to both: Dice multiplies class losses (weight[1:] without background), "
                 "CE is the weighted mean sum_i w_{y_i} l_i / sum_i w_{y_i}")
    if reduction == "sum":
        note += "; reduction sum: Dice summed over (images x) classes, CE summed over pixels"
    add(name, peer, "diceCrossEntropy", opts, x, y, lambda z: loss_fn(z, target), note=note)


def dice_focal(name, shape, lambda_dice, lambda_focal, gamma, *, batch, activation="softmax", alpha=None,
               composed=False, nr=1e-5, dr=1e-5, saturate=0):
    rng = rng_for(name)
    C = shape[-1]
    x = logits(rng, shape, saturate=saturate)
    if activation == "softmax":
        y = index_labels(rng, shape[:-1], C, per_image=not batch)
        target, onehot = idx1(y), True
    else:
        y = multilabel_targets(rng, shape)
        target, onehot = cf(y), False
    dice = {"perImage": not batch, "includeBackground": True, "epsilon": eps(nr, dr)}
    focal = {"gamma": gamma}
    if alpha is not None:
        focal["alpha"] = alpha
    if composed:
        d = ML.DiceLoss(to_onehot_y=True, softmax=True, smooth_nr=nr, smooth_dr=dr, batch=batch)
        f = ML.FocalLoss(to_onehot_y=True, use_softmax=True, gamma=gamma, alpha=alpha)

        def fn(z):
            with float64_casts():
                return lambda_dice * d(z, target) + lambda_focal * f(z, target)
        peer = (f"{lambda_dice} * monai.losses.DiceLoss(softmax=True, to_onehot_y=True, batch={batch}, "
                f"smooth_nr={nr}, smooth_dr={dr}) + {lambda_focal} * monai.losses.FocalLoss(use_softmax=True, "
                f"to_onehot_y=True, gamma={gamma}{', alpha=' + str(alpha) if alpha is not None else ''})")
        note = (f"composed by this script from MONAI's DiceLoss and softmax FocalLoss, because MONAI's "
                f"DiceFocalLoss uses the sigmoid focal loss (see the other diceFocal cases); the focal part "
                f"is MONAI's mean over pixels x classes, i.e. segloss's per-pixel mean / C (C = {C})")
        if alpha is not None:
            note += f"; MONAI's scalar alpha: alpha_c = [1 - alpha, alpha, ...] = {[1 - alpha] + [alpha] * (C - 1)}"
        focal["activation"] = "softmax"
    else:
        m = ML.DiceFocalLoss(to_onehot_y=onehot, smooth_nr=nr, smooth_dr=dr, batch=batch, gamma=gamma,
                             alpha=alpha, lambda_dice=lambda_dice, lambda_focal=lambda_focal,
                             **ACT[activation])

        def fn(z):
            with float64_casts():
                return m(z, target)
        peer = (f"monai.losses.DiceFocalLoss({activation}=True, to_onehot_y={onehot}, lambda_dice={lambda_dice}, "
                f"lambda_focal={lambda_focal}, gamma={gamma}{', alpha=' + str(alpha) if alpha is not None else ''}, "
                f"batch={batch}, smooth_nr={nr}, smooth_dr={dr})")
        note = ("MONAI 1.5.0's DiceFocalLoss builds its FocalLoss without use_softmax, so the focal part is "
                "ALWAYS the sigmoid focal loss on the logits (per channel, against the one-hot target), mean "
                "over N*C*spatial elements, even with softmax=True for the Dice part")
        focal["activation"] = "sigmoid"
    note += "; MONAI's FocalLoss run with its input.float() cast made a no-op for float64"
    opts = {"activation": activation, "lambdaDice": lambda_dice, "lambdaFocal": lambda_focal, "dice": dice,
            "focal": focal}
    add(name, peer, "diceFocal", opts, x, y, fn, note=note)


def composite_cases():
    dice_ce("monai DiceCELoss C=3 batch=True", [2, 3, 4, 3], 1.0, 1.0, batch=True)
    dice_ce("monai DiceCELoss rank5 C=4 batch=False lambda 0.7/0.3", [2, 2, 3, 3, 4], 0.7, 0.3, batch=False)
    dice_ce("monai DiceCELoss C=3 batch=True weight", [2, 3, 4, 3], 1.0, 1.0, batch=True,
            weight=[0.5, 1.5, 2.0])
    dice_ce("monai DiceCELoss C=3 batch=False include_background=False lambda 0.5/1.5", [2, 3, 4, 3], 0.5, 1.5,
            batch=False, include_bg=False)
    dice_ce("monai DiceCELoss C=3 batch=True label_smoothing=0.1 smooth_nr=0 smooth_dr=1e-6", [2, 3, 4, 3],
            1.0, 1.0, batch=True, smoothing=0.1, nr=0.0, dr=1e-6)
    dice_ce("monai DiceCELoss rank3 C=3 batch=False reduction=sum", [2, 5, 3], 1.0, 1.0, batch=False,
            reduction="sum")
    dice_ce("monai DiceCELoss C=3 batch=True saturated logits", [2, 3, 4, 3], 1.0, 1.0, batch=True, saturate=6)
    dice_focal("monai DiceFocalLoss softmax C=3 batch=True gamma=2 (sigmoid focal)", [2, 3, 4, 3], 1.0, 1.0,
               2.0, batch=True)
    dice_focal("monai DiceFocalLoss sigmoid multi-label C=3 batch=False gamma=2 alpha=0.25", [2, 3, 4, 3],
               0.5, 2.0, 2.0, batch=False, activation="sigmoid", alpha=0.25)
    dice_focal("monai DiceLoss + FocalLoss(use_softmax) C=3 batch=False gamma=2 lambda 0.5/0.5",
               [2, 3, 4, 3], 0.5, 0.5, 2.0, batch=False, composed=True)
    dice_focal("monai DiceLoss + FocalLoss(use_softmax) rank5 C=4 batch=True gamma=1.5 alpha=0.25",
               [2, 2, 3, 3, 4], 1.0, 2.0, 1.5, batch=True, alpha=0.25, composed=True)
    dice_focal("monai DiceLoss + FocalLoss(use_softmax) C=3 batch=True gamma=2 saturated logits",
               [2, 3, 4, 3], 1.0, 1.0, 2.0, batch=True, composed=True, saturate=6)


# ----------------------------------------------------------------------------------------------
# Hand checks: formulas in numpy float64 against the peers
# ----------------------------------------------------------------------------------------------

def case(name):
    return next(c for c in CASES if c["name"] == name)


def arrays(c):
    x = np.array(c["input"]).reshape(c["shape"])
    if c["labelsDtype"] == "int32":
        y = np.array(c["labels"]).reshape(c["shape"][:-1])
        yo = onehot_np(np.where((y >= 0) & (y < c["shape"][-1]), y, 0), c["shape"][-1])
    else:
        y = yo = np.array(c["labels"]).reshape(c["shape"])
    return x, y, yo


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def hand_checks():
    # Dice, softmax, batch Dice: 1 - mean_c (2 sum yp + nr) / (sum y + sum p + dr)
    c = case("monai DiceLoss softmax C=3 batch=True")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    ax = tuple(range(x.ndim - 1))
    d = (2 * (p * yo).sum(ax) + 1e-5) / (yo.sum(ax) + p.sum(ax) + 1e-5)
    CHECKS.append((c["name"], rel(1 - d.mean(), c["loss"])))

    # Dice per image, squared: mean over images and classes
    c = case("monai DiceLoss softmax rank5 C=4 batch=False squared_pred")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    ax = tuple(range(1, x.ndim - 1))
    d = (2 * (p * yo).sum(ax) + 1e-5) / ((yo ** 2).sum(ax) + (p ** 2).sum(ax) + 1e-5)
    CHECKS.append((c["name"], rel(1 - d.mean(), c["loss"])))

    # Dice, include_background False, per-class weights, per image
    c = case("monai DiceLoss softmax C=5 batch=False include_background=False weight")
    x, _, yo = arrays(c)
    p = softmax_np(x)[..., 1:]
    yo = yo[..., 1:]
    ax = tuple(range(1, x.ndim - 1))
    d = (2 * (p * yo).sum(ax) + 1e-5) / (yo.sum(ax) + p.sum(ax) + 1e-5)
    CHECKS.append((c["name"], rel(((1 - d) * np.array(c["options"]["classWeights"][1:])).mean(), c["loss"])))

    # Jaccard (MONAI's factor 2): 1 - (2I + nr) / (2(Sy + Sp - I) + dr)
    c = case("monai DiceLoss softmax C=3 batch=True jaccard")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    ax = tuple(range(x.ndim - 1))
    i = (p * yo).sum(ax)
    j = (2 * i + 1e-5) / (2 * (yo.sum(ax) + p.sum(ax) - i) + 1e-5)
    CHECKS.append((c["name"], rel(1 - j.mean(), c["loss"])))

    # Generalized Dice, square weights, class absent from one image, per image
    c = case("monai GeneralizedDiceLoss square softmax C=4 batch=False class 1 absent from image 1")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    ax = tuple(range(1, x.ndim - 1))
    g = yo.sum(ax)
    with np.errstate(divide="ignore"):
        w = 1 / g ** 2
    w = np.where(np.isinf(w), np.where(np.isinf(w), 0, w).max(1, keepdims=True), w)
    num = 2 * (w * (p * yo).sum(ax)).sum(1) + 1e-5
    den = (w * (p.sum(ax) + g)).sum(1) + 1e-5
    CHECKS.append((c["name"], rel((1 - num / den).mean(), c["loss"])))

    # Tversky
    c = case("monai TverskyLoss softmax C=3 alpha=0.3 beta=0.7 batch=True")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    ax = tuple(range(x.ndim - 1))
    tp, fp, fn = (p * yo).sum(ax), (p * (1 - yo)).sum(ax), ((1 - p) * yo).sum(ax)
    CHECKS.append((c["name"], rel((1 - (tp + 1e-5) / (tp + 0.3 * fp + 0.7 * fn + 1e-5)).mean(), c["loss"])))

    # Focal, softmax: segloss's per-pixel mean / C is MONAI's mean
    c = case("monai FocalLoss softmax C=3 gamma=2 alpha=0.25")
    x, _, yo = arrays(c)
    p = softmax_np(x)
    a = np.array([0.75, 0.25, 0.25])
    per_pixel = (-a * (1 - p) ** 2 * yo * np.log(p)).sum(-1)
    CHECKS.append((c["name"] + " (x C = per-pixel mean)", rel(per_pixel.mean() / 3, c["loss"])))
    # and its gradient, by central differences of the peer (MONAI, float64) at 3 entries
    target = idx1(np.array(c["labels"]).reshape(c["shape"][:-1]))
    m = ML.FocalLoss(to_onehot_y=True, gamma=2.0, alpha=0.25, use_softmax=True)
    worst = 0.0
    for k in (0, 7, 20):
        e = np.zeros(x.size)
        e[k] = 1e-6
        e = e.reshape(x.shape)
        with float64_casts():
            fd = (float(m(cf(x + e), target)) - float(m(cf(x - e), target))) / 2e-6
        worst = max(worst, abs(fd - c["grad"][k]) / max(abs(c["grad"][k]), 1e-3))
    CHECKS.append((c["name"] + " grad vs central differences (1e-6 step; limit 1e-7)", worst))

    # Lovasz-Softmax, classes 'all', per image, ignored pixels: Alg. 1 of Berman et al., from scratch
    c = case("smp _lovasz_softmax classes=all C=3 per_image=True ignore 255")
    x, y, _ = arrays(c)
    C = x.shape[-1]
    p = softmax_np(x).reshape(x.shape[0], -1, C)
    y = y.reshape(x.shape[0], -1)
    per_image = []
    for pi, yi in zip(p, y):
        keep = yi != 255
        pi, yi = pi[keep], yi[keep]
        losses = []
        for k in range(C):
            fg = (yi == k).astype(float)
            e = np.abs(fg - pi[:, k])
            order = np.argsort(-e, kind="stable")
            fs = fg[order]
            inter = fs.sum() - np.cumsum(fs)
            union = fs.sum() + np.cumsum(1 - fs)
            jac = 1 - inter / union
            jac[1:] = jac[1:] - jac[:-1]
            losses.append(np.dot(e[order], jac))
        per_image.append(np.mean(losses))
    CHECKS.append((c["name"], rel(np.mean(per_image), c["loss"])))

    # CE with weights, label smoothing and ignore_index
    c = case("torch cross_entropy C=4 weight label_smoothing=0.2 ignore_index=-1")
    x, y, yo = arrays(c)
    lp = np.log(softmax_np(x))
    w = np.array(c["options"]["classWeights"])
    keep = y != -1
    yc = np.where(keep, y, 0)
    nll = -np.take_along_axis(lp, yc[..., None], -1)[..., 0] * w[yc]
    smooth = -(lp * w).sum(-1)
    li = ((1 - 0.2) * nll + 0.2 / 4 * smooth) * keep
    CHECKS.append((c["name"], rel(li.sum() / (w[yc] * keep).sum(), c["loss"])))


# ----------------------------------------------------------------------------------------------

def main():
    dice_cases()
    gdl_cases()
    tversky_cases()
    focal_cases()
    bce_cases()
    cce_cases()
    lovasz_cases()
    composite_cases()
    hand_checks()
    for what, r in CHECKS:
        limit = 1e-7 if "central differences" in what else 1e-12
        print(f"check {'ok  ' if r <= limit else 'FAIL'} {r:.2e}  {what}")
        assert r <= limit, what

    counts = {}
    for c in CASES:
        counts[c["op"]] = counts.get(c["op"], 0) + 1
    monai_v = monai._version.get_versions()
    out = {
        "generator": "scripts/peer-fixtures.py",
        "torch": torch.__version__,
        "torchDebianPackage": deb_version("python3-torch"),
        "numpy": np.__version__,
        "peers": {
            "monai": {"version": monai.__version__, "commit": monai_v.get("full-revisionid") or read_commit(args.monai)},
            "smp": {"package": "segmentation_models_pytorch", "version": _smp_version["__version__"],
                    "commit": read_commit(args.smp)},
            "torchvision": VISION,
            "torch": {"version": torch.__version__, "note": "torch.nn.functional itself for BCE and CE"},
        },
        "seed": SEED,
        "conventions": [
            "channels-last: input and grad [N, ...spatial, C] flat row-major; int32 labels [N, ...spatial]; "
            "float32 labels [N, ...spatial, C]",
            "input and float labels are float32 values; loss and grad are float64, computed by the peer in torch "
            "float64; grad = d(sum of loss)/d(input) by autograd",
            "for reduction 'none' the loss is flat row-major with its shape in lossShape",
            "cases whose options have no 'activation' (binaryCrossEntropy, categoricalCrossEntropy, "
            "lovaszSoftmax, diceCrossEntropy) take logits; activation 'none' takes probabilities",
        ],
        "notes": NOTES,
        "counts": counts,
        "cases": CASES,
    }
    path = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    # The header indented, then one case a line (compact, and a diff shows which cases changed).
    head = json.dumps({k: v for k, v in out.items() if k != "cases"}, indent=1)
    with open(path, "w") as fh:
        fh.write(head[:-2] + ',\n "cases": [\n')
        fh.write(",\n".join("  " + json.dumps(c, allow_nan=False) for c in CASES))
        fh.write("\n ]\n}\n")
    assert json.load(open(path)) == json.loads(json.dumps(out)), "fixture does not read back"  # noqa: SIM115
    print(f"{len(CASES)} cases {counts} -> {path} ({os.path.getsize(path)} bytes) in {time.time() - T0:.1f} s")


NOTES = [
    "MONAI DiceLoss: 1 - (2*I + smooth_nr) / (Sy + Sp + smooth_dr) per class (squared_pred: Sy2 + Sp2 in the "
    "denominator, I = sum p*y); batch=True sums over batch and space (segloss perImage false), batch=False per "
    "image then mean over images and classes; weight multiplies each class's loss before the mean (the mean "
    "still divides by the number of classes x images, not by the sum of the weights).",
    "MONAI jaccard=True: 1 - (2*I + smooth_nr) / (2*(Sy + Sp - I) + smooth_dr): the smoothing terms act as "
    "smooth/2 against the usual (I + e)/(U + e).",
    "smp DiceLoss smooth s: score (I + s)/((Sp + Sy)/2 + s) = (2I + 2s)/(Sp + Sy + 2s): the segloss epsilon is 2s "
    "(written so in the options), not s. smp's TverskyLoss smooth s is (TP + s)/(TP + a*FP + b*FN + s): epsilon s.",
    "smp DiceLoss/TverskyLoss zero the loss of a class without true pixels but still divide by C; the smp cases "
    "have every class present, so this does not show.",
    "smp focal Tversky: (mean_c (1 - T_c))^gamma, gamma outside the class mean; segloss's tversky documents "
    "mean_c (1 - T_c)^gamma. The smp cases give smp's number (their notes give the per-class value); two cases "
    "named 'per-class gamma' run smp's TverskyLoss with its aggregation replaced by mean_c (1 - T_c)^gamma.",
    "smp log dice: mean_c -log(max(dice_c, eps)), not -log(mean_c dice_c).",
    "MONAI FocalLoss(use_softmax=True), reduction 'mean': mean of the [N, C, ...spatial] element losses "
    "-alpha_c (1-p_c)^gamma y_c log p_c, i.e. segloss's mean over pixels divided by C. Scalar alpha means "
    "alpha_c = 1 - alpha for class 0 and alpha for every other class. include_background=False with softmax "
    "would take the softmax over classes 1..C-1 only (slices before the softmax) and ignore alpha: not generated. "
    "Its reduction 'sum' is a sum over N and C of spatial means: not generated.",
    "MONAI squared_pred computes sum y^2 as vector_norm(y, 2)^2 in the dtype of y; to_onehot_y makes a float32 "
    "one-hot, so that sum is off by ~1e-7 relative: the squared_pred cases with int32 labels give MONAI a float64 "
    "one-hot (MONAI's one_hot with dtype float64) instead (their notes give the to_onehot_y values).",
    "MONAI FocalLoss and GeneralizedDiceLoss cast to float32 internally (input.float(), ground_o.float()); their "
    "cases run the peer with those casts made no-ops for float64 (values of the unpatched peer are in the notes).",
    "MONAI GeneralizedDiceLoss: an infinite weight (class absent) is replaced by the largest finite weight: over "
    "all classes with batch=True, within the image with batch=False.",
    "MONAI 1.5.0 DiceFocalLoss: the focal part is always the SIGMOID focal loss (FocalLoss built without "
    "use_softmax), even with softmax=True. Softmax Dice + softmax focal cases are composed by this script from "
    "MONAI's DiceLoss and FocalLoss(use_softmax=True).",
    "MONAI DiceCELoss: the CE part is torch's CrossEntropyLoss over all classes (include_background only affects "
    "the Dice part); weight goes to both parts.",
    "smp LovaszLoss: classes is fixed to 'present' and from_logits is ignored (always softmax); classes='all' "
    "cases call smp's _lovasz_softmax directly. smp's Lovasz fails on float64 input (a float32 .float() cast in "
    "_lovasz_grad meets a float64 dot product): run with that cast made a no-op for float64.",
    "torch cross_entropy with class weights: index targets average by sum_i w_{y_i}; probability (soft) targets "
    "average by the number of pixels.",
    "Sigmoid focal with soft targets: torchvision's factor is (1 - p_t)^gamma, p_t = p*y + (1-p)*(1-y); MONAI's "
    "sigmoid FocalLoss uses sigmoid(-z*(2y-1))^gamma (= (1 - p_t)^gamma only for y in {0,1}). The fixture is "
    "torchvision's; the note of the soft-target case gives MONAI's value.",
    "torchvision sigmoid_focal_loss has no 'no alpha' value other than alpha < 0 (alpha=-1 used where the options "
    "omit alpha); its default alpha is 0.25.",
    "Activation-'none' softmax-style probabilities and soft labels are float32-rounded, so their rows "
    "sum to 1 only up to float32 rounding; the peers use the rounded values.",
]


if __name__ == "__main__":
    main()
