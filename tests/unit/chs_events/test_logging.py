import logging

import orjson
import pytest

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
