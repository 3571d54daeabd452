"""PersuasionForGood: how held-out AUC grows with the number of training dialogues.

    python benchmarks/p4g_learning_curve.py [--fractions 0.25 0.5 1.0] [--repeats 3] [--critic]

The split of `pnlc snakemake p4g_all` (params.yaml `p4g`: 814 training and 203 held-out dialogues),
then seeded subsets of the training dialogues. On each subset it fits, to the same training states
as the P4G experiment, the TF-IDF logistic regression on the critic's text (the last
`p4g.dialogue_window` lines and the thought) and on the whole dialogue so far, and the logistic probe
on the critic's own embeddings; with `--critic`, also the critic itself (minutes per fit). Each is
scored on every held-out persuader turn, overall and on the last third of the dialogue. Subsets
smaller than the whole are drawn `--repeats` times and averaged.

Prints one line per (model, size), then per model the AUC gained per doubling of the training
dialogues (least squares of AUC on log2 of the count, overall): what more dialogues of the same kind
would buy if the trend held. Last line: key=value pairs of those slopes and the full-data AUCs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from pnlc.config import load_params

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.125, 0.25, 0.5, 1.0])
    ap.add_argument("--repeats", type=int, default=3, help="subsets drawn per fraction below 1")
    ap.add_argument("--critic", action="store_true", help="also train and score the critic on every subset")
    args = ap.parse_args()

    from pnlc.envs.persuasion.p4g import AGREES, p4g_states
    from pnlc.pipeline.annotate import build_transitions
    from pnlc.pipeline.factory import METRIC_SCALE
    from pnlc.pipeline.p4g import critic_state_texts, embedding_probe, p4g_embedder, split_dialogues, state_text
    from pnlc.pipeline.train import reference_config, train_config
    from pnlc.value.checkpoint import load_critic
    from pnlc.value.diagnostics import auc
    from pnlc.value.references import critic_text, tfidf_logreg
    from pnlc.value.train import fit

    import torch

    torch.set_num_threads(1)  # as the P4G job: two threads beside other work run many times slower
    params = load_params(args.params)
    cfg = params.section("p4g")
    refs = reference_config(params)
    mode, window = cfg.state_text, cfg.dialogue_window
    train_eps, test_eps = split_dialogues(Path(cfg.data_dir), cfg.train_fraction, cfg.split_seed)
    train_states, states = p4g_states(train_eps), p4g_states(test_eps)
    labels = np.array([s.label for s in states], dtype=int)
    late = np.array([s.third == "late" for s in states])
    embedder = p4g_embedder(params, cfg.embed)
    t0 = time.perf_counter()
    state_emb = embedder.embed([state_text(s, mode, window) for s in train_states + states])
    thought_emb = embedder.embed([s.thought for s in train_states + states])
    n_train = len(train_states)
    x_all = np.concatenate([state_emb, thought_emb], axis=1)
    x_train, x_test = x_all[:n_train], x_all[n_train:]
    goal = np.repeat(embedder.embed([AGREES]), len(states), axis=0)
    print(f"{len(train_eps)} training / {len(test_eps)} held-out dialogues, {len(states)} held-out turns; "
          f"embedded in {time.perf_counter() - t0:.0f}s")

    own = [critic_text(state_text(s, mode, window), s.thought) for s in train_states + states]
    prefix = [s.prefix for s in train_states + states]
    tcfg = train_config(params, params.raw["evaluate"]["critics"]["pnlc"]["variant"], cfg.split_seed,
                        cfg.critic, "p4g.critic")

    def fit_models(keep: np.ndarray) -> dict[str, np.ndarray]:
        rows = np.flatnonzero(keep)
        y = np.array([train_states[i].label for i in rows], dtype=int)
        out = {
            "tfidf_own": tfidf_logreg(refs, [own[i] for i in rows], y, own[n_train:])[:, 0],
            "tfidf_prefix": tfidf_logreg(refs, [prefix[i] for i in rows], y, prefix[n_train:])[:, 0],
            "probe": embedding_probe(x_train[rows], y, x_test),
        }
        if args.critic:
            kept = sorted({train_states[i].episode_index for i in rows})
            eps = [train_eps[i] for i in kept]
            data, _ = build_transitions(eps, critic_state_texts(eps, p4g_states(eps), mode, window), embedder,
                                        METRIC_SCALE["persuasion"])
            with tempfile.TemporaryDirectory(prefix="p4g-curve-") as d:
                fit(data, tcfg, Path(d))
                model = load_critic(Path(d) / "critic.ckpt", embedder.model_id)
            out["critic"] = np.asarray(model.q(state_emb[n_train:], thought_emb[n_train:], goal))
        return out

    episode_of = np.array([s.episode_index for s in train_states])
    curve: dict[str, list[tuple[int, float, float]]] = {}
    for fraction in args.fractions:
        n = max(2, int(round(fraction * len(train_eps))))
        draws = 1 if n >= len(train_eps) else args.repeats
        scores: dict[str, list[tuple[float, float]]] = {}
        t0 = time.perf_counter()
        for r in range(draws):
            chosen = np.random.default_rng([cfg.split_seed, r, n]).choice(len(train_eps), size=n, replace=False)
            for name, p in fit_models(np.isin(episode_of, chosen)).items():
                scores.setdefault(name, []).append((auc(p, labels), auc(p[late], labels[late])))
        for name, vals in scores.items():
            overall, last = (float(np.mean(v)) for v in zip(*vals))
            curve.setdefault(name, []).append((n, overall, last))
            print(f"{name:13s} dialogues={n:4d} draws={draws} auc={overall:.3f} auc_late={last:.3f}")
        print(f"  ({time.perf_counter() - t0:.0f}s)")

    pairs = []
    for name, pts in curve.items():
        x = np.log2([p[0] for p in pts])
        slope = float(np.polyfit(x, [p[1] for p in pts], 1)[0]) if len(pts) > 1 else float("nan")
        print(f"{name}: AUC {pts[-1][1]:.3f} with {pts[-1][0]} dialogues, {slope:+.3f} per doubling")
        pairs += [f"{name}_auc={pts[-1][1]:.3f}", f"{name}_per_doubling={slope:+.3f}"]
    print(" ".join(pairs))


if __name__ == "__main__":
    main()
