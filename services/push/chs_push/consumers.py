"""The push service's consumer groups: none yet. The profiles are the processor's
(``chs_push.app``); the campaigns' fan-out, when it comes, is a worker of its own."""

from chs_events.consumer import Subscription

SUBSCRIPTIONS: list[Subscription] = []
