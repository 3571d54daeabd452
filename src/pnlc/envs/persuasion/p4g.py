"""PersuasionForGood (Wang et al., 2019) as offline episodes: 1,017 human dialogues with real donations.

Reads `<data_dir>/full_data.json` (a list of {"conversation": [turn, ...], "reward": donation};
turns alternate persuader/persuadee, persuader first; reward = donation clipped to [0, 2]) and, when
present, the sentence-level strategy annotations of 300 dialogues in
`<data_dir>/p4g_original/AnnotatedData/300_dialog.csv`. Annotated dialogues carry no shared id with
full_data.json; they are matched by text (fuzzy, with the donation checked where 300_info.csv exists).

Each persuader turn becomes a `Step`: the action is the turn's text, the thought the annotated
strategy in words (else a short description of the turn read by the same text rules as the
simulator), the state summary the deterministic outcome-style summary of the dialogue so far.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pnlc.data.records import Episode, Step
from pnlc.envs.base import EnvError
from pnlc.envs.persuasion.env import ENV_NAME, observation_text
from pnlc.envs.persuasion.strategies import LABEL_THOUGHTS, P4G_STRATEGIES, PROPOSITION, detect_strategies
from pnlc.envs.persuasion.summary import AGREES, AT_LEAST_ONE, MAX_DONATION, REFUSES, Decision, DialogueTracker

log = logging.getLogger(__name__)

POLICY = "p4g_human"
BACKEND = "human"
FULL_DATA = "full_data.json"
ANNOTATED_DIALOG = Path("p4g_original") / "AnnotatedData" / "300_dialog.csv"
ANNOTATED_INFO = Path("p4g_original") / "AnnotatedData" / "300_info.csv"
_MATCH_CHARS = 300  # leading characters compared to shortlist matching candidates (fast)
_MATCH_SHORTLIST = 3  # candidates rescored on the whole dialogue text
_MATCH_MIN_SCORE = 80.0
_TURN_MIN_SCORE = 60.0
_IGNORED_LABELS = frozenset({"", "other", "off-task"})
# Labels that say what the persuader is trying to do come before social moves (thank, greeting, ...).
_PRIMARY_LABELS = frozenset(P4G_STRATEGIES) | {PROPOSITION, "ask-donation-amount", "ask-donate-more", "ask-not-donate-reason"}


@dataclass(frozen=True)
class _AnnotatedDialogue:
    dialogue_id: str
    persuader_turns: tuple[tuple[str, tuple[str, ...]], ...]  # (text, labels in sentence order)
    text: str  # whole dialogue, for matching
    donation: float | None  # clipped B6 of the persuadee, when 300_info.csv is present


@dataclass(frozen=True)
class P4GState:
    """One decision point of a P4G dialogue, for state-level prediction experiments.

    third: "early", "middle" or "late" (position of the step within its dialogue);
    prefix: the dialogue before the persuader's turn, as "Persuader: ..." / "Donor: ..." lines;
    label: whether the persuadee donated anything.
    """

    episode_index: int
    step_index: int
    third: str
    summary: str
    prefix: str
    thought: str
    label: bool


def _bad(path: Path, index: int, what: str) -> EnvError:
    return EnvError(f"{path}: record {index}: {what}; the file should hold PersuasionForGood's full_data.json")


def _read_records(path: Path) -> list[tuple[tuple[str, ...], float]]:
    if not path.is_file():
        raise EnvError(f"PersuasionForGood data not found: {path} is missing; point data_dir at the folder holding {FULL_DATA}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EnvError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}") from exc
    if not isinstance(data, list):
        raise EnvError(f"{path}: expected a JSON list of dialogues, got {type(data).__name__}")
    out: list[tuple[tuple[str, ...], float]] = []
    for i, rec in enumerate(data):
        if not isinstance(rec, Mapping):
            raise _bad(path, i, f"expected an object, got {type(rec).__name__}")
        missing = [k for k in ("conversation", "reward") if k not in rec]
        if missing:
            raise _bad(path, i, f"missing field(s) {', '.join(missing)}")
        conv = rec["conversation"]
        if not isinstance(conv, list) or not conv:
            raise _bad(path, i, "field conversation must be a non-empty list of strings")
        bad_turn = next((j for j, t in enumerate(conv) if not isinstance(t, str)), None)
        if bad_turn is not None:
            raise _bad(path, i, f"conversation[{bad_turn}] is {type(conv[bad_turn]).__name__}, not a string")
        reward = rec["reward"]
        if isinstance(reward, bool) or not isinstance(reward, (int, float)) or not math.isfinite(reward):
            raise _bad(path, i, f"field reward must be a finite number, got {reward!r}")
        out.append((tuple(" ".join(t.split()) for t in conv), min(MAX_DONATION, max(0.0, float(reward)))))
    return out


def _read_annotations(data_dir: Path) -> list[_AnnotatedDialogue]:
    path = data_dir / ANNOTATED_DIALOG
    if not path.is_file():
        log.info("no strategy annotations at %s; thoughts will describe each persuader turn", path)
        return []
    donations: dict[str, float] = {}
    info_path = data_dir / ANNOTATED_INFO
    if info_path.is_file():
        with open(info_path, newline="", encoding="utf-8") as fh:
            for line, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    if row["B4"].strip() == "1":
                        donations[row["B2"]] = min(MAX_DONATION, max(0.0, float(row["B6"])))
                except (KeyError, ValueError) as exc:
                    raise EnvError(f"{info_path}:{line}: bad B2/B4/B6 value ({exc}); expected the 300_info.csv export") from exc
    turns: dict[str, list[tuple[str, list[str], list[str]]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        needed = {"B2", "B4", "Turn", "Unit", "er_label_1", "er_label_2"}
        if reader.fieldnames is None or not needed <= set(reader.fieldnames):
            raise EnvError(f"{path}: expected columns {sorted(needed)}, got {reader.fieldnames}")
        for row in reader:
            role = "P" if row["B4"].strip() == "0" else "D"
            seq = turns.setdefault(row["B2"], [])
            if not seq or seq[-1][0] != role:
                seq.append((role, [], []))
            seq[-1][1].append(row["Unit"])
            if role == "P":
                seq[-1][2].extend(lab.strip() for lab in (row["er_label_1"], row["er_label_2"]) if lab and lab.strip())
    out = []
    for did, seq in turns.items():
        text = " ".join(" ".join(units) for _, units, _ in seq)
        persuader = tuple((" ".join(" ".join(u).split()), tuple(labs)) for role, u, labs in seq if role == "P")
        out.append(_AnnotatedDialogue(did, persuader, " ".join(text.split()), donations.get(did)))
    return out


def _match(records: Sequence[tuple[tuple[str, ...], float]], annotated: list[_AnnotatedDialogue]) -> dict[int, _AnnotatedDialogue]:
    """Record index -> its annotated dialogue (best text match above a threshold, donation agreeing)."""
    if not annotated:
        return {}
    from rapidfuzz import fuzz, process

    whole = [" ".join(conv).lower() for conv, _ in records]
    full = [t[:_MATCH_CHARS] for t in whole]
    query = [a.text.lower() for a in annotated]
    scores = process.cdist([q[:_MATCH_CHARS] for q in query], full, scorer=fuzz.ratio, workers=1)
    matched: dict[int, _AnnotatedDialogue] = {}
    for a, q, row in zip(annotated, query, scores):
        shortlist = row.argsort()[::-1][:_MATCH_SHORTLIST]
        rescored = [(fuzz.ratio(q, whole[int(c)]), int(c)) for c in shortlist]
        score, best = max(rescored)
        if score < _MATCH_MIN_SCORE:
            log.info("annotated dialogue %s matches no record of full_data.json", a.dialogue_id)
            continue
        if a.donation is not None and abs(a.donation - records[best][1]) > 1e-6:
            log.info("annotated dialogue %s: donation differs from its best text match; skipped", a.dialogue_id)
            continue
        matched.setdefault(best, a)
    log.info("matched %d of %d annotated dialogues to full_data.json", len(matched), len(annotated))
    return matched


def _align(persuader_turns: Sequence[str], annotated: _AnnotatedDialogue) -> list[tuple[str, ...] | None]:
    """Labels for each persuader turn of a record (None where no annotated turn matches)."""
    ann = annotated.persuader_turns
    if len(ann) == len(persuader_turns):
        return [labels for _, labels in ann]
    from rapidfuzz import fuzz

    out: list[tuple[str, ...] | None] = []
    for j, text in enumerate(persuader_turns):
        window = range(max(0, j - 2), min(len(ann), j + 3))
        best = max(window, key=lambda k: fuzz.ratio(text, ann[k][0]), default=None)
        ok = best is not None and fuzz.ratio(text, ann[best][0]) >= _TURN_MIN_SCORE
        out.append(ann[best][1] if ok and best is not None else None)
    return out


def thought_from_labels(labels: Sequence[str]) -> str | None:
    """The annotated strategy of a persuader turn in words (at most two moves), or None if uninformative."""
    seen: list[str] = []
    for lab in labels:
        if lab not in _IGNORED_LABELS and lab in LABEL_THOUGHTS and lab not in seen:
            seen.append(lab)
    if not seen:
        return None
    primary = [lab for lab in seen if lab in _PRIMARY_LABELS]
    chosen = (primary + [lab for lab in seen if lab not in _PRIMARY_LABELS])[:2]
    chosen.sort(key=seen.index)
    return " ".join(LABEL_THOUGHTS[lab] for lab in chosen)


def thought_from_text(text: str, strategies: Sequence[str] | None = None) -> str:
    """A short description of an unannotated persuader turn, read by the simulator's text rules
    (`strategies`: the turn's detected strategies, when already known)."""
    found = [s for s in (detect_strategies(text) if strategies is None else strategies) if s in LABEL_THOUGHTS]
    primary = [s for s in found if s in _PRIMARY_LABELS] + [s for s in found if s not in _PRIMARY_LABELS]
    if primary:
        chosen = sorted(primary[:2], key=found.index)
        return " ".join(LABEL_THOUGHTS[s] for s in chosen)
    words = text.split()
    quote = " ".join(words[:12]) + (" ..." if len(words) > 12 else "")
    return f'Reply to the donor: "{quote}"'


def _episode(index: int, conv: tuple[str, ...], donation: float, annotated: _AnnotatedDialogue | None) -> Episode:
    persuader = list(conv[0::2])
    donor = list(conv[1::2])
    labels = _align(persuader, annotated) if annotated is not None else [None] * len(persuader)
    n = len(persuader)
    tracker = DialogueTracker()
    dialogue: list[tuple[str, str]] = []
    steps = []
    for k, text in enumerate(persuader):
        summary = tracker.summary()
        observation = observation_text(dialogue, k, n, None)
        annotated_thought = thought_from_labels(labels[k]) if labels[k] is not None else None
        found = tracker.persuader(text)
        thought = annotated_thought or thought_from_text(text, found)
        dialogue.append(("Persuader", text))
        if k < len(donor):
            tracker.donor(donor[k])
            dialogue.append(("Donor", donor[k]))
        last = k == n - 1
        steps.append(
            Step(
                index=k,
                observation=observation,
                state_summary=summary,
                thought=thought,
                action=text,
                reward=donation if last else 0.0,
                done=last,
                info={"annotated": annotated_thought is not None, "labels": list(labels[k] or ())},
            )
        )
    decision = Decision(donation, "agreed" if donation > 0 else "refused")
    outcome = {
        "donation": donation,
        "donated": donation > 0,
        "turns": n,
        "parse_failure": False,
        "decision": decision.kind,
    }
    goals = {AGREES: donation > 0, AT_LEAST_ONE: donation >= 1.0, REFUSES: donation == 0}
    return Episode(
        env=ENV_NAME,
        task_id=f"p4g-{index:04d}",
        seed=0,
        policy=POLICY,
        backend=BACKEND,
        model="human",
        steps=tuple(steps),
        final_observation=observation_text(dialogue, n, n, decision.sentence()),
        final_summary=tracker.summary(decision),
        outcome=outcome,
        metric=donation,
        info={
            "source": "PersuasionForGood",
            "record_index": index,
            "dialogue_id": annotated.dialogue_id if annotated is not None else None,
            "annotated": annotated is not None,
            "conversation": list(conv),
            "goal_outcomes": goals,
        },
    )


def load_p4g(data_dir: Path) -> list[Episode]:
    """All 1,017 PersuasionForGood dialogues as episodes (policy 'p4g_human', backend 'human')."""
    data_dir = Path(data_dir)
    records = _read_records(data_dir / FULL_DATA)
    matched = _match(records, _read_annotations(data_dir))
    return [_episode(i, conv, donation, matched.get(i)) for i, (conv, donation) in enumerate(records)]


def p4g_goal_outcomes(episode: Episode) -> Mapping[str, bool]:
    """Goal sentences that a P4G dialogue decides, with whether they happened (from the real donation)."""
    d = float(episode.metric)
    return {AGREES: d > 0, AT_LEAST_ONE: d >= 1.0, REFUSES: d == 0}


def _third(step_index: int, n_steps: int) -> str:
    return ("early", "middle", "late")[min(2, (3 * step_index) // max(1, n_steps))]


def p4g_states(episodes: Sequence[Episode]) -> list[P4GState]:
    """Every decision point of the given P4G episodes with its position third and donation label."""
    out: list[P4GState] = []
    for e, ep in enumerate(episodes):
        conv: list[Any] = list(ep.info.get("conversation", ()))
        if not conv:
            raise EnvError(f"episode {ep.task_id} has no info['conversation']; load it with load_p4g")
        label = float(ep.metric) > 0
        n = len(ep.steps)
        for step in ep.steps:
            lines = [f"{'Persuader' if j % 2 == 0 else 'Donor'}: {t}" for j, t in enumerate(conv[: 2 * step.index])]
            out.append(
                P4GState(e, step.index, _third(step.index, n), step.state_summary, "\n".join(lines), step.thought, label)
            )
    return out


def split_by_dialogue(n_dialogues: int, train_fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Shuffle dialogue indices with `seed` and cut them into (train, test) index lists, both sorted."""
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"p4g train_fraction must be in (0, 1), got {train_fraction}")
    import numpy as np

    order = np.random.default_rng(seed).permutation(n_dialogues)
    cut = int(round(train_fraction * n_dialogues))
    return sorted(int(i) for i in order[:cut]), sorted(int(i) for i in order[cut:])
