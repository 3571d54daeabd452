"""Synthetic transition data with known answers (tests) and of real shapes (benchmarks)."""

from __future__ import annotations

import numpy as np

from pnlc.value.data import TransitionData


def _unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def two_thought_outcome_data(
    episodes_per_thought: int, p_outcome_a: float, p_outcome_b: float, dim: int, seed: int
) -> TransitionData:
    """Two-step episodes with a known answer.

    Step 0: state s0, thought A or B (half the episodes each). Step 1: state s1_A or s1_B, thought
    C, final state "X happened" or "X did not happen". Exactly round(p * n) of the n episodes of
    each thought end with outcome X, so Q(s0, A, X) = p_outcome_a and Q(s0, B, X) = p_outcome_b.
    Outcome goals: ["X happens."]. Rows: 0 s0, 1 A, 2 B, 3 s1_A, 4 s1_B, 5 C, 6 end-X, 7 end-not-X.
    """
    rng = np.random.default_rng(seed)
    emb = _unit(rng, 8, dim)
    goal = _unit(rng, 1, dim)
    n = episodes_per_thought
    labels = []
    state, thought, next_state = [], [], []
    for which, p in ((1, p_outcome_a), (2, p_outcome_b)):
        hits = np.zeros(n, dtype=bool)
        hits[: int(round(p * n))] = True
        for hit in hits:
            mid = 3 if which == 1 else 4
            end = 6 if hit else 7
            state += [0, mid]
            thought += [which, 5]
            next_state += [mid, end]
            labels.append(float(hit))
    e = len(labels)
    perm = rng.permutation(e)  # interleave the two thoughts' episodes
    s = np.array(state).reshape(e, 2)[perm].reshape(-1)
    a = np.array(thought).reshape(e, 2)[perm].reshape(-1)
    ns = np.array(next_state).reshape(e, 2)[perm].reshape(-1)
    lab = np.array(labels, dtype=np.float32)[perm]
    return TransitionData(
        embeddings=emb,
        state=s.astype(np.int64),
        thought=a.astype(np.int64),
        next_state=ns.astype(np.int64),
        episode=np.repeat(np.arange(e), 2).astype(np.int64),
        step=np.tile([0, 1], e).astype(np.int64),
        terminal=np.tile([False, True], e),
        outcome_goals=goal,
        outcome_labels=lab[:, None].copy(),
        success=lab.copy(),
        outcome_goal_texts=("X happens.",),
        embedder_id="synthetic/random-unit-vectors",
    )


def random_transition_data(
    num_transitions: int, episode_length: int, dim: int, num_outcome_goals: int, seed: int
) -> TransitionData:
    """Random unit embeddings in the real shapes: every state and thought a distinct text."""
    rng = np.random.default_rng(seed)
    e = max(2, num_transitions // episode_length)
    # texts: per episode, episode_length + 1 states and episode_length thoughts
    per_ep = 2 * episode_length + 1
    m = e * per_ep
    base = (np.arange(e) * per_ep).repeat(episode_length)
    t = np.tile(np.arange(episode_length), e)
    labels = (rng.random((e, num_outcome_goals)) < 0.3).astype(np.float32)
    return TransitionData(
        embeddings=_unit(rng, m, dim),
        state=(base + t).astype(np.int64),
        thought=(base + episode_length + 1 + t).astype(np.int64),
        next_state=(base + t + 1).astype(np.int64),
        episode=np.arange(e).repeat(episode_length).astype(np.int64),
        step=t.astype(np.int64),
        terminal=(t == episode_length - 1),
        outcome_goals=_unit(rng, num_outcome_goals, dim),
        outcome_labels=labels,
        success=labels[:, 0].copy() if num_outcome_goals else rng.random(e).astype(np.float32),
        outcome_goal_texts=tuple(f"Outcome {k} happens." for k in range(num_outcome_goals)),
        embedder_id="synthetic/random-unit-vectors",
    )
