"""PersuasionForGood: how much of the words the critic's hashed-word input keeps, against TF-IDF.

    python benchmarks/p4g_word_features.py [--buckets 512 2048 4096 8192] [--c 0.3 1.0 3.0]

The split and state text of `snakemake --cores 2 p4g_all` (params.yaml `p4g`: 814 training and 203
held-out dialogues, the last `p4g.dialogue_window` lines and the thought). A logistic regression,
fitted to the training persuader turns' donations, reads either

- the critic's word input: the state's and the thought's word n-grams hashed into H buckets each,
  exactly as `embed.lexical_features: H` makes them (embed/lexical.py: MurmurHash3, signed, unit
  length), without the encoder's vector; or
- the TF-IDF reference's input (`train.references`: a vocabulary fitted to the training texts,
  inverse document frequencies, state and thought joined);
- the two crossed, at C = 1: the same hashing on state and thought joined into one text (one weight
  per word wherever it stands), and the TF-IDF vocabulary on state and thought apart (each with its
  own weights, as the critic's input has them). Together they tell whether the reference gains by
  its fitted vocabulary or by reading the two texts as one bag.

Each is scored on every held-out persuader turn, overall and by third of the dialogue: how far a
critic reading hashed words can get at best if it were a linear model of them, and what the fitted
vocabulary adds. No encoder, no critic: seconds.
Last line: key=value pairs, the held-out AUC overall per input at C = 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--buckets", type=int, nargs="+", default=[512, 2048, 4096, 8192])
    ap.add_argument("--c", type=float, nargs="+", default=[0.3, 1.0, 3.0],
                    help="the logistic regression's inverse L2 strength")
    args = ap.parse_args()

    import scipy.sparse as sp
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from pnlc.config import load_params
    from pnlc.embed.lexical import NGRAMS
    from pnlc.envs.persuasion.p4g import p4g_states
    from pnlc.pipeline.p4g import THIRDS, split_dialogues, state_text
    from pnlc.pipeline.train import reference_config
    from pnlc.value.references import _tfidf, critic_text

    params = load_params(args.params)
    cfg = params.section("p4g")
    data_dir = Path(cfg.data_dir)
    if not data_dir.is_absolute():
        data_dir = (args.params.parent / data_dir).resolve()
    if not (data_dir / "full_data.json").exists():
        raise SystemExit(f"{args.params}: p4g.data_dir: {data_dir} has no full_data.json")
    train_eps, test_eps = split_dialogues(data_dir, cfg.train_fraction, cfg.split_seed)
    train, test = p4g_states(train_eps), p4g_states(test_eps)
    y_train = np.array([s.label for s in train], dtype=int)
    y_test = np.array([s.label for s in test], dtype=int)
    thirds = np.array([s.third for s in test])

    def texts(states) -> dict[str, list[str]]:
        state = [state_text(s, "dialogue", cfg.dialogue_window) for s in states]
        thought = [s.thought for s in states]
        return {"state": state, "thought": thought, "joined": [critic_text(a, b) for a, b in zip(state, thought)]}

    text_train, text_test = texts(train), texts(test)
    headline = {}

    def report(label: str, x_train, x_test, c: float, key: str | None = None) -> None:
        """Fit at C = c, print the held-out AUC overall and by third, keep the overall one as `key`."""
        p = LogisticRegression(C=c, max_iter=2000).fit(x_train, y_train).predict_proba(x_test)[:, 1]
        row = [roc_auc_score(y_test, p)] + [roc_auc_score(y_test[thirds == t], p[thirds == t]) for t in THIRDS]
        print(f"{label}, C={c:g}: " + " / ".join(f"{v:.3f}" for v in row), flush=True)
        if key is not None:
            headline[key] = row[0]

    print(f"{len(train_eps)} training / {len(test_eps)} held-out dialogues, {len(train)} / {len(test)} persuader turns; "
          f"state text: the last {cfg.dialogue_window} lines; AUC all / {' / '.join(THIRDS)}")
    for h in args.buckets:
        vec = HashingVectorizer(n_features=h, ngram_range=NGRAMS, lowercase=True, alternate_sign=True, norm="l2")

        def apart(part: dict[str, list[str]]):
            return sp.hstack([vec.transform(part["state"]), vec.transform(part["thought"])]).tocsr()

        x_train, x_test = apart(text_train), apart(text_test)
        for c in args.c:
            report(f"hashed words, {h} buckets each", x_train, x_test, c, f"hashed_{h}" if c == 1.0 else None)
        if h == max(args.buckets):
            report(f"hashed words, {h} buckets, state and thought joined", vec.transform(text_train["joined"]),
                   vec.transform(text_test["joined"]), 1.0, f"hashed_{h}_joined")
    refs = reference_config(params)
    x_train, x_test = _tfidf(refs, text_train["joined"], text_test["joined"])
    for c in args.c:
        report("TF-IDF (train.references' vocabulary)", x_train, x_test, c, "tfidf" if c == 1.0 else None)
    (state_train, state_test), (thought_train, thought_test) = (
        _tfidf(refs, text_train[k], text_test[k]) for k in ("state", "thought"))
    report("TF-IDF, state and thought apart (a vocabulary each)", sp.hstack([state_train, thought_train]).tocsr(),
           sp.hstack([state_test, thought_test]).tocsr(), 1.0, "tfidf_apart")
    print(" ".join(f"{k}={v:.3f}" for k, v in headline.items()))


if __name__ == "__main__":
    main()
