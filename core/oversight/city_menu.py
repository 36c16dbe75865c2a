"""What a city's (市) users find in its menu and on their home: the big screen and the league table
of its districts — no case list, catalogue or company directory (a city has none)."""

from __future__ import annotations

from core.contrib import NavItem, WorkQueue
from core.i18n import N_


def city_navigation() -> list[NavItem]:
    return [
        NavItem(N_("My work"), "", order=0, group="work", icon="house"),
        NavItem(N_("District league table"), "city/", permission="screen.view", order=14, group="oversight",
                icon="award"),
        NavItem(N_("Big screen"), "screen/", permission="screen.view", order=15, group="oversight", icon="display"),
        NavItem(N_("Notifications"), "notifications/", order=90, group="account", icon="bell"),
    ]


def city_queues(tenant, user) -> list[WorkQueue]:
    """The districts the city oversees, opening the league table (watched, not acted on)."""
    if not user.can("screen.view"):
        return []

    async def count() -> int:
        from core.oversight.city import districts_of

        return len(await districts_of(tenant))

    return [WorkQueue("city.districts", N_("Districts overseen"), "city/", count, mine=False, order=5,
                      hint=N_("A district appears here once it and the city name each other in their manifests."))]
