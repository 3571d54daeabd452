"""Critic checkpoint IO and the batched inference model the critic layer wraps."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pnlc.data.jsonl import atomic_path
from pnlc.value.config import TrainConfig

CHECKPOINT_FORMAT = "pnlc.value.critic/1"
CHECKPOINT_NAME = "critic.ckpt"
COMPLEMENT_MATCH = 0.9999  # cosine at which a goal is taken for a stored outcome sentence (same text,
#                            embedded again); paraphrases and neighbours ("Quest 2 ...") stay apart


@dataclass(frozen=True)
class BaseRates:
    """The critic's training data at a glance: per outcome goal (in outcome_goal_texts order) the
    share of training episodes in which it happened, and the mean success of those episodes."""

    outcomes: tuple[float, ...]
    success: float


class CheckpointError(ValueError):
    """A critic checkpoint is unreadable, of another format, or built on another embedder."""


def save_checkpoint(
    path: str | os.PathLike[str],
    networks_state: dict[str, Any],
    cfg: TrainConfig,
    embedder_id: str,
    dim: int,
    outcome_goal_texts: Sequence[str],
    base_rates: "BaseRates | None" = None,
    outcome_goal_emb: np.ndarray | None = None,
    complement_pairs: Sequence[tuple[str, str]] = (),
    state_text: str = "describe",
) -> None:
    """Write plain dicts and CPU tensors with torch.save, atomically; `base_rates` are the
    training episodes' outcome rates (what the base-rate control answers); `outcome_goal_emb` the
    outcome sentences' embeddings and `complement_pairs` their complementary pairs by text (what
    complement_outcomes answers consistently)."""
    import torch

    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": {k: v.detach().to("cpu", torch.float32).clone() for k, v in networks_state.items()},
        "config": cfg.to_dict(),
        "embedder_id": str(embedder_id),
        "state_text": str(state_text),
        "dim": int(dim),
        "outcome_goal_texts": [str(t) for t in outcome_goal_texts],
    }
    if outcome_goal_emb is not None:
        payload["outcome_goal_emb"] = torch.from_numpy(np.asarray(outcome_goal_emb, dtype=np.float32).copy())
    if complement_pairs:
        payload["complement_pairs"] = [[str(a), str(b)] for a, b in complement_pairs]
    if base_rates is not None:
        payload["base_rates"] = {"outcomes": [float(r) for r in base_rates.outcomes], "success": float(base_rates.success)}
    # through a file object: torch names the archive's inner folder after a path it is given, and the
    # temporary path is random; same weights -> same bytes
    with atomic_path(path, suffix=".ckpt") as tmp, open(tmp, "wb") as fh:
        torch.save(payload, fh)


class ValueModel:
    """Trained critic for inference: numpy embeddings in, probabilities out, one batched forward.

    q(s, a, g) = min of the twin Q heads = probability that goal g is reached (for outcome goals:
    holds at the episode's end) after following thought a in state s. For the scalar critic
    (goal_conditioned False) the goal is ignored and q is the expected episode success.

    With cfg.complement_outcomes, a goal that is one of a complementary pair of outcome sentences
    (its embedding that of the stored sentence, cosine >= COMPLEMENT_MATCH) is answered
    (q_A + 1 - q_notA) / 2, so P(A) + P(not A) = 1, or the mean over every sentence of its event
    where pairs chain (value.complements.consistent); `q_raw` is each head as trained. V is not symmetrised: an upper expectile of not-A is no complement of one of A.
    """

    def __init__(self, state_dict: dict[str, Any], cfg: TrainConfig, embedder_id: str, dim: int,
                 outcome_goal_texts: Sequence[str], device: str = "cpu",
                 base_rates: BaseRates | None = None, outcome_goal_emb: np.ndarray | None = None,
                 complement_pairs: Sequence[tuple[str, str]] = ()) -> None:
        import torch

        from pnlc.value.networks import TwinQ, ValueNet

        self.cfg = cfg
        self.embedder_id = embedder_id
        self.state_text = "describe"  # what the state texts it learned from are (load_critic sets it)
        self.dim = int(dim)
        self.outcome_goal_texts = tuple(outcome_goal_texts)
        self.base_rates = base_rates  # None for checkpoints written before they were stored
        self.goal_conditioned = cfg.goal_conditioned
        self.device = torch.device(device)
        goal_dim = self.dim if self.goal_conditioned else 0
        self._q = TwinQ(self.dim, goal_dim, cfg.hidden_sizes)
        self._v = ValueNet(self.dim, goal_dim, cfg.hidden_sizes)
        self._q.load_state_dict(_with_identity_inputs(
            {k[len("q."):]: v for k, v in state_dict.items() if k.startswith("q.")}, ("q1.", "q2."), self.dim))
        self._v.load_state_dict(_with_identity_inputs(
            {k[len("value."):]: v for k, v in state_dict.items() if k.startswith("value.")}, ("",), self.dim))
        self._q.to(self.device).eval()
        self._v.to(self.device).eval()
        self.complement_pairs = tuple((str(a), str(b)) for a, b in complement_pairs)
        # (unit outcome embeddings [K, D], per outcome the sentences of its event with their signs)
        self._complement: tuple[np.ndarray, list[tuple[tuple[int, int], ...]]] | None = None
        self._stored = None if outcome_goal_emb is None else np.asarray(outcome_goal_emb, dtype=np.float32)
        if cfg.complement_outcomes and self.goal_conditioned and self.complement_pairs:
            self._complement = self._complement_table(self._stored)

    def _complement_table(self, emb: np.ndarray | None) -> tuple[np.ndarray, list[tuple[tuple[int, int], ...]]]:
        from pnlc.value.complements import pair_columns, readings

        if emb is None:
            raise CheckpointError("complement_outcomes needs the outcome sentences' embeddings; retrain the critic")
        if emb.shape != (len(self.outcome_goal_texts), self.dim):
            raise CheckpointError(f"outcome_goal_emb has shape {emb.shape}, expected "
                                  f"({len(self.outcome_goal_texts)}, {self.dim}); retrain the critic")
        texts = self.outcome_goal_texts
        columns = pair_columns(texts, self.complement_pairs, "critic checkpoint")
        unit = emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)
        return unit, readings(len(texts), columns, texts, "critic checkpoint")

    def _tensor(self, x: np.ndarray, name: str, rows: int | None) -> Any:
        import torch

        arr = np.asarray(x, dtype=np.float32)
        if arr.ndim != 2 or arr.shape[1] != self.dim or (rows is not None and arr.shape[0] != rows):
            want = f"[{rows if rows is not None else 'B'}, {self.dim}]"
            raise ValueError(f"ValueModel: {name} has shape {arr.shape}, expected {want}")
        return torch.from_numpy(arr).to(self.device)

    def q(self, state_emb: np.ndarray, thought_emb: np.ndarray, goal_emb: np.ndarray | None = None) -> np.ndarray:
        """float32 [B] probabilities for B (state, thought, goal) rows; complementary outcome goals
        answered consistently when the config asks for it."""
        out = self.q_raw(state_emb, thought_emb, goal_emb)
        if self._complement is None:
            return out
        unit, reading = self._complement
        g = np.asarray(goal_emb, dtype=np.float32)
        cos = (g / np.linalg.norm(g, axis=1, keepdims=True).clip(min=1e-12)) @ unit.T
        k = np.argmax(cos, axis=1)
        rows = np.flatnonzero((cos[np.arange(len(k)), k] >= COMPLEMENT_MATCH)
                              & np.array([bool(reading[i]) for i in k], dtype=bool))
        if not rows.size:
            return out
        from pnlc.value.complements import consistent

        # every reading from the stored sentences, so complementary answers sum to one exactly
        needed = sorted({j for i in set(k[rows].tolist()) for j, _ in reading[i]})
        s, a = np.asarray(state_emb)[rows], np.asarray(thought_emb)[rows]
        n = rows.size
        flat = self.q_raw(np.tile(s, (len(needed), 1)), np.tile(a, (len(needed), 1)),
                          np.repeat(self._stored[needed], n, axis=0))
        raw = np.zeros((n, len(self.outcome_goal_texts)), dtype=np.float32)
        raw[:, needed] = flat.reshape(len(needed), n).T
        out = out.copy()
        for i in set(k[rows].tolist()):
            sel = k[rows] == i
            out[rows[sel]] = consistent(raw[sel], reading[i]).astype(np.float32)
        return out

    def q_raw(self, state_emb: np.ndarray, thought_emb: np.ndarray, goal_emb: np.ndarray | None = None) -> np.ndarray:
        """float32 [B]: the twin-Q minimum as trained, every goal on its own."""
        import torch

        s = self._tensor(state_emb, "state_emb", None)
        a = self._tensor(thought_emb, "thought_emb", s.shape[0])
        g = None
        if self.goal_conditioned:
            if goal_emb is None:
                raise ValueError("ValueModel.q: this critic is goal-conditioned; pass goal_emb [B, D]")
            g = self._tensor(goal_emb, "goal_emb", s.shape[0])
        with torch.inference_mode():
            return self._q(s, a, g).float().cpu().numpy()

    def v(self, state_emb: np.ndarray, goal_emb: np.ndarray | None = None) -> np.ndarray:
        """float32 [B]: V(s, g), the upper-expectile value of the data's thoughts."""
        import torch

        s = self._tensor(state_emb, "state_emb", None)
        g = self._tensor(goal_emb, "goal_emb", s.shape[0]) if self.goal_conditioned and goal_emb is not None else None
        if self.goal_conditioned and g is None:
            raise ValueError("ValueModel.v: this critic is goal-conditioned; pass goal_emb [B, D]")
        with torch.inference_mode():
            return self._v(s, g).float().cpu().numpy()


def _with_identity_inputs(state: dict[str, Any], prefixes: Sequence[str], dim: int) -> dict[str, Any]:
    """Checkpoints written before input standardisation existed hold no `inputs.*` buffers; they
    were trained on raw inputs, which is what identity buffers reproduce."""
    import torch

    out = dict(state)
    for prefix in prefixes:
        out.setdefault(f"{prefix}inputs.mean", torch.zeros(dim))
        out.setdefault(f"{prefix}inputs.std", torch.ones(dim))
    return out


def load_critic(path: str | os.PathLike[str], expected_embedder_id: str | None = None,
                device: str = "cpu", expected_state_text: str | None = None) -> ValueModel:
    """Load a critic checkpoint; refuse one trained on embeddings of another encoder, or on state
    texts of another kind (rule-based descriptions or an LLM's summaries) than the reader gives."""
    import torch

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no critic checkpoint; run the training phase first")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same thing here
        # torch's own message is several paragraphs about unpickling; the file is simply not ours
        raise CheckpointError(
            f"{p}: not a readable critic checkpoint ({type(exc).__name__} while loading it); retrain it with "
            "the training phase"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{p}: not a {CHECKPOINT_FORMAT} checkpoint; retrain with this version")
    embedder_id = payload["embedder_id"]
    if expected_embedder_id is not None and expected_embedder_id != embedder_id:
        raise CheckpointError(
            f"{p}: critic was trained on embeddings from {embedder_id!r}, but the configured embedder "
            f"is {expected_embedder_id!r}; its scores would be meaningless. Use the same embedder or "
            "retrain the critic on annotations made with this one."
        )
    state_text = str(payload.get("state_text", "describe"))
    if expected_state_text is not None and expected_state_text != state_text:
        raise CheckpointError(
            f"{p}: critic was trained on state texts of kind {state_text!r}, but the agent would give it "
            f"{expected_state_text!r} (annotate.summarizer and the LLM decide it); its scores would be read on "
            "text it never saw. Evaluate with the annotate.summarizer the critic was trained with, or retrain it."
        )
    # checkpoints from before input standardisation existed were trained on raw inputs
    # ... and before the data controls existed, on all training episodes with their own outcomes
    cfg = TrainConfig.from_dict(
        {"standardize_inputs": False, "train_episode_fraction": 1.0, "shuffle_outcomes": False,
         # ... and before early stopping and complementary outcomes, for max_steps, each goal on its own
         "early_stop_patience": 0, "early_stop_min_delta": 0.0, "complement_outcomes": False,
         # ... and before the Monte-Carlo outcome term, on the TD loss alone
         "outcome_mc_weight": 0.0, "outcome_mc_goals": "sampled",
         # ... and before its log loss, scored by squared error
         "outcome_mc_loss": "squared", **payload["config"]}
    )
    rates = payload.get("base_rates")
    base_rates = None if rates is None else BaseRates(tuple(float(r) for r in rates["outcomes"]), float(rates["success"]))
    emb = payload.get("outcome_goal_emb")
    model = ValueModel(payload["state_dict"], cfg, embedder_id, payload["dim"], payload["outcome_goal_texts"], device,
                       base_rates, None if emb is None else emb.numpy(),
                       [tuple(p) for p in payload.get("complement_pairs", ())])
    model.state_text = state_text
    return model
