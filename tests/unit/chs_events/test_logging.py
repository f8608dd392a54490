import dataclasses
import logging
import sys

import orjson
import pytest
from asyncpg.exceptions import NotNullViolationError, UniqueViolationError

from chs_events.logging import JsonFormatter

pytestmark = pytest.mark.unit


def test_log_lines_are_json_with_id_numbers_and_mobiles_masked():
    record = logging.makeLogRecord(
        {
            "name": "enrollment",
            "levelno": logging.INFO,
            "levelname": "INFO",
            "msg": "registered %s with mobile %s",
            "args": ("37020219900101123X", "13853212345"),
            "extra_field": {"mobile": "13912345678"},
        }
    )
    line = JsonFormatter("enrollment").format(record)
    entry = orjson.loads(line)
    assert entry["message"] == "registered 3702**********123X with mobile 138****2345"
    assert entry["extra_field"] == {"mobile": "139****5678"}
    assert entry["service"] == "enrollment"
    assert "13853212345" not in line and "37020219900101123X" not in line


def _format(**attributes) -> str:
    record = logging.makeLogRecord(
        {"name": "enrollment", "levelno": logging.INFO, "levelname": "INFO", **attributes}
    )
    return JsonFormatter("enrollment").format(record)


def test_values_of_sensitive_keys_are_masked_at_any_depth():
    entry = orjson.loads(
        _format(
            msg="newborn registered",
            guardian_name="张三丰",
            mobile=13853212345,
            id_number="370202199001011234",
            person={"name": "李四", "phone": "+86 138-5321-2345", "id_no": "370202900101123"},
            newborn_name=["王五", "赵六"],
        )
    )
    assert entry["guardian_name"] == "张**"
    assert entry["mobile"] == "138****2345"
    assert entry["id_number"] == "3702**********1234"
    assert entry["person"] == {
        "name": "李*",
        "phone": "+86 138****2345",
        "id_no": "3702*******1123",
    }
    assert entry["newborn_name"] == ["王*", "赵*"]


def test_masked_values_stay_as_they_are():
    entry = orjson.loads(_format(msg="sms sent", mobile="138****2345", guardian_name="张**"))
    assert entry["mobile"] == "138****2345"
    assert entry["guardian_name"] == "张**"


def test_technical_keys_ending_in_name_are_kept():
    entry = orjson.loads(
        _format(
            msg="x",
            template_name="enrollment.newborn",
            institution_name="青岛大学附属医院",
            relation_name="配偶",
            consumer_name="chs-enrollment",
            topic={"topic_name": "chs.enrollment"},
        )
    )
    assert entry["template_name"] == "enrollment.newborn"
    assert entry["institution_name"] == "青岛大学附属医院"
    assert entry["relation_name"] == "配偶"
    assert entry["consumer_name"] == "chs-enrollment"
    assert entry["topic"] == {"topic_name": "chs.enrollment"}


@dataclasses.dataclass
class _Guardian:
    name: str
    mobile: str
    note: str


def test_objects_are_masked_by_their_fields():
    line = _format(
        msg="x",
        guardian=_Guardian("张三丰", "13853212345", "证件 370202199001011234"),
        other=object(),
    )
    entry = orjson.loads(line)
    assert entry["guardian"] == {
        "name": "张**",
        "mobile": "138****2345",
        "note": "证件 3702**********1234",
    }
    assert "张三丰" not in line


def _unique_violation() -> UniqueViolationError:
    """Shaped like asyncpg's UniqueViolationError: the DETAIL line follows the message."""
    return UniqueViolationError.new(
        {
            "S": "ERROR",
            "C": "23505",
            "M": 'duplicate key value violates unique constraint "people_mobile_key"',
            "D": "Key (mobile, name)=(13853212345, 张三丰) already exists.",
        }
    )


def test_an_exception_with_a_postgresql_detail_is_redacted():
    try:
        raise _unique_violation()
    except UniqueViolationError:
        exc_info = sys.exc_info()
    line = _format(
        msg="registration failed: %s",
        args=(exc_info[1],),
        exc_info=exc_info,
        error=f"{type(exc_info[1]).__name__}: {exc_info[1]}",
        cause=exc_info[1],
    )
    entry = orjson.loads(line)
    assert "13853212345" not in line and "张三丰" not in line
    assert "DETAIL:  Key (mobile, name)=(***) already exists." in entry["exception"]
    assert entry["exception"].startswith("Traceback")
    assert "UniqueViolationError" in entry["exception"]
    assert entry["message"].endswith("Key (mobile, name)=(***) already exists.")
    assert entry["error"].endswith("Key (mobile, name)=(***) already exists.")


def test_a_failing_row_in_a_traceback_is_redacted():
    try:
        raise NotNullViolationError.new(
            {
                "S": "ERROR",
                "C": "23502",
                "M": 'null value in column "region" violates not-null constraint',
                "D": "Failing row contains (7, 张三丰, 13853212345, null).",
            }
        )
    except NotNullViolationError:
        line = _format(msg="insert failed", exc_info=sys.exc_info())
    entry = orjson.loads(line)
    assert "张三丰" not in line and "13853212345" not in line
    assert entry["exception"].endswith("DETAIL:  Failing row contains (***).")
