"""Background work as the domain declares it (后台任务): actors, applied by the workers.

`@actor` records an async function under a name; the outbox (:mod:`core.outbox`) writes messages
for it, and the workers (`workers.actors.run_actor`) apply each message at most once inside the
message's tenant scope.  Every message carries `message_id` and `tenant_id`.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Awaitable, Callable


@dataclass(frozen=True)
class ActorSpec:
    """An actor as declared: its name, its async function and how often a failure is retried."""

    name: str
    fn: Callable[..., Awaitable[None]]
    max_retries: int = 5


_registry: dict[str, ActorSpec] = {}
current_message_id: ContextVar[str | None] = ContextVar("current_message_id", default=None)


def actor(name: str | None = None, max_retries: int = 5) -> Callable[[Callable[..., Awaitable[Any]]], ActorSpec]:
    """Register an async function as an actor; it receives the message's keyword arguments."""

    def wrap(fn: Callable[..., Awaitable[Any]]) -> ActorSpec:
        spec = ActorSpec(name=name or fn.__name__, fn=fn, max_retries=max_retries)
        _registry[spec.name] = spec
        return spec

    return wrap


def all_actors() -> dict[str, ActorSpec]:
    """Every actor known to this process: those declared here and those the plugins return."""
    from core.plugins import get_plugin_manager

    specs = {spec.name: spec for spec in get_plugin_manager().actors()}
    return {**_registry, **specs}
