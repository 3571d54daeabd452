"""Loader for the original files: goals, price ceilings, errors that name file and record; real-data smoke test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pnlc.envs.base import EnvError
from pnlc.envs.webshop import WebShopConfig, load_catalogue, make_env
from pnlc.envs.webshop.catalogue import (
    ATTRIBUTES_FILE,
    HUMAN_FILE,
    PRODUCTS_FILE,
    load_original,
    option_combinations,
    price_ceiling,
)

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "webshop"


def _product(asin: str, **kw) -> dict:
    rec = {
        "asin": asin, "name": f"Acme Shampoo {asin}", "Title": f"Acme Shampoo {asin}",
        "Description": "gentle shampoo", "BulletPoints": ["sulfate free formula"], "pricing": [12.5],
        "options": {"size": ["8 ounce", "16 ounce"], "scent": ["rose", "mint", "lime"]},
        "Rating": "N.A.", "Reviews": [], "category": "beauty", "query": "Shampoo ",
        "product_category": "Beauty & Personal Care › Hair Care › Shampoos",
    }
    rec.update(kw)
    return rec


def _write(folder: Path, products, attrs, human=None) -> Path:
    (folder / PRODUCTS_FILE).write_text(json.dumps(products))
    (folder / ATTRIBUTES_FILE).write_text(json.dumps(attrs))
    if human is not None:
        (folder / HUMAN_FILE).write_text(json.dumps(human))
    return folder


def _attrs(asin: str, instruction: bool = True) -> dict:
    out = {"attributes": ["sulfate free", "dry hair"]}
    if instruction:
        out.update(instruction="Find me shampoo with sulfate free", instruction_attributes=["sulfate free"])
    return out


def test_goals_like_the_original_synthetic_goals(tmp_path):
    products = [_product("B000000001"), _product("B000000002", options={}), _product("B000000003")]
    attrs = {"B000000001": _attrs("B000000001"), "B000000002": _attrs("B000000002"),
             "B000000003": _attrs("B000000003", instruction=False)}
    data = load_original(_write(tmp_path, products, attrs), seed=0, max_goals_per_product=4, human_instructions=True)
    assert [p.query for p in data.products] == ["shampoo"] * 3
    by_asin = {}
    for g in data.raw_goals:
        by_asin.setdefault(g.asin, []).append(g)
    assert set(by_asin) == {"B000000001", "B000000002"}          # no instruction -> no goal
    assert len(by_asin["B000000001"]) == 4                        # 2 x 3 combinations sampled down to 4
    assert len(by_asin["B000000002"]) == 1                        # no options -> one goal
    g = by_asin["B000000001"][0]
    assert g.attributes == ("sulfate free",) and g.source == "synthetic"
    assert [k for k, _ in g.options] == ["scent", "size"]          # sorted option names
    k1, v1 = g.options[0]
    k2, v2 = g.options[1]
    assert g.instruction == (f"Find me shampoo with sulfate free with {k1}: {v1}, and {k2}: {v2}, "
                             f"and price lower than {g.price_upper:.2f} dollars")
    assert g.price_upper in (30.0, 40.0, 50.0)                    # max of two of 20, 30, 40, 50
    again = load_original(tmp_path, seed=0, max_goals_per_product=4, human_instructions=True)
    assert [x.instruction for x in again.raw_goals] == [x.instruction for x in data.raw_goals]


def test_human_instructions_replace_synthetic_goals(tmp_path):
    products = [_product("B000000001")]
    human = {"B000000001": [
        {"instruction": "i need a rose scented shampoo.", "instruction_attributes": ["sulfate free"],
         "instruction_options": ["rose"]},
        {"instruction": "skipped: no attributes", "instruction_attributes": [], "instruction_options": []},
    ]}
    data = load_original(_write(tmp_path, products, {"B000000001": _attrs("x")}, human), 0, 10, True)
    assert len(data.raw_goals) == 1
    g = data.raw_goals[0]
    assert g.source == "human" and g.options == (("", "rose"),)
    assert g.instruction.startswith("i need a rose scented shampoo, and price lower than")
    data2 = load_original(tmp_path, 0, 10, human_instructions=False)
    assert {g.source for g in data2.raw_goals} == {"synthetic"}


def test_price_ceiling_and_combination_sampling():
    rng = np.random.default_rng(0)
    ceilings = {price_ceiling(23.5, rng)[0] for _ in range(200)}
    assert ceilings == {40.0, 50.0, 60.0}                          # larger of two of 30, 40, 50, 60
    assert price_ceiling(985.0, rng) == (1_000_000.0, "")          # fewer than two multiples left
    combos = option_combinations({"b": ["1", "2"], "a": ["x", "y", "z"]}, 100, rng)
    assert combos[0] == (("a", "x"), ("b", "1")) and combos[1] == (("a", "x"), ("b", "2")) and len(combos) == 6
    sampled = option_combinations({"a": [str(i) for i in range(50)], "b": [str(i) for i in range(50)]}, 7, rng)
    assert len(sampled) == len(set(sampled)) == 7


@pytest.mark.parametrize("bad, message", [
    ({"pricing": "$1.2.3"}, r"record 1 \(asin B000000002\): field 'pricing' has an unreadable price"),
    ({"pricing": {"low": 1}}, r"record 1 \(asin B000000002\): field 'pricing' should be list or str, got dict"),
    ({"options": {"size": [1, 2]}}, r"record 1 \(asin B000000002\): field 'options.size' should be a list of strings"),
    ({"category": None, "query": "x"}, r"record 1 \(asin B000000002\): missing field 'category'"),
    ({"asin": "NOT-AN-ASIN-AT-ALL"}, r"record 1 \(asin NOT-AN-ASIN-AT-ALL\): field 'asin'"),
])
def test_malformed_product_names_file_and_record(tmp_path, bad, message):
    products = [_product("B000000001"), _product("B000000002") | bad]
    _write(tmp_path, products, {})
    with pytest.raises(EnvError, match=message) as err:
        load_original(tmp_path, 0, 4, True)
    assert PRODUCTS_FILE in str(err.value)


def test_malformed_json_and_attribute_records_name_the_file(tmp_path):
    (tmp_path / PRODUCTS_FILE).write_text('[{"asin": "B000000001",\n "name": }]')
    (tmp_path / ATTRIBUTES_FILE).write_text("{}")
    with pytest.raises(EnvError, match=rf"{PRODUCTS_FILE}: line 2 column"):
        load_original(tmp_path, 0, 4, True)
    attrs = {"B000000001": {"attributes": [], "instruction": "Find me x", "instruction_attributes": []}}
    _write(tmp_path, [_product("B000000001")], attrs)
    with pytest.raises(EnvError, match=rf"{ATTRIBUTES_FILE}: record 'B000000001': field 'instruction_attributes' is empty"):
        load_original(tmp_path, 0, 4, True)
    with pytest.raises(EnvError, match="no such file"):
        load_original(tmp_path / "missing", 0, 4, True)


@pytest.mark.realdata
def test_real_catalogue_smoke():
    if not (REAL / PRODUCTS_FILE).exists():
        pytest.skip(f"real WebShop data not found at {REAL}")
    cfg = WebShopConfig(catalogue=str(REAL), n_generated_products=1000, n_test_goals=100, max_steps=15, seed=0,
                        max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4)
    cat = load_catalogue(cfg)
    assert len(cat.products) == 1000
    assert {g.source for g in cat.goals} == {"synthetic", "human"}
    env = make_env(cfg)
    test, train = env.tasks("test"), env.tasks("train")
    assert len(test) == 100 and not set(test) & set(train)
    titled = [p for p in cat.products if p.title.strip()]
    first = sum(cat.search(p.title)[0].asin == p.asin for p in titled)
    assert first >= 0.99 * len(titled)
    tid = test[0]
    goal = cat.goal(tid)
    obs = env.reset(tid, 0)
    assert goal.instruction in obs.text
    tr = env.step(f"search[{cat.by_asin[goal.asin].title}]")
    assert goal.asin in tr.observation.view["clickables"]
    env.step(f"click[{goal.asin}]")
    for name, value in goal.options:
        assert env.step(f"click[{value}]").info["valid"]
    assert env.step("click[Buy Now]").reward == 1.0
