"""Process entry points shared by the services: ``python -m <service> api|relay|consume|...``."""

import argparse
import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import uvicorn
from fastapi import FastAPI

from chs_events.consumer import ConsumerRunner, Subscription
from chs_events.db import open_service_database
from chs_events.kafka import create_producer
from chs_events.logging import configure_logging
from chs_events.metrics import serve_metrics
from chs_events.outbox import OutboxRelay
from chs_events.settings import PlatformSettings

Worker = Callable[[PlatformSettings, asyncio.Event], Awaitable[None]]
Settings = TypeVar("Settings", bound=PlatformSettings)


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
        producer = create_producer(settings, "relay")
        await producer.start()
        try:
            await OutboxRelay(
                settings.database_dsn,
                producer,
                service=settings.service_name,
                topic_prefix=settings.topic_prefix,
            ).run(stop)
        finally:
            await producer.stop()

    return relay


async def run_together(runners: list[ConsumerRunner], stop: asyncio.Event) -> None:
    """Run the consumers until ``stop``; if one fails, stop the others and re-raise."""
    tasks = [asyncio.create_task(runner.run(stop), name=runner.name) for runner in runners]
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
    subscriptions: list[Subscription], pool: asyncpg.Pool, settings: PlatformSettings
) -> list[ConsumerRunner]:
    return [
        ConsumerRunner(
            name=s.name, topics=s.topics, handlers=s.handlers, pool=pool, settings=settings
        )
        for s in subscriptions
    ]


def consumer_worker(service_package: str, subscriptions: list[Subscription]) -> Worker:
    """One process running every consumer group of a service on one pool."""

    async def consume(settings: PlatformSettings, stop: asyncio.Event) -> None:
        pool = await open_service_database(
            settings.database_url, settings.database_name, service_package
        )
        try:
            await run_together(consumers(subscriptions, pool, settings), stop)
        finally:
            await pool.close()

    return consume


def main(
    package: str,
    settings: Settings,
    *,
    app: Callable[[Settings], FastAPI] | None,
    workers: dict[str, Worker],
) -> None:
    """Run one process of a service (``python -m <package> <command>``): ``api`` or one of the
    named workers."""
    commands = (["api"] if app else []) + sorted(workers)
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    parser.add_argument("command", choices=commands)
    command = parser.parse_args().command
    configure_logging(f"{settings.service_name}-{command}", settings.log_level)
    if app is not None and command == "api":
        uvicorn.run(
            app(settings),
            host=settings.http_host,
            port=settings.http_port,
            log_config=None,
            access_log=False,
        )
        return
    serve_metrics(settings.metrics_port, settings.http_host)
    asyncio.run(_until_signalled(lambda stop: workers[command](settings, stop)))
