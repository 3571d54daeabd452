"""WebShop pages, actions, step cap, summaries, splits and search (generated catalogue)."""

from __future__ import annotations

import dataclasses

import pytest

from pnlc.envs.base import Env, EnvError
from pnlc.envs.webshop import (
    GOAL_OUTCOMES,
    INVALID,
    OUTCOME_NO_PURCHASE,
    OUTCOME_SUCCESS,
    WebShopConfig,
    load_catalogue,
    make_env,
    task_goal,
)
from pnlc.envs.webshop.catalogue import frozen_price
from pnlc.envs.webshop.generated import generate

CFG = WebShopConfig(
    catalogue="generated", n_generated_products=200, n_test_goals=20, max_steps=15, seed=0,
    max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4,
)


@pytest.fixture()
def env():
    return make_env(CFG)


def _goal_with_two_option_groups():
    cat = load_catalogue(CFG)
    for g in cat.goals:
        if len(cat.by_asin[g.asin].options) == 2:
            return f"goal-{g.index}", g
    raise AssertionError("generated catalogue has no goal with two option groups")


def _open_target(env, tid, goal):
    env.reset(tid, 0)
    title = env.catalogue.by_asin[goal.asin].title
    tr = env.step(f"search[{title}]")
    assert tr.info["valid"]
    page = 1
    while goal.asin not in tr.observation.view["clickables"]:
        tr = env.step("click[Next >]")
        page += 1
        assert page <= 5
    return env.step(f"click[{goal.asin.lower()}]")


def test_protocol_and_splits(env):
    assert isinstance(env, Env)
    test, train = env.tasks("test"), env.tasks("train")
    assert len(test) == CFG.n_test_goals
    assert not set(test) & set(train)
    assert len(train) == len(load_catalogue(CFG).goals) - CFG.n_test_goals
    with pytest.raises(EnvError, match="unknown split"):
        env.tasks("dev")
    with pytest.raises(EnvError, match="unknown webshop task"):
        env.reset("goal-99999", 0)


def test_search_page_hides_the_goal(env):
    tid = env.tasks("test")[0]
    goal = task_goal(CFG, tid)
    obs = env.reset(tid, 0)
    assert obs.text.splitlines() == ["WebShop", "Instruction:", goal.instruction, "[Search]"]
    assert obs.view["page"] == "search" and obs.view["has_search_bar"]
    flat = repr(obs.view)
    assert goal.asin not in flat and goal.asin not in obs.text
    assert "price_upper" not in flat and "attributes" not in flat


def test_results_pages_and_navigation(env):
    tid = env.tasks("test")[0]
    env.reset(tid, 0)
    tr = env.step("search[free]")
    v = tr.observation.view
    assert tr.info["valid"] and v["page"] == "results"
    total = v["total_results"]
    assert 10 < total <= 50
    lines = tr.observation.text.splitlines()
    assert "[Back to Search]" in lines and f"Page 1 (Total results: {total})" in lines
    assert "[Next >]" in lines and "[< Prev]" not in lines
    assert len(v["results"]) == 10
    for r in v["results"]:
        i = lines.index(f"[{r['asin']}]")
        assert lines[i + 1] == r["title"] and lines[i + 2] == r["price"]
    tr = env.step("CLICK[next >]")
    assert tr.observation.view["page_number"] == 2 and "[< Prev]" in tr.observation.text
    assert tr.observation.view["results"][0]["asin"] != v["results"][0]["asin"]
    tr = env.step("click[< Prev]")
    assert tr.observation.view["page_number"] == 1
    tr = env.step("click[Back to Search]")
    assert tr.observation.view["page"] == "search"
    assert env.step("search[lipstick]").observation.view["page"] == "results"


def test_item_page_options_subpages_and_purchase(env):
    tid, goal = _goal_with_two_option_groups()
    tr = _open_target(env, tid, goal)
    product = env.catalogue.by_asin[goal.asin]
    v, text = tr.observation.view, tr.observation.text
    assert v["page"] == "item" and v["asin"] == goal.asin
    for b in ("[Back to Search]", "[< Prev]", "[Description]", "[Features]", "[Reviews]", "[Buy Now]"):
        assert b in text
    assert product.title in text and f"Price: {product.price_tag}" in text and "Rating:" in text
    for name, vals in product.options.items():
        assert f"{name} " + "".join(f"[{x}]" for x in vals) in text
    name, value = goal.options[0]
    tr = env.step(f"click[{value.upper()}]")
    assert tr.info["valid"]
    assert tr.observation.text.startswith(f"You have clicked {value}.")
    assert f"[[{value}]]" in tr.observation.text and tr.observation.view["selected"] == {name: value}
    assert "has not chosen a " + goal.options[1][0] in env.describe()
    tr = env.step("click[Features]")
    assert tr.observation.view["page"] == "features"
    assert tr.observation.view["content"] == list(product.bullets)
    assert env.step("click[< Prev]").observation.view["selected"] == {name: value}
    assert env.step("click[Description]").observation.view["content"] == [product.description]
    env.step("click[< Prev]")
    assert env.step("click[Reviews]").observation.view["page"] == "reviews"
    env.step("click[< Prev]")
    env.step(f"click[{goal.options[1][1]}]")
    summary = env.describe()
    assert f"opened {goal.asin}" in summary and f"selected {name} {value}" in summary
    assert "checked the description, features and reviews" in summary
    assert "score" not in tr.observation.text.lower()
    tr = env.step("click[Buy Now]")
    assert tr.done and tr.reward == 1.0 and env.metric() == 1.0
    assert tr.observation.view["page"] == "done"
    assert "Your score (min 0.0, max 1.0): 1.00" in tr.observation.text
    out = env.outcome()
    assert out["success"] and out["purchased"] == goal.asin
    flags = env.goal_outcomes()
    assert set(flags) == set(GOAL_OUTCOMES) and flags[OUTCOME_SUCCESS] and not flags[OUTCOME_NO_PURCHASE]
    final = env.describe()
    assert f"bought {goal.asin}" in final and OUTCOME_SUCCESS in final
    after = env.step("click[Buy Now]")
    assert after.done and not after.info["valid"] and after.reward == 0.0


def test_buying_without_options_loses_reward(env):
    tid, goal = _goal_with_two_option_groups()
    _open_target(env, tid, goal)
    tr = env.step("click[Buy Now]")
    assert tr.done and tr.reward == pytest.approx((len(goal.attributes) + 1) / (len(goal.attributes) + 3))
    assert env.goal_outcomes()["Some requested options are missing from the purchase."]


@pytest.mark.parametrize("page_setup, action", [
    ([], "click[Buy Now]"),                      # no buttons on the search page
    ([], "search[]"),                            # empty query
    (["search[free]"], "search[lipstick]"),   # no search box on results
    (["search[free]"], "click[B000000000]"),  # not on the page
    (["search[free]"], "click[< Prev]"),      # first page has no < Prev
    (["search[free]"], "buy the first one"),  # not an action
])
def test_invalid_actions_leave_the_page_unchanged(env, page_setup, action):
    env.reset(env.tasks("test")[1], 0)
    for a in page_setup:
        env.step(a)
    before = env.clone()
    tr = env.step(action)
    assert not tr.info["valid"] and not tr.done and tr.reward == 0.0
    assert tr.observation.text.startswith(INVALID + "\n")
    assert tr.observation.view["invalid"] is True
    same = before._observation()
    assert tr.observation.text[len(INVALID) + 1:] == same.text
    assert tr.observation.view["step"] == before._s.steps + 1


def test_step_cap_ends_without_purchase(env):
    env.reset(env.tasks("test")[2], 0)
    env.step("search[water bottle]")
    tr = None
    for i in range(CFG.max_steps - 1):
        tr = env.step("click[nothing here]")
        assert tr.done == (i == CFG.max_steps - 2)
    assert tr.reward == 0.0 and tr.observation.view["page"] == "done"
    assert "No purchase was made within 15 steps." in tr.observation.text
    assert env.metric() == 0.0 and env.outcome()["purchased"] is None
    assert env.goal_outcomes()[OUTCOME_NO_PURCHASE]
    assert OUTCOME_NO_PURCHASE in env.describe()


def test_goal_outcomes_need_a_finished_episode(env):
    env.reset(env.tasks("test")[0], 0)
    with pytest.raises(EnvError, match="finished episode"):
        env.goal_outcomes()


def test_clone_is_independent_and_shares_the_catalogue(env):
    env.reset(env.tasks("test")[0], 0)
    env.step("search[free]")
    twin = env.clone()
    assert twin.catalogue is env.catalogue
    twin.step("click[Next >]")
    assert env._s.page_num == 1 and twin._s.page_num == 2
    assert env.describe() != twin.describe() or env._s.steps != twin._s.steps


def test_describe_before_and_after_search(env):
    env.reset(env.tasks("test")[0], 0)
    assert env.describe() == "Has not searched yet; 0 of 15 steps used."
    env.step("search[teal watch band]")
    assert env.describe().startswith("Searched 'teal watch band'; viewing results page 1")


def test_search_finds_each_product_by_its_title():
    cat = load_catalogue(CFG)
    firsts = 0
    for p in cat.products:
        found = [q.asin for q in cat.search(p.title)]
        assert p.asin in found[:3], p.title
        firsts += found[0] == p.asin
    assert firsts >= 0.95 * len(cat.products)


def test_generated_catalogue_and_prices_are_deterministic():
    a = generate(120, seed=0, max_goals_per_product=5)
    b = generate(120, seed=0, max_goals_per_product=5)
    assert [(p.asin, p.title, p.price, p.options) for p in a.products] == \
           [(p.asin, p.title, p.price, p.options) for p in b.products]
    assert [(g.asin, g.instruction) for g in a.raw_goals] == [(g.asin, g.instruction) for g in b.raw_goals]
    assert {p.category for p in a.products} == {"beauty", "electronics", "fashion", "garden", "grocery"}
    c = generate(120, seed=1, max_goals_per_product=5)
    assert [p.asin for p in c.products] == [p.asin for p in a.products]  # goal seed does not move products
    assert frozen_price("B0TESTASIN", (10.0, 20.0)) == frozen_price("B0TESTASIN", (10.0, 20.0))
    assert 10.0 <= frozen_price("B0TESTASIN", (10.0, 20.0)) <= 20.0
    assert frozen_price("B0TESTASIN", (12.5,)) == 12.5 and frozen_price("B0TESTASIN", ()) == 100.0


def test_generated_families_hold_near_duplicates():
    data = generate(200, seed=0, max_goals_per_product=3)
    targets = {g.asin for g in data.raw_goals}
    assert 0.2 < len(targets) / len(data.products) < 0.3  # one target per family of four
    by_asin = {p.asin: p for p in data.products}
    for g in data.raw_goals:
        target = by_asin[g.asin]
        assert all(v in target.options[k] for k, v in g.options)
        assert all(a in target.attributes for a in g.attributes)
        assert target.price <= g.price_upper


def test_generated_goals_request_as_many_attributes_as_real_goals():
    from pnlc.envs.webshop.generated import REQUESTED_ATTRIBUTES

    data = generate(2000, seed=0, max_goals_per_product=1)
    counts = [len(g.attributes) for g in data.raw_goals]
    assert set(counts) == set(REQUESTED_ATTRIBUTES) == {2, 3, 4, 5, 6, 7}
    # the real catalogue's 1,693 goals, folded to 2..7: shares within sampling error of 500 goals
    total = sum(REQUESTED_ATTRIBUTES.values())
    for k, n in REQUESTED_ATTRIBUTES.items():
        assert abs(counts.count(k) / len(counts) - n / total) < 0.06, k
    assert 3.3 < sum(counts) / len(counts) < 3.8
    # every requested attribute is named in the instruction, however many there are
    for g in data.raw_goals:
        assert all(a in g.instruction for a in g.attributes)


def test_generated_pages_hyphenate_some_attributes_as_real_listings_do():
    from pnlc.envs.webshop.generated import HYPHENATED
    from pnlc.envs.webshop.reward import attribute_hits

    data = generate(200, seed=0, max_goals_per_product=3)
    by_asin = {p.asin: p for p in data.products}
    written, hidden = 0, []
    for p in data.products:
        page = " ".join([p.title, *p.bullets, p.description]).lower()
        for a in p.attributes:
            if " " in a:
                written += 1
                if a not in page:
                    assert a.replace(" ", "-") in page  # the hyphenated form, not a missing attribute
                    hidden.append((p, a))
    assert abs(len(hidden) / written - HYPHENATED) < 0.05
    # the reward reads the attribute list, so a hyphenated attribute still counts for the goal
    for g in data.raw_goals:
        target = by_asin[g.asin]
        assert attribute_hits(g.attributes, target.attributes, target.title, target.bullets,
                              target.description) == len(g.attributes)
    # every product is written the same way however often the catalogue is built
    again = generate(200, seed=1, max_goals_per_product=3)
    assert [(p.title, p.bullets, p.description) for p in again.products] == \
           [(p.title, p.bullets, p.description) for p in data.products]


def test_config_errors_name_the_key():
    with pytest.raises(EnvError, match=r"WebShopConfig.max_steps"):
        dataclasses.replace(CFG, max_steps=0)
    with pytest.raises(EnvError, match="n_test_goals"):
        make_env(dataclasses.replace(CFG, n_test_goals=100000))
