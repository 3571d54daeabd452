"""The embedded default catalogue: a deterministic WebShop-style shop that needs no download.

Five categories as in the original (beauty, electronics, fashion, garden, grocery), ten product
types each (pairs share title words, as neighbouring types do in the real catalogue), per-category
attribute vocabularies and option groups, and prices. Products come in
families of four: a *target* product that has an instruction (the goals are built from it exactly
like the original's synthetic goals) and three near-duplicate distractors chosen from

- `attribute`: same type and headline, but every requested attribute other than the headline is
  replaced (visible only in the features and description, so inspecting them matters);
- `price`: priced above any ceiling the goal can have;
- `option`: none of the target's values for its first option group;
- `type`: another product type of the same category with the same headline attribute in its title
  and the requested attributes in its features: it ranks well in search, and buying it shares only
  the attribute words of the title (a low title overlap: type factor 0.1 or 0.5), as products of
  other types that share descriptive words do in the real catalogue.

A goal requests two to seven attributes, in the shares of the real catalogue's goals
(`REQUESTED_ATTRIBUTES`). The target's title advertises the first of them in half of the families and an attribute nobody asked for in the other half, while the distractors advertise
the first requested one: as in the real catalogue, the product asked for is not always the one whose
title reads closest to the request.
Distractors are other brands' products: besides the headline attribute they list attributes of
their own (`attribute`: none of the other requested ones; `price`, `option`: drawn at random from
the category's vocabulary; `type`: the target's), and every distractor other than `option` offers
option values of its own, drawn from the category's pools.

A page writes some multi-word attributes hyphenated (`HYPHENATED`), as real listings do: the
reward still counts them, a shopper looking for the words does not find them.

Generation uses a fixed seed (`GENERATED_CATALOGUE_SEED`): the same `n_products` always gives the
same catalogue, byte for byte. Goal sampling uses the configuration's seed, not this one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pnlc.envs.webshop.catalogue import CatalogueData, Product, RawGoal, frozen_price, synthetic_goals

GENERATED_CATALOGUE_SEED = 20250518
# Share of a product's multi-word attributes that its page writes hyphenated. On the real 1k-product
# catalogue, 24.5 % of the requested attributes of its 1,693 goals are not written literally on the
# target product's page (title, features, description: "easy-to-clean" for "easy clean", "usb-c" for
# "usb c"); the reward still counts them (it matches the product's attribute list, fuzzily), but a
# shopper reading the page does not see them. Hyphenating at this rate gives the generated catalogue
# about the same share (benchmarks/bench_webshop.py prints both).
HYPHENATED = 0.25
FAMILY_KINDS = ("attribute", "price", "option", "type")
# How many attributes a goal requests. The real catalogue's 1,693 goals request 1 to 15 (counts
# 10, 546, 456, 311, 76, 146, 86, 37, 20 for 1..9 and 5 for 15; mean 3.62). Goals here draw from the
# same shares with 1 folded into 2 (an instruction names at least two) and 8 or more into 7 (a
# category's 16 attributes must leave the attribute distractor room for its swaps): mean 3.55.
REQUESTED_ATTRIBUTES = {2: 556, 3: 456, 4: 311, 5: 76, 6: 146, 7: 148}


@dataclass(frozen=True)
class ProductType:
    noun: str  # as written in titles, e.g. "Shampoo"
    query: str
    path: str
    price: tuple[float, float]
    tail: str  # title tail specific to the type


@dataclass(frozen=True)
class Category:
    name: str
    types: tuple[ProductType, ...]
    attributes: tuple[str, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]


def _t(noun, query, path, lo, hi, tail):
    return ProductType(noun, query, path, (lo, hi), tail)


CATEGORIES: tuple[Category, ...] = (
    Category(
        "beauty",
        (
            _t("Shampoo", "shampoo", "Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Shampoos", 6, 38, "for Daily Hair Care"),
            _t("Face Moisturizer", "face moisturizer", "Beauty & Personal Care › Skin Care › Face › Moisturizers", 9, 60, "Cream for Women and Men"),
            _t("Lipstick", "lipstick", "Beauty & Personal Care › Makeup › Lips › Lipstick", 5, 30, "Matte Lip Color Makeup"),
            _t("Body Wash", "body wash", "Beauty & Personal Care › Personal Care › Bath & Bathing › Body Washes", 5, 28, "Shower Gel Cleanser"),
            _t("Deodorant", "deodorant", "Beauty & Personal Care › Personal Care › Deodorants & Antiperspirants", 4, 22, "Stick Underarm Protection"),
            _t("Hair Conditioner", "hair conditioner", "Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Conditioners", 6, 36, "for Daily Hair Care"),
            _t("Dry Shampoo", "dry shampoo", "Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Dry Shampoos", 5, 25, "Spray for Oily Hair"),
            _t("Face Serum", "face serum", "Beauty & Personal Care › Skin Care › Face › Serums", 10, 55, "Skin Care for Women and Men"),
            _t("Lip Balm", "lip balm", "Beauty & Personal Care › Skin Care › Lip Care › Balms", 3, 18, "Moisturizing Lip Care Stick"),
            _t("Body Lotion", "body lotion", "Beauty & Personal Care › Skin Care › Body › Lotions", 5, 30, "Moisturizer Cream for Dry Skin"),
        ),
        ("paraben free", "sulfate free", "cruelty free", "long lasting", "sensitive skin", "natural ingredients",
         "travel size", "dry skin", "fragrance free", "tea tree", "hyaluronic acid", "oil free", "anti aging",
         "vitamin c", "hair growth", "argan oil"),
        (("scent", ("lavender", "citrus", "unscented", "rose", "coconut", "vanilla", "eucalyptus", "peppermint", "sandalwood",
                    "jasmine", "green tea", "cucumber melon")),
         ("size", ("2 ounce", "4 ounce", "8 ounce", "16 ounce", "3 pack", "6 pack", "1 ounce", "12 ounce", "32 ounce",
                  "2 pack", "travel size"))),
    ),
    Category(
        "electronics",
        (
            _t("Phone Charger", "phone charger", "Electronics › Cell Phones & Accessories › Chargers & Power Adapters", 9, 45, "Wall Adapter Block"),
            _t("Bluetooth Headphones", "bluetooth headphones", "Electronics › Headphones & Earbuds › Over-Ear Headphones", 19, 150, "Over Ear Headset with Mic"),
            _t("HDMI Cable", "hdmi cable", "Electronics › Television & Video › Accessories › Cables › HDMI Cables", 6, 35, "Cord for TV Monitor"),
            _t("Watch Band", "watch band", "Electronics › Wearable Technology › Accessories › Bands", 7, 30, "Replacement Strap Wristband"),
            _t("Phone Case", "phone case", "Electronics › Cell Phones & Accessories › Cases & Covers", 8, 40, "Protective Shockproof Cover"),
            _t("Charging Cable", "charging cable", "Electronics › Cell Phones & Accessories › Cables › Charging Cables", 5, 25, "Cord for Phone Charger"),
            _t("Wireless Earbuds", "wireless earbuds", "Electronics › Headphones & Earbuds › Earbud Headphones", 15, 120, "In Ear Headphones with Mic"),
            _t("Tablet Case", "tablet case", "Electronics › Computers & Accessories › Tablet Accessories › Cases", 10, 45, "Protective Stand Cover"),
            _t("Smart Watch", "smart watch", "Electronics › Wearable Technology › Smartwatches", 30, 200, "Fitness Tracker with Band"),
            _t("Screen Protector", "screen protector", "Electronics › Cell Phones & Accessories › Screen Protectors", 5, 20, "Tempered Glass for Phone"),
        ),
        ("wireless charging", "fast charging", "noise cancelling", "water resistant", "high speed", "easy install",
         "long battery life", "usb c", "hands free", "quick release", "gold plated", "braided nylon", "touch control",
         "dust proof", "magnetic mount", "led indicator"),
        (("color", ("black", "white", "silver", "teal", "rose gold", "navy blue", "red", "space gray", "midnight green",
                   "coral pink", "clear", "lavender purple")),
         ("size", ("3 feet", "6 feet", "10 feet", "2 pack", "single pack", "1 foot", "15 feet", "3 pack", "5 pack", "4 feet"))),
    ),
    Category(
        "fashion",
        (
            _t("Dress", "women's dresses", "Clothing, Shoes & Jewelry › Women › Clothing › Dresses", 15, 60, "Midi Sundress for Summer Party"),
            _t("Running Shoes", "men's running shoes", "Clothing, Shoes & Jewelry › Men › Shoes › Athletic › Running", 25, 110, "Lightweight Athletic Sneakers"),
            _t("Leggings", "women's leggings", "Clothing, Shoes & Jewelry › Women › Clothing › Active › Leggings", 12, 45, "High Waisted Yoga Pants"),
            _t("T-Shirt", "men's t-shirts", "Clothing, Shoes & Jewelry › Men › Clothing › Shirts › T-Shirts", 9, 35, "Crew Neck Casual Tee"),
            _t("Sandals", "women's sandals", "Clothing, Shoes & Jewelry › Women › Shoes › Sandals", 14, 70, "Flat Summer Slides"),
            _t("Walking Shoes", "women's walking shoes", "Clothing, Shoes & Jewelry › Women › Shoes › Athletic › Walking", 25, 100, "Comfortable Athletic Sneakers"),
            _t("Yoga Pants", "women's yoga pants", "Clothing, Shoes & Jewelry › Women › Clothing › Active › Pants", 12, 50, "High Waisted Workout Leggings"),
            _t("Polo Shirt", "men's polo shirts", "Clothing, Shoes & Jewelry › Men › Clothing › Shirts › Polos", 12, 45, "Short Sleeve Casual Shirt"),
            _t("Maxi Dress", "women's maxi dresses", "Clothing, Shoes & Jewelry › Women › Clothing › Dresses › Maxi", 18, 70, "Long Summer Dress for Party"),
            _t("Slide Sandals", "men's sandals", "Clothing, Shoes & Jewelry › Men › Shoes › Sandals", 12, 60, "Summer Beach Slides"),
        ),
        ("machine wash", "quick dry", "relaxed fit", "button closure", "rubber sole", "elastic waist",
         "long sleeve", "polyester spandex", "non slip", "cotton blend", "arch support", "moisture wicking",
         "tummy control", "slim fit", "pull on", "breathable mesh"),
        (("color", ("black", "white", "navy", "olive green", "burgundy", "heather grey", "khaki", "pink", "royal blue",
                   "charcoal heather", "light beige", "wine red")),
         ("size", ("small", "medium", "large", "x-large", "xx-large", "x-small", "3x-large", "4x-large", "petite",
                  "large tall"))),
    ),
    Category(
        "garden",
        (
            _t("Coffee Table", "coffee tables", "Home & Kitchen › Furniture › Living Room Furniture › Tables", 60, 320, "Modern Accent Furniture"),
            _t("Bookshelf", "bookshelves", "Home & Kitchen › Furniture › Home Office Furniture › Bookcases", 45, 260, "Storage Shelving Unit"),
            _t("Water Bottle", "water bottles", "Home & Kitchen › Kitchen & Dining › Travel & To-Go › Water Bottles", 8, 40, "Leakproof Flask with Lid"),
            _t("Pillow Cover", "throw pillow covers", "Home & Kitchen › Bedding › Decorative Pillows › Throw Pillow Covers", 7, 30, "Square Cushion Case for Couch"),
            _t("Garden Hose", "garden hoses", "Patio, Lawn & Garden › Gardening & Lawn Care › Watering Equipment › Hoses", 18, 90, "Expandable Watering Pipe"),
            _t("Side Table", "side tables", "Home & Kitchen › Furniture › Living Room Furniture › Tables › End Tables", 35, 180, "Modern Accent Furniture"),
            _t("Storage Shelf", "storage shelves", "Home & Kitchen › Storage & Organization › Shelving", 30, 200, "Shelving Unit for Bookshelf"),
            _t("Travel Mug", "travel mugs", "Home & Kitchen › Kitchen & Dining › Travel & To-Go › Mugs", 8, 35, "Insulated Coffee Cup with Lid"),
            _t("Throw Pillow", "throw pillows", "Home & Kitchen › Bedding › Decorative Pillows › Throw Pillows", 12, 45, "Square Cushion for Couch"),
            _t("Hose Nozzle", "hose nozzles", "Patio, Lawn & Garden › Gardening & Lawn Care › Watering Equipment › Nozzles", 6, 30, "Spray for Garden Hose"),
        ),
        ("easy assemble", "space saving", "solid wood", "living room", "dishwasher safe", "stainless steel",
         "easy clean", "heavy duty", "bpa free", "non toxic", "leak proof", "double insulated", "weather resistant",
         "storage space", "engineered wood", "kink free"),
        (("color", ("white", "espresso", "walnut", "natural", "black", "gray", "sage green", "rustic brown", "navy blue",
                   "light oak", "cream", "charcoal")),
         ("size", ("small", "medium", "large", "18 inch", "24 inch", "50 feet", "20 inch", "16 inch", "100 feet",
                  "25 feet", "x-large"))),
    ),
    Category(
        "grocery",
        (
            _t("Protein Bar", "protein bars", "Grocery & Gourmet Food › Snacks & Sweets › Bars › Protein Bars", 12, 45, "Snack Bars Variety"),
            _t("Herbal Tea", "herbal tea", "Grocery & Gourmet Food › Beverages › Tea › Herbal", 5, 25, "Tea Bags Caffeine Blend"),
            _t("Trail Mix", "trail mix", "Grocery & Gourmet Food › Snacks & Sweets › Trail Mix", 6, 30, "Nuts and Dried Fruit Snack"),
            _t("Coffee Beans", "coffee beans", "Grocery & Gourmet Food › Beverages › Coffee › Whole Coffee Beans", 9, 45, "Whole Bean Medium Roast"),
            _t("Beef Jerky", "beef jerky", "Grocery & Gourmet Food › Meat & Seafood › Jerky & Dried Meats", 7, 35, "Meat Snack Strips"),
            _t("Granola Bar", "granola bars", "Grocery & Gourmet Food › Snacks & Sweets › Bars › Granola Bars", 8, 30, "Snack Bars Variety"),
            _t("Green Tea", "green tea", "Grocery & Gourmet Food › Beverages › Tea › Green", 5, 25, "Tea Bags Blend"),
            _t("Mixed Nuts", "mixed nuts", "Grocery & Gourmet Food › Snacks & Sweets › Nuts & Seeds", 8, 35, "Roasted Snack Nuts"),
            _t("Ground Coffee", "ground coffee", "Grocery & Gourmet Food › Beverages › Coffee › Ground Coffee", 8, 40, "Medium Roast Coffee"),
            _t("Turkey Jerky", "turkey jerky", "Grocery & Gourmet Food › Meat & Seafood › Jerky & Dried Meats", 7, 35, "Meat Snack Sticks"),
        ),
        ("gluten free", "low sugar", "non gmo", "high protein", "keto friendly", "dairy free",
         "individually wrapped", "ready eat", "plant based", "kosher certified", "caffeine free", "grass fed",
         "usda organic", "whole grain", "fair trade", "high fiber"),
        (("flavor name", ("chocolate", "vanilla", "strawberry", "peanut butter", "sea salt", "original", "honey",
                          "cookies and cream", "mixed berry", "caramel", "teriyaki", "lemon ginger")),
         ("size", ("6 count", "12 count", "24 count", "1 pound", "2 pound", "8 count", "18 count", "36 count", "5 pound",
                  "3 ounce"))),
    ),
)

BRANDS = (
    "Lumora", "Veltrix", "Ardenne", "Quilla", "Norbeck", "Sablewood", "Tavi", "Corvana", "Brisk & Co",
    "Halden", "Mireva", "Ostrava", "Pellucid", "Rendell", "Solvay Home", "Tessaro", "Umbra Line", "Vantor",
    "Wexley", "Yarrow", "Zephira", "Alcott", "Belmora", "Castell", "Dunmore", "Elvaro", "Fennick",
    "Gildan Ridge", "Hollis", "Isandro", "Jorvik", "Kestrel", "Larkspur", "Montclair", "Nevada Peak",
    "Orlin", "Prestia", "Rowan & Vine", "Sorrel", "Thistle",
)

BULLET_PHRASES = (
    "made for everyday use", "tested for quality and comfort", "a customer favourite",
    "easy to use at home or on the go", "backed by a 30-day guarantee", "designed to last",
)
REVIEW_TEMPLATES = (
    "Works exactly as described.", "Good value for the price.", "Arrived quickly and well packed.",
    "Not quite what I expected.", "Would buy again.",
)
INSTRUCTION_TEMPLATES = (
    "i am looking for {a} {noun} that is {b}",
    "Find me {noun_l} with {a}, {b}",
    "i need a {a} and {b} {noun_l}",
    "i want to buy {noun_l} which is {a} and {b}",
)


def _title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in text.split())


def _asin(rng: np.random.Generator, taken: set[str]) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    while True:
        asin = "B0" + "".join(alphabet[int(i)] for i in rng.integers(0, len(alphabet), size=8))
        if asin not in taken:
            taken.add(asin)
            return asin


def _price(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.floor(rng.uniform(lo, hi))) + 0.99


def _written_forms(asin: str, attributes: Sequence[str]) -> dict[str, str]:
    """How the product's page writes each of its attributes: a multi-word one hyphenated with
    probability HYPHENATED ("paraben-free", "usb-c"), else as the attribute list has it. Drawn from a
    generator of the product's own (seeded by its ASIN), so the rest of the catalogue is unchanged."""
    own = np.random.default_rng([GENERATED_CATALOGUE_SEED, *asin.encode()])
    return {a: a.replace(" ", "-") if " " in a and own.random() < HYPHENATED else a for a in dict.fromkeys(attributes)}


def _make_product(
    rng: np.random.Generator,
    taken: set[str],
    cat: Category,
    ptype: ProductType,
    brand: str,
    headline_attr: str,
    attributes: Sequence[str],
    options: dict[str, tuple[str, ...]],
    pricing: tuple[float, ...],
) -> Product:
    asin = _asin(rng, taken)
    written = _written_forms(asin, [*attributes, headline_attr])
    title = f"{brand} {_title_case(written[headline_attr])} {ptype.noun} {ptype.tail}"
    bullets = tuple(
        f"{_title_case(written[a])}: {BULLET_PHRASES[int(rng.integers(len(BULLET_PHRASES)))]}" for a in attributes
    )
    description = f"This {ptype.noun.lower()} from {brand} is " + ", ".join(written[a] for a in attributes) + "."
    n_reviews = int(rng.integers(0, 3))
    reviews = tuple(f"{int(rng.integers(2, 6))}/5: {REVIEW_TEMPLATES[int(rng.integers(len(REVIEW_TEMPLATES)))]}"
                    for _ in range(n_reviews))
    price_tag = f"${pricing[0]}" if len(pricing) == 1 else f"${pricing[0]} to ${pricing[1]}"
    return Product(
        asin=asin, name=title, title=title, description=description, bullets=bullets,
        attributes=tuple(attributes), options=options, pricing=pricing, price_tag=price_tag,
        price=frozen_price(asin, pricing), rating=f"{rng.uniform(3.0, 5.0):.1f}", reviews=reviews,
        category=cat.name, query=ptype.query, product_category=ptype.path,
    )


def _shares(counts: dict[int, int]) -> np.ndarray:
    weights = np.array(list(counts.values()), dtype=np.float64)
    return weights / weights.sum()


def _pick(rng: np.random.Generator, pool: Sequence[str], k: int, exclude: Sequence[str] = ()) -> list[str]:
    cands = [x for x in pool if x not in exclude]
    idx = rng.choice(len(cands), size=min(k, len(cands)), replace=False)
    return [cands[int(i)] for i in idx]


def _own_attributes(rng: np.random.Generator, cat: Category, requested: Sequence[str]) -> list[str]:
    """The headline attribute and as many more of the distractor's own, drawn from the category's
    vocabulary (a requested one only by chance)."""
    return [requested[0]] + _pick(rng, cat.attributes, len(requested), exclude=requested[:1])


def _own_options(rng: np.random.Generator, cat: Category, options: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The target's option groups with values of the distractor's own, drawn from the category's
    pools (a requested value is on offer only by chance, as on another brand's product)."""
    pools = dict(cat.options)
    return {name: tuple(_pick(rng, pools[name], int(rng.integers(2, 7)))) for name in options}


def _type_distractor(rng, taken, cat, t_idx, brand, requested, attrs, options) -> Product:
    """Another type of the same category, titled with the target's headline attribute and listing
    the target's attributes in its features (see the module doc)."""
    others = [t for i, t in enumerate(cat.types) if i != t_idx]
    other = others[int(rng.integers(len(others)))]
    return _make_product(rng, taken, cat, other, brand, requested[0], attrs, options, (_price(rng, *other.price),))


def generate(n_products: int, seed: int, max_goals_per_product: int) -> CatalogueData:
    """The generated catalogue (fixed by `n_products`) and its goals (sampled with `seed`)."""
    rng = np.random.default_rng(GENERATED_CATALOGUE_SEED)
    goal_rng = np.random.default_rng([seed, 0])
    taken: set[str] = set()
    products: list[Product] = []
    raw_goals: list[RawGoal] = []
    family = 0
    while len(products) < n_products:
        cat = CATEGORIES[family % len(CATEGORIES)]
        t_idx = int(rng.integers(len(cat.types)))
        ptype = cat.types[t_idx]
        brands = _pick(rng, BRANDS, 4)
        n_req = int(rng.choice(list(REQUESTED_ATTRIBUTES), p=_shares(REQUESTED_ATTRIBUTES)))
        requested = _pick(rng, cat.attributes, n_req)
        extra = _pick(rng, cat.attributes, 1, exclude=requested)
        attrs = requested + extra
        n_groups = 1 + int(rng.random() < 0.6)
        options = {}
        for name, pool in cat.options[:n_groups] if rng.random() < 0.5 else cat.options[-n_groups:]:
            options[name] = tuple(_pick(rng, pool, int(rng.integers(2, 7))))
        base_price = _price(rng, *ptype.price)
        if "size" in options and rng.random() < 0.3:
            pricing: tuple[float, ...] = (base_price, round(base_price * 1.3, 2))
        else:
            pricing = (base_price,)
        headline = requested[0] if rng.random() < 0.5 else extra[0]
        target = _make_product(rng, taken, cat, ptype, brands[0], headline, attrs, options, pricing)
        products.append(target)
        noun_l = ptype.path.split(" › ")[-1].lower()
        template = INSTRUCTION_TEMPLATES[int(rng.integers(len(INSTRUCTION_TEMPLATES)))]
        instruction = template.format(a=requested[0], b=" and ".join(requested[1:]), noun=noun_l, noun_l=noun_l)
        raw_goals.extend(synthetic_goals(target, instruction, requested, max_goals_per_product, goal_rng))

        skip = FAMILY_KINDS[family % 3]  # every family holds a type distractor
        for kind, brand in zip([k for k in FAMILY_KINDS if k != skip], brands[1:]):
            if len(products) >= n_products:
                break
            if kind == "attribute":
                swap = _pick(rng, cat.attributes, len(requested) - 1, exclude=attrs)
                d_attrs = [requested[0]] + swap + extra
                p = _make_product(rng, taken, cat, ptype, brand, requested[0], d_attrs, _own_options(rng, cat, options),
                                  pricing)
            elif kind == "price":
                high = round(max(pricing) + float(rng.uniform(45, 90)), 2)
                p = _make_product(rng, taken, cat, ptype, brand, requested[0], _own_attributes(rng, cat, requested),
                                  _own_options(rng, cat, options), (high,))
            elif kind == "option":
                d_opts = dict(options)
                first = next(iter(options))
                pool = dict(cat.options)[first]
                rest = [v for v in pool if v not in options[first]]
                if rest:
                    d_opts[first] = tuple(rest[:5])
                else:
                    del d_opts[first]
                p = _make_product(rng, taken, cat, ptype, brand, requested[0], _own_attributes(rng, cat, requested),
                                  d_opts, pricing)
            else:
                p = _type_distractor(rng, taken, cat, t_idx, brand, requested, attrs, _own_options(rng, cat, options))
            products.append(p)
        family += 1
    return CatalogueData(tuple(products), tuple(raw_goals), "generated", {"n_families": family})
