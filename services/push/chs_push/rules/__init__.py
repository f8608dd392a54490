"""The push service's rules, pure functions, no I/O: a person's profile folded from the events
(``profile``), the conditions a segment may name (``conditions``) and the segment matcher
(``segments``). ``chs_push.app`` keeps the profiles in a faust table."""

from chs_push.rules.profile import SOURCE_TOPICS, TYPES, Profile, apply, dump, load

__all__ = ["SOURCE_TOPICS", "TYPES", "Profile", "apply", "dump", "load"]
