"""The SMS template registry, kept as data.

Each business area contributes a module of this package with a ``TEMPLATES`` tuple; every such
module is found and indexed by id at import. A template is checked when it is constructed, so a
placeholder missing from ``params`` fails at import rather than when the first person should
have received the message; so is a push or broadcast text without the carriers' opt-out
wording at its end (``rules.RULES.opt_out_wording``, in both variants).
"""

import importlib
import pkgutil
from collections.abc import Mapping
from types import MappingProxyType

from chs_notification.rules import RULES
from chs_notification.templates.model import (
    BusinessArea,
    Category,
    Template,
    UnknownTemplate,
    placeholders,
)

__all__ = [
    "TEMPLATES",
    "BusinessArea",
    "Category",
    "Template",
    "UnknownTemplate",
    "get_template",
    "placeholders",
]


def _index() -> Mapping[str, Template]:
    unruled = {category.value for category in Category} - set(RULES.categories)
    if unruled:
        raise ValueError(f"no category rule for {sorted(unruled)} (data/category_rules.json)")
    registry: dict[str, Template] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name == "model":
            continue
        for template in importlib.import_module(f"{__name__}.{module.name}").TEMPLATES:
            if template.template_id in registry:
                raise ValueError(f"duplicate template id {template.template_id}")
            registry[template.template_id] = template
    return MappingProxyType(registry)


TEMPLATES: Mapping[str, Template] = _index()


def get_template(template_id: str) -> Template:
    try:
        return TEMPLATES[template_id]
    except KeyError:
        raise UnknownTemplate(template_id) from None
