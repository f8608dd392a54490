"""The feeds service consumes no topic: its records come in over HTTP from outside the platform
(``api``), and it publishes them through its outbox. ``SUBSCRIPTIONS`` is empty, so ``consume``
(and the ``consume`` part of ``worker``) only waits for the stop signal (``__main__``)."""

from chs_events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
