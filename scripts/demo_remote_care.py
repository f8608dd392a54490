"""A Jinan retiree spends the winter in Sanya (异地就医备案), over HTTP against the running platform.

A retiree from Jinan (济南, 370100), born in 1958, registers and enrolls as a resident (390);
remote care learns of it from enrollment's events. She files long-term care in Sanya (三亚,
460200) — approved at once on her commitment (秒备案); a second long-term filing is refused; she
asks whether care in Sanya and in Qingdao is covered; her husband, never enrolled, is refused;
on a trip to Shanghai she is admitted as an emergency and files a temporary filing back-dated to
the admission day; she revokes the Sanya filing when she moves back. Each step is printed with
the SMS it caused. Environment: CHS_ENROLLMENT_URL, CHS_REMOTE_CARE_URL,
CHS_NOTIFICATION_URL, CHS_DEMO_TIMEOUT (30 s).
"""
import os
import random
import time
from datetime import date, datetime, timedelta

import httpx
from faker import Faker
from stdnum.cn import ric

from chs_events.masking import mask_id_number, mask_mobile, mask_name, redact
from demo import CHINA, ENROLLMENT, TIMEOUT, call, fail, messages_of, run

REMOTE_CARE = os.environ.get("CHS_REMOTE_CARE_URL", "http://127.0.0.1:8103").rstrip("/")
JINAN, LIXIA, SANYA, QINGDAO, SHANGHAI = "370100", "370102", "460200", "370200", "310000"
SENT = {"sent", "delivered"}

fake = Faker("zh_CN")


def id_number(birth: date, female: bool) -> str:
    """A valid 公民身份号码 from Lixia district, Jinan; the 17th digit is even for a woman."""
    sequence = random.randrange(0, 1000, 2) if female else random.randrange(1, 1000, 2)
    body = f"{LIXIA}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def sms_caused(client: httpx.Client, person_id: str, template_id: str, seen: set[str]) -> None:
    """Waits for the next SMS of ``template_id`` to the person and prints it."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        for m in messages_of(client, person_id):
            if m["template_id"] == template_id and m["status"] in SENT \
                    and m["message_id"] not in seen:
                seen.add(m["message_id"])
                print(f"     SMS from {m['sender']} ({m['template_id']}, {m['status']}):\n"
                      f"       {redact(m['text'])}")
                return
        time.sleep(0.3)
    fail(f"no {template_id} SMS within {TIMEOUT:.0f} s")


def file_when_enrolled(client: httpx.Client, step: str, person_id: str, body: dict) -> dict:
    """Remote care learns of the enrollment from its events: retry while it does not know yet."""
    url, deadline = f"{REMOTE_CARE}/persons/{person_id}/filings", time.monotonic() + TIMEOUT
    while True:
        try:
            response = client.post(url, json=body,
                                   headers={"X-Request-Id": f"demo-{run}-{step}"})
        except httpx.HTTPError as error:
            fail(f"POST {url}: {error!r} (is the platform up? make up)")
        waiting = (response.status_code == 422
                   and response.json().get("rule") == "active_enrollment_required")
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    print(f"  POST /persons/{person_id}/filings → {response.status_code} "
          f"(X-Request-Id demo-{run}-{step})")
    if response.status_code != 201:
        fail(f"filing answered {response.status_code}: {redact(response.text)}")
    return response.json()


def show_filing(filing: dict) -> None:
    print(f"     filing {filing['filing_id']}: {filing['filing_type_name']} "
          f"{filing['category_name']} → {filing['destination_name']}, valid "
          f"{filing['valid_from']} – {filing['valid_until'] or 'until revoked'}"
          + (f" (back-dated to the admission {filing['admission_date']})"
             if filing["back_dated"] else ""))


def main() -> None:
    today = datetime.now(CHINA).date()
    birth = date(1958, random.randint(1, 12), random.randint(1, 28))
    retiree_id, mobile = id_number(birth, female=True), f"1385311{random.randint(0, 9999):04d}"
    name = fake.name_female()
    print(f"CHS remote-care demo run {run}: enrollment {ENROLLMENT}, remote care {REMOTE_CARE}\n")
    client = httpx.Client(timeout=10, trust_env=False)
    seen: set[str] = set()

    print(f"1. A Jinan retiree registers and enrolls as a resident (390): {mask_name(name)}, "
          f"born {birth}, ID {mask_id_number(retiree_id)}, mobile {mask_mobile(mobile)}")
    person = call(client, "person", "POST", f"{ENROLLMENT}/persons", 201, json={
        "id_number": retiree_id, "name": name, "mobile": mobile, "region_code": LIXIA})
    person_id = person["person_id"]
    call(client, "enroll", "POST", f"{ENROLLMENT}/persons/{person_id}/enrollments", 201,
         json={"insutype": "390", "pooling_region": JINAN, "start_date": "2020-01-01"})
    sms_caused(client, person_id, "enrollment.registered", seen)

    print("\n2. She files long-term care in Sanya (异地安置退休) on her commitment — 秒备案")
    sanya = file_when_enrolled(client, "file-sanya", person_id, {
        "filing_type": "long_term", "category": "relocated_retiree",
        "destination_region": SANYA, "commitment": True})
    show_filing(sanya)
    sms_caused(client, person_id, "remote_care.filed", seen)

    print("\n3. A second long-term filing (Shanghai) would overlap the first")
    refused = client.post(f"{REMOTE_CARE}/persons/{person_id}/filings", json={
        "filing_type": "long_term", "category": "long_term_resident",
        "destination_region": SHANGHAI, "commitment": True})
    if refused.status_code != 409:
        fail(f"expected 409, got {refused.status_code}: {refused.text}")
    print(f"  POST /persons/{person_id}/filings → 409 rule {refused.json()['rule']}: "
          f"{refused.json()['detail']} (no SMS: a refusal is answered at once)")

    print("\n4. Is she covered? (the answer reimbursement needs)")
    for place, day in ((SANYA, today + timedelta(days=90)), (QINGDAO, today),
                       (SHANGHAI, today)):
        answer = call(client, f"coverage-{place}", "GET",
                      f"{REMOTE_CARE}/persons/{person_id}/coverage", 200,
                      params={"region": place, "date": day.isoformat()})
        print(f"     {place} on {day}: covered={answer['covered']} basis={answer['basis']} "
              f"— {answer['reason']}")

    husband = fake.name_male()
    husband_id = id_number(birth - timedelta(days=700), female=False)
    print(f"\n5. Her husband {mask_name(husband)}, registered but never enrolled, files too")
    other = call(client, "husband", "POST", f"{ENROLLMENT}/persons", 201, json={
        "id_number": husband_id, "name": husband,
        "mobile": f"1385311{random.randint(0, 9999):04d}", "region_code": LIXIA})
    answer = client.post(f"{REMOTE_CARE}/persons/{other['person_id']}/filings", json={
        "filing_type": "long_term", "category": "relocated_retiree",
        "destination_region": SANYA, "commitment": True})
    if answer.status_code != 422:
        fail(f"expected 422, got {answer.status_code}: {answer.text}")
    print(f"  POST /persons/{other['person_id']}/filings → 422 rule {answer.json()['rule']}: "
          f"{answer.json()['detail']}")

    admitted = today - timedelta(days=3)
    print(f"\n6. Visiting Shanghai she was admitted as an emergency on {admitted}: a temporary "
          "filing back-dated to the admission day")
    emergency = call(client, "file-emergency", "POST",
                     f"{REMOTE_CARE}/persons/{person_id}/filings", 201, json={
                         "filing_type": "temporary", "category": "emergency",
                         "destination_region": SHANGHAI, "commitment": True,
                         "admission_date": admitted.isoformat()})
    show_filing(emergency)
    sms_caused(client, person_id, "remote_care.filed", seen)

    print("\n7. She moves back to Jinan and revokes the Sanya filing")
    revoked = call(client, "revoke", "POST",
                   f"{REMOTE_CARE}/filings/{sanya['filing_id']}/revoke", 200,
                   json={"reason": "已回济南居住"})
    print(f"     filing {revoked['filing_id']}: {revoked['status']} on {revoked['revoked_on']}")
    sms_caused(client, person_id, "remote_care.revoked", seen)
    print("\n(Temporary filings expire after 6 months: `python -m chs_remote_care expire` sends "
          "remote_care.expired.)\nDemo complete.")


if __name__ == "__main__":
    main()
