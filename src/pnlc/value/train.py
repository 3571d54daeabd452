"""Train the critic, save it, and write held-out diagnostics: the training phase's library entry."""

from __future__ import annotations

import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence

from pnlc.data.jsonl import atomic_write_text
from pnlc.value.checkpoint import CHECKPOINT_NAME, BaseRates, save_checkpoint
from pnlc.value.complements import check_labels, complement_errors, pair_columns
from pnlc.value.config import TrainConfig
from pnlc.value.controls import outcome_base_rates
from pnlc.value.data import TransitionData, input_statistics
from pnlc.value.references import ReferenceConfig, add_text_references

log = logging.getLogger(__name__)

METRICS_NAME = "metrics.json"
CURVES_NAME = "curves.csv"
LOSS_FIGURE_NAME = "loss_curves.png"
RELIABILITY_FIGURE_NAME = "reliability.png"
LOGS_NAME = "logs"  # Lightning's CSVLogger writes logs/metrics.csv here
TIMING_KEY = "timing"  # fit()'s wall-clock figures: returned and written apart, never in metrics.json


def build_trainer(cfg: TrainConfig, out_dir: str | os.PathLike[str], extra_callbacks: Sequence[Any] = (),
                  **overrides: Any):
    """The Lightning Trainer for `cfg`, logging CSV into out_dir/logs; overrides go to Trainer
    (tests pass fast_dev_run=True).

    Lightning counts every optimizer step as a global step and each update steps two optimizers
    (V and Q), so the Trainer's max_steps is twice cfg.max_steps; validation runs every
    cfg.val_every_n_steps training batches, i.e. updates. With cfg.early_stop_patience > 0 the
    Trainer stops once the held-out loss stalls (EarlyStopping on VAL_LOSS).
    """
    import lightning as L
    from lightning.pytorch.callbacks import EarlyStopping
    from lightning.pytorch.loggers import CSVLogger

    from pnlc.value.module import OPTIMIZERS_PER_UPDATE, VAL_LOSS

    callbacks = []
    if cfg.early_stop_patience > 0:
        callbacks.append(EarlyStopping(monitor=VAL_LOSS, mode="min", patience=cfg.early_stop_patience,
                                       min_delta=cfg.early_stop_min_delta, check_on_train_epoch_end=False,
                                       check_finite=True))

    callbacks.extend(extra_callbacks)  # after EarlyStopping: a resume checkpoint holds its latest patience
    kwargs: dict[str, Any] = dict(
        accelerator=cfg.accelerator,
        devices=1,
        precision=cfg.precision,
        max_steps=cfg.max_steps * OPTIMIZERS_PER_UPDATE,
        max_epochs=-1,
        val_check_interval=cfg.val_every_n_steps,
        check_val_every_n_epoch=None,
        num_sanity_val_steps=0,
        log_every_n_steps=cfg.log_every_n_steps,
        logger=CSVLogger(save_dir=str(out_dir), name=LOGS_NAME, version=""),
        callbacks=callbacks,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=str(out_dir),
    )
    kwargs.update(overrides)
    return L.Trainer(**kwargs)


def fit(data: TransitionData, cfg: TrainConfig, out_dir: str | os.PathLike[str],
        references: ReferenceConfig | None = None,
        complement_pairs: Sequence[tuple[str, str]] = (), resume_every: int = 0,
        timing_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Train on the training episodes, then write into out_dir: critic.ckpt, metrics.json,
    curves.csv, loss_curves.png, reliability.png (and Lightning's logs/metrics.csv).
    `references` (enabled): text references scored next to the linear probe (value/references.py).

    complement_pairs: the environment's complementary outcome sentences (value.complements); the
    checkpoint stores those present in the data, and the diagnostics report how far each pair's
    probabilities are from summing to one, as trained and as answered.

    resume_every: write a mid-run checkpoint (value/resume.py) at the first validation at least this
    many updates after the last one, and resume from one that out_dir holds; 0 = neither.

    timing_path: where to write the run's wall-clock figures (training seconds, transitions per
    second, the text references' seconds). They differ between runs, so metrics.json leaves them out
    and two runs of the same config write the same metrics.json byte for byte.

    Returns the metrics dict that metrics.json holds, plus its wall-clock figures under TIMING_KEY.
    """
    from pnlc.value.checkpoint import ValueModel
    from pnlc.value.datamodule import TransitionDataModule
    from pnlc.value.diagnostics import evaluate_heldout, linear_probe_aucs, plot_loss_curves, plot_reliability
    from pnlc.value.module import OPTIMIZERS_PER_UPDATE, IQLCritic

    columns = pair_columns(data.outcome_goal_texts, complement_pairs, "complementary outcome goals")
    check_labels(data.outcome_labels, columns, data.outcome_goal_texts, "annotations")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    datamodule = TransitionDataModule(data, cfg)
    stats = input_statistics(data, datamodule.train_episodes) if cfg.standardize_inputs else None
    module = IQLCritic(data.dim, cfg, stats)
    callbacks, resume_from, resumed_at = [], None, 0
    if resume_every > 0:
        from pnlc.value.resume import RESUME_NAME, fingerprint, make_callback, resume_point

        stamp = fingerprint(data, cfg)
        point = resume_point(out, stamp)
        if point is not None:
            resume_from, resumed_at = point[0], point[1] // OPTIMIZERS_PER_UPDATE
        callbacks.append(make_callback(out, resume_every, stamp))
    trainer = build_trainer(cfg, out, extra_callbacks=callbacks)
    if resume_from is not None:
        log.info("resuming critic training from update %d of %d (%s)", resumed_at, cfg.max_steps, resume_from)
    log.info("training critic: %d updates of %d transitions (%s, %s)", cfg.max_steps, cfg.batch_size,
             cfg.accelerator, cfg.precision)
    t0 = time.perf_counter()
    trainer.fit(module, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    seconds = time.perf_counter() - t0
    device = str(trainer.strategy.root_device.type)
    updates = trainer.global_step // OPTIMIZERS_PER_UPDATE

    # an early-stopped run keeps the weights of its best validation, a full-length run its last
    keep_best = cfg.early_stop_patience > 0 and module.best_state is not None
    state = dict(module.best_state) if keep_best else dict(module.state_dict())
    pairs = [(data.outcome_goal_texts[a], data.outcome_goal_texts[b]) for a, b in columns]
    outcome_rates, success_rate = outcome_base_rates(data, datamodule.train_episodes)
    base_rates = BaseRates(tuple(float(r) for r in outcome_rates), success_rate)
    save_checkpoint(out / CHECKPOINT_NAME, state, cfg, data.embedder_id, data.dim, data.outcome_goal_texts, base_rates,
                    data.outcome_goals, pairs, state_text=data.state_text)
    model = ValueModel(state, cfg, data.embedder_id, data.dim, data.outcome_goal_texts, device="cpu",
                       outcome_goal_emb=data.outcome_goals, complement_pairs=pairs)

    train_rows = [(int(s), float(lv), float(lq)) for s, lv, lq in module.train_history]
    val_rows = list(module.val_history)
    diagnostics = evaluate_heldout(model.q, data, datamodule.val_episodes, cfg)
    reference_seconds = None
    arrays = diagnostics.pop("_arrays")
    if cfg.goal_conditioned and "outcome_goals" in diagnostics:
        probes = linear_probe_aucs(data, datamodule.train_episodes, datamodule.val_episodes)
        for goal, probe in zip(diagnostics["outcome_goals"]["per_goal"], probes):
            goal["linear_probe_auc"] = probe
        if references is not None and references.enabled:
            diagnostics["text_references"] = add_text_references(
                diagnostics["outcome_goals"]["per_goal"], data, datamodule.train_episodes, datamodule.val_episodes,
                references)
            reference_seconds = diagnostics["text_references"].pop("seconds", None)
        diagnostics["complements"] = _complement_report(model, data, datamodule.val_episodes, cfg, columns,
                                                        diagnostics["outcome_goals"], arrays["outcome"][0])

    metrics: dict[str, Any] = {
        "train": {
            "updates": int(updates),
            "device": device,
            "episodes": int(len(datamodule.train_episodes)),
            "final_v_loss": train_rows[-1][1] if train_rows else None,
            "final_q_loss": train_rows[-1][2] if train_rows else None,
            "max_updates": int(cfg.max_steps),
            "stopped_early": bool(updates < cfg.max_steps),
            "weights": "best validation" if keep_best else "last update",
            "resumed_from_update": resumed_at,
        },
        "val": {
            "episodes": int(len(datamodule.val_episodes)),
            "every_n_updates": int(cfg.val_every_n_steps),
            "validations": len(val_rows),
            "v_loss": val_rows[-1][1] if val_rows else None,
            "q_loss": val_rows[-1][2] if val_rows else None,
            "prediction_loss": val_rows[-1][3] if val_rows else None,
            "best_prediction_loss": module.best_val_loss if val_rows else None,
            "best_update": int(module.best_update) if val_rows else None,
        },
        **diagnostics,
        "embedder_id": data.embedder_id,
        "goal_conditioned": cfg.goal_conditioned,
        "train_episode_fraction": cfg.train_episode_fraction,
        "shuffle_outcomes": cfg.shuffle_outcomes,
    }
    _write_curves(out / CURVES_NAME, train_rows, val_rows)
    plot_loss_curves(out / LOSS_FIGURE_NAME, train_rows, val_rows)
    title, pred, label = arrays["calibration"]
    plot_reliability(out / RELIABILITY_FIGURE_NAME, f"held-out reliability: {title}", pred, label)
    atomic_write_text(out / METRICS_NAME, json.dumps(_json_ready(metrics), indent=2, sort_keys=True) + "\n")
    timing = {
        "what": "wall-clock figures of one critic training (measured; differ between runs)",
        "device": device,
        "train_seconds": seconds,
        "updates": int(updates),
        "transitions_per_s": updates * cfg.batch_size / seconds if seconds > 0 else None,
        "text_references_seconds": reference_seconds,
    }
    if timing_path is not None:
        Path(timing_path).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(timing_path), json.dumps(_json_ready(timing), indent=2, sort_keys=True) + "\n")
    if resume_every > 0:
        (out / RESUME_NAME).unlink(missing_ok=True)  # finished: nothing left to resume
    log.info("critic trained in %.1f s (%s); held-out metrics in %s", seconds, device, out / METRICS_NAME)
    return {**metrics, TIMING_KEY: timing}


def _complement_report(model: Any, data: TransitionData, val_episodes: Any, cfg: TrainConfig,
                       columns: list[tuple[int, int]], answered: dict[str, Any], pred: Any) -> dict[str, Any]:
    """Per complementary pair, mean |P(A) + P(not A) - 1| over the held-out transitions as the heads
    were trained ("raw") and as the critic answers; with complement_outcomes also the per-goal
    scores of the raw heads (the answered ones are under outcome_goals)."""
    from pnlc.value.diagnostics import evaluate_heldout

    goals = data.outcome_goal_texts
    report: dict[str, Any] = {"enabled": cfg.complement_outcomes, "pairs": complement_errors(pred, columns, goals)}
    raw_pred, raw_scores = pred, answered
    if cfg.complement_outcomes and columns:
        raw = evaluate_heldout(model.q_raw, data, val_episodes, cfg)
        raw_pred, raw_scores = raw["_arrays"]["outcome"][0], raw["outcome_goals"]
        report["outcome_goals_raw"] = {
            "auc_mean": raw_scores["auc_mean"], "ece_mean": raw_scores["ece_mean"],
            "pooled": {k: raw_scores["pooled"][k] for k in ("auc", "ece")},
            "per_goal": [{k: g[k] for k in ("goal", "auc", "ece", "mean_prediction")} for g in raw_scores["per_goal"]],
        }
    for pair, raw_pair in zip(report["pairs"], complement_errors(raw_pred, columns, goals)):
        pair["raw_mean_abs_error"] = raw_pair["mean_abs_error"]
        pair["raw_p90_abs_error"] = raw_pair["p90_abs_error"]
        pair["raw_mean_sum"] = raw_pair["mean_sum"]
    if report["pairs"]:
        report["mean_abs_error"] = float(sum(p["mean_abs_error"] for p in report["pairs"]) / len(report["pairs"]))
        report["raw_mean_abs_error"] = float(sum(p["raw_mean_abs_error"] for p in report["pairs"]) / len(report["pairs"]))
    return report


def _write_curves(path: Path, train_rows: list[tuple[int, float, float]],
                  val_rows: list[tuple[int, float, float, float]]) -> None:
    """Losses per update; prediction_loss (held-out only) is what early stopping reads."""
    lines = ["step,split,v_loss,q_loss,prediction_loss"]
    lines += [f"{s},train,{lv:.6g},{lq:.6g}," for s, lv, lq in train_rows]
    lines += [f"{s},val,{lv:.6g},{lq:.6g},{lp:.6g}" for s, lv, lq, lp in val_rows]
    atomic_write_text(path, "\n".join(lines) + "\n")


def _json_ready(x: Any) -> Any:
    """NaN/inf become null so metrics.json is strict JSON."""
    if isinstance(x, dict):
        return {k: _json_ready(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_ready(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
