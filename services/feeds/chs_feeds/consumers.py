"""The feeds service consumes no topic: its records come in over HTTP from outside the platform
(``api``), and it publishes them through its outbox. ``SUBSCRIPTIONS`` is empty, so ``consume``
only waits for the stop signal and ``worker`` is the relay alone (``chs_events.runtime``)."""

from chs_events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
