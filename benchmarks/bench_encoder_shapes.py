"""Encoder time per text for two forward-pass shapes, in the two ways the pipeline calls the encoder.

A text's vector must not depend on the other texts in its call, so every forward pass has a fixed
shape: `embed.batch_size` rows (a short batch is filled with empty texts) of the text's padded
length (the next multiple of `embed.pad_multiple` tokens). Two settings side by side:

  rows4-pad8   batch_size 4, pad_multiple 8 (the setting before one-row passes)
  rows1-pad1   batch_size 1, pad_multiple 1: every text passes alone at its own length

and two ways of calling:

  decision     one text per call, as a critic-reading evaluation job embeds them: the texts of a
               decision that are new (mostly its state summary; the thoughts and goals recur and
               come from the cache). Recorded on a PNLC evaluation of simulated Avalon (60 games,
               cold cache): 905 of 964 encoder calls embedded one text, 54 two.
  bulk         chunks of 128 texts in one call, as annotation embeds every distinct text

The texts are the state summaries and thoughts of an annotation file (`<stem>.jsonl`), in order.
The settings take turns chunk by chunk so that they see the same machine load.

    python benchmarks/bench_encoder_shapes.py --annotations results/annotations/avalon/sim \
        [--texts 400] [--threads 1]

Last line: <setting>_<call>_ms_per_text=... decision_speedup=... bulk_speedup=... (rows4-pad8 / rows1-pad1)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from pnlc.embed import BUNDLED_MODEL, TransformerEmbedder

SETTINGS = {"rows4-pad8": (4, 8), "rows1-pad1": (1, 1)}
CALLS = ("decision", "bulk")
BULK = 128


def annotation_texts(jsonl: Path, limit: int) -> list[str]:
    """Distinct state summaries and thoughts of an annotation file, in file order."""
    seen: dict[str, None] = {}
    with open(jsonl, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            for key in ("state_summary", "thought"):
                seen.setdefault(r[key], None)
            if len(seen) >= limit:
                break
    return list(seen)[:limit]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotations", required=True, type=Path, help="path stem of the .jsonl/.npz pair")
    ap.add_argument("--texts", type=int, default=400, help="distinct texts timed per call kind")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--max-length", type=int, default=256, help="embed.max_length")
    ap.add_argument("--precision", default="bfloat16", help="embed.precision")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    texts = annotation_texts(args.annotations.with_suffix(".jsonl"), args.texts)
    encoders = {k: TransformerEmbedder(BUNDLED_MODEL, b, args.max_length, p, args.precision, "cpu")
                for k, (b, p) in SETTINGS.items()}
    first = next(iter(encoders.values()))
    first.load()
    for e in encoders.values():
        e._tok, e._net, e._filler, e.device = first._tok, first._net, first._filler, first.device
    lengths = [len(x) for x in first.token_ids(texts)]
    print(f"{len(texts)} texts of {args.annotations}: tokens mean {np.mean(lengths):.0f}, median "
          f"{np.median(lengths):.0f}, max {max(lengths)}; {args.precision}, torch {torch.get_num_threads()} threads")
    for e in encoders.values():  # warm-up, not timed
        e.embed(texts[:4])

    seconds = {(k, c): 0.0 for k in SETTINGS for c in CALLS}
    vectors: dict[str, list[np.ndarray]] = {k: [] for k in SETTINGS}
    names = list(SETTINGS)
    for n, start in enumerate(range(0, len(texts), BULK)):
        chunk = texts[start : start + BULK]
        for k in names if n % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            vectors[k].extend(encoders[k].embed([t])[0] for t in chunk)
            seconds[(k, "decision")] += time.perf_counter() - t0
            t0 = time.perf_counter()
            encoders[k].embed(chunk)
            seconds[(k, "bulk")] += time.perf_counter() - t0
    ms = {key: s / len(texts) * 1000.0 for key, s in seconds.items()}
    for k in SETTINGS:
        print(f"{k}: decision {ms[(k, 'decision')]:.1f} ms per text, bulk {ms[(k, 'bulk')]:.1f} ms per text")
    a, b = (np.stack(vectors[k]) for k in SETTINGS)
    print(f"rows1-pad1 vs rows4-pad8 vectors: max abs difference {np.abs(a - b).max():.2e}, min cosine "
          f"{(a * b).sum(axis=1).min():.6f}; load average (1 min) {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    old, new = names
    print(" ".join(f"{k.replace('-', '_')}_{c}_ms_per_text={ms[(k, c)]:.2f}" for k in SETTINGS for c in CALLS)
          + f" decision_speedup={ms[(old, 'decision')] / ms[(new, 'decision')]:.2f}"
          + f" bulk_speedup={ms[(old, 'bulk')] / ms[(new, 'bulk')]:.2f}")


if __name__ == "__main__":
    main()
