"""A service's worker: its relay and consumers as tasks of one process (``runtime.together``)."""

import asyncio

import pytest
from fastapi import FastAPI

from chs_events import runtime
from chs_events.runtime import run_together, together
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


async def test_with_no_consumers_run_together_waits_for_the_stop():
    stop = asyncio.Event()
    task = asyncio.ensure_future(run_together([], stop))
    await asyncio.sleep(0.05)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, 5)


def _commands_of(monkeypatch, **service) -> tuple[dict, list[str]]:
    """The commands ``run_service`` gives, with a relay and a consume that only note they ran."""
    ran: list[str] = []
    given: dict = {}

    def noting(name: str):
        async def run(settings: PlatformSettings, stop: asyncio.Event) -> None:
            ran.append(name)

        return run

    monkeypatch.setattr(runtime, "relay_worker", lambda package: noting("relay"))
    monkeypatch.setattr(runtime, "consumer_worker", lambda *a, **k: noting("consume"))
    monkeypatch.setattr(runtime, "main", lambda package, settings, **k: given.update(k["workers"]))
    runtime.run_service("chs_feeds", PlatformSettings(), app=lambda settings: FastAPI(), **service)
    return given, ran


async def test_the_worker_of_a_service_that_consumes_nothing_is_its_relay(monkeypatch):
    commands, ran = _commands_of(monkeypatch, subscriptions=[])
    await asyncio.wait_for(commands["worker"](PlatformSettings(), asyncio.Event()), 5)
    assert ran == ["relay"]
    assert "consume" in commands  # still a command: it waits for the stop signal


async def test_subscriptions_named_by_reference_are_looked_at_when_the_worker_starts(monkeypatch):
    commands, ran = _commands_of(monkeypatch, subscriptions="chs_feeds.consumers:SUBSCRIPTIONS")
    await asyncio.wait_for(commands["worker"](PlatformSettings(), asyncio.Event()), 5)
    assert ran == ["relay"]  # feeds' list is empty


async def test_the_worker_of_a_service_with_consumers_runs_them_beside_the_relay(monkeypatch):
    from chs_events.consumer import Subscription

    commands, ran = _commands_of(monkeypatch, subscriptions=[Subscription("x", ["t"], {})])
    await asyncio.wait_for(commands["worker"](PlatformSettings(), asyncio.Event()), 5)
    assert sorted(ran) == ["consume", "relay"]


SERVICES_WITH_READ_MODELS = {
    "chs_remote_care": ("enrollments",),
    "chs_transfer": ("enrollments",),
    "chs_maternity": ("enrollments",),
    "chs_reimbursement": ("enrollments", "filings"),
}


def test_the_services_that_keep_read_models_can_replay_them():
    from chs_events.db import declared_read_models

    for package in (
        "chs_accounts",
        "chs_chronic",
        "chs_enrollment",
        "chs_notification",
        *SERVICES_WITH_READ_MODELS,
    ):
        assert declared_read_models(package) == SERVICES_WITH_READ_MODELS.get(package, ())


def test_replay_names_one_of_the_service_s_read_models(capsys):
    from chs_events.runtime import main

    def run(*arguments: str, read_models: tuple[str, ...] = ("enrollments",)) -> str:
        with pytest.raises(SystemExit) as exited:
            main(
                "chs_x",
                PlatformSettings(),
                app=None,
                workers={},
                read_models=read_models,
                arguments=list(arguments),
            )
        assert exited.value.code == 2
        return capsys.readouterr().err

    assert "replay: name the read model (enrollments)" in run("replay")
    assert "invalid choice: 'filings'" in run("replay", "filings")
    assert "invalid choice: 'replay'" in run("replay", "enrollments", read_models=())
