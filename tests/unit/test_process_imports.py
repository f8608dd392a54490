"""Each process of the Procfile loads only what it runs (``bench/memory.py`` measures what that
saves): a worker neither the web stack nor its service's API, an API not its consumers, the
fraud and push processors not their services' APIs. Each check runs in a fresh interpreter,
since this one has imported everything."""

import subprocess
import sys

import pytest

from chs_events.consumer import Subscription
from chs_events.runtime import imported, subscribed
from chs_events.settings import PlatformSettings

SERVICES = (
    "chs_accounts",
    "chs_chronic",
    "chs_enrollment",
    "chs_feeds",
    "chs_fraud",
    "chs_maternity",
    "chs_notification",
    "chs_push",
    "chs_reimbursement",
    "chs_remote_care",
    "chs_transfer",
)
WEB_STACK = ("fastapi", "starlette", "uvicorn", "jwt", "httpx")
SUBSCRIPTIONS = [Subscription("x-things", ["chs.x.events"], {})]


def subscriptions_of(settings: PlatformSettings) -> list[Subscription]:
    return [Subscription(f"{settings.service_name}-things", ["chs.x.events"], {})]


def loaded_by(*modules: str) -> set[str]:
    """The modules an interpreter holds once it has imported ``modules``."""
    code = "; ".join(f"import {m}" for m in modules) + "; import sys; print(*sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(found.split())


@pytest.mark.parametrize("package", SERVICES)
def test_a_service_s_command_line_loads_neither_its_api_nor_its_consumers(package):
    loaded = loaded_by(f"{package}.__main__")
    assert not loaded & {*WEB_STACK, f"{package}.api", f"{package}.consumers"}


@pytest.mark.parametrize(
    "package", ["chs_enrollment", "chs_maternity", "chs_transfer", "chs_reimbursement"]
)
def test_the_consumers_of_a_service_load_no_web_stack(package):
    # the enrollment read model among them: its authorize_for_person is the APIs'
    assert not loaded_by(f"{package}.consumers") & set(WEB_STACK)


def test_the_processors_load_no_web_stack():
    loaded = loaded_by(
        "chs_fraud.processor",
        "chs_push.processor",
        "chs_progress_notices.__main__",
        "chs_account_notices.__main__",
    )
    assert not loaded & {*WEB_STACK, "chs_fraud.api", "chs_push.api"}


def test_a_reference_names_a_module_s_attribute():
    assert imported("chs_events.runtime:subscribed") is subscribed


def test_subscriptions_are_a_list_or_the_module_attribute_of_one_or_of_a_function():
    settings = PlatformSettings(service_name="y")
    assert subscribed(SUBSCRIPTIONS, settings) is SUBSCRIPTIONS
    assert subscribed(f"{__name__}:SUBSCRIPTIONS", settings) == SUBSCRIPTIONS
    (subscription,) = subscribed(f"{__name__}:subscriptions_of", settings)
    assert subscription.name == "y-things"
