from __future__ import annotations

from collections import Counter

from expediter.model.order import ModifierAction
from expediter.sim.menu import (
    GIFT_CARD_ITEM_ID,
    NESTED_GROUPS,
    STATIONS,
    restaurant_menu,
    staff_roster,
)
from tests.sim.places import NEW_YORK


def test_menu_has_about_forty_items_in_every_category() -> None:
    menu = restaurant_menu()
    assert 38 <= len(menu.items) <= 55
    used = {item.category for item in menu.items}
    assert used == set(menu.categories)
    assert len({item.plu for item in menu.items}) == len(menu.items)
    assert len({item.id for item in menu.items}) == len(menu.items)


def test_stations_and_courses_are_set() -> None:
    menu = restaurant_menu()
    for item in menu.items:
        assert set(item.stations) <= set(STATIONS), item.id
        assert item.price.amount > 0
    assert any(len(item.stations) == 2 for item in menu.items)
    courses = {item.category: item.course for item in menu.items}
    assert (courses["Starters"], courses["Entrees"], courses["Desserts"], courses["Beer"]) == (1, 2, 3, None)
    gift = menu.item(GIFT_CARD_ITEM_ID)
    assert gift is not None and gift.stations == []


def test_modifier_groups_cover_the_kitchen_cases() -> None:
    menu = restaurant_menu()
    for item in menu.items:
        for group_id in item.modifier_groups:
            assert menu.group(group_id) is not None, (item.id, group_id)
    modifiers = {m.id: m for g in menu.modifier_groups for m in g.modifiers}
    assert modifiers["no-onions"].action is ModifierAction.REMOVE
    assert modifiers["side-fries"].station == "fry"
    assert modifiers["add-bacon"].price.amount > 0
    for modifier_id, group_id in NESTED_GROUPS.items():
        assert modifier_id in modifiers and menu.group(group_id) is not None
    burger = menu.item("burger-classic")
    assert burger is not None and "temperature" in burger.modifier_groups


def test_roster_has_every_job_and_managers_are_flagged() -> None:
    roster = staff_roster(NEW_YORK)
    jobs = Counter(employee.jobs[0].code for employee in roster)
    assert set(jobs) == {"server", "bartender", "line_cook", "dishwasher", "host", "manager"}
    for employee in roster:
        job = employee.jobs[0]
        assert job.manager == (job.code == "manager")
        assert job.tipped == (job.code in {"server", "bartender"})
        assert job.hourly_wage.amount > 0
    assert len({e.id for e in roster}) == len(roster)
    assert len({e.payroll_id for e in roster}) == len(roster)
