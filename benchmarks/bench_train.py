"""Critic training throughput: the full Lightning loop vs the bare IQL update on prebuilt batches.

Synthetic tensors of the real shapes (384-d state, thought and goal embeddings; 25k transitions).
The full loop counts relabeling on the device, Lightning's loop and logging, and the update; the
step-only figure runs the same update (V, Q, target with AdamW) on batches built beforehand. Both
are measured in one process, alternating, and the medians are reported.

Last line: train_transitions_per_s=<x> step_only_transitions_per_s=<y> ratio=<x/y> device=<cpu|cuda>
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--transitions", type=int, default=25_000)
    ap.add_argument("--episode-length", type=int, default=25)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--outcome-goals", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    ap.add_argument("--steps", type=int, default=20, help="timed updates per measurement")
    ap.add_argument("--warmup", type=int, default=5, help="untimed updates before each measurement")
    ap.add_argument("--repeats", type=int, default=5, help="alternating measurements of each kind")
    ap.add_argument("--accelerator", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--precision", default="32-true", choices=["32-true", "bf16-mixed"])
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0 = torch default)")
    args = ap.parse_args()

    import logging
    import tempfile

    import lightning as L
    import torch

    from pnlc.value.config import GoalMixture, TrainConfig
    from pnlc.value.data import input_statistics
    from pnlc.value.datamodule import STREAM_TRAIN, RelabeledBatches, TransitionDataModule, split_episodes, torch_generator
    from pnlc.value.module import IQLCritic
    from pnlc.value.synthetic import random_transition_data
    from pnlc.value.train import build_trainer

    logging.getLogger("lightning").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    accelerator = args.accelerator
    if accelerator == "auto":
        accelerator = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(accelerator)

    data = random_transition_data(args.transitions, args.episode_length, args.dim, args.outcome_goals, seed=0)
    total = args.warmup + args.steps
    cfg = TrainConfig(
        hidden_sizes=tuple(args.hidden), expectile=0.8, discount=0.95, target_update_rate=0.005,
        learning_rate=3e-4, weight_decay=1e-4, batch_size=args.batch_size, max_steps=total,
        goal_mixture=GoalMixture(future=0.4, final=0.2, other_episode=0.2, outcome=0.2),
        goal_match_threshold=0.95, val_fraction=0.1, goal_conditioned=True, standardize_inputs=True,
        train_episode_fraction=1.0, shuffle_outcomes=False,
        precision=args.precision,
        accelerator=accelerator, seed=0, log_every_n_steps=50, val_every_n_steps=10 * total,
        early_stop_patience=0, early_stop_min_delta=0.0, complement_outcomes=False,
        diagnostic_goals_per_transition=1,
    )

    train_episodes, _ = split_episodes(data.num_episodes, cfg.val_fraction, cfg.seed)
    stats = input_statistics(data, train_episodes)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    class Timer(L.Callback):
        def __init__(self) -> None:
            self.start = self.end = 0.0

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
            if batch_idx == args.warmup:
                sync()
                self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            if batch_idx == total - 1:
                sync()
                self.end = time.perf_counter()

    def full_loop() -> float:
        timer = Timer()
        module = IQLCritic(data.dim, cfg, stats)
        with tempfile.TemporaryDirectory() as tmp:
            trainer = build_trainer(cfg, tmp, callbacks=[timer], limit_val_batches=0)
            trainer.fit(module, datamodule=TransitionDataModule(data, cfg))
        return args.steps * cfg.batch_size / (timer.end - timer.start)

    dm = TransitionDataModule(data, cfg)
    dm.setup("fit")
    split = dm.train_split.to(device)
    sampler = RelabeledBatches(split, cfg, torch_generator(cfg.seed, STREAM_TRAIN, device))
    batches = [sampler.sample() for _ in range(total)]

    def step_only() -> float:
        module = IQLCritic(data.dim, cfg, stats).to(device)
        value_opt, q_opt = module.configure_optimizers()
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.precision == "bf16-mixed")
        for i, batch in enumerate(batches):
            if i == args.warmup:
                sync()
                start = time.perf_counter()
            with autocast:
                module.iql_update(batch, value_opt, q_opt, lambda loss: loss.backward())
        sync()
        return args.steps * cfg.batch_size / (time.perf_counter() - start)

    full, bare = [], []
    for r in range(args.repeats):
        full.append(full_loop())
        bare.append(step_only())
        print(f"repeat {r}: full loop {full[-1]:.0f} transitions/s, step only {bare[-1]:.0f} transitions/s", flush=True)
    x, y = statistics.median(full), statistics.median(bare)
    print(f"threads={torch.get_num_threads()} batch_size={cfg.batch_size} hidden={list(cfg.hidden_sizes)} "
          f"dim={args.dim} transitions={data.num_transitions} precision={args.precision}")
    print(f"train_transitions_per_s={x:.0f} step_only_transitions_per_s={y:.0f} ratio={x / y:.3f} device={device.type}")


if __name__ == "__main__":
    main()
