"""Synthetic insured people and employers for the end-to-end tests."""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from faker import Faker
from stdnum.cn import ric

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
