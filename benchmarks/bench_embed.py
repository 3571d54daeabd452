"""Embedding throughput: pnlc.embed (cached, deduplicating, length-sorted) vs the raw model forward.

2,000 sentences of about 30 words, 30 % of them repeats, generated from a seeded Generator. Both
paths use the bundled all-MiniLM-L6-v2 with the same loaded weights, batch size and max length; the
pnlc path starts from an empty temporary cache. Last line:
    embed_sentences_per_s=<x> raw_sentences_per_s=<y> ratio=<x/y>
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from pnlc.embed import BUNDLED_MODEL, CachedEmbedder, TransformerEmbedder

WORDS = (
    "agent shop buy search click price blue red small large shoes shirt cotton leather budget under "
    "dollars item page option size color quality review rating brand fast cheap return next back "
    "persuade donate charity child save help trust goal plan think action state value critic refine "
    "team quest vote approve reject player role merlin assassin good evil mission success failure"
).split()


def make_sentences(n: int, dup_fraction: float, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    n_unique = n - int(round(n * dup_fraction))
    unique = []
    for i in range(n_unique):
        length = int(rng.integers(25, 36))
        unique.append(f"{i} " + " ".join(rng.choice(WORDS, size=length)))
    dups = [unique[j] for j in rng.integers(0, n_unique, size=n - n_unique)]
    texts = unique + dups
    order = rng.permutation(len(texts))
    return [texts[k] for k in order]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--dup-fraction", type=float, default=0.3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    import torch

    texts = make_sentences(args.n, args.dup_fraction, args.seed)
    encoder = TransformerEmbedder(BUNDLED_MODEL, batch_size=args.batch_size, max_length=args.max_length, device="auto")
    encoder.load()
    encoder.encode_batch(texts[: args.batch_size])  # warm-up, not timed
    print(f"model={encoder.model_id} device={encoder.device} threads={torch.get_num_threads()} "
          f"n={len(texts)} distinct={len(set(texts))} batch_size={args.batch_size}")

    t0 = time.perf_counter()
    raw = np.concatenate(
        [encoder.encode_batch(texts[i : i + args.batch_size]) for i in range(0, len(texts), args.batch_size)]
    )
    raw_s = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as cache_dir:
        cached = CachedEmbedder(encoder, cache_dir)
        t0 = time.perf_counter()
        ours = cached.embed(texts)
        ours_s = time.perf_counter() - t0
        print(f"pnlc_embedded={cached.misses} max_abs_diff_vs_raw={float(np.abs(ours - raw).max()):.2e}")

    x, y = len(texts) / ours_s, len(texts) / raw_s
    print(f"embed_sentences_per_s={x:.1f} raw_sentences_per_s={y:.1f} ratio={x / y:.2f}")


if __name__ == "__main__":
    main()
