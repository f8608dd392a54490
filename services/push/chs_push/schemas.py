"""Request and response bodies of the push API. A segment's body is ``rules.segments.Segment``
itself: the rule a campaign request will carry is the one previewed."""

from datetime import date

from pydantic import BaseModel, Field

from chs_push.rules.segments import Segment

SegmentBody = Segment


class PreviewPublic(BaseModel):
    count: int = Field(description="The profiles the segment matches today, in the region")
    sample: list[str] = Field(description="A few of them, person ids masked")
    as_of: date = Field(description="The day the ages, windows and elderly were computed for")
    region_prefix: str = Field(
        description="The region counted: the segment's, within the caller's (default: it)"
    )
