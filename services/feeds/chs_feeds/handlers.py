"""Command handlers: each runs in ONE unit of work. A chunk of reports locks its persons (in
person_id order), reads what is known of them, lets the aggregates decide line by line (a later
line sees what an earlier one of the chunk recorded), saves what they return and records their
events in the outbox; a batch's chunk also keeps its lines' outcomes and counts them."""

from chs_events.clock import now
from chs_events.unit_of_work import UnitOfWork
from chs_feeds import domain, repository
from chs_feeds.commands import CloseBatch, OpenBatch, RecordAccidents, RecordDeaths
from chs_feeds.model import AccidentCase, Batch, LineOutcome


async def handle_record_deaths(uow: UnitOfWork, command: RecordDeaths) -> list[LineOutcome]:
    """→ DeathRecorded for a new death, DeathCorrected for another date of a person already
    recorded dead, nothing for a duplicate."""
    async with uow:
        conn = uow.conn
        persons = [report.person_id for report in command.reports]
        await repository.lock_persons(conn, persons)
        known = await repository.deaths_of(conn, sorted(set(persons)))
        outcomes, sources = [], []
        for report in command.reports:
            deaths, reported = known[report.person_id].report(report, command.batch_id)
            known[report.person_id] = deaths
            if reported.superseded is not None:
                await repository.supersede(conn, reported.superseded)
            if reported.added is not None:
                await repository.insert_death(conn, reported.added)
            if reported.event is not None:
                await uow.record(reported.event)
            if reported.outcome.record_id is not None:
                sources.append((reported.outcome.record_id, report.source))
            outcomes.append(reported.outcome)
        await repository.add_sources(conn, "death_sources", "record_id", sources)
        return await _reported(uow, command.batch_id, [*outcomes, *command.rejected])


async def handle_record_accidents(uow: UnitOfWork, command: RecordAccidents) -> list[LineOutcome]:
    """→ AccidentCaseRecorded for a new case of a person, nothing for a duplicate."""
    async with uow:
        conn = uow.conn
        await repository.lock_persons(conn, (report.person_id for report in command.reports))
        known = await repository.accident_cases(
            conn, [(report.case_id, report.person_id) for report in command.reports]
        )
        outcomes, sources = [], []
        for report in command.reports:
            key = (report.case_id, report.person_id)
            case, outcome, event = AccidentCase.report(report, known.get(key), command.batch_id)
            if case is not None:
                known[key] = case
                await repository.insert_accident_case(conn, case)
            if event is not None:
                await uow.record(event)
            if outcome.record_id is not None:
                sources.append((*key, report.source))
            outcomes.append(outcome)
        await repository.add_sources(conn, "accident_sources", "case_id, person_id", sources)
        return await _reported(uow, command.batch_id, [*outcomes, *command.rejected])


async def _reported(
    uow: UnitOfWork, batch_id: str | None, outcomes: list[LineOutcome]
) -> list[LineOutcome]:
    """The outcomes in line order; a batch's kept with it and counted."""
    outcomes.sort(key=lambda outcome: outcome.line or 0)
    if batch_id is not None and outcomes:
        batch = await _batch(uow, batch_id)
        await repository.insert_lines(uow.conn, batch_id, outcomes)
        await repository.update_batch(uow.conn, batch.counted(outcomes))
    return outcomes


async def _batch(uow: UnitOfWork, batch_id: str) -> Batch:
    batch = await repository.get_batch(uow.conn, batch_id, for_update=True)
    if batch is None:
        raise domain.BatchNotFound(f"no batch {batch_id}")
    return batch


async def handle_open_batch(uow: UnitOfWork, command: OpenBatch) -> Batch:
    batch = Batch(
        command.batch_id, command.kind, command.format, command.uploaded_by, received_at=now()
    )
    async with uow:
        await repository.insert_batch(uow.conn, batch)
    return batch


async def handle_close_batch(uow: UnitOfWork, command: CloseBatch) -> Batch:
    async with uow:
        batch = (await _batch(uow, command.batch_id)).closed(now(), command.stopped_reason)
        await repository.update_batch(uow.conn, batch)
    return batch
