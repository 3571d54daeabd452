"""The encoder of one decision on CPU: float32 against torch's dynamic int8 quantisation.

    python benchmarks/bench_encoder_int8.py [--iterations 40] [--warmup 5] [--threads 1]

A decision's worst case embeds 8 new texts (the state summary, 3 thoughts, 4 goals); the texts here
have the token lengths of a quick-run Avalon decision (about 120, 16 and 7 tokens). Both paths are
`pnlc.embed.transformer.TransformerEmbedder` over the bundled all-MiniLM-L6-v2 (one text per
forward, as `embed.batch_size: 1` runs it); the int8 path is `torch.ao.quantization.quantize_dynamic` of every `nn.Linear` (weights
int8, activations quantised per batch), alternating with the float path decision by decision. Also
printed: whether the int8 vectors repeat to the byte, and how far they are from the float32 ones
(the critic is trained on the float32 vectors, so this distance is what an int8 critic path would
feed it instead).

Last line: float32_ms_p50=<x> int8_ms_p50=<y> speedup_p50=<x/y> min_cosine=<c> int8_deterministic=<0|1>
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np

STATE = " ".join(
    ["Quest 2 failed with evil Player 4 on the team. Player 3 proposed a team of Player 1 and Player 5."] * 5
)
THOUGHTS = [f"I think Player {i} is suspicious, so I will vote to reject this team." for i in (2, 3, 4)]
GOALS = ["Good wins the game.", "Evil wins the game.", "Merlin is assassinated.", "Quest 3 fails."]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    import torch

    from pnlc.embed.transformer import TransformerEmbedder

    torch.set_num_threads(args.threads)
    texts = [STATE, *THOUGHTS, *GOALS]
    paths = {name: TransformerEmbedder("all-MiniLM-L6-v2", 1, 256, 1, "float32", "cpu") for name in ("float32", "int8")}
    for emb in paths.values():
        emb.load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths["int8"]._net = torch.ao.quantization.quantize_dynamic(paths["int8"]._net, {torch.nn.Linear},
                                                                    dtype=torch.qint8)
    times: dict[str, list[float]] = {name: [] for name in paths}
    last: dict[str, np.ndarray] = {}
    first_int8 = None
    for it in range(args.warmup + args.iterations):
        for name, emb in paths.items():
            t0 = time.perf_counter()
            last[name] = emb.embed(texts)
            if it >= args.warmup:
                times[name].append((time.perf_counter() - t0) * 1000)
        if first_int8 is None:
            first_int8 = last["int8"].copy()
    p50 = {name: statistics.median(ts) for name, ts in times.items()}
    cosine = (last["float32"] * last["int8"]).sum(axis=1)
    same = bool(np.array_equal(first_int8, last["int8"]))
    print(f"token lengths {[len(x) for x in paths['float32'].token_ids(texts)]}; torch {torch.__version__}, {args.threads} thread(s)")
    for name in paths:
        print(f"{name}: encoder p50 {p50[name]:.1f} ms, p95 {np.percentile(times[name], 95):.1f} ms for 8 texts")
    print(f"int8 vs float32 cosine per text: {' '.join(f'{c:.3f}' for c in cosine)}; "
          f"int8 repeats to the byte: {same}")
    print(f"float32_ms_p50={p50['float32']:.2f} int8_ms_p50={p50['int8']:.2f} "
          f"speedup_p50={p50['float32'] / p50['int8']:.2f} min_cosine={cosine.min():.4f} int8_deterministic={int(same)}")


if __name__ == "__main__":
    main()
