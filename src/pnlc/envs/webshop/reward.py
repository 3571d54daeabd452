"""The original WebShop reward, term by term.

    score = (attribute hits + option hits + price hit) / (|goal attributes| + |goal options| + 1)
    reward = score * type factor

- attribute hit: some product attribute has rapidfuzz `token_set_ratio` > 85 with the goal
  attribute, or else the goal attribute appears in the lower-cased title, bullet points or
  description;
- option hit (one per *selected* option): for a size, the colour-normalised value is exactly one of
  the goal's option values; for other options a token-set ratio > 85 with one of them; or else the
  value appears in the lower-cased title, bullet points or description;
- price hit: the product's frozen price is at most the goal's price ceiling;
- type factor from the title-noun overlap t (distinct nouns shared by the goal and purchased
  titles, divided by the number of nouns in the goal title counted with repeats; 0.2 when the goal
  title has none): 1.0 if the product's query equals the
  goal's, or at least two category-path levels are shared, or t > 0.2; else 0.5; then 0.1 if
  t < 0.1; then 0.0 if t == 0.

One guard: the original can exceed 1 when a selected option that the goal never asked for appears in
the title (it counts hits over selected options); the reward here is capped at 1.0.

Nouns without a tagger: the original takes NOUN/PROPN tokens from spaCy's en_core_web_lg, which is
not installable here. `title_nouns` keeps every alphabetic word that is not a function word
(`FUNCTION_WORDS`) and is not a bare unit or number, in title order and with repeats: the original
divides the shared nouns (a set) by the goal title's noun *list*, so a noun written twice counts
twice in the denominator. One-letter words are kept (spaCy splits "T-Shirt" into "T", "-",
"Shirt" and tags "T" a noun), except "a" and "i" (function words) and unit letters; so "T-Shirt"
and "T Shirts" share "t", as in the original, while "shirt" and "shirts" stay different words
(the original compares surface forms, not lemmas). Product names are written in Title Case, where
spaCy tags nearly every content word NOUN or PROPN, so the two lists mostly agree; where they
differ, adjectives and participles ("Waterproof", "Organic", "Scented") count as nouns here. Effect:
identical titles still give t = 1 and titles without a shared content word still give t = 0; in
between, t is computed over slightly more words, so t is lower than with spaCy and a product that
shares only its type word with the goal falls more easily to the 0.5 / 0.1 branches. The rule is
deterministic and needs no model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from rapidfuzz import fuzz

FUZZY_THRESHOLD = 85
EXACT_MATCH_OPTIONS = ("size",)

# The colour vocabulary of the original's normalize.py; an option value is replaced by the first of
# these it contains before matching.
COLOR_SET = (
    "alabaster", "apricot", "aqua", "ash", "asphalt", "azure", "banana", "beige", "black", "blue",
    "blush", "bordeaux", "bronze", "brown", "burgundy", "camel", "camo", "caramel", "champagne",
    "charcoal", "cheetah", "chestnut", "chocolate", "christmas", "coffee", "cognac", "copper",
    "coral", "cranberry", "cream", "crystal", "dark", "denim", "eggplant", "elephant", "espresso",
    "fuchsia", "gold", "granite", "grape", "graphite", "grass", "gray", "green", "grey", "heather",
    "indigo", "ivory", "ivy", "khaki", "lavender", "lemon", "leopard", "light", "lilac", "lime",
    "magenta", "maroon", "mauve", "merlot", "midnight", "mint", "mocha", "multicolor", "mushroom",
    "mustard", "natural", "navy", "nude", "olive", "orange", "peach", "pewter", "pink", "plum",
    "purple", "rainbow", "red", "rose", "royal", "rust", "sand", "sapphire", "seashell", "silver",
    "skull", "slate", "steel", "stone", "stonewash", "sunflower", "tan", "taupe", "teal", "tiger",
    "turquoise", "violet", "walnut", "wheat", "white", "wine", "yellow",
)

FUNCTION_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each either every few
    for from further had has have having he her here hers him his how i if in into is it its itself
    just me more most my neither no nor not of off on once only or other our ours out over own per
    same she should so some such than that the their theirs them then there these they this those
    through to too under until up upon very via was we were what when where which while who whom why
    will with within without would you your yours""".split()
)
_UNITS = frozenset("oz fl ml mm cm kg lb lbs ft in pcs pc ct inch inches x w h l g".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def normalize_color(value: str) -> str:
    """The first colour of COLOR_SET contained in `value`, or `value` itself."""
    for color in COLOR_SET:
        if color in value:
            return color
    return value


def title_nouns(title: str) -> list[str]:
    """Deterministic stand-in for spaCy's NOUN/PROPN tokens of a product name, in order and with
    repeats (see module doc)."""
    out: list[str] = []
    for tok in _WORD.findall(title.lower()):
        tok = tok.split("'")[0]
        if not tok.isalpha() or tok in FUNCTION_WORDS or tok in _UNITS:
            continue
        out.append(tok)
    return out


@dataclass(frozen=True)
class TypeMatch:
    factor: float
    query_match: bool
    category_match: bool
    title_score: float


def type_factor(
    purchased_name: str,
    purchased_query: str,
    purchased_category: str,
    goal_name: str,
    goal_query: str,
    goal_category: str,
) -> TypeMatch:
    """The type factor of the original reward (query, category path, title-noun overlap)."""
    query_match = purchased_query == goal_query
    p_cat = {x.strip() for x in purchased_category.split("›")}
    g_cat = {x.strip() for x in goal_category.split("›")}
    category_match = len(p_cat & g_cat) >= 2
    desired = title_nouns(goal_name)
    got = title_nouns(purchased_name)
    t = 0.2 if not desired else len(set(desired) & set(got)) / len(desired)
    factor = 1.0
    if not (query_match or category_match or t > 0.2):
        factor = 0.5
    if t < 0.1:
        factor = 0.1
    if t == 0.0:
        factor = 0.0
    return TypeMatch(factor, query_match, category_match, t)


def _in_text(value: str, title: str, bullets: Sequence[str], description: str) -> bool:
    return value in title.lower() or value in " ".join(bullets).lower() or value in description.lower()


def attribute_hits(
    goal_attributes: Sequence[str],
    product_attributes: Sequence[str],
    title: str,
    bullets: Sequence[str],
    description: str,
) -> int:
    hits = 0
    for g in goal_attributes:
        if any(fuzz.token_set_ratio(p, g) > FUZZY_THRESHOLD for p in product_attributes):
            hits += 1
        elif _in_text(g, title, bullets, description):
            hits += 1
    return hits


def option_hits(
    selected: Mapping[str, str],
    goal_option_values: Sequence[str],
    title: str,
    bullets: Sequence[str],
    description: str,
) -> int:
    """Hits counted over the *selected* options, as in the original (so it can exceed |goal options|
    only in degenerate cases where two selected values match the same goal value)."""
    goal_values = [normalize_color(v) for v in goal_option_values]
    hits = 0
    for name, raw in selected.items():
        value = normalize_color(raw)
        if name.lower() in EXACT_MATCH_OPTIONS:
            matched = value in goal_values
        else:
            matched = any(fuzz.token_set_ratio(g, value) > FUZZY_THRESHOLD for g in goal_values)
        if matched or _in_text(value, title, bullets, description):
            hits += 1
    return hits


@dataclass(frozen=True)
class RewardBreakdown:
    reward: float
    attribute_hits: int
    n_attributes: int
    option_hits: int
    n_options: int
    price_hit: bool
    type: TypeMatch

    @property
    def all_attributes(self) -> bool:
        return self.attribute_hits >= self.n_attributes

    @property
    def all_options(self) -> bool:
        return self.option_hits >= self.n_options


def compute_reward(product, goal, selected: Mapping[str, str]) -> RewardBreakdown:
    """Reward for buying `product` (a catalogue Product) with `selected` options under `goal`."""
    tm = type_factor(
        product.name, product.query, product.product_category,
        goal.name, goal.query, goal.product_category,
    )
    n_att = attribute_hits(goal.attributes, product.attributes, product.title, product.bullets,
                           product.description)
    n_opt = option_hits(selected, goal.option_values, product.title, product.bullets,
                        product.description)
    price_hit = product.price <= goal.price_upper
    denom = len(goal.attributes) + len(goal.option_values) + 1
    score = (n_att + n_opt + int(price_hit)) / denom
    return RewardBreakdown(
        reward=min(1.0, score * tm.factor),
        attribute_hits=n_att,
        n_attributes=len(goal.attributes),
        option_hits=n_opt,
        n_options=len(goal.option_values),
        price_hit=price_hit,
        type=tm,
    )
