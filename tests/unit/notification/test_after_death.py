"""What notification still sends to the number of a person who died: the pure rule and its
setting. No I/O."""

from datetime import date

import pytest
from pydantic import ValidationError

from chs_notification.domain import STILL_SENT_AFTER_DEATH, withheld_after_death
from chs_notification.settings import NotificationSettings
from chs_notification.templates import get_template

pytestmark = pytest.mark.unit

DIED = date(2026, 3, 10)


def test_a_living_persons_messages_all_go() -> None:
    assert withheld_after_death("account.debited", None, STILL_SENT_AFTER_DEATH) is None


def test_after_a_death_only_what_the_family_must_know_goes() -> None:
    assert withheld_after_death("reimbursement.claim_paid", DIED, STILL_SENT_AFTER_DEATH) is None
    assert withheld_after_death("maternity.paid", DIED, STILL_SENT_AFTER_DEATH) is None
    assert withheld_after_death("account.debited", DIED, STILL_SENT_AFTER_DEATH) == (
        "recipient deceased on 2026-03-10: account.debited is not sent after a death"
    )


def test_the_templates_still_sent_are_configurable() -> None:
    assert withheld_after_death("reimbursement.claim_paid", DIED, ()) is not None
    assert withheld_after_death("account.debited", DIED, ("account.debited",)) is None


def test_the_default_setting_names_known_templates_and_an_unknown_one_is_refused() -> None:
    settings = NotificationSettings()
    assert settings.still_sent_after_death == STILL_SENT_AFTER_DEATH
    assert all(get_template(template_id) for template_id in STILL_SENT_AFTER_DEATH)
    assert NotificationSettings(still_sent_after_death=()).still_sent_after_death == ()
    with pytest.raises(ValidationError, match=r"unknown template 'account\.withdrawn'"):
        NotificationSettings(still_sent_after_death=("account.withdrawn",))


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHS_STILL_SENT_AFTER_DEATH", '["maternity.paid"]')
    assert NotificationSettings().still_sent_after_death == ("maternity.paid",)
