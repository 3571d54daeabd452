"""The hashed-words part of the embedding (embed/lexical.py): what it adds, and that it keeps the
Embedder contract (unit rows, a text's row independent of its company, an identity per setting)."""

from __future__ import annotations

import numpy as np
import pytest

from pnlc.embed import BUNDLED_MODEL, CachedEmbedder, EmbedConfig, EmbedConfigError, HashingEmbedder, LexicalEmbedder
from pnlc.embed import make_embedder


class GistOnly:
    """An encoder that keeps only the gist: every text about the same quest gets the same vector."""

    model_id = "gist-only"
    dim = 8

    def embed(self, texts):
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            rows[i, sum(map(ord, t.split()[1])) % self.dim if len(t.split()) > 1 else 0] = 1.0
        return rows


def test_words_separate_texts_the_encoder_cannot_tell_apart():
    failed, succeeded = "Quest 2 failed with Player 4.", "Quest 2 succeeded with Player 4."
    gist = GistOnly()
    assert np.allclose(gist.embed([failed]), gist.embed([succeeded]))
    lexical = LexicalEmbedder(gist, 64, 1.0)
    a, b = lexical.embed([failed, succeeded])
    assert float(a @ b) < 0.95  # the words tell them apart
    same = lexical.embed([failed.upper()])[0]  # lower-cased n-grams: case alone changes nothing
    assert float(a @ same) == pytest.approx(1.0, abs=1e-6)


def test_rows_are_unit_length_float32_of_the_joined_width():
    lexical = LexicalEmbedder(HashingEmbedder(16, 0), 32, 0.5)
    rows = lexical.embed(["Good wins the game.", "", "Quest 1 fails. Quest 1 fails."])
    assert rows.dtype == np.float32 and rows.shape == (3, 48) and lexical.dim == 48
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    assert lexical.embed([]).shape == (0, 48)


def test_weight_sets_the_words_share_of_each_row():
    inner = HashingEmbedder(16, 0)
    for weight in (0.5, 1.0, 2.0):
        row = LexicalEmbedder(inner, 32, weight).embed(["Evil wins the game."])[0]
        words, encoder = np.linalg.norm(row[16:]), np.linalg.norm(row[:16])
        assert words / encoder == pytest.approx(weight, rel=1e-5)


def test_a_texts_row_does_not_depend_on_its_company():
    lexical = LexicalEmbedder(HashingEmbedder(16, 3), 128, 1.0)
    alone = lexical.embed(["The donor asked where the money goes."])
    crowd = lexical.embed(["Hello.", "The donor asked where the money goes.", "I will give $1."])
    assert alone[0].tobytes() == crowd[1].tobytes()


def test_identity_names_every_setting():
    inner = HashingEmbedder(16, 0)
    ids = {LexicalEmbedder(inner, h, w).model_id for h, w in ((32, 1.0), (64, 1.0), (32, 2.0))}
    assert len(ids) == 3 and inner.model_id not in ids
    assert all(i.startswith(inner.model_id + "+words") for i in ids)


@pytest.mark.parametrize("features, weight, key", [(-1, 1.0, "lexical_features"), (2.5, 1.0, "lexical_features"),
                                                   (8, 0.0, "lexical_weight"), (8, -1.0, "lexical_weight")])
def test_bad_settings_name_the_key(features, weight, key):
    with pytest.raises(EmbedConfigError, match=f"embed.{key}"):
        LexicalEmbedder(HashingEmbedder(16, 0), features, weight)


def test_factory_joins_words_only_when_asked(tmp_path):
    plain = make_embedder(EmbedConfig(BUNDLED_MODEL, 1, 64, 1, "float32", str(tmp_path), "cpu"))
    assert isinstance(plain, CachedEmbedder)
    joined = make_embedder(EmbedConfig(BUNDLED_MODEL, 1, 64, 1, "float32", str(tmp_path), "cpu", 128, 1.0))
    assert isinstance(joined, LexicalEmbedder) and joined.dim == plain.dim + 128
    assert joined.model_id.startswith(plain.model_id + "+words")
