"""``streams.Routed``: a batch's outputs of several kinds, each kind to its own effect, the
effects run together and all ended before the call returns; an output no route takes is an
error; a failing effect fails the call only after the others have ended."""

import asyncio
from collections.abc import Sequence

import pytest

from chs_events.envelope import Envelope
from chs_events.events.notices import PushPreferenceChanged
from chs_events.streams import Routed

pytestmark = pytest.mark.unit

SOURCE = Envelope(
    PushPreferenceChanged(
        person_id="p1", opted_out=True, via="app", at="2026-03-01T10:00:00+08:00"
    ),
    source="/chs/test",
)


class Taken:
    def __init__(self, *, fails: bool = False, delay: float = 0.0) -> None:
        self.batches: list[list[object]] = []
        self.ended = False
        self._fails, self._delay = fails, delay

    async def __call__(self, caused: Sequence[tuple[Envelope, object]]) -> None:
        await asyncio.sleep(self._delay)
        self.batches.append([output for _, output in caused])
        self.ended = True
        if self._fails:
            raise RuntimeError("refused")


async def test_each_kind_goes_to_its_own_effect_once_a_batch():
    numbers, texts = Taken(), Taken()
    routed = Routed((int, numbers), ((str, bytes), texts))
    await routed([(SOURCE, 1), (SOURCE, "a"), (SOURCE, 2), (SOURCE, b"b")])
    assert numbers.batches == [[1, 2]]
    assert texts.batches == [["a", b"b"]]
    await routed([(SOURCE, 3)])  # an effect with nothing of its kind is not called
    assert numbers.batches == [[1, 2], [3]] and texts.batches == [["a", b"b"]]


async def test_an_output_no_route_takes_is_an_error():
    with pytest.raises(TypeError, match="float"):
        await Routed((int, Taken()))([(SOURCE, 1.5)])


async def test_a_failing_effect_fails_the_call_after_the_others_ended():
    failing, slow = Taken(fails=True), Taken(delay=0.05)
    with pytest.raises(RuntimeError, match="refused"):
        await Routed((int, failing), (str, slow))([(SOURCE, 1), (SOURCE, "a")])
    assert failing.ended and slow.ended
