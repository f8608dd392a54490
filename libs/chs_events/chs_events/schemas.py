"""What the services' response bodies share.

``PublicModel`` is a response body built from a model object's attributes of the same names:
``XPublic.model_validate(x)`` where every field corresponds, ``XPublic.from_attributes(x,
name=…)`` where some are computed or renamed. ``ChinaTime`` is a moment shown in Asia/Shanghai,
whether just made or read back from the database.
"""

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict

from chs_events.attributes import same_names
from chs_events.vocabulary import CHINA


def _in_china(moment: datetime) -> datetime:
    return moment.astimezone(CHINA)


ChinaTime = Annotated[AwareDatetime, AfterValidator(_in_china)]


class PublicModel(BaseModel):
    """A response body read from an object's attributes (nested bodies too)."""

    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def from_attributes(cls, *sources: object, **given: Any) -> Self:
        """The ``given`` fields (computed, renamed), and the others the ``sources`` have
        attributes for (the first that has one)."""
        return cls.model_validate(same_names(cls.model_fields, sources, given))
