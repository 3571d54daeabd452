"""Mid-run checkpoints of critic training, so that a killed run resumes where it was.

Every `every` updates, at the validation that falls on or after that many updates since the last
one, the whole training state goes to `resume.ckpt` in the output folder: weights, both optimizers,
Lightning's loop counters, early stopping's patience, the module's loss histories and best weights,
and the training batches' random stream (RelabeledBatches.state_dict). A rerun with the same data
and config loads it and continues, and its critic equals an undisturbed run's byte for byte. The
file is written to a temporary name and renamed, and removed once training has finished.

A checkpoint written for other data or another config (its fingerprint differs) is not resumed
from: the run says so, removes it and starts from zero.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from pnlc.value.config import TrainConfig
from pnlc.value.data import _ARRAYS, TransitionData

log = logging.getLogger(__name__)

RESUME_NAME = "resume.ckpt"
FINGERPRINT_KEY = "pnlc_fingerprint"


def fingerprint(data: TransitionData, cfg: TrainConfig) -> str:
    """What a resumed run must share with the run that wrote the checkpoint: every array and text of
    the annotations, and the training config."""
    import numpy as np

    h = hashlib.sha256()
    h.update(json.dumps(cfg.to_dict(), sort_keys=True, default=str).encode())
    for name in _ARRAYS:
        array = np.ascontiguousarray(getattr(data, name))
        h.update(f"{name}{array.dtype.str}{array.shape}".encode())
        h.update(array.tobytes())
    h.update(json.dumps([data.embedder_id, list(data.outcome_goal_texts), data.state_text]).encode())
    return h.hexdigest()


def resume_point(out_dir: Path, expected: str) -> tuple[Path, int] | None:
    """The checkpoint to resume from and Lightning's global step in it, if out_dir holds one written
    for this data and config."""
    import torch

    path = out_dir / RESUME_NAME
    if not path.exists():
        return None
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        saved, global_step = payload.get(FINGERPRINT_KEY), int(payload["global_step"])
    except Exception as exc:  # a checkpoint torch cannot read is as good as none
        log.warning("%s is not a readable checkpoint (%s); training starts from zero", path, exc)
        path.unlink()
        return None
    if saved != expected:
        log.warning("%s was written for other annotations or another training config; training starts from "
                    "zero", path)
        path.unlink()
        return None
    return path, global_step


def make_callback(out_dir: Path, every: int, stamp: str) -> Any:
    """The Lightning callback that writes resume.ckpt (Callback subclassed here: Lightning is a heavy
    import)."""
    from lightning.pytorch.callbacks import Callback

    from pnlc.value.module import OPTIMIZERS_PER_UPDATE

    class ResumeCheckpoint(Callback):
        def __init__(self) -> None:
            self.last_saved = 0

        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            self.last_saved = trainer.global_step // OPTIMIZERS_PER_UPDATE

        def on_validation_end(self, trainer: Any, pl_module: Any) -> None:
            updates = trainer.global_step // OPTIMIZERS_PER_UPDATE
            if trainer.sanity_checking or trainer.should_stop or updates - self.last_saved < every:
                return
            if updates >= trainer.max_steps // OPTIMIZERS_PER_UPDATE:
                return  # the run is about to end; its critic is the checkpoint
            tmp = out_dir / f".{RESUME_NAME}.tmp"
            trainer.save_checkpoint(tmp)
            os.replace(tmp, out_dir / RESUME_NAME)
            self.last_saved = updates
            log.info("resume checkpoint at update %d: %s", updates, out_dir / RESUME_NAME)

        def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> None:
            checkpoint[FINGERPRINT_KEY] = stamp

    return ResumeCheckpoint()
