"""HTTP API of the notification service: a person's messages, delivery statistics, templates,
the person's push preference (the opt-out register)."""

from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import APIRouter, FastAPI, Query

from chs_events import clock
from chs_events.auth import Caller
from chs_events.errors import NotFound, Rejected
from chs_events.policy import Target, allowed, authorize
from chs_events.problems import problem_responses
from chs_events.service import Connection, UnitOfWorkDep, create_service_app
from chs_events.vocabulary import CHINA
from chs_notification import handlers, repository
from chs_notification.commands import SetPushPreference
from chs_notification.domain import delivery_success_rate
from chs_notification.schemas import (
    DeliveryStats,
    DeliveryStatsRow,
    MessageView,
    PersonMessages,
    PushPreferenceUpdate,
    PushPreferenceView,
    TemplateView,
)
from chs_notification.settings import NotificationSettings
from chs_notification.templates import TEMPLATES

MAX_STATS_DAYS = 366

router = APIRouter()
ReadsMessages = Annotated[Caller, allowed("notification:read-messages")]


def _view(row: asyncpg.Record) -> MessageView:
    return MessageView.model_validate(dict(row))


@router.get(
    "/persons/{person_id}/messages",
    response_model=PersonMessages,
    tags=["messages"],
    summary="A person's messages, newest first",
)
async def person_messages(
    person_id: str,
    caller: ReadsMessages,
    conn: Connection,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> PersonMessages:
    authorize(caller, "notification:read-messages", Target(person_id=person_id))
    rows = await repository.person_messages(conn, person_id, limit)
    return PersonMessages(person_id=person_id, messages=[_view(row) for row in rows])


@router.get(
    "/messages/{message_id}", response_model=MessageView, tags=["messages"], summary="One message"
)
async def message(message_id: UUID, caller: ReadsMessages, conn: Connection) -> MessageView:
    """The message's person's or an admin's: a person gets the same 403 for another's message
    and for none."""
    row = await repository.get_message(conn, message_id)
    owner = None if row is None else row["person_id"]
    authorize(caller, "notification:read-messages", Target(person_id=owner))
    if row is None:
        raise NotFound(f"no message {message_id}")
    return _view(row)


@router.get(
    "/stats/delivery",
    response_model=DeliveryStats,
    tags=["statistics"],
    summary="Delivery success per template and day (Asia/Shanghai)",
)
async def delivery_stats(
    _: Annotated[Caller, allowed("notification:read-stats")],
    conn: Connection,
    date_from: Annotated[date | None, Query(description="Default: 6 days before date_to")] = None,
    date_to: Annotated[date | None, Query(description="Default: today")] = None,
    template_id: str | None = None,
) -> DeliveryStats:
    date_to = date_to or datetime.now(CHINA).date()
    date_from = date_from or date_to - timedelta(days=6)
    if date_from > date_to:
        raise Rejected(f"date_from {date_from} is after date_to {date_to}")
    if (date_to - date_from).days >= MAX_STATS_DAYS:
        raise Rejected(f"at most {MAX_STATS_DAYS} days at a time")
    rows = await repository.delivery_stats(conn, date_from, date_to, template_id)
    return DeliveryStats(
        date_from=date_from,
        date_to=date_to,
        template_id=template_id,
        rows=[
            DeliveryStatsRow(
                **dict(row),
                success_rate=delivery_success_rate(
                    row["delivered"], row["delivered"] + row["failed"] + row["undeliverable"]
                ),
            )
            for row in rows
        ],
    )


@router.get(
    "/templates",
    response_model=list[TemplateView],
    tags=["templates"],
    summary="The template registry",
)
async def templates(
    _: Annotated[Caller, allowed("notification:read-templates")],
) -> list[TemplateView]:
    return [
        TemplateView.from_attributes(
            t, category=t.category.value, business_area=t.business_area.value
        )
        for t in TEMPLATES.values()
    ]


def _preference(person_id: str, row: asyncpg.Record | None) -> PushPreferenceView:
    if row is None:  # never recorded: opted in
        return PushPreferenceView(person_id=person_id, opted_out=False, via=None, changed_at=None)
    return PushPreferenceView.model_validate(dict(row))


@router.get(
    "/persons/{person_id}/push-preference",
    response_model=PushPreferenceView,
    tags=["push preference"],
    summary="Whether the person opted out of push and broadcast messages",
    responses=problem_responses(403),
)
async def push_preference(
    person_id: str,
    caller: Annotated[Caller, allowed("notification:read-push-preference")],
    conn: Connection,
) -> PushPreferenceView:
    """Never changed: opted in (``opted_out`` false, ``via`` and ``changed_at`` null)."""
    authorize(caller, "notification:read-push-preference", Target(person_id=person_id))
    return _preference(person_id, await repository.get_push_preference(conn, person_id))


@router.put(
    "/persons/{person_id}/push-preference",
    response_model=PushPreferenceView,
    tags=["push preference"],
    summary="Opt out of push and broadcast messages, or back in",
    responses=problem_responses(403, 422),
)
async def set_push_preference(
    person_id: str,
    body: PushPreferenceUpdate,
    caller: Annotated[Caller, allowed("notification:set-push-preference")],
    uow: UnitOfWorkDep,
) -> PushPreferenceView:
    """The person themself, in the app. Opted out, the person gets no push nor broadcast
    message (those queued are not sent); business results and account notices are service
    messages and always go. A change is published (PushPreferenceChanged on
    ``chs.notices.preferences``); the same preference again changes nothing."""
    authorize(caller, "notification:set-push-preference", Target(person_id=person_id))
    row, _ = await handlers.handle_set_push_preference(
        uow, SetPushPreference(person_id, body.opted_out, "app", clock.now())
    )
    return _preference(person_id, row)


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    return create_service_app(
        settings or NotificationSettings(),
        "chs_notification",
        title="CHS notification (短信服务平台)",
        description="The one way an SMS leaves the platform: messages per person, delivery "
        "success per template and day, the template registry, the opt-out register.",
        routers=[router],
    )
