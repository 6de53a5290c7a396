"""The simulated restaurant's menu: an American casual grill, about forty items.

Written as data so that tests of kitchen routing, inventory usage and exports can name real items
(``burger-classic``, PLU ``1101``) and get the same stations, courses and modifiers every time.

Two things the canonical :class:`~expediter.model.menu.Menu` has no field for are kept here:

- :data:`NESTED_GROUPS` — a modifier that opens a group of its own (the side salad asks for a
  dressing), so orders carry a modifier tree;
- :data:`GIFT_CARD_ITEM_ID` — the item sold as a gift card (``LineKind.GIFT_CARD``), a liability
  rather than revenue.

The staff roster and jobs live in :mod:`expediter.sim.staff` and are re-exported here.
"""

from __future__ import annotations

from expediter.model.menu import Menu, MenuItem, MenuModifier, ModifierGroup
from expediter.model.money import Money
from expediter.model.order import ModifierAction
from expediter.sim.staff import JOBS, staff_roster

__all__ = [
    "CATEGORIES",
    "DRINK_CATEGORIES",
    "GIFT_CARD_CATEGORY",
    "GIFT_CARD_ITEM_ID",
    "JOBS",
    "NESTED_GROUPS",
    "STATIONS",
    "restaurant_menu",
    "staff_roster",
]

STATIONS = ("grill", "fry", "cold", "bar")
CATEGORIES = (
    "Starters",
    "Burgers",
    "Entrees",
    "Salads",
    "Sides",
    "Desserts",
    "Beer",
    "Wine",
    "Cocktails",
    "Non-alcoholic",
    "Gift Cards",
)
DRINK_CATEGORIES = frozenset({"Beer", "Wine", "Cocktails", "Non-alcoholic"})
ALCOHOL_CATEGORIES = frozenset({"Beer", "Wine", "Cocktails"})
GIFT_CARD_CATEGORY = "Gift Cards"
GIFT_CARD_ITEM_ID = "gift-card"

APPS_COURSE, MAINS_COURSE, DESSERTS_COURSE = 1, 2, 3

NESTED_GROUPS: dict[str, str] = {"side-salad": "dressing"}
"""Modifier id → the modifier group it opens (a side salad asks which dressing)."""

Mod = tuple[str, str, int, str | None, ModifierAction, str | None]
"""id, name, price in cents, PLU, action, station override."""

_ADD, _REMOVE, _NOTE = ModifierAction.ADD, ModifierAction.REMOVE, ModifierAction.NOTE

_GROUPS: list[tuple[str, str, int, int, list[Mod]]] = [
    (
        "temperature",
        "Temperature",
        1,
        1,
        [
            ("temp-rare", "Rare", 0, None, _NOTE, None),
            ("temp-mr", "Medium Rare", 0, None, _NOTE, None),
            ("temp-m", "Medium", 0, None, _NOTE, None),
            ("temp-mw", "Medium Well", 0, None, _NOTE, None),
            ("temp-wd", "Well Done", 0, None, _NOTE, None),
        ],
    ),
    (
        "burger-addons",
        "Add-ons",
        0,
        3,
        [
            ("add-bacon", "Add Bacon", 250, "9001", _ADD, None),
            ("add-cheddar", "Add Cheddar", 150, "9002", _ADD, None),
            ("add-avocado", "Add Avocado", 200, "9003", _ADD, None),
            ("add-egg", "Add Fried Egg", 175, "9004", _ADD, None),
            ("add-jalapeno", "Add Jalapeños", 75, "9005", _ADD, None),
        ],
    ),
    (
        "removals",
        "Hold",
        0,
        2,
        [
            ("no-onions", "No Onions", 0, "9101", _REMOVE, None),
            ("no-pickles", "No Pickles", 0, "9102", _REMOVE, None),
            ("no-tomato", "No Tomato", 0, "9103", _REMOVE, None),
            ("no-lettuce", "No Lettuce", 0, "9104", _REMOVE, None),
            ("no-cheese", "No Cheese", 0, "9105", _REMOVE, None),
        ],
    ),
    (
        "side-choice",
        "Side",
        1,
        1,
        [
            ("side-fries", "Fries", 0, "9201", _ADD, "fry"),
            ("side-sweet-fries", "Sweet Potato Fries", 100, "9202", _ADD, "fry"),
            ("side-rings", "Onion Rings", 150, "9203", _ADD, "fry"),
            ("side-salad", "Side Salad", 0, "9204", _ADD, "cold"),
            ("side-slaw", "Coleslaw", 0, "9205", _ADD, "cold"),
        ],
    ),
    (
        "dressing",
        "Dressing",
        1,
        1,
        [
            ("dr-ranch", "Ranch", 0, "9301", _ADD, None),
            ("dr-blue", "Blue Cheese", 0, "9302", _ADD, None),
            ("dr-balsamic", "Balsamic Vinaigrette", 0, "9303", _ADD, None),
            ("dr-caesar", "Caesar", 0, "9304", _ADD, None),
            ("dr-side", "Dressing on the Side", 0, None, _NOTE, None),
        ],
    ),
    (
        "salad-protein",
        "Add Protein",
        0,
        1,
        [
            ("add-chicken", "Add Grilled Chicken", 600, "9401", _ADD, "grill"),
            ("add-salmon", "Add Salmon", 900, "9402", _ADD, "grill"),
            ("add-shrimp", "Add Shrimp", 800, "9403", _ADD, "grill"),
        ],
    ),
    (
        "wing-sauce",
        "Sauce",
        1,
        1,
        [
            ("sauce-buffalo", "Buffalo", 0, "9501", _ADD, None),
            ("sauce-bbq", "BBQ", 0, "9502", _ADD, None),
            ("sauce-garlic", "Garlic Parmesan", 0, "9503", _ADD, None),
            ("sauce-nashville", "Nashville Hot", 0, "9504", _ADD, None),
        ],
    ),
    (
        "cocktail-options",
        "Cocktail Options",
        0,
        2,
        [
            ("make-double", "Make it a Double", 500, "9601", _ADD, None),
            ("up", "Served Up", 0, None, _NOTE, None),
            ("no-salt", "No Salt Rim", 0, None, _REMOVE, None),
        ],
    ),
    (
        "dessert-addons",
        "À la Mode",
        0,
        1,
        [("a-la-mode", "À la Mode", 250, "9701", _ADD, None)],
    ),
]

Item = tuple[str, str, str, int, str, tuple[str, ...], tuple[str, ...]]
"""id, name, category, price in cents, PLU, stations, modifier group ids."""

_BURGER = ("temperature", "burger-addons", "removals", "side-choice")
_ITEMS: list[Item] = [
    ("wings", "Buffalo Wings", "Starters", 1450, "1001", ("fry",), ("wing-sauce",)),
    ("nachos", "Loaded Nachos", "Starters", 1350, "1002", ("fry", "cold"), ("removals",)),
    ("mozz-sticks", "Mozzarella Sticks", "Starters", 1050, "1003", ("fry",), ()),
    ("calamari", "Fried Calamari", "Starters", 1450, "1004", ("fry",), ()),
    ("shrimp-cocktail", "Shrimp Cocktail", "Starters", 1550, "1005", ("cold",), ()),
    ("spinach-dip", "Spinach Artichoke Dip", "Starters", 1200, "1006", ("grill",), ()),
    ("burger-classic", "Classic Burger", "Burgers", 1600, "1101", ("grill",), _BURGER),
    ("burger-bacon", "Bacon Cheeseburger", "Burgers", 1800, "1102", ("grill",), _BURGER),
    ("burger-mushroom", "Mushroom Swiss Burger", "Burgers", 1750, "1103", ("grill",), _BURGER),
    (
        "burger-veggie",
        "Veggie Burger",
        "Burgers",
        1500,
        "1104",
        ("grill",),
        ("burger-addons", "removals", "side-choice"),
    ),
    (
        "chicken-sandwich",
        "Crispy Chicken Sandwich",
        "Burgers",
        1550,
        "1105",
        ("fry",),
        ("removals", "side-choice"),
    ),
    ("ny-strip", "12 oz NY Strip", "Entrees", 3400, "1201", ("grill",), ("temperature", "side-choice")),
    ("steak-frites", "Steak Frites", "Entrees", 2900, "1202", ("grill", "fry"), ("temperature",)),
    ("salmon", "Grilled Salmon", "Entrees", 2700, "1203", ("grill",), ("side-choice",)),
    ("fish-chips", "Fish & Chips", "Entrees", 2100, "1204", ("fry",), ()),
    ("ribs", "BBQ Ribs (Half Rack)", "Entrees", 2400, "1205", ("grill",), ("side-choice",)),
    ("chicken-tenders", "Chicken Tenders", "Entrees", 1600, "1206", ("fry",), ("wing-sauce",)),
    ("mac-entree", "Lobster Mac & Cheese", "Entrees", 2600, "1207", ("grill",), ()),
    ("caesar", "Caesar Salad", "Salads", 1200, "1301", ("cold",), ("salad-protein",)),
    ("cobb", "Cobb Salad", "Salads", 1650, "1302", ("cold", "grill"), ("dressing", "removals")),
    ("house-salad", "House Salad", "Salads", 950, "1303", ("cold",), ("dressing", "salad-protein")),
    ("wedge", "Wedge Salad", "Salads", 1100, "1304", ("cold",), ("dressing",)),
    ("fries", "Fries", "Sides", 500, "1401", ("fry",), ()),
    ("onion-rings", "Onion Rings", "Sides", 650, "1402", ("fry",), ()),
    ("mac-side", "Mac & Cheese", "Sides", 700, "1403", ("grill",), ()),
    ("coleslaw", "Coleslaw", "Sides", 400, "1404", ("cold",), ()),
    ("lava-cake", "Chocolate Lava Cake", "Desserts", 950, "1501", ("grill",), ("dessert-addons",)),
    ("cheesecake", "New York Cheesecake", "Desserts", 850, "1502", ("cold",), ()),
    ("brownie-sundae", "Brownie Sundae", "Desserts", 900, "1503", ("cold",), ()),
    ("apple-pie", "Apple Pie", "Desserts", 800, "1504", ("cold",), ("dessert-addons",)),
    ("ipa", "House IPA (Draft)", "Beer", 750, "2001", ("bar",), ()),
    ("lager", "Lager (Draft)", "Beer", 650, "2002", ("bar",), ()),
    ("stout", "Stout (Draft)", "Beer", 800, "2003", ("bar",), ()),
    ("light-beer", "Light Beer (Bottle)", "Beer", 550, "2004", ("bar",), ()),
    ("cabernet", "Cabernet Sauvignon (Glass)", "Wine", 1300, "2101", ("bar",), ()),
    ("chardonnay", "Chardonnay (Glass)", "Wine", 1200, "2102", ("bar",), ()),
    ("pinot-grigio", "Pinot Grigio (Glass)", "Wine", 1100, "2103", ("bar",), ()),
    ("prosecco", "Prosecco (Glass)", "Wine", 1100, "2104", ("bar",), ()),
    ("cabernet-btl", "Cabernet Sauvignon (Bottle)", "Wine", 4800, "2105", ("bar",), ()),
    ("margarita", "Margarita", "Cocktails", 1300, "2201", ("bar",), ("cocktail-options",)),
    ("old-fashioned", "Old Fashioned", "Cocktails", 1500, "2202", ("bar",), ("cocktail-options",)),
    ("espresso-martini", "Espresso Martini", "Cocktails", 1500, "2203", ("bar",), ("cocktail-options",)),
    ("moscow-mule", "Moscow Mule", "Cocktails", 1300, "2204", ("bar",), ("cocktail-options",)),
    ("soda", "Fountain Soda", "Non-alcoholic", 350, "2301", ("bar",), ()),
    ("iced-tea", "Iced Tea", "Non-alcoholic", 350, "2302", ("bar",), ()),
    ("lemonade", "Lemonade", "Non-alcoholic", 400, "2303", ("bar",), ()),
    ("coffee", "Coffee", "Non-alcoholic", 350, "2304", ("bar",), ()),
    ("sparkling", "Sparkling Water", "Non-alcoholic", 450, "2305", ("bar",), ()),
    (GIFT_CARD_ITEM_ID, "Gift Card", GIFT_CARD_CATEGORY, 5000, "8001", (), ()),
]

_COURSES = {"Starters": APPS_COURSE, "Burgers": MAINS_COURSE, "Entrees": MAINS_COURSE}
_COURSES |= {"Salads": MAINS_COURSE, "Sides": MAINS_COURSE, "Desserts": DESSERTS_COURSE}


def _group(spec: tuple[str, str, int, int, list[Mod]], currency: str) -> ModifierGroup:
    group_id, name, min_selected, max_selected, mods = spec
    modifiers = [
        MenuModifier(id=i, name=n, price=Money(p, currency), plu=plu, action=a, station=s)
        for i, n, p, plu, a, s in mods
    ]
    return ModifierGroup(
        id=group_id,
        name=name,
        modifiers=modifiers,
        min_selected=min_selected,
        max_selected=max_selected,
    )


def _item(spec: Item, currency: str) -> MenuItem:
    item_id, name, category, price, plu, stations, groups = spec
    return MenuItem(
        id=item_id,
        name=name,
        category=category,
        price=Money(price, currency),
        plu=plu,
        stations=list(stations),
        modifier_groups=list(groups),
        course=_COURSES.get(category),
    )


def restaurant_menu(currency: str = "USD") -> Menu:
    """A fresh copy of the simulated menu (callers may 86 items on their copy)."""
    return Menu(
        items=[_item(spec, currency) for spec in _ITEMS],
        modifier_groups=[_group(spec, currency) for spec in _GROUPS],
        categories=list(CATEGORIES),
    )
