"""Synthetic insured people and employers for the end-to-end tests, their contributions and the
SMS that reach them."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from stdnum.cn import ric

from tests.support.broker import until

_faker = Faker("zh_CN")


def id_number(region: str, born: date, rng: random.Random) -> str:
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 characters


def mobile(prefix: str, rng: random.Random) -> str:
    return f"{prefix}{rng.randrange(10_000):04d}"


@dataclass
class Person:
    id_number: str
    name: str
    mobile: str
    region_code: str

    @classmethod
    def make(
        cls,
        rng: random.Random,
        *,
        born: date | None = None,
        mobile_prefix: str = "1385321",
        region: str = "370202",
    ) -> "Person":
        """A person born on ``born`` or on a random day between 1970 and 2004."""
        born = born or date(1970, 1, 1) + timedelta(days=rng.randrange(35 * 365))
        return cls(id_number(region, born, rng), _faker.name(), mobile(mobile_prefix, rng), region)

    def as_json(self) -> dict:
        return {
            "id_number": self.id_number,
            "name": self.name,
            "mobile": self.mobile,
            "region_code": self.region_code,
        }


async def new_employer(enrollment, name: str, region_code: str = "370200") -> dict:
    response = await enrollment.post(
        "/employers",
        json={"name": name, "region_code": region_code},
        headers={"X-Admin-Token": "e2e-admin-token"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def staff_in_qingdao(enrollment, *people: Person) -> list[dict]:
    """The people, employees (310) since 2026-01-01 of a new Qingdao employer: the batch's items
    (person_id, enrollment_id) in their order."""
    employer = await new_employer(enrollment, "青岛港湾物流有限公司")
    added = await enrollment.post(
        f"/employers/{employer['employer_id']}/staff/batch-add",
        headers={"X-API-Key": employer["api_key"]},
        json={
            "items": [
                {**person.as_json(), "contribution_base_fen": 650000, "start_date": "2026-01-01"}
                for person in people
            ]
        },
    )
    assert added.status_code == 200, added.text
    return added.json()["items"]


async def pay(enrollment, rng: random.Random, item: dict, period: str = "202610") -> None:
    """A month's contribution (715.00 yuan, 130.00 of it the employee's part) for the
    enrollment of ``item`` (a batch-add item)."""
    paid = await enrollment.post(
        "/contributions",
        json={
            "payment_id": f"QD-{rng.randrange(10**12)}",
            "enrollment_id": item["enrollment_id"],
            "period": period,
            "amount_fen": 71500,
            "employer_part_fen": 58500,
            "personal_part_fen": 13000,
        },
    )
    assert paid.status_code == 201, paid.text


async def sms_of(notification, person_id: str, template_id: str, timeout: float = 60.0) -> dict:
    """The person's first message of ``template_id`` once it is sent (or delivered)."""

    async def arrived():
        messages = (await notification.get(f"/persons/{person_id}/messages")).json()["messages"]
        return next(
            (
                m
                for m in messages
                if m["template_id"] == template_id and m["status"] in ("sent", "delivered")
            ),
            None,
        )

    return await until(arrived, timeout=timeout, interval=0.2)
