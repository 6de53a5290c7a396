"""What goes on a simulated check: items with their modifier trees, seats, courses, voids and comps.

Pricing, tax and tenders are in :mod:`expediter.sim.tenders`; this module only decides what the
guests ordered, the way a server rings it: starters to share, a main and a drink per seat, a
dessert round for some tables; bar tabs of rounds; takeout and online bags without alcohol.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from decimal import Decimal

from expediter.model.menu import Menu, MenuItem, MenuModifier, ModifierGroup
from expediter.model.money import Money
from expediter.model.order import Comp, Discount, LineKind, Modifier
from expediter.model.order import Line as OrderLine
from expediter.sim.config import COMP_REASONS, VOID_REASONS, CheckKind, SimConfig
from expediter.sim.menu import (
    ALCOHOL_CATEGORIES,
    GIFT_CARD_CATEGORY,
    GIFT_CARD_ITEM_ID,
    NESTED_GROUPS,
    restaurant_menu,
)

_QTY = {n: Decimal(n) for n in range(1, 5)}
_OPTIONAL_PICK = {"burger-addons": 0.35, "removals": 0.18, "salad-protein": 0.4}
_DEFAULT_OPTIONAL_PICK = 0.2


class MenuIndex:
    """The menu arranged for fast random picks (built once per currency)."""

    def __init__(self, menu: Menu) -> None:
        self.menu = menu
        self.groups: dict[str, ModifierGroup] = {g.id: g for g in menu.modifier_groups}
        self.by_category: dict[str, list[MenuItem]] = {}
        for item in menu.items:
            if item.available and item.category != GIFT_CARD_CATEGORY:
                self.by_category.setdefault(item.category, []).append(item)
        self.desserts_course = {i.id for i in self.by_category.get("Desserts", [])}
        gift = menu.item(GIFT_CARD_ITEM_ID)
        if gift is None:
            raise ValueError(f"the simulated menu lacks the gift card item {GIFT_CARD_ITEM_ID!r}")
        self.gift_card = gift

    def pick(self, rng: random.Random, category: str) -> MenuItem:
        return rng.choice(self.by_category[category])


_INDEXES: dict[str, MenuIndex] = {}


def menu_index(currency: str) -> MenuIndex:
    if currency not in _INDEXES:
        _INDEXES[currency] = MenuIndex(restaurant_menu(currency))
    return _INDEXES[currency]


class CheckWriter:
    """Builds the lines of one check; ``lines`` grows as items are rung."""

    def __init__(
        self, rng: random.Random, index: MenuIndex, order_id: str, config: SimConfig, minute: int
    ) -> None:
        self.rng = rng
        self.index = index
        self.order_id = order_id
        self.config = config
        self.happy_hour = config.happy_hour_start <= minute < config.happy_hour_end
        self.lines: list[OrderLine] = []

    def _modifier(self, option: MenuModifier, depth: int = 0) -> Modifier:
        nested: list[Modifier] = []
        group_id = NESTED_GROUPS.get(option.id)
        if group_id is not None and depth < 2:
            choice = self.rng.choice(self.index.groups[group_id].modifiers)
            nested.append(self._modifier(choice, depth + 1))
        return Modifier(
            name=option.name,
            modifier_id=option.id,
            plu=option.plu,
            action=option.action,
            quantity=_QTY[1],
            unit_price=option.price,
            station=option.station,
            modifiers=nested,
        )

    def _modifiers(self, item: MenuItem) -> list[Modifier]:
        chosen: list[Modifier] = []
        for group_id in item.modifier_groups:
            group = self.index.groups[group_id]
            count = group.min_selected
            chance = _OPTIONAL_PICK.get(group_id, _DEFAULT_OPTIONAL_PICK)
            if count < group.max_selected and self.rng.random() < chance:
                count += 1
            options = self.rng.sample(group.modifiers, min(count, len(group.modifiers)))
            chosen.extend(self._modifier(option) for option in options)
        return chosen

    def ring(self, item: MenuItem, *, seat: int | None = None, quantity: int = 1) -> OrderLine:
        """Add one line for ``item`` with randomly chosen modifiers; happy hour discounts alcohol."""
        line = OrderLine(
            id=f"{self.order_id}-L{len(self.lines) + 1}",
            name=item.name,
            quantity=_QTY[quantity],
            unit_price=item.price,
            item_id=item.id,
            plu=item.plu,
            category=item.category,
            modifiers=self._modifiers(item),
            stations=list(item.stations),
            course=item.course,
            seat=seat,
        )
        if self.happy_hour and item.category in ALCOHOL_CATEGORIES:
            amount = Money(gross_cents(line), item.price.currency).times(self.config.happy_hour_discount)
            line.discounts = [Discount(name="Happy Hour", amount=amount, reason="happy hour")]
        self.lines.append(line)
        return line

    def ring_from(self, category: str, *, seat: int | None = None, quantity: int = 1) -> OrderLine:
        return self.ring(self.index.pick(self.rng, category), seat=seat, quantity=quantity)

    def ring_gift_card(self) -> None:
        item = self.index.gift_card
        amount = self.rng.choice((2500, 5000, 5000, 10000))
        self.lines.append(
            OrderLine(
                id=f"{self.order_id}-L{len(self.lines) + 1}",
                name=f"{item.name} ${amount // 100}",
                quantity=_QTY[1],
                unit_price=Money(amount, item.price.currency),
                item_id=item.id,
                plu=item.plu,
                category=item.category,
                kind=LineKind.GIFT_CARD,
            )
        )

    def void_one(self, category: str) -> None:
        """A line rung by mistake and voided before it was made."""
        line = self.ring_from(category)
        line.voided = True
        line.void_reason = self.rng.choice(VOID_REASONS)
        line.discounts = []

    def comp_one(self, approved_by: str | None) -> None:
        """Give one served, undiscounted item line away in full."""
        candidates = [
            line
            for line in self.lines
            if not line.voided and not line.discounts and line.kind is LineKind.ITEM
        ]
        if candidates:
            line = self.rng.choice(candidates)
            amount = Money(gross_cents(line), line.unit_price.currency)
            line.comp = Comp(reason=self.rng.choice(COMP_REASONS), amount=amount, approved_by=approved_by)


def gross_cents(line: OrderLine) -> int:
    """(unit price + modifier tree) × quantity in cents; the simulator's quantities are whole."""
    per_unit = line.unit_price.amount + sum(_modifier_cents(m) for m in line.modifiers)
    return per_unit * int(line.quantity)


def _modifier_cents(modifier: Modifier) -> int:
    nested = sum(_modifier_cents(m) for m in modifier.modifiers)
    return (modifier.unit_price.amount + nested) * int(modifier.quantity)


def _drink_category(rng: random.Random, alcohol_share: float) -> str:
    if rng.random() >= alcohol_share:
        return "Non-alcoholic"
    return rng.choices(("Beer", "Wine", "Cocktails"), (45, 30, 25))[0]


def _main_category(rng: random.Random) -> str:
    return rng.choices(("Burgers", "Entrees", "Salads"), (40, 37, 23))[0]


def ring_table(writer: CheckWriter, guests: int, dinner: bool) -> None:
    """Starters to share, a main and a drink per seat, sometimes a side; desserts for some."""
    rng = writer.rng
    for _ in range(rng.randint(0, guests // 2 + 1)):
        writer.ring_from("Starters")
    alcohol = 0.55 if dinner else 0.2
    for seat in range(1, guests + 1):
        if rng.random() < 0.85:
            writer.ring_from(_drink_category(rng, alcohol), seat=seat)
        if rng.random() < 0.93:
            writer.ring_from(_main_category(rng), seat=seat)
        if rng.random() < 0.08:
            writer.ring_from("Sides", seat=seat)
        if dinner and rng.random() < 0.3:
            writer.ring_from(_drink_category(rng, alcohol), seat=seat)
    if rng.random() < 0.25:
        ring_desserts(writer, guests)


def ring_desserts(writer: CheckWriter, guests: int) -> None:
    for _ in range(writer.rng.randint(1, max(1, guests // 2))):
        writer.ring_from("Desserts")


def ring_bar(writer: CheckWriter, guests: int) -> None:
    """Rounds of drinks, sometimes bar food."""
    rng = writer.rng
    for _ in range(rng.randint(1, 2 + guests)):
        writer.ring_from(_drink_category(rng, 0.9), quantity=rng.choices((1, 2), (75, 25))[0])
    if rng.random() < 0.4:
        writer.ring_from(rng.choice(("Starters", "Burgers", "Sides")))


_TO_GO_CATEGORIES = ("Burgers", "Entrees", "Salads", "Starters", "Sides")
_TO_GO_WEIGHTS = (30, 22, 18, 18, 12)


def ring_to_go(writer: CheckWriter) -> None:
    """A takeout or delivery bag: food, maybe a soft drink, never alcohol."""
    rng = writer.rng
    for _ in range(rng.choices((1, 2, 3, 4, 5), (25, 35, 20, 12, 8))[0]):
        writer.ring_from(rng.choices(_TO_GO_CATEGORIES, _TO_GO_WEIGHTS)[0])
    if rng.random() < 0.35:
        writer.ring_from("Non-alcoholic")
    if rng.random() < 0.1:
        writer.ring_from("Desserts")


RINGERS: dict[CheckKind, Callable[[CheckWriter, int, bool], None]] = {
    CheckKind.TABLE: ring_table,
    CheckKind.BAR: lambda writer, guests, _dinner: ring_bar(writer, guests),
    CheckKind.TAKEOUT: lambda writer, _guests, _dinner: ring_to_go(writer),
    CheckKind.ONLINE: lambda writer, _guests, _dinner: ring_to_go(writer),
    CheckKind.MARKETPLACE: lambda writer, _guests, _dinner: ring_to_go(writer),
}
