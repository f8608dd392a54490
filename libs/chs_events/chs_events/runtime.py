"""Process entry points shared by the services: ``python -m <service> api|relay|consume|...``.

A service's ``__main__`` is one call::

    run_service(
        "chs_x",
        XSettings(),
        app="chs_x.api:create_app",
        subscriptions="chs_x.consumers:SUBSCRIPTIONS",
    )

which gives the commands ``api``, ``relay`` (the outbox), ``consume`` (every subscription in
one process) and ``worker`` (the relay and the consumers as tasks of one process: what the
Procfile runs, one process less per service, nothing shared but the event loop — each keeps its
own database connections and Kafka clients); ``workers={"name": worker}`` adds a command of the
service's own (or replaces a standard one), ``in_worker=("name",)`` runs it in ``worker`` too,
``beside_consumers={"job": job}`` runs scheduled jobs beside the consumers. A service that
keeps read models (``READ_MODELS`` of its migrations package: remote-care, transfer, maternity,
reimbursement) also has ``replay <read-model>``, which rebuilds one from the log
(``chs_events.replay``).

``app`` and ``subscriptions`` named as ``"module:attribute"`` are imported only by the command
that runs them, so that each process holds only what it runs: a worker never loads FastAPI,
uvicorn and the API's routes and schemas, an API never loads the consumers
(``bench/memory.py`` measures each process's resident memory). The objects themselves may be
given instead.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import signal
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import uvloop
from aiokafka import AIOKafkaProducer

from chs_events.consumer import ConsumerRunner, Subscription
from chs_events.db import declared_read_models, open_service_database
from chs_events.kafka import create_producer, started_producer
from chs_events.logging import configure_logging
from chs_events.metrics import serve_metrics
from chs_events.outbox import OutboxRelay
from chs_events.replay import replay_command
from chs_events.retry import Backoff
from chs_events.scheduled import Job, run_periodically
from chs_events.settings import ExpirySettings, PlatformSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

Worker = Callable[[PlatformSettings, asyncio.Event], Awaitable[None]]
PoolWork = Callable[[asyncpg.Pool, PlatformSettings, asyncio.Event], Awaitable[object]]
Settings = TypeVar("Settings", bound=PlatformSettings)
# The subscriptions of ``consume``: the list, or its "module:attribute" (a list, or a function of
# the settings that returns it), imported when ``consume`` starts.
Subscriptions = list[Subscription] | str


def imported(reference: str) -> Any:
    """The object a ``"module:attribute"`` names, its module imported now."""
    module, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module), attribute)


def subscribed(subscriptions: Subscriptions, settings: PlatformSettings) -> list[Subscription]:
    if not isinstance(subscriptions, str):
        return subscriptions
    found = imported(subscriptions)
    return found(settings) if callable(found) else list(found)


async def _until_signalled(worker: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await worker(stop)


def relay_worker(service_package: str) -> Worker:
    async def relay(settings: PlatformSettings, stop: asyncio.Event) -> None:
        pool = await open_service_database(
            settings.database_url, settings.database_name, service_package, max_size=1
        )
        await pool.close()
        producer = await started_producer(settings, "relay", stop)
        if producer is None:
            return

        async def renewed() -> AIOKafkaProducer:
            return await started_producer(settings, "relay", stop) or create_producer(
                settings, "relay"
            )

        relay = OutboxRelay(
            settings.database_dsn,
            producer,
            service=settings.service_name,
            topic_prefix=settings.topic_prefix,
            renew_producer=renewed,
        )
        try:
            await relay.run(stop)
        finally:
            await relay.producer.stop()

    return relay


async def run_together(runners: list[ConsumerRunner], stop: asyncio.Event) -> None:
    """Run the consumers until ``stop``; if one fails, stop the others and re-raise. With none
    (a service that consumes nothing), wait for ``stop``."""
    await _until_stopped_or_failed(
        [asyncio.create_task(runner.run(stop), name=runner.name) for runner in runners], stop
    )


async def _until_stopped_or_failed(tasks: list[asyncio.Future[None]], stop: asyncio.Event) -> None:
    if not tasks:
        await stop.wait()
        return
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            error = task.exception()
            if error is not None:
                raise error
    finally:
        stop.set()  # the others finish their batch and leave
        pending = [task for task in tasks if not task.done()]
        if pending:
            _, still_running = await asyncio.wait(pending, timeout=10)
            for task in still_running:
                task.cancel()


def consumers(
    subscriptions: list[Subscription],
    pool: asyncpg.Pool,
    settings: PlatformSettings,
    *,
    backoff: Backoff = Backoff(),
) -> list[ConsumerRunner]:
    """A runner for each subscription (``backoff`` between a failing event's attempts)."""
    return [
        ConsumerRunner(
            name=s.name,
            topics=s.topics,
            handlers=s.handlers,
            pool=pool,
            settings=settings,
            backoff=backoff,
            unhurried=s.unhurried,
        )
        for s in subscriptions
    ]


def pool_worker(service_package: str, work: PoolWork, *, max_size: int = 10) -> Worker:
    """A process that opens (and migrates) the service's database, runs ``work(pool, settings,
    stop)``, and closes the pool."""

    async def worker(settings: PlatformSettings, stop: asyncio.Event) -> None:
        pool = await open_service_database(
            settings.database_url, settings.database_name, service_package, max_size=max_size
        )
        try:
            await work(pool, settings, stop)
        finally:
            await pool.close()

    return worker


def consumer_worker(
    service_package: str,
    subscriptions: Subscriptions,
    *,
    beside_consumers: Mapping[str, Job] | None = None,
) -> Worker:
    """One process running every consumer group of a service on one pool, and beside them the
    scheduled jobs ``{name: job}`` (each every ``CHS_EXPIRY_INTERVAL_SECONDS``) on a pool of
    their own."""
    jobs = dict(beside_consumers or {})

    async def run_jobs(pool: asyncpg.Pool, settings: PlatformSettings, stop: asyncio.Event) -> None:
        assert isinstance(settings, ExpirySettings)
        await asyncio.gather(
            *(run_periodically(name, job, pool, settings, stop) for name, job in jobs.items())
        )

    async def consume(pool: asyncpg.Pool, settings: PlatformSettings, stop: asyncio.Event) -> None:
        beside = pool_worker(service_package, run_jobs, max_size=1)
        scheduled = [asyncio.ensure_future(beside(settings, stop))] if jobs else []
        try:
            await run_together(consumers(subscribed(subscriptions, settings), pool, settings), stop)
        finally:
            stop.set()  # the scheduled jobs end their run and leave
            await asyncio.gather(*scheduled)

    return pool_worker(service_package, consume)


def main(
    package: str,
    settings: Settings,
    *,
    app: Callable[[Settings], FastAPI] | str | None,
    workers: dict[str, Worker],
    read_models: tuple[str, ...] = (),
    arguments: list[str] | None = None,
) -> None:
    """Run one process of a service (``python -m <package> <command>``): ``api`` (``app``, or
    the ``"module:attribute"`` of it), one of the named workers, or ``replay <read-model>`` (one
    of ``read_models``)."""
    commands = (["api"] if app else []) + sorted(workers) + (["replay"] if read_models else [])
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument("command", choices=commands)
    if read_models:
        parser.add_argument(
            "read_model", nargs="?", choices=read_models, help="replay: the read model to rebuild"
        )
    options = parser.parse_args(arguments)
    command = options.command
    if command == "replay" and options.read_model is None:
        parser.error(f"replay: name the read model ({', '.join(read_models)})")
    configure_logging(f"{settings.service_name}-{command}", settings.log_level)
    if command == "replay":  # beside the running worker: no metrics port of its own
        uvloop.run(
            _until_signalled(
                lambda stop: replay_command(package, options.read_model)(settings, stop)
            )
        )
        return
    if app is not None and command == "api":
        import uvicorn  # the HTTP server: only the api command loads it

        create = imported(app) if isinstance(app, str) else app
        uvicorn.run(
            create(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
            loop="uvloop",
            http="httptools",
        )
        return
    serve_metrics(settings.metrics_port, settings.http_host)
    uvloop.run(_until_signalled(lambda stop: workers[command](settings, stop)))


def together(*workers: Worker) -> Worker:
    """One process running ``workers`` as tasks; when one fails, the others stop and the
    process exits with its error (the supervisor restarts all of them)."""

    async def run(settings: PlatformSettings, stop: asyncio.Event) -> None:
        await _until_stopped_or_failed(
            [asyncio.ensure_future(worker(settings, stop)) for worker in workers], stop
        )

    return run


def run_service(
    package: str,
    settings: Settings,
    *,
    app: Callable[[Settings], FastAPI] | str,
    subscriptions: Subscriptions,
    beside_consumers: Mapping[str, Job] | None = None,
    workers: Mapping[str, Worker] | None = None,
    in_worker: tuple[str, ...] = (),
) -> None:
    """Run one process of a domain service (``python -m <package> <command>``): ``api``,
    ``relay`` (publishes the outbox), ``consume`` (the ``subscriptions``, and the scheduled
    ``beside_consumers`` jobs), ``worker`` (relay, consume and the ``in_worker`` ones in one
    process; a service with nothing to consume, the relay without ``consume``), and the
    service's own ``workers`` (which may replace a standard one)."""
    commands: dict[str, Worker] = {
        "relay": relay_worker(package),
        "consume": consumer_worker(package, subscriptions, beside_consumers=beside_consumers),
    } | dict(workers or {})

    async def worker(settings: PlatformSettings, stop: asyncio.Event) -> None:
        consumes = bool(
            subscribed(subscriptions, settings) or beside_consumers or "consume" in (workers or {})
        )
        await together(
            commands["relay"],
            *([commands["consume"]] if consumes else []),
            *(commands[name] for name in in_worker),
        )(settings, stop)

    commands["worker"] = worker
    main(
        package,
        settings,
        app=app,
        workers=commands,
        read_models=declared_read_models(package),
    )
