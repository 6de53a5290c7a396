from __future__ import annotations

from datetime import UTC, datetime, timedelta

from expediter.monitor.alerts import (
    DEFAULT_RULES,
    AlertBook,
    AlertKind,
    AlertRule,
    AlertState,
    rule_for,
)

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)


def test_every_kind_has_a_default_rule() -> None:
    assert {rule.kind for rule in DEFAULT_RULES} == set(AlertKind)


def test_a_flow_specific_rule_beats_the_general_one() -> None:
    special = AlertRule(id="orders-failure", kind=AlertKind.FAILURE, flow_id="orders")
    rules = (*DEFAULT_RULES, special)
    assert rule_for(AlertKind.FAILURE, rules, "orders") is special
    assert rule_for(AlertKind.FAILURE, rules, "sales").id == "failure"


def test_fire_is_deduplicated_by_rule_flow_and_location() -> None:
    book = AlertBook()
    rule = rule_for(AlertKind.FAILURE)
    first = book.fire(rule, "boom", NOW, "orders", "main")
    assert first is not None and first.state == AlertState.FIRING
    assert book.fire(rule, "boom again", NOW + timedelta(minutes=1), "orders", "main") is None
    assert book.fire(rule, "other place", NOW, "orders", "harbor") is not None
    assert len(book.firing()) == 2
    assert first.count == 2 and first.message == "boom again"


def test_resolve_closes_once() -> None:
    book = AlertBook()
    rule = rule_for(AlertKind.LATENESS)
    book.fire(rule, "late", NOW, "sales")
    resolved = book.resolve(rule, NOW + timedelta(hours=1), "sales")
    assert resolved is not None and resolved.state == AlertState.RESOLVED
    assert resolved.resolved_at == NOW + timedelta(hours=1)
    assert book.resolve(rule, NOW, "sales") is None
    assert book.firing() == []
    assert book.fire(rule, "late again", NOW, "sales") is not None  # fires anew after resolving
