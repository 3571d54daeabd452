"""Annotation: state summaries, thoughts and outcome goals of every step, embedded once each."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pnlc.config import ConfigError, Params
from pnlc.data import Annotation, atomic_write_text, episode_from_dict, episode_id, read_jsonl, write_jsonl
from pnlc.pipeline.factory import METRIC_SCALE, check_env, make_embedder, make_llm, state_text_kind

log = logging.getLogger(__name__)


class TextTable:
    """Assigns one row per distinct text, in order of first appearance."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def row(self, text: str) -> int:
        if text not in self.rows:
            self.rows[text] = len(self.rows)
        return self.rows[text]

    @property
    def texts(self) -> list[str]:
        return list(self.rows)


def load_episodes(paths: Sequence[Path]) -> list:
    episodes = []
    for p in paths:
        episodes.extend(read_jsonl(p, episode_from_dict))
    return episodes


def summaries(params: Params, episodes: list) -> tuple[list[tuple[list[str], str]], dict[str, Any]]:
    """Per episode: the summary of each pre-action state, and of the final state; and what the
    summarizer used (calls, tokens, dollars paid and how its answers came back; nothing with `describe`)."""
    mode = params.section("annotate").summarizer
    usage: dict[str, Any] = {
        "summarizer": mode,
        "state_text": state_text_kind(params),
        "episodes": len(episodes),
        "steps": sum(len(ep.steps) for ep in episodes),
    }
    if mode == "describe":
        return [([s.state_summary for s in ep.steps], ep.final_summary) for ep in episodes], usage
    from pnlc.agents.llm_policy import Summarizer

    policy = params.raw["llm"]["policy"]  # the same requests as an LLM policy's summaries of its states
    summarizer = Summarizer(make_llm(params), max_tokens=int(policy["max_tokens"]), prefill=bool(policy["prefill"]))
    texts = [
        ([summarizer(s.observation) for s in ep.steps], summarizer(ep.final_observation)) for ep in episodes
    ]
    total = summarizer.usage_total
    usage.update(
        calls=total.calls, input_tokens=total.input_tokens, output_tokens=total.output_tokens,
        cached_tokens=total.cached_tokens, cost_usd=total.cost_usd,
        forms={role: stats.as_dict() for role, stats in sorted(summarizer.answer_forms.items())},
    )
    return texts, usage


def outcome_goal_index(episodes: Sequence) -> dict[str, int]:
    """Outcome-goal text -> column, in first-seen order over the episodes' info["goal_outcomes"]."""
    index: dict[str, int] = {}
    for ep in episodes:
        for g in ep.info.get("goal_outcomes", {}):
            index.setdefault(str(g), len(index))
    return index


def build_transitions(
    episodes: Sequence, texts: Sequence[tuple[list[str], str]], embedder, metric_scale: float
) -> tuple[Any, list[Annotation]]:
    """Transition arrays (one embedding row per distinct text) and per-step annotation records."""
    from pnlc.value.data import TransitionData

    table = TextTable()
    goal_texts = outcome_goal_index(episodes)

    records: list[Annotation] = []
    cols: dict[str, list] = {k: [] for k in ("state", "thought", "next_state", "episode", "step", "terminal")}
    decided_rows: list[np.ndarray] = []
    labels = np.zeros((len(episodes), len(goal_texts)), dtype=np.float32)
    success = np.zeros(len(episodes), dtype=np.float32)
    for e, (ep, (state_texts, final_text)) in enumerate(zip(episodes, texts)):
        for g, happened in ep.info.get("goal_outcomes", {}).items():
            labels[e, goal_texts[g]] = float(happened)
        success[e] = float(np.clip(ep.metric / metric_scale, 0.0, 1.0))
        chain = list(state_texts) + [final_text]
        decided_rows.append(settled_outcomes(ep, goal_texts))
        for t, step in enumerate(ep.steps):
            s, a, s2 = table.row(chain[t]), table.row(step.thought), table.row(chain[t + 1])
            last = t == len(ep.steps) - 1
            for key, val in zip(cols, (s, a, s2, e, t, last)):
                cols[key].append(val)
            records.append(
                Annotation(
                    episode_id=episode_id(ep),
                    episode_index=e,
                    step_index=t,
                    state_summary=chain[t],
                    next_state_summary=chain[t + 1],
                    thought=step.thought,
                    state_row=s,
                    next_state_row=s2,
                    thought_row=a,
                    terminal=last,
                    reward=step.reward,
                    outcome=dict(ep.outcome),
                )
            )
    log.info("embedding %d distinct texts and %d outcome goals", len(table.rows), len(goal_texts))
    # one call: every distinct text is embedded once, in length-bucketed batches
    vectors = np.asarray(embedder.embed(table.texts + list(goal_texts)), dtype=np.float32)
    emb, goal_emb = vectors[: len(table.rows)], vectors[len(table.rows) :]
    data = TransitionData(
        embeddings=emb,
        state=np.asarray(cols["state"], dtype=np.int64),
        thought=np.asarray(cols["thought"], dtype=np.int64),
        next_state=np.asarray(cols["next_state"], dtype=np.int64),
        episode=np.asarray(cols["episode"], dtype=np.int64),
        step=np.asarray(cols["step"], dtype=np.int64),
        terminal=np.asarray(cols["terminal"], dtype=bool),
        outcome_goals=goal_emb,
        outcome_labels=labels,
        success=success,
        outcome_goal_texts=tuple(goal_texts),
        embedder_id=embedder.model_id,
        outcome_decided=np.concatenate(decided_rows) if decided_rows else None,
        texts=tuple(table.texts),
    )
    return data, records


def settled_outcomes(episode, goal_index: dict[str, int]) -> np.ndarray:
    """bool [T, K]: outcome k is settled after step t. A step's info["decided"] lists the outcome
    goals that became settled with it (environments that report them); everything is settled
    after the last step."""
    out = np.zeros((len(episode.steps), len(goal_index)), dtype=bool)
    for t, step in enumerate(episode.steps):
        for goal in step.info.get("decided", ()):
            if goal in goal_index:
                out[t:, goal_index[goal]] = True
    out[-1, :] = True
    return out


def annotate(
    params: Params, env_name: str, inputs: Sequence[Path], out_jsonl: Path, out_npz: Path, out_usage: Path
) -> int:
    from pnlc.value.data import save_npz

    check_env(env_name)
    episodes = [ep for ep in load_episodes(inputs) if ep.steps]
    if not episodes:
        raise ValueError(f"{', '.join(map(str, inputs))}: no episodes with steps to annotate")
    texts, usage = summaries(params, episodes)
    data, records = build_transitions(episodes, texts, make_embedder(params), METRIC_SCALE[env_name])
    data = dataclasses.replace(data, state_text=usage["state_text"])
    write_jsonl(out_jsonl, records)
    save_npz(out_npz, data)
    atomic_write_text(out_usage, json.dumps(usage, indent=2, sort_keys=True) + "\n")
    log.info("annotated %d steps of %d episodes", len(records), len(episodes))
    return len(records)
