"""The original reward formula on hand-built product / goal pairs, term by term."""

from __future__ import annotations

import dataclasses

import pytest

from pnlc.envs.webshop.catalogue import Goal, Product
from pnlc.envs.webshop.reward import compute_reward, normalize_color, title_nouns, type_factor

CAT = "Grocery & Gourmet Food › Snacks & Sweets › Bars › Protein Bars"


def product(**kw) -> Product:
    base = dict(
        asin="B0PRODUCT1", name="Acme Protein Bar Chocolate Snack", title="Acme Protein Bar Chocolate Snack",
        description="A tasty bar.", bullets=("Made with care",), attributes=("gluten free", "high protein"),
        options={"flavor name": ("chocolate", "vanilla"), "size": ("12 count", "24 count")},
        pricing=(20.0,), price_tag="$20.0", price=20.0, rating="N.A.", reviews=(), category="grocery",
        query="protein bars", product_category=CAT,
    )
    base.update(kw)
    return Product(**base)


def goal(**kw) -> Goal:
    base = dict(
        index=0, asin="B0PRODUCT1", instruction="i need gluten free protein bars", attributes=("gluten free", "high protein"),
        options=(("flavor name", "chocolate"), ("size", "12 count")), price_upper=30.0,
        name="Acme Protein Bar Chocolate Snack", query="protein bars", category="grocery", product_category=CAT,
        source="synthetic",
    )
    base.update(kw)
    return Goal(**base)


FULL = {"flavor name": "chocolate", "size": "12 count"}


def test_exact_match_scores_one():
    b = compute_reward(product(), goal(), FULL)
    assert b.reward == 1.0 and b.all_attributes and b.all_options and b.price_hit and b.type.factor == 1.0


def test_attribute_hit_by_fuzzy_match_by_text_or_miss():
    g = goal(attributes=("gluten free", "non gmo", "low sugar"))
    p = product(attributes=("gluten-free snack", "high protein"),  # token-set ratio 43 with "gluten free"
                description="This bar is low sugar.", bullets=("Great taste",))
    b = compute_reward(p, g, FULL)
    # "gluten free" vs "gluten-free snack" is below 85, and "gluten free" is not in the text -> miss;
    # "non gmo" nowhere -> miss; "low sugar" in the description -> hit.
    assert b.attribute_hits == 1
    p2 = dataclasses.replace(p, attributes=("gluten free bars",))  # token set superset -> ratio 100
    assert compute_reward(p2, g, FULL).attribute_hits == 2
    p3 = dataclasses.replace(p2, bullets=("Non GMO ingredients",))  # bullet text, lower-cased
    assert compute_reward(p3, g, FULL).attribute_hits == 3


def test_option_hits_exact_for_size_fuzzy_for_others_and_text_fallback():
    g = goal(options=(("flavor name", "peanut butter"), ("size", "12 count")))
    p = product(options={"flavor name": ("peanut butter cup",), "size": ("12 count", "1 count")})
    assert compute_reward(p, g, {"flavor name": "peanut butter cup", "size": "12 count"}).option_hits == 2
    assert compute_reward(p, g, {"size": "1 count"}).option_hits == 0           # size needs an exact match
    g2 = goal(options=(("size", "12 count pack"),))
    assert compute_reward(p, g2, {"size": "12 count"}).option_hits == 0          # fuzzy is not enough for size
    g3 = goal(options=(("flavor name", "12 count pack"),))
    assert compute_reward(p, g3, {"flavor name": "12 count"}).option_hits == 1   # ... but is for others
    p_text = product(title="Acme Protein Bar Vanilla 24 Count")
    assert compute_reward(p_text, goal(), {"size": "24 count"}).option_hits == 1  # value in the title


def test_colours_are_normalised_before_matching():
    assert normalize_color("navy blue") == "blue" and normalize_color("webshop") == "webshop"
    g = goal(options=(("color", "light blue"),))
    p = product(options={"color": ("navy blue",)})
    # both normalise to the first colour word they contain: "blue" and "blue"
    assert normalize_color("light blue") == "blue"
    assert compute_reward(p, g, {"color": "navy blue"}).option_hits == 1


def test_price_term_and_the_formula():
    g = goal(attributes=("gluten free", "kosher"), price_upper=19.0)
    b = compute_reward(product(), g, {"flavor name": "chocolate"})
    # attributes 1/2, options 1/2, price miss -> (1 + 1 + 0) / (2 + 2 + 1)
    assert not b.price_hit
    assert b.reward == pytest.approx(2 / 5)
    b2 = compute_reward(product(), dataclasses.replace(g, price_upper=20.0), {"flavor name": "chocolate"})
    assert b2.price_hit and b2.reward == pytest.approx(3 / 5)


def test_reward_is_capped_at_one():
    g = goal(options=())  # a human goal that asks for no option
    p = product(title="Acme Protein Bar Chocolate Snack")
    b = compute_reward(p, g, {"flavor name": "chocolate"})  # extra option found in the title
    assert b.option_hits == 1 and b.reward == 1.0


CAT2 = "Beauty & Personal Care › Hair Care › Shampoos"


@pytest.mark.parametrize("purchased, gl, expected, t", [
    # t > 0.2 alone -> 1.0
    (("Acme Protein Bar", "other", CAT2), ("Acme Protein Bar Snack", "protein bars", CAT), 1.0, 0.75),
    # 0.1 <= t <= 0.2 with a query match -> 1.0
    (("Acme Widget Thing Gadget Box", "protein bars", CAT2), ("Acme Shelf Stand Rack Holder Frame", "protein bars", CAT), 1.0, 1 / 6),
    # 0.1 <= t <= 0.2 with >= 2 shared category levels -> 1.0
    (("Acme Widget Thing Gadget Box", "other", "Grocery & Gourmet Food › Snacks & Sweets › Chips"),
     ("Acme Shelf Stand Rack Holder Frame", "protein bars", CAT), 1.0, 1 / 6),
    # 0.1 <= t <= 0.2, no query or category match -> 0.5
    (("Acme Widget Thing Gadget Box", "other", CAT2), ("Acme Shelf Stand Rack Holder Frame", "protein bars", CAT), 0.5, 1 / 6),
    # 0 < t < 0.1 -> 0.1 even with a query match
    (("Acme Widget", "protein bars", CAT), ("Acme Shelf Stand Rack Holder Frame Tray Bin Cube Crate Drawer Basket", "protein bars", CAT), 0.1, 1 / 12),
    # t == 0 -> 0.0 even with query and category matches
    (("Zeta Lamp", "protein bars", CAT), ("Acme Protein Bar", "protein bars", CAT), 0.0, 0.0),
    # goal title without nouns -> t = 0.2 -> falls back on query / category
    (("Zeta Lamp", "other", CAT2), ("100 % 4 x", "protein bars", CAT), 0.5, 0.2),
    (("Zeta Lamp", "protein bars", CAT2), ("100 % 4 x", "protein bars", CAT), 1.0, 0.2),
])
def test_type_factor_branches(purchased, gl, expected, t):
    tm = type_factor(*purchased, *gl)
    assert tm.title_score == pytest.approx(t)
    assert tm.factor == expected


def test_type_factor_multiplies_the_score():
    p = product(name="Zeta Lamp", title="Zeta Lamp", query="lamps", product_category=CAT2)
    assert compute_reward(p, goal(), FULL).reward == 0.0


def test_noun_rule_is_deterministic_and_drops_function_words_units_and_numbers():
    assert title_nouns("Acme 3-Pack Protein Bar for Men, 12 oz (Pack of 2)") == [
        "acme", "pack", "protein", "bar", "men", "pack"]
    assert title_nouns("Men's Running Shoes") == ["men", "running", "shoes"]


def test_repeated_goal_nouns_count_in_the_denominator():
    # goal nouns: soap, bar, soap, bar, gift (5 with repeats, 3 distinct); the purchase shares soap, bar
    tm = type_factor("Soap Bar", "soap", CAT2, "Soap Bar Soap Bar Gift", "other", CAT)
    assert tm.title_score == pytest.approx(2 / 5)
    # a noun repeated only in the purchased title adds nothing
    assert type_factor("Gift Gift Gift Box", "x", CAT2, "Gift Box", "y", CAT).title_score == pytest.approx(1.0)
    # repeats can push a purchase below the 0.2 threshold that distinct nouns would clear
    tm = type_factor("Lamp Shade", "x", CAT2, "Lamp Stand Stand Stand Stand Stand Stand", "y", CAT)
    assert tm.title_score == pytest.approx(1 / 7) and tm.factor == 0.5


def test_one_letter_nouns_are_kept_except_function_words_and_units():
    assert title_nouns("Men's T-Shirt, 2 x 3 in") == ["men", "t", "shirt"]
    assert title_nouns("A Shirt I Like") == ["shirt", "like"]
    # "T-Shirt" and "T Shirts" share the noun "t" (spaCy keeps "T"; surface forms, so shirt != shirts)
    assert type_factor("Acme T Shirts", "x", CAT2, "Zeta T-Shirt", "y", CAT).title_score == pytest.approx(1 / 3)
