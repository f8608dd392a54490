"""A service's worker: its relay and consumers as tasks of one process (``runtime.together``)."""

import asyncio

import pytest

from chs_events.runtime import together
from chs_events.settings import PlatformSettings

pytestmark = pytest.mark.unit


async def test_the_tasks_run_until_stopped_and_all_finish():
    ran: list[str] = []

    def worker(name: str):
        async def run(settings: PlatformSettings, stop: asyncio.Event) -> None:
            ran.append(f"{name} started")
            await stop.wait()
            ran.append(f"{name} finished")

        return run

    stop = asyncio.Event()
    task = asyncio.ensure_future(
        together(worker("relay"), worker("consume"))(PlatformSettings(), stop)
    )
    await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sorted(ran) == ["consume finished", "consume started", "relay finished", "relay started"]


async def test_when_one_fails_the_others_stop_and_the_process_exits_with_its_error():
    stopped = asyncio.Event()

    async def relay(settings: PlatformSettings, stop: asyncio.Event) -> None:
        await stop.wait()
        stopped.set()

    async def consume(settings: PlatformSettings, stop: asyncio.Event) -> None:
        raise ConnectionError("broker gone")

    with pytest.raises(ConnectionError, match="broker gone"):
        await asyncio.wait_for(together(relay, consume)(PlatformSettings(), asyncio.Event()), 5)
    assert stopped.is_set()
