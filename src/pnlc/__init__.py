"""pnlc: Planning with a Natural Language Critic (Hong, Dragan, Levine; NeurIPS 2025), reproduced."""

import os

__version__ = "0.1.0"

# On CPUs with AMX, oneDNN's bfloat16 matrix products split their sums by thread count, so a text's
# embedding (and every number after it) would depend on how many threads ran the encoder. Capped at
# AVX-512 BF16 the bytes are the same for any thread count, with or without AMX. Set before torch
# makes its first oneDNN call; a value the user exported is kept.
os.environ.setdefault("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
