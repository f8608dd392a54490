"""Every service has the template's file set (``libs/chs_events/README.md``, "The service
template"), so that anyone finds their way in any of them."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

SERVICES = Path(__file__).resolve().parents[2] / "services"

# A domain service: an HTTP API, its own database, an outbox relay, consumers.
SERVICE_FILES = frozenset(
    {
        "__init__.py",
        "__main__.py",
        "settings.py",
        "model.py",
        "commands.py",
        "domain.py",
        "handlers.py",
        "repository.py",
        "schemas.py",
        "api.py",
        "consumers.py",
        "migrations/__init__.py",
        "migrations/0001_init.sql",
    }
)
# A stream processor (faust): pure rules under an agent, no database of its own.
PROCESSOR_FILES = frozenset(
    {
        "__init__.py",
        "__main__.py",
        "settings.py",
        "app.py",
        "rules/__init__.py",
    }
)
PROCESSORS = frozenset({"progress-notices", "account-notices"})


def package_of(service: Path) -> Path:
    packages = [p for p in service.iterdir() if (p / "__init__.py").is_file()]
    assert len(packages) == 1, f"{service.name}: one package expected, found {packages}"
    return packages[0]


def missing_files(service: Path) -> set[str]:
    expected = PROCESSOR_FILES if service.name in PROCESSORS else SERVICE_FILES
    package = package_of(service)
    return {name for name in expected if not (package / name).is_file()}


def services() -> list[Path]:
    return sorted(p for p in SERVICES.iterdir() if (p / "pyproject.toml").is_file())


@pytest.mark.parametrize("service", services(), ids=lambda p: p.name)
def test_service_has_the_template_files(service: Path) -> None:
    assert missing_files(service) == set()


def test_a_missing_template_file_is_found(tmp_path: Path) -> None:
    service = tmp_path / "example"
    package = service / "chs_example"
    for name in SERVICE_FILES - {"repository.py"}:
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text("")
    assert missing_files(service) == {"repository.py"}


def test_every_service_folder_is_checked() -> None:
    assert {p.name for p in services()} >= {
        "enrollment",
        "notification",
        "progress-notices",
        "reimbursement",
        "remote-care",
    }
