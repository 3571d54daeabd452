"""Text yardsticks for the critic: supervised classifiers on the words of the texts it reads.

A reference is fitted directly to the training episodes' outcome labels from the text the critic
sees (state summary, a blank line, the thought) and scored by AUC on the same held-out transitions.
It has no embedding and no bootstrapping in between: a critic well below a reference loses
information that the words carry; a reference near 0.5 means the words themselves do not carry
the outcome.

- tfidf_logreg: TF-IDF of word n-grams, L2-penalised logistic regression.
- tfidf_svd_boosting: the same TF-IDF reduced by truncated SVD, then histogram gradient boosting
  (trees find interactions and thresholds a linear model cannot).

Both are seeded and run on one CPU thread, so the same texts give the same probabilities.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

log = logging.getLogger(__name__)

REFERENCES = ("tfidf_logreg", "tfidf_svd_boosting")
REFERENCE_LABELS = {"tfidf_logreg": "TF-IDF logistic regression", "tfidf_svd_boosting": "TF-IDF SVD boosted trees"}


@dataclass(frozen=True)
class ReferenceConfig:
    """enabled: fit the references at all; ngram_max: 1 = words, 2 = words and word pairs;
    min_df: drop terms seen in fewer training texts; max_features: vocabulary cap;
    inverse_regularization: the logistic regression's C (smaller = stronger L2 penalty);
    svd_components: dimensions kept for the boosted trees; boosting_*: HistGradientBoosting's
    max_iter, max_depth and learning_rate; seed: SVD and boosting randomness."""

    enabled: bool
    ngram_max: int
    min_df: int
    max_features: int
    inverse_regularization: float
    max_iter: int
    svd_components: int
    boosting_iterations: int
    boosting_max_depth: int
    boosting_learning_rate: float
    seed: int


def critic_text(state: str, thought: str) -> str:
    """The text a reference reads for one transition: what the critic embeds, state then thought."""
    return f"{state}\n\n{thought}"


def _vectorizer(cfg: ReferenceConfig) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df, max_features=cfg.max_features,
                           sublinear_tf=True)


def _check(train_texts: Sequence[str], labels: np.ndarray) -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim == 1:
        y = y[:, None]
    if len(train_texts) != y.shape[0]:
        raise ValueError(f"{len(train_texts)} training texts but {y.shape[0]} label rows")
    if len(train_texts) == 0:
        raise ValueError("no training texts: a text reference needs at least one labelled transition")
    return (y > 0.5).astype(np.int64)


def _tfidf(cfg: ReferenceConfig, train_texts: Sequence[str], test_texts: Sequence[str]) -> tuple[Any, Any]:
    vec = _vectorizer(cfg)
    return vec.fit_transform(list(train_texts)), vec.transform(list(test_texts))


def _fit_columns(y: np.ndarray, x_train: Any, x_test: Any, make_model) -> np.ndarray:
    """P(label = 1) per test row and label column, one fresh model per distinct column (a column
    equal to an earlier one, or its complement, reuses that fit: "Good wins" is "Evil does not");
    a column with one training class gets that class's rate."""
    n_test = x_test.shape[0]
    out = np.zeros((n_test, y.shape[1]), dtype=np.float64)
    fitted: dict[bytes, int] = {}
    for k in range(y.shape[1]):
        col = y[:, k]
        same, flipped = fitted.get(col.tobytes()), fitted.get((1 - col).tobytes())
        if np.unique(col).size < 2:
            out[:, k] = float(col[0])
        elif same is not None:
            out[:, k] = out[:, same]
        elif flipped is not None:
            out[:, k] = 1.0 - out[:, flipped]
        elif n_test:
            out[:, k] = make_model().fit(x_train, col).predict_proba(x_test)[:, 1]
            fitted[col.tobytes()] = k
    return out


def tfidf_logreg(cfg: ReferenceConfig, train_texts: Sequence[str], labels: np.ndarray,
                 test_texts: Sequence[str]) -> np.ndarray:
    """P(label = 1) [n_test, K] of a TF-IDF logistic regression per label column (labels [n, K] or [n])."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    y = _check(train_texts, labels)
    with threadpool_limits(1):
        x_train, x_test = _tfidf(cfg, train_texts, test_texts)
        return _fit_columns(y, x_train, x_test,
                            lambda: LogisticRegression(C=cfg.inverse_regularization, max_iter=cfg.max_iter))


def tfidf_svd_boosting(cfg: ReferenceConfig, train_texts: Sequence[str], labels: np.ndarray,
                       test_texts: Sequence[str]) -> np.ndarray:
    """P(label = 1) [n_test, K] of gradient-boosted trees on truncated-SVD features of the TF-IDF."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    y = _check(train_texts, labels)
    with threadpool_limits(1):
        x_train, x_test = _tfidf(cfg, train_texts, test_texts)
        components = min(cfg.svd_components, x_train.shape[1] - 1, x_train.shape[0] - 1)
        if components >= 1:
            svd = TruncatedSVD(n_components=components, random_state=cfg.seed)
            z_train, z_test = svd.fit_transform(x_train), svd.transform(x_test)
        else:  # a vocabulary of one term: the TF-IDF itself is the feature
            z_train, z_test = x_train.toarray(), x_test.toarray()
        return _fit_columns(y, z_train, z_test, lambda: HistGradientBoostingClassifier(
            max_iter=cfg.boosting_iterations, max_depth=cfg.boosting_max_depth,
            learning_rate=cfg.boosting_learning_rate, early_stopping=False, random_state=cfg.seed))


FITTERS = {"tfidf_logreg": tfidf_logreg, "tfidf_svd_boosting": tfidf_svd_boosting}


def reference_probabilities(cfg: ReferenceConfig, train_texts: Sequence[str], labels: np.ndarray,
                            test_texts: Sequence[str]) -> dict[str, np.ndarray]:
    """Every reference's P(label = 1) [n_test, K], by reference name."""
    return {name: FITTERS[name](cfg, train_texts, labels, test_texts) for name in REFERENCES}


def transition_texts(data: Any, mask: np.ndarray) -> list[str]:
    """critic_text of the selected transitions of a TransitionData that carries its texts."""
    if data.texts is None:
        raise ValueError("these transitions carry no texts (annotations written before texts were stored); "
                         "rerun the annotation phase to fit text references")
    texts = data.texts
    return [critic_text(texts[s], texts[a]) for s, a in zip(data.state[mask], data.thought[mask])]


def text_reference_aucs(data: Any, train_episodes: np.ndarray, val_episodes: np.ndarray,
                        cfg: ReferenceConfig) -> tuple[list[dict[str, float | None]], float]:
    """Per outcome goal, {reference: held-out AUC} (None where a split holds one class), and the
    seconds the references took."""
    from pnlc.value.diagnostics import auc

    t0 = time.perf_counter()
    train = np.isin(data.episode, train_episodes)
    val = np.isin(data.episode, val_episodes)
    labels = data.outcome_labels[data.episode] > 0.5
    probs = reference_probabilities(cfg, transition_texts(data, train), labels[train], transition_texts(data, val))
    out: list[dict[str, float | None]] = []
    for k in range(labels.shape[1]):
        one_class = np.unique(labels[train, k]).size < 2
        out.append({name: None if one_class else auc(p[:, k], labels[val, k]) for name, p in probs.items()})
    seconds = time.perf_counter() - t0
    log.info("text references on %d training and %d held-out transitions in %.1f s", int(train.sum()),
             int(val.sum()), seconds)
    return out, seconds


def add_text_references(per_goal: list[dict[str, Any]], data: Any, train_episodes: np.ndarray,
                        val_episodes: np.ndarray, cfg: ReferenceConfig) -> dict[str, Any]:
    """Set `text_reference_auc` ({reference: AUC}) on each outcome goal's held-out summary and
    return what metrics.json records about the references (their names and cost, or why none ran)."""
    if data.texts is None:
        reason = "the annotations carry no texts (written before texts were stored); rerun the annotation phase"
        log.warning("text references skipped: %s", reason)
        return {"skipped": reason}
    try:
        aucs, seconds = text_reference_aucs(data, train_episodes, val_episodes, cfg)
    except ValueError as exc:  # sklearn: min_df / max_features left no terms (a tiny training set)
        if "no terms remain" not in str(exc) and "empty vocabulary" not in str(exc):
            raise
        reason = f"no vocabulary: {exc}; lower train.references.min_df or train on more episodes"
        log.warning("text references skipped: %s", reason)
        return {"skipped": reason}
    for goal, values in zip(per_goal, aucs):
        goal["text_reference_auc"] = values
    return {"references": list(REFERENCES), "seconds": seconds, "text": "state summary, blank line, thought"}
