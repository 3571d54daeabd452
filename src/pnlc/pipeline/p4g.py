"""PersuasionForGood: a critic trained on real human dialogues, tested on held-out dialogues.

The critic is trained as for the simulated tasks (states and thoughts embedded, goal-conditioned
IQL), with `p4g.embed` and `p4g.critic` overriding `embed` and `train.critic` for this experiment
alone, on `p4g.train_fraction` of the dialogues, split by dialogue. Its state text
is `p4g.state_text`: the rule-based summary of the dialogue so far, or the dialogue's last
`p4g.dialogue_window` lines. On the held-out dialogues it scores, at every persuader turn,
Q(state, thought, "The donor agrees to donate.") against whether the donor gave anything.

Text references (value/references.py, `train.references`) are fitted to the training dialogues'
states and scored on the same held-out states: on the summary and thought, on the whole dialogue
so far, and (state_text dialogue) on exactly the critic's text; a logistic probe on the critic's own
embeddings tells how much of that text the embeddings keep. Every AUC, overall and by third of
the dialogue, comes with a percentile-bootstrap interval that resamples held-out dialogues (not
states: the states of one dialogue share its label); every model sees the same resamples.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.config import ConfigError, Params, build, plain_data, with_overrides
from pnlc.data import atomic_write_text

log = logging.getLogger(__name__)


THIRDS = ("early", "middle", "late")
COLUMNS = ("all",) + THIRDS
STATE_TEXTS = ("summary", "dialogue")
NO_DIALOGUE = "The dialogue has not started."
TABLE_NAME = "p4g"


@dataclasses.dataclass(frozen=True)
class BootstrapConfig:
    samples: int  # resamples of the held-out dialogues
    confidence: float  # interval coverage, e.g. 0.95
    seed: int


def dialogue_window(lines: Sequence[str], window: int) -> str:
    """The last `window` lines of a dialogue ("Persuader: ..." / "Donor: ..."), or a sentence saying
    that nothing has been said yet."""
    kept = [line for line in lines if line][-window:]
    return "\n".join(kept) if kept else NO_DIALOGUE


def critic_state_texts(episodes: Sequence[Any], states: Sequence[Any], mode: str, window: int
                       ) -> list[tuple[list[str], str]]:
    """Per episode: the critic's state text before each persuader turn and after the dialogue
    (`build_transitions`' input). summary: the rule-based summaries; dialogue: the last `window`
    lines of the dialogue, the final state ending with the donation decision."""
    from pnlc.envs.persuasion.summary import AGREES, REFUSES

    if mode == "summary":
        return [([s.state_summary for s in ep.steps], ep.final_summary) for ep in episodes]
    per_episode: list[list[str]] = [[] for _ in episodes]
    for s in states:
        per_episode[s.episode_index].append(dialogue_window(s.prefix.split("\n"), window))
    out = []
    for ep, texts in zip(episodes, per_episode):
        conv = list(ep.info["conversation"])
        lines = [f"{'Persuader' if j % 2 == 0 else 'Donor'}: {t}" for j, t in enumerate(conv)]
        decision = AGREES if float(ep.metric) > 0 else REFUSES
        out.append((texts, dialogue_window(lines + [decision], window)))
    return out


def state_text(state: Any, mode: str, window: int) -> str:
    """The critic's state text of one held-out decision point (same rule as in training)."""
    return state.summary if mode == "summary" else dialogue_window(state.prefix.split("\n"), window)


def p4g_episodes(data_dir: Path) -> list[Any]:
    """The P4G dialogues that have persuader turns, in the data's order, each with its goal
    outcomes in `info`."""
    from pnlc.envs.persuasion.p4g import load_p4g, p4g_goal_outcomes

    return [
        dataclasses.replace(ep, info={**dict(ep.info), "goal_outcomes": dict(p4g_goal_outcomes(ep))})
        for ep in load_p4g(data_dir) if ep.steps
    ]


def split_dialogues(data_dir: Path, train_fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """`p4g_episodes` split by dialogue into (training, held-out) episodes."""
    from pnlc.envs.persuasion.p4g import split_by_dialogue

    episodes = p4g_episodes(data_dir)
    train_idx, test_idx = split_by_dialogue(len(episodes), train_fraction, seed)
    return [episodes[i] for i in train_idx], [episodes[i] for i in test_idx]


def p4g_embedder(params: Params, overrides: Mapping[str, Any]) -> Any:
    """The experiment's embedder: `embed` with `p4g.embed`'s overrides (human dialogue's larger
    vocabulary may want more hashed-word buckets than the simulated summaries)."""
    from pnlc.embed import make_embedder
    from pnlc.embed.config import EmbedConfig

    merged = with_overrides(params.raw["embed"], overrides, "p4g.embed", "embed", params.source)
    return make_embedder(build(EmbedConfig, merged, "p4g.embed", params.source))


def embedding_probe(train_x: np.ndarray, train_labels: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """P(label) of the held-out rows from a logistic regression on the critic's own input (state and
    thought embeddings) fitted to the training rows' labels: what a linear read of the embeddings
    gets, so a critic near it is held back by what the embeddings keep, not by its training."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=1000).fit(train_x, train_labels)
    return model.predict_proba(test_x)[:, 1]


def auc_intervals(scores: np.ndarray, labels: np.ndarray, thirds: np.ndarray, dialogues: np.ndarray,
                  counts: np.ndarray, confidence: float) -> dict[str, Any]:
    """AUC with its dialogue-bootstrap interval over all states and each third of the dialogues."""
    from pnlc.evaluation.stats import grouped_auc_interval

    out = {"all": grouped_auc_interval(scores, labels, dialogues, counts, confidence)}
    for t in THIRDS:
        mask = thirds == t
        out[t] = grouped_auc_interval(scores[mask], labels[mask], dialogues[mask], counts, confidence)
    return out


def best_reference(results: dict[str, dict[str, Any]], critic: str) -> str | None:
    """The text reference with the highest held-out AUC over all states (neither the critic nor
    the linear probe on its inputs): the yardstick the critic is held to; None without references."""
    refs = {name: stats["all"]["auc"] for name, stats in results.items()
            if name != critic and not name.startswith("linear probe") and stats["all"]["auc"] is not None}
    return max(refs, key=lambda name: (refs[name], name)) if refs else None


def auc_differences(a: np.ndarray, b: np.ndarray, labels: np.ndarray, thirds: np.ndarray, dialogues: np.ndarray,
                    counts: np.ndarray, confidence: float) -> dict[str, Any]:
    """AUC(a) - AUC(b) with a paired dialogue-bootstrap interval, over all states and each third."""
    from pnlc.evaluation.stats import grouped_auc_difference

    out = {"all": grouped_auc_difference(a, b, labels, dialogues, counts, confidence)}
    for t in THIRDS:
        mask = thirds == t
        out[t] = grouped_auc_difference(a[mask], b[mask], labels[mask], dialogues[mask], counts, confidence)
    return out


def plot_aucs(results: dict[str, dict[str, Any]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from pnlc.data import atomic_path

    fig = Figure(figsize=(7.5, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    names = list(results)
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        stats = [results[name][c] for c in COLUMNS]
        vals = np.array([s["auc"] if s["auc"] is not None else np.nan for s in stats])
        lo = np.array([s["lo"] if s["lo"] is not None else np.nan for s in stats])
        hi = np.array([s["hi"] if s["hi"] is not None else np.nan for s in stats])
        ax.bar(np.arange(len(COLUMNS)) + i * width, vals, width, yerr=[vals - lo, hi - vals], capsize=2,
               label=name, error_kw={"lw": 0.8})
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(COLUMNS)) + width * (len(names) - 1) / 2, COLUMNS)
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("AUC: donor gives anything")
    ax.set_title("PersuasionForGood held-out dialogues (real human dialogues)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def p4g_table(report: dict[str, Any]) -> Any:
    """The held-out AUCs with their intervals, one row per model (evaluation.tables.Table)."""
    from pnlc.evaluation.tables import Table, format_interval

    rows = []
    for name, stats in report["auc"].items():
        cells = [format_interval({"mean": stats[c]["auc"], "lo": stats[c]["lo"], "hi": stats[c]["hi"]}, 3)
                 for c in COLUMNS]
        rows.append((name, *cells))
    gap = report["critic_minus_best_reference"]
    if gap is not None:
        rows.append((f"critic − best reference ({gap['reference']}), paired",
                     *(format_interval(gap["difference"][c], 3, signed=True) for c in COLUMNS)))
    boot = report["bootstrap"]
    notes = (
        f"PersuasionForGood: real human dialogues with their real donations. {report['dialogues']['train']} training "
        f"and {report['dialogues']['test']} held-out dialogues (split by dialogue, seed {report['split_seed']}); "
        f"{report['heldout_states']} held-out persuader turns, {report['heldout_donor_rate']:.1%} of them in dialogues "
        "whose persuadee donated.",
        "AUC of P(the donor gives anything) at every persuader turn; early/middle/late = thirds of each dialogue. "
        f"[lo, hi]: {boot['confidence']:.0%} percentile bootstrap over held-out dialogues ({boot['samples']} "
        "resamples, the same for every row).",
        f"The critic reads the state as {report['state_text_description']}, and the thought. References: TF-IDF "
        "n-gram logistic regression and gradient-boosted trees on its SVD, fitted to the training dialogues' states; "
        "the linear probe is a logistic regression on the critic's input embeddings, fitted to the same states.",
        "Last row: the critic's AUC minus the best reference's (highest AUC over all states), each resample "
        "scoring both, so the interval is of the difference.",
    )
    return Table(
        name=TABLE_NAME,
        title="PersuasionForGood (real human dialogues): held-out AUC of donation, critic against text references",
        columns=("Model (text read)", "AUC (all)", "AUC (early)", "AUC (middle)", "AUC (late)"),
        rows=tuple(rows),
        notes=notes,
    )


@dataclasses.dataclass(frozen=True)
class HeldoutScores:
    """Every model's P(the donor gives anything) at each held-out persuader turn."""

    scores: dict[str, np.ndarray]  # model name -> [n] (the critic's float32); the critic first
    labels: np.ndarray  # int [n]: the dialogue's donor gave anything
    thirds: np.ndarray  # str [n]: early / middle / late
    dialogues: np.ndarray  # int64 [n]: index into the held-out episodes
    train_metrics: dict[str, Any]  # the critic's training metrics (value.train.fit)
    seconds: dict[str, float]  # wall clock: critic (embedding and training), probe, references
    embedder_id: str


def state_views(mode: str, window: int) -> tuple[str, str]:
    """(description, short name) of the critic's state text, for the report and the model names."""
    if mode == "summary":
        return "the rule-based summary", "summary"
    return f"the last {window} lines of the dialogue", f"last {window} dialogue lines"


def score_heldout(params: Params, train_eps: Sequence[Any], test_eps: Sequence[Any], threads: int = 1
                  ) -> HeldoutScores:
    """Train the critic on `train_eps` (in a temporary folder), fit the linear probe on its inputs
    and the text references to the same dialogues' states, and score them all on `test_eps`."""
    import tempfile

    import torch

    from pnlc.envs.persuasion.p4g import AGREES, p4g_states
    from pnlc.pipeline.annotate import build_transitions
    from pnlc.pipeline.factory import METRIC_SCALE
    from pnlc.pipeline.train import reference_config, train_config
    from pnlc.value.checkpoint import load_critic
    from pnlc.value.references import REFERENCE_LABELS, critic_text, reference_probabilities
    from pnlc.value.train import fit

    cfg = params.section("p4g")
    refs = reference_config(params)
    torch.set_num_threads(max(1, threads))
    train_states, states = p4g_states(train_eps), p4g_states(test_eps)
    mode, window = cfg.state_text, cfg.dialogue_window
    _, short = state_views(mode, window)
    embedder = p4g_embedder(params, cfg.embed)
    t0 = time.perf_counter()
    data, _ = build_transitions(train_eps, critic_state_texts(train_eps, train_states, mode, window), embedder,
                                METRIC_SCALE["persuasion"])
    tcfg = train_config(params, params.raw["evaluate"]["critics"]["pnlc"]["variant"], cfg.split_seed,
                        cfg.critic, "p4g.critic")
    with tempfile.TemporaryDirectory(prefix="p4g-critic-") as critic_dir:
        train_metrics = fit(data, tcfg, Path(critic_dir))
        model = load_critic(Path(critic_dir) / "critic.ckpt", embedder.model_id)
    labels = np.array([s.label for s in states], dtype=int)
    thirds = np.array([s.third for s in states])
    dialogues = np.array([s.episode_index for s in states], dtype=np.int64)
    s_emb = embedder.embed([state_text(s, mode, window) for s in states])
    a_emb = embedder.embed([s.thought for s in states])
    g_emb = np.repeat(embedder.embed([AGREES]), len(states), axis=0)
    scores: dict[str, np.ndarray] = {f"critic ({short} + thought)": np.asarray(model.q(s_emb, a_emb, g_emb))}
    critic_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    train_x = np.concatenate([embedder.embed([state_text(s, mode, window) for s in train_states]),
                              embedder.embed([s.thought for s in train_states])], axis=1)
    scores[f"linear probe (the critic's embeddings of {short} + thought)"] = embedding_probe(
        train_x, np.array([s.label for s in train_states], dtype=int), np.concatenate([s_emb, a_emb], axis=1))
    probe_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    if refs.enabled:
        train_labels = np.array([s.label for s in train_states], dtype=int)
        views = {
            "summary + thought": (lambda s: critic_text(s.summary, s.thought)),
            "dialogue so far": (lambda s: s.prefix),
        }
        if mode == "dialogue":
            views[f"{short} + thought"] = lambda s: critic_text(state_text(s, mode, window), s.thought)
        for view_name, text_of in views.items():
            probs = reference_probabilities(refs, [text_of(s) for s in train_states], train_labels,
                                            [text_of(s) for s in states])
            for ref, p in probs.items():
                scores[f"{REFERENCE_LABELS[ref]} ({view_name})"] = p[:, 0]
    reference_seconds = time.perf_counter() - t0
    return HeldoutScores(
        scores=scores,
        labels=labels, thirds=thirds, dialogues=dialogues, train_metrics=train_metrics,
        seconds={"critic": critic_seconds, "probe": probe_seconds, "references": reference_seconds},
        embedder_id=embedder.model_id,
    )


def p4g_experiment(params: Params, out: Path, figure: Path, reliability: Path, table_dir: Path,
                   threads: int = 1, timing_out: Path | None = None) -> dict[str, Any]:
    """Train the critic on the training dialogues, score it and the text references on the
    held-out ones (`score_heldout`), and write the metrics, the AUC figure, the critic's
    reliability figure and the table (`table_dir`/p4g.{csv,md,tex}). Wall-clock figures differ
    between runs, so they go to `timing_out` (results/timing/), never into the metrics."""
    from pnlc.envs.persuasion.p4g import AGREES
    from pnlc.evaluation.stats import group_resample_counts
    from pnlc.evaluation.tables import write_table
    from pnlc.value.diagnostics import plot_reliability
    from pnlc.value.train import TIMING_KEY

    t_start = time.perf_counter()
    cfg = params.section("p4g")
    data_dir = Path(cfg.data_dir)
    if not (data_dir / "full_data.json").exists():
        raise ConfigError(
            f"{params.source}: p4g.data_dir: {data_dir} has no full_data.json; point it at the "
            "PersuasionForGood folder"
        )
    if cfg.state_text not in STATE_TEXTS:
        raise ConfigError(f"{params.source}: p4g.state_text: {cfg.state_text!r} is not one of {STATE_TEXTS}")
    if cfg.dialogue_window < 1:
        raise ConfigError(f"{params.source}: p4g.dialogue_window: {cfg.dialogue_window} must be at least 1")
    boot = build(BootstrapConfig, cfg.bootstrap, "p4g.bootstrap", params.source)
    train_eps, test_eps = split_dialogues(data_dir, cfg.train_fraction, cfg.split_seed)
    log.info("P4G: %d training and %d held-out dialogues (state text: %s)", len(train_eps), len(test_eps),
             cfg.state_text)
    mode, window = cfg.state_text, cfg.dialogue_window
    view, _ = state_views(mode, window)
    held = score_heldout(params, train_eps, test_eps, threads)
    scores, labels, thirds, dialogues = held.scores, held.labels, held.thirds, held.dialogues

    t0 = time.perf_counter()
    counts = group_resample_counts(len(test_eps), boot.samples, boot.seed)
    results = {name: auc_intervals(np.asarray(p, dtype=np.float64), labels, thirds, dialogues, counts, boot.confidence)
               for name, p in scores.items()}
    critic_name = next(iter(scores))
    best = best_reference(results, critic_name)
    gap = None if best is None else {
        "reference": best,
        "difference": auc_differences(np.asarray(scores[critic_name], dtype=np.float64),
                                      np.asarray(scores[best], dtype=np.float64), labels, thirds, dialogues, counts,
                                      boot.confidence)}
    bootstrap_seconds = time.perf_counter() - t0
    train_metrics = held.train_metrics
    report = {
        "goal": AGREES,
        "data": "PersuasionForGood (real human dialogues)",
        "dialogues": {"train": len(train_eps), "test": len(test_eps)},
        "split_seed": cfg.split_seed,
        "heldout_states": len(labels),
        "heldout_donor_rate": float(labels.mean()),
        "state_text": mode,
        "dialogue_window": window if mode == "dialogue" else None,
        "state_text_description": view,
        "bootstrap": dataclasses.asdict(boot) | {"resampled": "held-out dialogues"},
        "auc": results,
        "critic": critic_name,
        "critic_minus_best_reference": gap,
        "critic_training": {k: train_metrics[k] for k in ("train", "outcome_goals") if k in train_metrics},
        "embedder_id": held.embedder_id,
        "overrides": {"embed": plain_data(cfg.embed), "critic": plain_data(cfg.critic)},
    }
    plot_reliability(Path(reliability), f"P4G (real human dialogues), held-out states\n{critic_name}",
                     scores[critic_name], labels.astype(np.float64))
    plot_aucs(results, Path(figure))
    write_table(p4g_table(report), table_dir)
    train_timing = train_metrics.get(TIMING_KEY)
    seconds = {**held.seconds, "bootstrap": bootstrap_seconds, "total": time.perf_counter() - t_start}
    atomic_write_text(out, json.dumps(report, indent=2, sort_keys=True, default=float) + "\n")
    if timing_out is not None:
        timing = {"what": "wall-clock seconds of the P4G experiment (measured; differ between runs)",
                  "seconds": seconds, "critic_training": train_timing}
        atomic_write_text(timing_out, json.dumps(timing, indent=2, sort_keys=True, default=float) + "\n")
    log.info("P4G AUCs: %s; seconds %s", {k: round(v["all"]["auc"], 3) for k, v in results.items()},
             {k: round(v, 1) for k, v in seconds.items()})
    return report
