"""What a rule is: a domain result event → the notices it asks for."""

from collections.abc import Callable
from typing import Any

# (template_id, recipient person_id, params the processor fills)
NoticeSpec = tuple[str, str, dict[str, str]]
Rule = Callable[[Any], list[NoticeSpec]]
