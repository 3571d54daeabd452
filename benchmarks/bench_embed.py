"""Encoder paths on real annotation texts: speed, distance from float32, and a trained critic's
held-out AUC when its inputs come from each path.

Reads an annotation pair (`<stem>.jsonl` + `<stem>.npz`, e.g. results/annotations/avalon/sim) and
the critic trained on it. The texts of the critic's held-out episodes (its own split) and the
outcome goals are embedded, side by side on the same machine load, by:
  previous   length-sorted batches of 64 padded to their longest text, float32 (the scheme before
             fixed padded shapes; a text's bytes depended on its batch)
  float32    pnlc.embed: fixed padded shapes, embed.precision float32
  bfloat16   pnlc.embed: fixed padded shapes, embed.precision bfloat16
The paths take turns chunk by chunk, so their speeds are compared under the same machine load.
Each path's vectors replace the stored ones for those rows, and the critic's held-out diagnostics
are recomputed (pooled outcome-goal AUC and ECE, reached-goal AUC). The critic is fixed: this
measures how far each path moves a critic's inputs and scores, not a critic retrained on it.

    python benchmarks/bench_embed.py --annotations results/annotations/avalon/sim \
        --critic results/critic/avalon/sim/default/seed0/critic.ckpt [--threads 1] [--max-texts 0]

Last line: <path>_texts_per_s=... <path>_pooled_auc=... bfloat16_min_cos=... bfloat16_max_abs=...
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from pathlib import Path

import numpy as np

from pnlc.embed import BUNDLED_MODEL, TransformerEmbedder
from pnlc.value.checkpoint import load_critic
from pnlc.value.data import load_npz
from pnlc.value.datamodule import split_episodes
from pnlc.value.diagnostics import evaluate_heldout

PATHS = ("previous", "float32", "bfloat16")


def row_texts(jsonl: Path, n_rows: int) -> list[str | None]:
    """Text of each embedding row, from the annotation records."""
    texts: list[str | None] = [None] * n_rows
    with open(jsonl, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            texts[r["state_row"]] = r["state_summary"]
            texts[r["thought_row"]] = r["thought"]
            texts[r["next_state_row"]] = r["next_state_summary"]
    return texts


def previous_scheme(encoder: TransformerEmbedder, texts: list[str]) -> np.ndarray:
    """Length-sorted batches of 64, each padded to its longest text, float32."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    out = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for start in range(0, len(order), 64):
        rows = order[start : start + 64]
        enc = encoder._tok([texts[i] for i in rows], padding=True, truncation=True,
                           max_length=encoder.max_length, return_tensors="pt")
        with torch.inference_mode():
            hidden = encoder._net(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out[rows] = torch.nn.functional.normalize(pooled, dim=1).numpy()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--annotations", required=True, type=Path, help="path stem of the .jsonl/.npz pair")
    ap.add_argument("--critic", required=True, type=Path)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=1, help="embed.batch_size")
    ap.add_argument("--max-length", type=int, default=256, help="embed.max_length")
    ap.add_argument("--pad-multiple", type=int, default=1, help="embed.pad_multiple")
    ap.add_argument("--max-texts", type=int, default=0, help="embed only the first N held-out texts (0 = all)")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    data = load_npz(args.annotations.with_suffix(".npz"))
    model = load_critic(args.critic)
    _, val = split_episodes(data.num_episodes, model.cfg.val_fraction, model.cfg.seed)
    in_val = np.isin(data.episode, val)
    rows = np.unique(np.concatenate([data.state[in_val], data.thought[in_val], data.next_state[in_val]]))
    if args.max_texts:
        rows = rows[: args.max_texts]
    texts = row_texts(args.annotations.with_suffix(".jsonl"), data.embeddings.shape[0])
    batch = [texts[i] for i in rows] + list(data.outcome_goal_texts)

    encoders = {p: TransformerEmbedder(BUNDLED_MODEL, args.batch_size, args.max_length, args.pad_multiple,
                                       "bfloat16" if p == "bfloat16" else "float32", "cpu") for p in PATHS}
    encoders["float32"].load()
    for e in encoders.values():
        e._tok, e._net, e._filler, e.device = (encoders["float32"]._tok, encoders["float32"]._net,
                                                encoders["float32"]._filler, "cpu")
    print(f"{len(batch)} texts ({len(rows)} held-out rows of {data.embeddings.shape[0]}, "
          f"{len(data.outcome_goal_texts)} outcome goals); stored vectors from {data.embedder_id}; "
          f"torch {torch.get_num_threads()} threads")

    def run(p: str, texts: list[str]) -> np.ndarray:
        return previous_scheme(encoders[p], texts) if p == "previous" else encoders[p].embed(texts)

    for p in PATHS:  # warm-up, not timed
        run(p, batch[:8])
    # chunks of 128 texts, the paths taking turns (in rotating order) so that all see the same load
    parts: dict[str, list[np.ndarray]] = {p: [] for p in PATHS}
    seconds = {p: 0.0 for p in PATHS}
    for k, start in enumerate(range(0, len(batch), 128)):
        for p in PATHS[k % 3 :] + PATHS[: k % 3]:
            t0 = time.perf_counter()
            parts[p].append(run(p, batch[start : start + 128]))
            seconds[p] += time.perf_counter() - t0
    vectors = {p: np.concatenate(parts[p]) for p in PATHS}

    results = {}
    stored = np.concatenate([data.embeddings[rows], data.outcome_goals])
    for p in ["stored", *PATHS]:
        v = stored if p == "stored" else vectors[p]
        emb = data.embeddings.copy()
        emb[rows] = v[: len(rows)]
        swapped = dataclasses.replace(data, embeddings=emb, outcome_goals=v[len(rows) :])
        d = evaluate_heldout(model.q, swapped, val, model.cfg)
        pooled = d["outcome_goals"]["pooled"]
        results[p] = (pooled["auc"], pooled["ece"], d["reached_goal"]["auc"])
        speed = f"{len(batch) / seconds[p]:.1f} texts/s" if p in seconds else "-"
        cos = float((v * vectors["float32"]).sum(1).min())
        err = float(np.abs(v - vectors["float32"]).max())
        print(f"{p:9s} {speed:>14s}  vs float32: min cos {cos:.6f} max abs {err:.2e}  critic: pooled outcome "
              f"AUC {pooled['auc']:.4f} ECE {pooled['ece']:.4f}, reached-goal AUC {d['reached_goal']['auc']:.4f}")

    b, f = vectors["bfloat16"], vectors["float32"]
    print(f"load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(" ".join(f"{p}_texts_per_s={len(batch) / seconds[p]:.1f}" for p in PATHS) + " "
          + " ".join(f"{p}_pooled_auc={results[p][0]:.4f}" for p in ["stored", *PATHS]) + " "
          f"bfloat16_min_cos={float((b * f).sum(1).min()):.6f} bfloat16_max_abs={float(np.abs(b - f).max()):.2e}")


if __name__ == "__main__":
    main()
