"""Products, goals, frozen prices and the loader for the original 1k-product files.

Goals follow the original's synthetic goals: for each product with an instruction, one goal per
combination of its option values (sampled down to `max_goals_per_product` with the configured
seed), the product's instruction attributes, and a price ceiling taken as the larger of two draws
without replacement from the next four multiples of $10 above the price (no ceiling when fewer
than two exist). Products with human-written instructions use those instead (one goal each, the
instruction's own attributes and options), as in the original's human-goal mode.

Prices are frozen: a product listed with a range "$a to $b" gets one price drawn uniformly in
[a, b] from a generator seeded by the CRC32 of its ASIN, so the reward never changes between runs
(the original redraws range prices at random in every process).
"""

from __future__ import annotations

import json
import logging
import math
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.envs.base import EnvError

log = logging.getLogger(__name__)

PRODUCTS_FILE = "products_1000.json"
ATTRIBUTES_FILE = "items_ins_v2_1000.json"
HUMAN_FILE = "items_human_ins_1000_subset.json"
PRICE_RANGE = tuple(10.0 * i for i in range(1, 100))
NO_CEILING = 1_000_000.0


@dataclass(frozen=True, eq=False)
class Product:
    asin: str
    name: str
    title: str
    description: str
    bullets: tuple[str, ...]
    attributes: tuple[str, ...]
    options: Mapping[str, tuple[str, ...]]
    pricing: tuple[float, ...]
    price_tag: str
    price: float  # frozen price used by the reward
    rating: str
    reviews: tuple[str, ...]
    category: str
    query: str
    product_category: str

    def search_document(self) -> str:
        """The original index recipe: title, description, first bullet point, "option: values"."""
        option_text = ", and ".join(f"{name}: {', '.join(vals)}" for name, vals in self.options.items())
        first_bullet = self.bullets[0] if self.bullets else ""
        return " ".join([self.title, self.description, first_bullet, option_text]).lower()


@dataclass(frozen=True, eq=False)
class Goal:
    index: int
    asin: str
    instruction: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]  # (option name or "" for human goals, value)
    price_upper: float
    name: str
    query: str
    category: str
    product_category: str
    source: str  # "synthetic" | "human"

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(v for _, v in self.options)


@dataclass(frozen=True, eq=False)
class RawGoal:
    """A goal before shuffling (no index yet)."""

    asin: str
    instruction: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    price_upper: float
    name: str
    source: str


def frozen_price(asin: str, pricing: Sequence[float]) -> float:
    if not pricing:
        return 100.0
    if len(pricing) == 1 or pricing[0] == pricing[1]:
        return float(pricing[0])
    lo, hi = sorted((float(pricing[0]), float(pricing[1])))
    rng = np.random.default_rng(zlib.crc32(asin.encode("utf-8")))
    return round(float(rng.uniform(lo, hi)), 2)


def price_ceiling(price: float, rng: np.random.Generator) -> tuple[float, str]:
    """(ceiling, instruction suffix) as in the original synthetic goals."""
    nxt = [p for p in PRICE_RANGE if p > price][:4]
    if len(nxt) < 2:
        return NO_CEILING, ""
    a, b = rng.choice(len(nxt), size=2, replace=False)
    upper = max(nxt[int(a)], nxt[int(b)])
    return upper, f", and price lower than {upper:.2f} dollars"


def option_combinations(
    options: Mapping[str, Sequence[str]], limit: int, rng: np.random.Generator
) -> list[tuple[tuple[str, str], ...]]:
    """Option combinations in itertools.product order over sorted option names, sampled down to
    `limit` (without materialising all of them)."""
    names = sorted(options)
    sizes = [len(options[n]) for n in names]
    if any(s == 0 for s in sizes):
        names = [n for n in names if options[n]]
        sizes = [len(options[n]) for n in names]
    total = math.prod(sizes) if names else 1
    picks = range(total) if total <= limit else sorted(int(i) for i in rng.choice(total, size=limit, replace=False))
    out = []
    for k in picks:
        combo = []
        for name, size in zip(reversed(names), reversed(sizes)):
            k, r = divmod(k, size)
            combo.append((name, options[name][r]))
        out.append(tuple(reversed(combo)))
    return out


def synthetic_goals(
    product: Product,
    instruction: str,
    attributes: Sequence[str],
    limit: int,
    rng: np.random.Generator,
) -> list[RawGoal]:
    upper, price_text = price_ceiling(product.price, rng)
    goals = []
    for combo in option_combinations(product.options, limit, rng):
        option_text = ", and ".join(f"{k}: {v}" for k, v in combo)
        option_text = f" with {option_text}" if option_text else ""
        goals.append(RawGoal(
            asin=product.asin,
            instruction=f"{instruction}{option_text}{price_text}",
            attributes=tuple(attributes),
            options=combo,
            price_upper=upper,
            name=product.title,
            source="synthetic",
        ))
    return goals


def human_goal(product: Product, record: Mapping[str, Any], rng: np.random.Generator) -> RawGoal | None:
    attributes = tuple(record["instruction_attributes"])
    if not attributes:
        return None
    upper, price_text = price_ceiling(product.price, rng)
    return RawGoal(
        asin=product.asin,
        instruction=str(record["instruction"]).strip(".") + price_text,
        attributes=attributes,
        options=tuple(("", str(v)) for v in record.get("instruction_options") or ()),
        price_upper=upper,
        name=product.name,
        source="human",
    )


def index_goals(raw: Sequence[RawGoal], products: Mapping[str, Product], seed: int) -> tuple[Goal, ...]:
    """Shuffle goals with the seed and number them; the index is the task's identity."""
    order = np.random.default_rng([seed, 1]).permutation(len(raw))
    out = []
    for i, j in enumerate(order):
        g = raw[int(j)]
        p = products[g.asin]
        out.append(Goal(
            index=i, asin=g.asin, instruction=g.instruction, attributes=g.attributes,
            options=g.options, price_upper=g.price_upper, name=g.name, query=p.query,
            category=p.category, product_category=p.product_category, source=g.source,
        ))
    return tuple(out)


# ---------------------------------------------------------------- loading the original files

def _read_json(path: Path) -> Any:
    if not path.exists():
        raise EnvError(f"{path}: no such file; set env.webshop.catalogue to the folder holding "
                       f"the original WebShop files, or to 'generated'")
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise EnvError(f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); "
                       "re-download the file") from None


class _Record:
    """Field access that names the file and record in every error."""

    def __init__(self, path: Path, where: str, data: Any):
        self.path, self.where, self.data = path, where, data
        if not isinstance(data, dict):
            self.fail(f"expected a JSON object, got {type(data).__name__}")

    def fail(self, what: str):
        raise EnvError(f"{self.path}: {self.where}: {what}; fix or re-download the file")

    def get(self, key: str, types: type | tuple[type, ...], default: Any = ..., *alts: str) -> Any:
        for k in (key, *alts):
            if k in self.data and self.data[k] is not None:
                value = self.data[k]
                if not isinstance(value, types):
                    self.fail(f"field '{k}' should be {_tname(types)}, got {type(value).__name__}")
                return value
        if default is ...:
            self.fail(f"missing field '{key}'")
        return default


def _tname(types: type | tuple[type, ...]) -> str:
    if isinstance(types, tuple):
        return " or ".join(t.__name__ for t in types)
    return types.__name__


def _str_list(rec: _Record, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        rec.fail(f"field '{key}' should be a list of strings")
    return tuple(value)


def _parse_pricing(rec: _Record) -> tuple[float, ...]:
    raw = rec.get("pricing", (list, str), [])
    if isinstance(raw, str):
        parts = [p for p in raw.split("$")[1:]]
        vals = []
        for p in parts:
            digits = "".join(ch for ch in p if ch.isdigit() or ch == ".")
            try:
                vals.append(float(digits))
            except ValueError:
                rec.fail(f"field 'pricing' has an unreadable price {p!r}")
        raw = vals
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        rec.fail("field 'pricing' should be a list of numbers")
    return tuple(float(v) for v in raw[:2])


def _parse_options(rec: _Record) -> dict[str, tuple[str, ...]]:
    opts = rec.get("options", dict, None)
    if opts is not None:
        out = {}
        for name, vals in opts.items():
            out[str(name).lower()] = _str_list(rec, f"options.{name}", vals)
        return out
    custom = rec.get("customization_options", (dict, str), {})
    out = {}
    if isinstance(custom, dict):
        for name, contents in custom.items():
            if contents is None:
                continue
            if not isinstance(contents, list) or not all(isinstance(c, dict) and "value" in c for c in contents):
                rec.fail(f"field 'customization_options.{name}' should be a list of objects with 'value'")
            out[name.lower()] = tuple(str(c["value"]).strip().replace("/", " | ").lower() for c in contents)
    return out


def parse_product(rec: _Record, attributes: Mapping[str, Any]) -> Product:
    asin = rec.get("asin", str)
    if not asin or len(asin) > 10:
        rec.fail(f"field 'asin' {asin!r} is not an ASIN")
    title = rec.get("Title", str, ..., "name")
    name = rec.get("name", str, title)
    description = rec.get("Description", str, "", "full_description")
    bullets = _str_list(rec, "BulletPoints", rec.get("BulletPoints", (list, str), [], "small_description"))
    pricing = _parse_pricing(rec)
    if pricing:
        price_tag = f"${pricing[0]}" if len(pricing) == 1 else f"${pricing[0]} to ${pricing[1]}"
    else:
        price_tag = "$100.0"
    attrs_entry = attributes.get(asin)
    if isinstance(attrs_entry, dict) and isinstance(attrs_entry.get("attributes"), list):
        attrs = tuple(str(a) for a in attrs_entry["attributes"])
    else:
        attrs = _str_list(rec, "Attributes", rec.get("Attributes", list, []))
    reviews_raw = rec.get("Reviews", list, [])
    reviews = tuple(
        f"{r.get('score', r.get('stars', '?'))}/5: {r.get('title', '')} {r.get('body', r.get('review', ''))}".strip()
        for r in reviews_raw if isinstance(r, dict)
    )
    return Product(
        asin=asin,
        name=name,
        title=title,
        description=description,
        bullets=bullets,
        attributes=attrs,
        options=_parse_options(rec),
        pricing=pricing,
        price_tag=price_tag,
        price=frozen_price(asin, pricing),
        rating=str(rec.get("Rating", (str, int, float), "N.A.")),
        reviews=reviews,
        category=rec.get("category", str),
        query=rec.get("query", str).lower().strip(),
        product_category=rec.get("product_category", str, ""),
    )


@dataclass(frozen=True, eq=False)
class CatalogueData:
    products: tuple[Product, ...]
    raw_goals: tuple[RawGoal, ...]
    source: str
    notes: Mapping[str, Any] = field(default_factory=dict)


def load_original(folder: str | Path, seed: int, max_goals_per_product: int, human_instructions: bool) -> CatalogueData:
    """Read the original 1k-product files from `folder` and build goals (see module doc)."""
    folder = Path(folder)
    products_path = folder / PRODUCTS_FILE
    attrs_path = folder / ATTRIBUTES_FILE
    human_path = folder / HUMAN_FILE
    raw_products = _read_json(products_path)
    if not isinstance(raw_products, list):
        raise EnvError(f"{products_path}: expected a JSON list of products, got {type(raw_products).__name__}")
    attributes = _read_json(attrs_path)
    if not isinstance(attributes, dict):
        raise EnvError(f"{attrs_path}: expected a JSON object keyed by ASIN, got {type(attributes).__name__}")
    human: Mapping[str, Any] = {}
    if human_instructions and human_path.exists():
        human = _read_json(human_path)
        if not isinstance(human, dict):
            raise EnvError(f"{human_path}: expected a JSON object keyed by ASIN, got {type(human).__name__}")

    products: list[Product] = []
    seen: set[str] = set()
    for i, data in enumerate(raw_products):
        asin_hint = data.get("asin", "?") if isinstance(data, dict) else "?"
        rec = _Record(products_path, f"record {i} (asin {asin_hint})", data)
        p = parse_product(rec, attributes)
        if p.asin in seen:
            continue
        seen.add(p.asin)
        products.append(p)

    rng = np.random.default_rng([seed, 0])
    raw_goals: list[RawGoal] = []
    n_human = 0
    for p in products:
        if p.asin in human:
            entries = human[p.asin]
            if not isinstance(entries, list):
                raise EnvError(f"{human_path}: record '{p.asin}': expected a list of instructions; "
                               "fix or re-download the file")
            for j, entry in enumerate(entries):
                rec = _Record(human_path, f"record '{p.asin}' instruction {j}", entry)
                rec.get("instruction", str)
                rec.get("instruction_attributes", list)
                g = human_goal(p, entry, rng)
                if g is not None:
                    raw_goals.append(g)
                    n_human += 1
            continue
        entry = attributes.get(p.asin)
        if entry is None:
            continue
        rec = _Record(attrs_path, f"record '{p.asin}'", entry)
        instruction = rec.get("instruction", str, None)
        if instruction is None:
            continue
        inst_attrs = _str_list(rec, "instruction_attributes", rec.get("instruction_attributes", list))
        if not inst_attrs:
            rec.fail("field 'instruction_attributes' is empty")
        raw_goals.extend(synthetic_goals(p, instruction, inst_attrs, max_goals_per_product, rng))
    log.info("webshop: %d products, %d goals (%d from human instructions) from %s",
             len(products), len(raw_goals), n_human, folder)
    return CatalogueData(tuple(products), tuple(raw_goals), str(folder), {"n_human_goals": n_human})
