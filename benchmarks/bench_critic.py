"""Critic time of one PNLC decision on CPU: embed the state, 3 thoughts and 4 goals in one call,
score the 12 (thought, goal) pairs in one batched forward, render the value text of each thought.

Worst case: every text is new (no disk cache, no text repeats between decisions). Also timed, on
the bfloat16 path: the typical decision of an evaluation, where only the state summary is new (the
thoughts and goals were seen at the decision before, as repertoire thoughts and outcome goals
recur). Three encoder paths side by side, taking turns decision by decision so that all see the
same machine load: the bundled all-MiniLM-L6-v2 through `pnlc.embed.make_embedder` with
`embed.precision` float32 and bfloat16 (`embed.runtime: torch`), and float32 through ONNX Runtime
(`embed.runtime: onnxruntime`; left out, with the reason printed, when the onnx extra is not
installed), all with the same batch shape, padding, max length and hashed word n-grams as
params.yaml's defaults. Also printed: how far the bfloat16 and ONNX Runtime vectors are from the
torch float32 ones on the benchmark's texts, and the encoder's work in a decision (tokens, GFLOP)
against the throughput each path reaches on it and the one a single float32 product of the
encoder's feed-forward shape reaches on these threads: what the 20 ms target would ask of the CPU.
Value model: `pnlc.value.checkpoint.ValueModel` with the paper's shape (twin Q, hidden 256, 256) on
the embedder's width, randomly initialised (timing does not depend on the weights).

    python benchmarks/bench_critic.py [--iterations 200] [--warmup 10] [--threads 1] [--lexical-features 512]

One torch thread is the default: a decision's batches are tiny, and extra threads only spin (badly
so when other processes share the cores). The 1-minute load average is printed with the result.

Last line: critic_ms_p50=<bfloat16> critic_ms_p95=<bfloat16> float32_ms_p50=<x> float32_ms_p95=<y> speedup_p50=<x/bf16>
typical_ms_p50=<bfloat16, only the state new> onnxruntime_ms_p50=<z> onnxruntime_ms_p95=<w> (the last two when installed)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from pnlc.agents.roles import GoalSet
from pnlc.critic import Critic

HIDDEN = (256, 256)
# path name -> (embed.precision, embed.runtime)
PATHS = {"float32": ("float32", "torch"), "bfloat16": ("bfloat16", "torch"), "onnxruntime": ("float32", "onnxruntime")}


def make_embedder(path: str, batch_size: int, max_length: int, pad_multiple: int, lexical_features: int,
                  lexical_weight: float):
    from pnlc.embed import EmbedConfig, make_embedder as pnlc_embedder

    precision, runtime = PATHS[path]
    cfg = EmbedConfig("all-MiniLM-L6-v2", batch_size, max_length, pad_multiple, precision, None, "cpu",
                      lexical_features, lexical_weight, runtime)
    return pnlc_embedder(cfg)


def encoder_of(embedder):
    """The transformers encoder under the cache (and the hashed words, when joined)."""
    while not hasattr(embedder, "load"):
        embedder = embedder.inner
    return embedder


def make_value_model(embedder_id: str, dim: int) -> tuple[object, str]:
    import torch

    from pnlc.value.checkpoint import ValueModel
    from pnlc.value.config import TrainConfig
    from pnlc.value.networks import TwinQ, ValueNet

    torch.manual_seed(0)
    state = {f"q.{k}": v for k, v in TwinQ(dim, dim, HIDDEN).state_dict().items()}
    state.update({f"value.{k}": v for k, v in ValueNet(dim, dim, HIDDEN).state_dict().items()})
    cfg = TrainConfig.from_dict(
        {
            "hidden_sizes": list(HIDDEN), "expectile": 0.8, "discount": 0.95, "target_update_rate": 0.005,
            "learning_rate": 3e-4, "weight_decay": 1e-4, "batch_size": 1024, "max_steps": 1,
            "goal_mixture": {"future": 0.35, "final": 0.2, "other_episode": 0.15, "outcome": 0.3},
            "goal_match_threshold": 0.95, "val_fraction": 0.2, "goal_conditioned": True, "standardize_inputs": False,
            "train_episode_fraction": 1.0, "shuffle_outcomes": False,
            "precision": "32-true", "accelerator": "cpu", "seed": 0, "log_every_n_steps": 1,
            "val_every_n_steps": 1, "early_stop_patience": 0, "early_stop_min_delta": 0.0,
            "complement_outcomes": False, "diagnostic_goals_per_transition": 1, "outcome_mc_weight": 0.0,
            "outcome_mc_goals": "sampled",
        }
    )
    return ValueModel(state, cfg, embedder_id, dim, (), "cpu"), f"pnlc.value ValueModel (twin Q, {dim}-d, hidden 256,256)"


def encoder_gflop(encoder, texts: list[str]) -> tuple[int, float]:
    """(tokens, GFLOP) of the texts (unpadded) through the encoder's layers: the projections and
    feed-forward products (2 flops per multiply-add) plus the attention scores and mixing."""
    import json

    cfg = json.loads((encoder.path / "config.json").read_text(encoding="utf-8"))
    layers, hidden, ffn = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["intermediate_size"]
    lengths = [len(ids) for ids in encoder.token_ids(texts)]
    macs = sum(layers * (n * (4 * hidden * hidden + 2 * hidden * ffn) + 2 * n * n * hidden) for n in lengths)
    return sum(lengths), 2 * macs / 1e9


def matmul_gflops(encoder, tokens: int, repeats: int = 200) -> float:
    """This core's float32 throughput on the encoder's feed-forward product at a decision's size
    (tokens x hidden times hidden x intermediate), best of `repeats`, on torch's threads."""
    import json

    import torch

    cfg = json.loads((encoder.path / "config.json").read_text(encoding="utf-8"))
    a = torch.randn(tokens, cfg["hidden_size"])
    b = torch.randn(cfg["hidden_size"], cfg["intermediate_size"])
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


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


def timed_decision(critic: Critic, state: str, thoughts: list[str], goals: GoalSet) -> float:
    """Milliseconds of one decision's scoring and rendering, its answers checked."""
    t0 = time.perf_counter()
    probs = critic.score(state, thoughts, goals.all)
    texts = [critic.render(goals, row) for row in probs]
    elapsed = (time.perf_counter() - t0) * 1000.0
    assert probs.shape == (3, 4) and all(t.startswith("Positive outcomes:") for t in texts)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    parser.add_argument("--batch-size", type=int, default=1, help="embed.batch_size")
    parser.add_argument("--max-length", type=int, default=256, help="embed.max_length")
    parser.add_argument("--pad-multiple", type=int, default=1, help="embed.pad_multiple")
    parser.add_argument("--lexical-features", type=int, default=512, help="embed.lexical_features (0 = off)")
    parser.add_argument("--lexical-weight", type=float, default=1.0, help="embed.lexical_weight")
    args = parser.parse_args()

    import os

    import torch

    torch.set_num_threads(args.threads)

    from pnlc.embed.transformer import EmbedConfigError

    embedders = {}
    for p in PATHS:
        try:
            embedders[p] = make_embedder(p, args.batch_size, args.max_length, args.pad_multiple, args.lexical_features,
                                         args.lexical_weight)
        except EmbedConfigError as exc:
            print(f"{p}: left out ({exc})")
    paths = list(embedders)
    second = encoder_of(embedders["bfloat16"])
    second.load()
    first = encoder_of(embedders["float32"])
    first._tok, first._net, first._filler, first.device = second._tok, second._net, second._filler, second.device
    if "onnxruntime" in embedders:
        encoder_of(embedders["onnxruntime"]).load()
    critics = {}
    for p, emb in embedders.items():
        model, model_note = make_value_model(emb.model_id, emb.dim)
        critics[p] = Critic(model, emb)
        print(f"{p}: {emb.model_id} (no disk cache); value model: {model_note}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU")

    total = {p: [] for p in paths}
    embed_ms = {p: [] for p in paths}
    cos = {p: [] for p in paths if p != "float32"}
    err = {p: [] for p in paths if p != "float32"}
    typical: list[float] = []
    _, fixed_thoughts, fixed_goals = decision_texts(-1)
    for i in range(args.warmup + args.iterations):
        state, thoughts, goals = decision_texts(i)
        shift = i % len(paths)
        for p in paths[shift:] + paths[:shift]:
            elapsed = timed_decision(critics[p], state, thoughts, goals)
            if i >= args.warmup:
                total[p].append(elapsed)
                t1 = time.perf_counter()
                embedders[p].embed([state, *thoughts, *goals.all])
                embed_ms[p].append((time.perf_counter() - t1) * 1000.0)
        critic = critics["bfloat16"]
        critic.score(f"Seen before: {state}", fixed_thoughts, fixed_goals.all)  # thoughts and goals now seen
        elapsed = timed_decision(critic, state, fixed_thoughts, fixed_goals)
        if i >= args.warmup:
            typical.append(elapsed)
        if i >= args.warmup and (i - args.warmup) % 10 == 0:
            batch = [state, *thoughts, *goals.all]
            a = embedders["float32"].embed(batch)
            for p in cos:
                b = embedders[p].embed(batch)
                cos[p].append(float((a * b).sum(axis=1).min()))
                err[p].append(float(np.abs(a - b).max()))

    for p in paths:
        print(f"{p}: critic p50 {statistics.median(total[p]):.2f} ms, p95 {np.percentile(total[p], 95):.2f} ms; "
              f"encoder alone p50 {statistics.median(embed_ms[p]):.2f} ms")
    print(f"bfloat16, only the state new: critic p50 {statistics.median(typical):.2f} ms, "
          f"p95 {np.percentile(typical, 95):.2f} ms")
    for p in cos:
        print(f"{p} vs float32 vectors: min cosine {min(cos[p]):.6f}, max abs difference {max(err[p]):.2e}")
    print(f"iterations {args.iterations}; load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    state, thoughts, goals = decision_texts(args.warmup)
    texts = [state, *thoughts, *goals.all]
    tokens, gflop = encoder_gflop(second, texts)
    peak = matmul_gflops(second, tokens)
    achieved = ", ".join(f"{p} {gflop / (statistics.median(embed_ms[p]) / 1000):.0f}" for p in paths)
    print(f"encoder work of a decision: {len(texts)} texts, {tokens} tokens, {gflop:.2f} GFLOP; in 20 ms that is "
          f"{gflop / 0.020:.0f} GFLOP/s; encoder alone achieves (GFLOP/s) {achieved}; one float32 product of the "
          f"encoder's feed-forward shape at {tokens} rows runs at {peak:.0f} GFLOP/s on {torch.get_num_threads()} thread(s)")
    f50, b50 = statistics.median(total["float32"]), statistics.median(total["bfloat16"])
    last = (f"critic_ms_p50={b50:.2f} critic_ms_p95={np.percentile(total['bfloat16'], 95):.2f} "
            f"float32_ms_p50={f50:.2f} float32_ms_p95={np.percentile(total['float32'], 95):.2f} speedup_p50={f50 / b50:.2f} "
            f"typical_ms_p50={statistics.median(typical):.2f}")
    if "onnxruntime" in total:
        last += (f" onnxruntime_ms_p50={statistics.median(total['onnxruntime']):.2f} "
                 f"onnxruntime_ms_p95={np.percentile(total['onnxruntime'], 95):.2f}")
    print(last)


if __name__ == "__main__":
    main()
