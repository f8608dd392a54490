"""The OpenAPI document states who may call each route: a route taken for two actions states
the callers of both."""

import pytest

from chs_enrollment.api import create_app
from chs_enrollment.settings import EnrollmentSettings
from chs_events.policy import permits_of

pytestmark = pytest.mark.unit


def test_an_enrollment_states_the_callers_of_resident_and_employee_enrollment():
    operation = create_app(EnrollmentSettings()).openapi()["paths"][
        "/persons/{person_id}/enrollments"
    ]["post"]
    for action in ("enrollment:enroll-resident", "enrollment:enroll-employee"):
        for permit in permits_of(action):
            assert permit.describe() in operation["x-callers"]
            assert permit.describe() in operation["description"]
