"""The kitchen: routing orders to stations, tickets, the screens' live feed, status and 86.

Public surface (what the hub, the web layer and the connectors use)::

    Kitchen(store, *, system_id, emit, settings, category_stations)   the service
    KitchenStore(storage)                                            its tables in the hub's database
    KitchenSettings, CourseMode, StationTiming                       its settings
    Ticket, TicketState, TicketItem, RoutingRules, route_order, EXPO  the data
"""

from expediter.model.kitchen import CourseMode
from expediter.operations.kitchen.routing import EXPO, RoutingRules, TicketItem, TicketModifier, route_order
from expediter.operations.kitchen.service import Kitchen, KitchenSettings, Subscription
from expediter.operations.kitchen.store import KitchenEvent, KitchenStore
from expediter.operations.kitchen.tickets import StationTiming, Ticket, TicketState, ticket_id_for

__all__ = [
    "EXPO",
    "CourseMode",
    "Kitchen",
    "KitchenEvent",
    "KitchenSettings",
    "KitchenStore",
    "RoutingRules",
    "StationTiming",
    "Subscription",
    "Ticket",
    "TicketItem",
    "TicketModifier",
    "TicketState",
    "route_order",
    "ticket_id_for",
]
