from decimal import Decimal

from expediter.model.order import LineKind, ModifierAction
from expediter.operations.kitchen.routing import EXPO, RoutingRules, route_order
from tests.operations.kitchen.helpers import CATEGORIES, burger, line, mod, order

RULES = RoutingRules(category_stations=CATEGORIES, default_station="kitchen")


def test_menu_stations_win_over_category() -> None:
    routed = route_order(order(lines=[line("l-1", "Steak", "burgers", stations=["grill", "saute"])]), RULES)
    assert sorted(routed) == ["expo", "grill", "saute"]
    assert [i.name for i in routed["saute"]] == ["Steak"]


def test_category_mapping_then_default_station() -> None:
    routed = route_order(order(lines=[line("l-1", "Caesar", "salads"), line("l-2", "Mystery", "odd")]), RULES)
    assert [i.name for i in routed["cold"]] == ["Caesar"]
    assert [i.name for i in routed["kitchen"]] == ["Mystery"]


def test_modifier_station_override_makes_a_component_on_that_station() -> None:
    routed = route_order(
        order(lines=[line("l-1", "Burger", qty=2, modifiers=[mod("Fries", station="fry")])]), RULES
    )
    fry = routed["fry"]
    assert [(i.name, i.component_of, i.quantity) for i in fry] == [("Fries", "Burger", Decimal(2))]
    grill_mods = routed["grill"][0].modifiers
    assert [(m.name, m.station) for m in grill_mods] == [("Fries", "fry")]


def test_removal_on_another_station_is_not_cooked_there() -> None:
    routed = route_order(
        order(lines=[line("l-1", "Burger", modifiers=[mod("Fries", ModifierAction.REMOVE, station="fry")])]),
        RULES,
    )
    assert "fry" not in routed


def test_expo_sees_the_whole_order_with_nested_modifiers() -> None:
    salad = line("l-2", "Side Salad", "salads", modifiers=[mod("Dressing", modifiers=[mod("Ranch")])])
    routed = route_order(order(lines=[burger(), salad, line("l-3", "Gift", kind=LineKind.GIFT_CARD)]), RULES)
    assert [i.name for i in routed[EXPO]] == ["Classic Burger", "Side Salad"]
    dressing = routed["cold"][0].modifiers
    assert [(m.name, m.depth) for m in dressing] == [("Dressing", 1), ("Ranch", 2)]


def test_later_course_is_held_until_fired() -> None:
    lines = [
        line("l-1", "Soup", "salads", course=1),
        line("l-2", "Steak", course=2),
        line("l-3", "Cola", "drinks"),
    ]
    held = route_order(order(lines=lines), RULES)
    assert [i.fired for i in held["grill"]] == [False]
    assert [i.fired for i in held["cold"]] == [True]
    assert [i.fired for i in held["bar"]] == [True]
    fired = route_order(order(lines=lines), RULES, {2})
    assert [i.fired for i in fired["grill"]] == [True]


def test_a_line_without_stations_or_category_routes_by_its_plu() -> None:
    from decimal import Decimal

    from expediter.model.money import Money
    from expediter.model.order import Line
    from expediter.operations.kitchen.routing import RoutingRules, stations_for_line

    rules = RoutingRules(category_stations={"Burgers": ["grill"]}, plu_stations={"1004": ["fry"]})
    online = Line(id="1", name="Fried Calamari", quantity=Decimal(1), unit_price=Money(1450), plu="1004")
    unknown = Line(id="2", name="Mystery", quantity=Decimal(1), unit_price=Money(100), plu="9999")
    burger = Line(id="3", name="Burger", quantity=Decimal(1), unit_price=Money(100), category="Burgers")
    assert stations_for_line(online, rules) == ["fry"]
    assert stations_for_line(unknown, rules) == ["kitchen"]
    assert stations_for_line(burger, rules) == ["grill"]


def test_a_to_go_ticket_is_called_by_the_guest_name() -> None:
    from expediter.model.order import OrderSource
    from expediter.operations.kitchen.tickets import guest_label
    from tests.operations.kitchen.helpers import order

    online = order("o-9", table=None, source=OrderSource.MARKETPLACE, customer_name="Jordan")
    assert guest_label(online) == "marketplace: Jordan"
    assert guest_label(order("o-10", table="12")) == "Table 12"
