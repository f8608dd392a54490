"""A day in Qingdao (青岛, 370200), over HTTP against the running platform (`make demo`).

An employer registers and gets its API key; its HR system adds an employee (增员); she pays two
months of employee contributions (310); her newborn is enrolled at birth (出生即参保) with her as
guardian; then the SMS each step caused are awaited (time-boxed) and printed. Every run uses a
new ID number, payment ids and birth-certificate number, so it can run again and again.
Environment: CHS_ENROLLMENT_URL, CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s).
"""
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

import httpx
from faker import Faker
from stdnum.cn import ric

from chs_events.identity import age_on
from chs_events.masking import mask_birth_certificate, mask_id_number, mask_mobile
from chs_events.masking import mask_name, redact

ENROLLMENT = os.environ.get("CHS_ENROLLMENT_URL", "http://127.0.0.1:8101").rstrip("/")
NOTIFICATION = os.environ.get("CHS_NOTIFICATION_URL", "http://127.0.0.1:8102").rstrip("/")
ADMIN_TOKEN = os.environ.get("CHS_ADMIN_TOKEN", "local-admin-token")
TIMEOUT = float(os.environ.get("CHS_DEMO_TIMEOUT", "30"))
CHINA = ZoneInfo("Asia/Shanghai")
QINGDAO, LAOSHAN = "370200", "370212"  # 青岛市, 崂山区
CONTRIBUTION_BASE_FEN = 650_000  # 6,500.00 yuan a month
EMPLOYER_RATE_PERCENT, PERSONAL_RATE_PERCENT = 9, 2
# The SMS her steps cause: one 310 enrollment, two contributions, one newborn (to the guardian).
EXPECTED = Counter({"enrollment.registered": 1, "enrollment.contribution_paid": 2,
                    "enrollment.newborn_enrolled": 1})
FINAL = {"delivered", "failed", "undeliverable"}

fake = Faker("zh_CN")
run = uuid.uuid4().hex[:8]


def fail(message: str) -> NoReturn:
    print(f"\nDEMO FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def call(client: httpx.Client, step: str, method: str, url: str, expect: int, **kwargs) -> dict:
    """One request, printed with its status; anything but `expect` ends the demo."""
    headers = {"X-Request-Id": f"demo-{run}-{step}", **kwargs.pop("headers", {})}
    path = url.split("//", 1)[-1].split("/", 1)[-1]
    started = time.perf_counter()
    try:
        response = client.request(method, url, headers=headers, **kwargs)
    except httpx.HTTPError as error:
        fail(f"{method} {url}: {error!r} (is the platform up? make up)")
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"  {method} /{path} → {response.status_code} ({elapsed_ms:.0f} ms, "
          f"X-Request-Id {headers['X-Request-Id']})")
    if response.status_code != expect:
        fail(f"{method} /{path} answered {response.status_code}, expected {expect}: "
             f"{redact(response.text)}")
    return response.json()


def id_number(birth: date, female: bool) -> str:
    """A valid 18-character 公民身份号码 from Laoshan; the 17th digit is even for a woman."""
    sequence = random.randrange(0, 1000, 2) if female else random.randrange(1, 1000, 2)
    body = f"{LAOSHAN}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the 18th character


def month(day: date, back: int = 0) -> date:
    first = day.replace(day=1)
    for _ in range(back):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def main() -> None:
    today = datetime.now(CHINA).date()
    birth = today - timedelta(days=random.randint(29 * 365 + 10, 30 * 365 - 10))
    mother_id, mobile = id_number(birth, female=True), f"1385321{random.randint(0, 9999):04d}"
    mother_name = fake.name_female()
    print(f"CHS demo run {run}: enrollment {ENROLLMENT}, notification {NOTIFICATION}\n")
    client = httpx.Client(timeout=10, trust_env=False)  # local services: never through a proxy

    print("1. A Qingdao employer registers (政企直联) and receives its API key")
    employer = call(client, "employer", "POST", f"{ENROLLMENT}/employers", 201,
                    headers={"X-Admin-Token": ADMIN_TOKEN},
                    json={"name": f"青岛{fake.company()}", "region_code": QINGDAO})
    print(f"     employer {employer['employer_id']} {employer['name']}, "
          f"API key {employer['api_key'][:6]}… (shown once)")

    print(f"\n2. Its HR system adds an employee (增员): {mask_name(mother_name)}, born {birth}, "
          f"aged {age_on(birth, today)}, ID {mask_id_number(mother_id)}, "
          f"mobile {mask_mobile(mobile)}")
    start = month(today, back=1)
    first_request_at = datetime.now(CHINA)
    added = call(client, "staff-add", "POST",
                 f"{ENROLLMENT}/employers/{employer['employer_id']}/staff/batch-add", 200,
                 headers={"X-API-Key": employer["api_key"]}, json={"items": [{
                     "id_number": mother_id, "name": mother_name, "mobile": mobile,
                     "region_code": LAOSHAN, "contribution_base_fen": CONTRIBUTION_BASE_FEN,
                     "start_date": start.isoformat()}]})
    person_id, enrollment_id = added["items"][0]["person_id"], added["items"][0]["enrollment_id"]
    print(f"     person {person_id}, enrollment {enrollment_id} (310 from {start}), "
          f"new to the registry: {added['items'][0]['registered']}")

    print("\n3. Two months of employee contributions (310) are paid")
    employer_part = CONTRIBUTION_BASE_FEN * EMPLOYER_RATE_PERCENT // 100
    personal_part = CONTRIBUTION_BASE_FEN * PERSONAL_RATE_PERCENT // 100
    for period_month in (start, month(today)):
        period = f"{period_month:%Y%m}"
        paid = call(client, f"contribution-{period}", "POST", f"{ENROLLMENT}/contributions", 201,
                    json={"payment_id": f"PAY-{run}-{period}", "enrollment_id": enrollment_id,
                          "period": period, "amount_fen": employer_part + personal_part,
                          "employer_part_fen": employer_part,
                          "personal_part_fen": personal_part})
        print(f"     {paid['payment_id']} period {period}: {paid['amount_fen']} fen = employer "
              f"{paid['employer_part_fen']} + personal {paid['personal_part_fen']}")

    certificate_no = f"Q3702{random.randint(0, 99999):05d}"
    baby_name = fake.name()
    baby_birth = today - timedelta(days=2)
    print(f"\n4. Her baby is enrolled at birth (出生即参保): certificate "
          f"{mask_birth_certificate(certificate_no)}, born {baby_birth}, guardian {person_id}")
    baby = call(client, "newborn", "POST", f"{ENROLLMENT}/newborns", 201, json={
        "birth_certificate_no": certificate_no, "name": baby_name,
        "sex": random.choice("MF"), "birth_date": baby_birth.isoformat(),
        "guardian_person_id": person_id, "pooling_region": QINGDAO})
    baby_id = baby["person_id"]
    print(f"     newborn {baby_id} {mask_name(baby['name'])} ({baby['sex']}), "
          f"enrollments: {[e['insutype'] + ' ' + e['status'] for e in baby['enrollments']]}")

    print("\n5. Her enrollment certificate (参保证明)")
    cert = call(client, "certificate", "GET", f"{ENROLLMENT}/persons/{person_id}/certificate", 200)
    for line in cert["enrollments"]:
        print(f"     {line['insutype']} {line['insutype_name']} {line['pooling_region']} "
              f"{line['employer_name']} since {line['start_date']}: {line['status']}, "
              f"{line['contribution_months']} months paid")

    print(f"\n6. Waiting up to {TIMEOUT:.0f} s for her SMS: "
          + ", ".join(f"{n} × {t}" for t, n in EXPECTED.items()))
    messages = wait_for_messages(client, person_id)
    # A newborn has no mobile of its own: what notification sends about the child goes to hers.
    about_child = [{**m, "about": " (about the child)"} for m in messages_of(client, baby_id)
                   if m["mobile_masked"] == mask_mobile(mobile)]
    listed = sorted(messages + about_child, key=lambda m: m["created_at"])
    print(f"\nSMS to {mask_name(mother_name)} ({mask_mobile(mobile)}), oldest first:"
          + ("" if listed else " none"))
    for m in listed:
        at = datetime.fromisoformat(m["sent_at"] or m["created_at"]).astimezone(CHINA)
        print(f"  {at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"  from {m['sender']}  {m['template_id']}  "
              f"{m['status']}{m.get('about', '')}\n    {redact(m['text'] or '(not sent)')}")
    sent = [datetime.fromisoformat(m["sent_at"]) for m in messages if m["sent_at"]]
    if sent:
        print(f"\nFirst SMS went out {(min(sent) - first_request_at).total_seconds():.2f} s "
              "after the staff batch-add request.")
    check(messages)
    print("\nDemo complete.")


def messages_of(client: httpx.Client, person_id: str) -> list[dict]:
    url = f"{NOTIFICATION}/persons/{person_id}/messages"
    try:
        response = client.get(url, headers={"X-Request-Id": f"demo-{run}-messages"})
    except httpx.HTTPError as error:
        fail(f"GET {url}: {error!r} (is the notification service up?)")
    if response.status_code != 200:
        fail(f"GET {url} answered {response.status_code}: {response.text}")
    return sorted(response.json()["messages"], key=lambda m: m["created_at"])


def wait_for_messages(client: httpx.Client, person_id: str) -> list[dict]:
    """Polls her messages until every expected one has a final status, or the time is up."""
    deadline, seen = time.monotonic() + TIMEOUT, None
    while True:
        messages = messages_of(client, person_id)
        final = Counter(m["template_id"] for m in messages if m["status"] in FINAL)
        recorded = Counter((m["template_id"], m["status"]) for m in messages)
        if recorded != seen:
            seen = recorded
            print("     " + (", ".join(f"{t} {s} × {n}" for (t, s), n in sorted(recorded.items()))
                             or "nothing yet"))
        if all(final[t] >= n for t, n in EXPECTED.items()) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def check(messages: list[dict]) -> None:
    """Exits non-zero unless every expected SMS went out (sent or delivered)."""
    out = Counter(m["template_id"] for m in messages if m["status"] in {"sent", "delivered"})
    missing = {t: n - out[t] for t, n in EXPECTED.items() if out[t] < n}
    if missing:
        states = {t: sorted(m["status"] for m in messages if m["template_id"] == t)
                  for t in missing}
        fail(f"expected SMS did not go out within {TIMEOUT:.0f} s: "
             + "; ".join(f"{t}: {n} missing (seen: {states[t] or 'none'})"
                         for t, n in missing.items()))
    pending = [m["template_id"] for m in messages if m["status"] == "sent"]
    if pending:
        print(f"Note: no delivery receipt yet for {pending}.")


if __name__ == "__main__":
    main()
