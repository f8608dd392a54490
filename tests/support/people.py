"""Persons as the services' integration tests need them: a fresh person id, and a resident
enrolled in a service's enrollment read model (``chs_events.read_models.enrollments``) the way
its consumer would record it."""

import uuid
from datetime import date

import httpx
from fastapi import FastAPI

from chs_events.envelope import Envelope
from chs_events.events.enrollment import EnrollmentRegistered
from chs_events.read_models import enrollments
from chs_events.unit_of_work import UnitOfWork


def new_person_id() -> str:
    return "p" + uuid.uuid4().hex


async def enrolled_resident(app: FastAPI, person_id: str, pooling_region: str = "370200") -> None:
    """A resident (390) since 2020 in ``pooling_region``, in the app's enrollment read model."""
    event = EnrollmentRegistered(
        person_id=person_id,
        enrollment_id=f"N{uuid.uuid4().hex[:12]}",
        insutype="390",
        pooling_region=pooling_region,
        start_date=date(2020, 1, 1),
    )
    envelope = Envelope(event, source="/chs/enrollment")
    async with (
        app.state.pool.acquire() as conn,
        UnitOfWork.caused_by(conn, envelope, source="/chs/test") as uow,
    ):
        await enrollments.SUBSCRIPTION_HANDLERS[envelope.type](uow, envelope)


async def hire(
    client: httpx.AsyncClient,
    admin_token: str,
    employer_name: str,
    *,
    id_number: str,
    name: str,
    mobile: str,
) -> tuple[dict, dict]:
    """An employer in Qingdao registered through the enrollment API, and a person it adds to its
    staff (an employee of Laoshan since 2025-01-01, base 6,500 yuan): the employer as registered
    (its id and API key) and the person's batch-add item (person and enrollment ids)."""
    employer = await client.post(
        "/employers",
        json={"name": employer_name, "region_code": "370200"},
        headers={"X-Admin-Token": admin_token},
    )
    assert employer.status_code == 201, employer.text
    added = await client.post(
        f"/employers/{employer.json()['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer.json()["api_key"]},
        json={
            "items": [
                {
                    "id_number": id_number,
                    "name": name,
                    "mobile": mobile,
                    "region_code": "370212",
                    "contribution_base_fen": 650000,
                    "start_date": "2025-01-01",
                }
            ]
        },
    )
    assert added.status_code == 200, added.text
    [item] = added.json()["items"]
    return employer.json(), item
