"""Bag-of-words logistic regression: the text-only baseline for predicting donations from states."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class BowConfig:
    """inverse_regularization: sklearn's C (smaller = stronger L2 penalty); ngram_max: 1 = words only,
    2 = words and word pairs; min_df: drop terms seen in fewer training texts; max_features: vocabulary cap."""

    inverse_regularization: float
    ngram_max: int
    min_df: int
    max_features: int
    max_iter: int


def bow_logreg_probabilities(
    cfg: BowConfig,
    train_texts: Sequence[str],
    train_labels: Sequence[bool] | np.ndarray,
    test_texts: Sequence[str],
) -> np.ndarray:
    """Fit TF-IDF + logistic regression on train; return P(label = 1) for each test text.

    With a single class in the training labels, every test text gets that class's rate (0 or 1).
    """
    y = np.asarray(train_labels, dtype=int)
    if len(train_texts) != len(y):
        raise ValueError(f"{len(train_texts)} training texts but {len(y)} labels")
    if len(train_texts) == 0:
        raise ValueError("no training texts: the baseline needs at least one labelled state")
    if np.unique(y).size < 2:
        return np.full(len(test_texts), float(y[0]))
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        ngram_range=(1, cfg.ngram_max), min_df=cfg.min_df, max_features=cfg.max_features, sublinear_tf=True
    )
    x_train = vectorizer.fit_transform(list(train_texts))
    model = LogisticRegression(C=cfg.inverse_regularization, max_iter=cfg.max_iter)
    model.fit(x_train, y)
    if len(test_texts) == 0:
        return np.zeros(0)
    return model.predict_proba(vectorizer.transform(list(test_texts)))[:, 1]
