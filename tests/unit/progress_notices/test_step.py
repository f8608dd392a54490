"""The progress-notice processor's step (``chs_progress_notices.app.requests_of``): a source
event → the envelopes of its notice requests, caused by it, their notice ids deterministic."""

import secrets
from datetime import date

import pytest

from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_progress_notices.app import requests_of
from chs_progress_notices.rules import notices_for
from chs_progress_notices.settings import ProgressNoticeSettings

pytestmark = pytest.mark.unit


def test_the_notices_of_an_event_are_caused_by_it() -> None:
    source = Envelope(
        EnrollmentRegistered(
            person_id="a" * 64,
            enrollment_id=secrets.token_hex(8),
            insutype="390",
            pooling_region="370200",
            start_date=date(2026, 11, 1),
        ),
        source="/chs/enrollment",
        correlation_id="request-1",
    )
    step = requests_of(ProgressNoticeSettings())
    [request] = step(source)
    assert request.event == notices_for(source)[0]
    assert request.source == "/chs/progress-notices"
    assert request.causation_id == source.id
    assert request.correlation_id == "request-1"
    [again] = step(source)  # redelivered: the same notice id, by which notification deduplicates
    assert again.event == request.event
