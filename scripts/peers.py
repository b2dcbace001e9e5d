"""The peer libraries as scripts/peer-fixtures.py and scripts/bench-peers.py import them: MONAI and
smp from source trees outside this repository (no pip), torchvision from Debian's
python3-torchvision or from ops/focal_loss.py of a source tree. No peer code lives here."""

import importlib
import importlib.util
import os
import subprocess
import sys
import types


def add_source_args(parser):
    """--monai, --smp, --vision: where the peers' sources are (defaults: $MONAI_SRC, $SMP_SRC, $VISION_SRC)."""
    parser.add_argument("--monai", default=os.environ.get("MONAI_SRC", "/tmp/monai"),
                        help="MONAI source tree (the directory holding monai/)")
    parser.add_argument("--smp", default=os.environ.get("SMP_SRC", "/tmp/smp"),
                        help="segmentation_models.pytorch source tree (holding segmentation_models_pytorch/)")
    parser.add_argument("--vision", default=os.environ.get("VISION_SRC"),
                        help="torchvision source tree, only if python3-torchvision is not installed")


def read_commit(root):
    """The commit a source tree was unpacked from: its PEER_COMMIT file, else git, else 'unknown'."""
    path = os.path.join(root, "PEER_COMMIT")
    if os.path.exists(path):
        return open(path).read().strip()
    try:
        return subprocess.check_output(["git", "-C", root, "rev-parse", "HEAD"], text=True,
                                       stderr=subprocess.DEVNULL).strip()
    except Exception:  # noqa: BLE001
        return "unknown"


def import_monai_losses(root):
    """monai.losses: the package imports with torch and numpy alone."""
    sys.path.insert(0, os.path.abspath(root))
    return importlib.import_module("monai.losses")


def import_smp_losses(root):
    """smp's losses subpackage. smp's top-level package imports optional dependencies (timm, tqdm,
    ...); its losses need only torch and numpy, so they are imported under an empty parent package."""
    pkg = types.ModuleType("segmentation_models_pytorch")
    pkg.__path__ = [os.path.join(os.path.abspath(root), "segmentation_models_pytorch")]
    sys.modules["segmentation_models_pytorch"] = pkg
    return importlib.import_module("segmentation_models_pytorch.losses")


def import_sigmoid_focal_loss(vision_root):
    """torchvision's sigmoid_focal_loss and whether it came from Debian's package (True) or from
    `vision_root`'s ops/focal_loss.py (False). Raises ImportError when neither is there."""
    try:
        from torchvision.ops.focal_loss import sigmoid_focal_loss
        return sigmoid_focal_loss, True
    except ImportError:
        if not vision_root:
            raise
    spec = importlib.util.spec_from_file_location(
        "tv_focal_loss", os.path.join(vision_root, "torchvision", "ops", "focal_loss.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("torchvision", types.ModuleType("torchvision"))
    sys.modules["torchvision.utils"] = types.SimpleNamespace(_log_api_usage_once=lambda *a: None)
    spec.loader.exec_module(mod)
    return mod.sigmoid_focal_loss, False
