"""The push service's domain rules that are not the profile's or the segment's (no I/O)."""

from chs_events.masking import mask_id_number

SHOWN = "a person id shows its first and last four characters only"


def masked(person_id: str) -> str:
    """A person id as a preview shows it: p3a9************************1f0e."""
    return mask_id_number(person_id)
