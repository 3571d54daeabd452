"""The critic's input: transitions over a table of embedded texts (the annotation phase writes it).

Saved as one .npz whose keys are the field names below; `outcome_goal_texts` is a unicode array,
`embedder_id` a 0-d unicode array, and `texts` (when present) the UTF-8 bytes of every text laid
end to end (`text_bytes`, uint8) with their boundaries (`text_offsets`, int64 [M + 1]).
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pnlc.data.jsonl import save_npz as _save_npz_atomic


class TransitionDataError(ValueError):
    """Transition arrays are missing, mis-shaped or inconsistent; the message names the key."""


# key -> (dtype kind, shape spec); shape letters: M texts, D dim, N transitions, E episodes, K outcome goals
_ARRAYS: dict[str, tuple[type, tuple[str, ...]]] = {
    "embeddings": (np.float32, ("M", "D")),
    "state": (np.int64, ("N",)),
    "thought": (np.int64, ("N",)),
    "next_state": (np.int64, ("N",)),
    "episode": (np.int64, ("N",)),
    "step": (np.int64, ("N",)),
    "terminal": (np.bool_, ("N",)),
    "outcome_goals": (np.float32, ("K", "D")),
    "outcome_labels": (np.float32, ("E", "K")),
    "success": (np.float32, ("E",)),
    "outcome_decided": (np.bool_, ("N", "K")),
}
_OPTIONAL = ("outcome_decided",)  # absent from files written before it existed


@dataclass(frozen=True)
class TransitionData:
    """Transitions (s_t, a_t, s_{t+1}) as rows into `embeddings`, sorted by episode then step.

    embeddings:     float32 [M, D]  every distinct text (state summaries, thoughts), L2-normalised
    state:          int64 [N]       row of s_t
    thought:        int64 [N]       row of the thought a_t
    next_state:     int64 [N]       row of s_{t+1} (for an episode's last step: its final state)
    episode:        int64 [N]       episode index 0..E-1
    step:           int64 [N]       t within the episode (0, 1, ...)
    terminal:       bool [N]        s_{t+1} ends the episode
    outcome_goals:  float32 [K, D]  embeddings of the outcome-goal sentences
    outcome_labels: float32 [E, K]  1 if outcome k happened in episode e
    success:        float32 [E]     episode metric scaled to [0, 1] (target of the scalar critic)
    outcome_goal_texts: the K outcome-goal sentences
    embedder_id:    the encoder that produced every embedding
    outcome_decided: bool [N, K]    outcome k is settled in s_{t+1} (an earlier quest's result);
                                    every outcome is settled at an episode's last transition.
                                    None (files that predate it) = settled at the last transition
    texts:          the M texts the embedding rows encode, in row order (for the text references);
                    None for files written before texts were stored
    state_text:     what the state texts are: "describe" (the environment's rule-based summary)
                    or "llm:<backend>/<model>" (an LLM summarizer's); the critic keeps it, and an
                    agent that reads the critic must give it the same kind
    """

    embeddings: np.ndarray
    state: np.ndarray
    thought: np.ndarray
    next_state: np.ndarray
    episode: np.ndarray
    step: np.ndarray
    terminal: np.ndarray
    outcome_goals: np.ndarray
    outcome_labels: np.ndarray
    success: np.ndarray
    outcome_goal_texts: tuple[str, ...]
    embedder_id: str
    outcome_decided: np.ndarray | None = None
    texts: tuple[str, ...] | None = None
    state_text: str = "describe"

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome_goal_texts", tuple(str(t) for t in self.outcome_goal_texts))
        if self.texts is not None:
            object.__setattr__(self, "texts", tuple(str(t) for t in self.texts))
        if self.outcome_decided is None and isinstance(self.terminal, np.ndarray):
            k = self.outcome_goals.shape[0] if isinstance(self.outcome_goals, np.ndarray) else 0
            object.__setattr__(self, "outcome_decided", np.repeat(self.terminal[:, None], k, axis=1))
        validate(self)

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def num_transitions(self) -> int:
        return int(self.state.shape[0])

    @property
    def num_episodes(self) -> int:
        return int(self.success.shape[0])

    @property
    def num_outcome_goals(self) -> int:
        return int(self.outcome_goals.shape[0])


def validate(data: TransitionData, where: str = "TransitionData") -> None:
    """Check dtypes, shapes, index ranges and episode ordering; raise TransitionDataError."""
    sizes: dict[str, int] = {}
    for key, (dtype, spec) in _ARRAYS.items():
        arr = getattr(data, key)
        if not isinstance(arr, np.ndarray):
            raise TransitionDataError(f"{where}: {key!r} must be a numpy array, got {type(arr).__name__}")
        if arr.dtype != dtype:
            raise TransitionDataError(f"{where}: {key!r} has dtype {arr.dtype}, expected {np.dtype(dtype)}")
        if arr.ndim != len(spec):
            raise TransitionDataError(
                f"{where}: {key!r} has shape {arr.shape}, expected [{', '.join(spec)}]"
            )
        for letter, n in zip(spec, arr.shape):
            if sizes.setdefault(letter, n) != n:
                raise TransitionDataError(
                    f"{where}: {key!r} has shape {arr.shape} ([{', '.join(spec)}]) but {letter} = "
                    f"{sizes[letter]} elsewhere"
                )
    n, m, e = sizes["N"], sizes["M"], sizes["E"]
    if not (np.all(np.isfinite(data.embeddings)) and np.all(np.isfinite(data.outcome_goals))):
        raise TransitionDataError(f"{where}: 'embeddings' or 'outcome_goals' contains NaN or inf")
    if n == 0 or e == 0:
        raise TransitionDataError(f"{where}: no transitions or no episodes")
    for key in ("state", "thought", "next_state"):
        arr = getattr(data, key)
        if arr.min() < 0 or arr.max() >= m:
            raise TransitionDataError(f"{where}: {key!r} indexes rows outside embeddings [0, {m})")
    ep = data.episode
    if ep.min() < 0 or ep.max() >= e:
        raise TransitionDataError(f"{where}: 'episode' values outside [0, {e}) (E from 'success')")
    if np.any(np.diff(ep) < 0):
        raise TransitionDataError(f"{where}: transitions must be sorted by episode, then step")
    starts = np.r_[True, ep[1:] != ep[:-1]]
    if np.any(data.step[starts] != 0) or np.any(data.step[~starts] != data.step[np.flatnonzero(~starts) - 1] + 1):
        raise TransitionDataError(f"{where}: 'step' must count 0, 1, 2, ... within each episode")
    if len(np.unique(ep)) != e:
        raise TransitionDataError(f"{where}: some episodes in 0..{e - 1} have no transitions")
    last = np.r_[ep[1:] != ep[:-1], True]
    if not np.all(data.terminal[last]):
        bad = int(ep[last & ~data.terminal][0])
        raise TransitionDataError(
            f"{where}: the last transition of episode {bad} is not terminal; every episode must end "
            "with terminal = True"
        )
    if np.any(data.terminal & ~last):
        raise TransitionDataError(f"{where}: a terminal transition is followed by more steps of the same episode")
    inner = np.flatnonzero(~last)
    if np.any(data.next_state[inner] != data.state[inner + 1]):
        bad = int(inner[data.next_state[inner] != data.state[inner + 1]][0])
        raise TransitionDataError(
            f"{where}: transition {bad} has next_state {int(data.next_state[bad])} but the next step of "
            f"its episode starts in state {int(data.state[bad + 1])}; s_(t+1) must be the next step's s_t"
        )
    for key in ("embeddings", "outcome_goals"):
        arr = getattr(data, key)
        norms = np.linalg.norm(arr, axis=1) if arr.size else np.ones(0)
        if np.any(np.abs(norms - 1.0) > 1e-3):
            raise TransitionDataError(
                f"{where}: {key!r} rows must be L2-normalised (row {int(np.argmax(np.abs(norms - 1.0)))} has "
                f"norm {norms[np.argmax(np.abs(norms - 1.0))]:.4f}); normalise the embedder's output"
            )
    decided = data.outcome_decided
    if decided.size and not np.all(decided[last]):
        raise TransitionDataError(f"{where}: 'outcome_decided' must be true for every outcome at an episode's last transition")
    if decided.size and np.any(decided[inner] & ~decided[inner + 1]):
        raise TransitionDataError(f"{where}: 'outcome_decided' turns false again within an episode; a settled outcome stays settled")
    if len(data.outcome_goal_texts) != sizes["K"]:
        raise TransitionDataError(
            f"{where}: {len(data.outcome_goal_texts)} outcome_goal_texts for {sizes['K']} outcome_goals"
        )
    for key in ("outcome_labels", "success"):
        arr = getattr(data, key)
        if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
            raise TransitionDataError(f"{where}: {key!r} must lie in [0, 1]")
    if not isinstance(data.embedder_id, str) or not data.embedder_id:
        raise TransitionDataError(f"{where}: 'embedder_id' must be a non-empty string")
    if data.texts is not None and len(data.texts) != m:
        raise TransitionDataError(f"{where}: {len(data.texts)} texts for {m} embedding rows; one text per row")


def _encode_texts(texts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), offsets


def _decode_texts(raw: np.ndarray, offsets: np.ndarray, where: Path) -> tuple[str, ...]:
    if raw.dtype != np.uint8 or raw.ndim != 1 or offsets.dtype != np.int64 or offsets.ndim != 1 or offsets.size == 0:
        raise TransitionDataError(f"{where}: 'text_bytes' must be 1-d uint8 and 'text_offsets' 1-d int64")
    if offsets[0] != 0 or offsets[-1] != raw.size or np.any(np.diff(offsets) < 0):
        raise TransitionDataError(f"{where}: 'text_offsets' do not cut 'text_bytes' into texts; regenerate the file")
    data = raw.tobytes()
    try:
        return tuple(data[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:]))
    except UnicodeDecodeError as exc:
        raise TransitionDataError(f"{where}: 'text_bytes' is not UTF-8 ({exc}); regenerate the file") from None


def save_npz(path: str | os.PathLike[str], data: TransitionData) -> None:
    """Write the transitions atomically as a compressed .npz (keys = field names)."""
    arrays = {key: getattr(data, key) for key in _ARRAYS}
    arrays["outcome_goal_texts"] = np.array(list(data.outcome_goal_texts), dtype=np.str_).reshape(-1)
    arrays["embedder_id"] = np.array(data.embedder_id, dtype=np.str_)
    arrays["state_text"] = np.array(data.state_text, dtype=np.str_)
    if data.texts is not None:
        arrays["text_bytes"], arrays["text_offsets"] = _encode_texts(data.texts)
    _save_npz_atomic(path, **arrays)


def load_npz(path: str | os.PathLike[str]) -> TransitionData:
    """Read and validate; errors name the file and the missing or mis-shaped key."""
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file; run the annotation phase that writes it first")
    try:
        with np.load(p, allow_pickle=False) as npz:
            present = set(npz.files)
            wanted = [k for k in _ARRAYS if k in present or k not in _OPTIONAL] + ["outcome_goal_texts", "embedder_id"]
            missing = [k for k in wanted if k not in present]
            if missing:
                raise TransitionDataError(f"{p}: missing key(s) {missing}; regenerate the file with the annotation phase")
            arrays = {k: npz[k] for k in wanted}
            has_texts = {"text_bytes", "text_offsets"} <= present
            texts = _decode_texts(npz["text_bytes"], npz["text_offsets"], p) if has_texts else None
            state_text = str(npz["state_text"].item()) if "state_text" in present else "describe"
    except TransitionDataError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        # np.load reads a file that is no zip archive as a pickle and refuses it with a ValueError
        reason = "not a zip archive" if isinstance(exc, ValueError) else str(exc)
        raise TransitionDataError(f"{p}: not a readable .npz ({reason}); regenerate it with the annotation phase") from None
    goal_texts = arrays.pop("outcome_goal_texts")
    embedder_id = arrays.pop("embedder_id")
    if goal_texts.ndim != 1 or embedder_id.ndim != 0:
        raise TransitionDataError(f"{p}: 'outcome_goal_texts' must be 1-d and 'embedder_id' 0-d")
    try:
        return TransitionData(
            **arrays, outcome_goal_texts=tuple(goal_texts.tolist()), embedder_id=str(embedder_id.item()), texts=texts,
            state_text=state_text,
        )
    except TransitionDataError as exc:
        raise TransitionDataError(f"{p}: {exc}") from None


def input_statistics(data: TransitionData, episodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation (float32 [D] each) of the texts the given
    episodes use (their states, thoughts and next states, each distinct text once) and the
    outcome goals: what the critic's input standardisation is fitted on (training episodes only)."""
    mask = np.isin(data.episode, np.asarray(episodes, dtype=np.int64))
    rows = np.unique(np.concatenate([data.state[mask], data.thought[mask], data.next_state[mask]]))
    x = np.concatenate([data.embeddings[rows], data.outcome_goals], axis=0).astype(np.float64)
    if x.shape[0] < 2:
        raise TransitionDataError("input statistics: need at least two distinct texts to standardise inputs")
    return x.mean(axis=0).astype(np.float32), x.std(axis=0).astype(np.float32)
