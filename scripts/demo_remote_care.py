"""A Jinan retiree spends the winter in Sanya (异地就医备案), over HTTP against the platform.

A retiree from Jinan (济南, 370100), born in 1958, registers and enrolls as a resident (390);
remote care learns of it from enrollment's events. She files long-term care in Sanya (三亚,
460200) — approved at once on her commitment (秒备案); a second long-term filing is refused; she
asks whether care in Sanya and in Qingdao is covered; her husband, never enrolled, is refused;
on a trip to Shanghai she is admitted as an emergency and files a temporary filing back-dated to
the admission day; she revokes the Sanya filing when she moves back. Each step is printed with
the SMS it caused. Environment: CHS_ENROLLMENT_URL, CHS_REMOTE_CARE_URL,
CHS_NOTIFICATION_URL, CHS_DEMO_TIMEOUT (30 s).
"""

import random
from datetime import date, datetime, timedelta

import httpx
from demo_support import (
    CHINA,
    ENROLLMENT,
    REMOTE_CARE,
    as_person,
    call,
    call_when_caught_up,
    enroll,
    local_client,
    new_person,
    refused,
    register,
    run,
    sms_caused,
)

from chs_events.masking import mask_name

JINAN, LIXIA, SANYA, QINGDAO, SHANGHAI = "370100", "370102", "460200", "370200", "310000"
MOBILES = "1385311"  # the prefix of the demo's mobile numbers


def file_when_enrolled(client: httpx.Client, step: str, person_id: str, body: dict) -> dict:
    """Remote care learns of the enrollment from its events: retry while it does not know yet."""
    return call_when_caught_up(
        client,
        step,
        "POST",
        f"{REMOTE_CARE}/persons/{person_id}/filings",
        201,
        json=body,
        behind=lambda response: (
            response.status_code == 422
            and response.json().get("rule") == "active_enrollment_required"
        ),
    )


def show_filing(filing: dict) -> None:
    print(
        f"     filing {filing['filing_id']}: {filing['filing_type_name']} "
        f"{filing['category_name']} → {filing['destination_name']}, valid "
        f"{filing['valid_from']} – {filing['valid_until'] or 'until revoked'}"
        + (
            f" (back-dated to the admission {filing['admission_date']})"
            if filing["back_dated"]
            else ""
        )
    )


def main() -> None:
    today = datetime.now(CHINA).date()
    birth = date(1958, random.randint(1, 12), random.randint(1, 28))
    retiree = new_person(LIXIA, birth, female=True, mobile_prefix=MOBILES)
    print(f"CHS remote-care demo run {run}: enrollment {ENROLLMENT}, remote care {REMOTE_CARE}\n")
    client = local_client()
    seen: set[str] = set()

    print(f"1. A Jinan retiree registers and enrolls as a resident (390): {retiree.described()}")
    person_id = register(client, "person", retiree)["person_id"]
    enroll(client, "enroll", person_id, "390", JINAN, date(2020, 1, 1))
    sms_caused(client, person_id, "enrollment.registered", seen)

    print("\n2. She files long-term care in Sanya (异地安置退休) on her commitment — 秒备案")
    sanya = file_when_enrolled(
        client,
        "file-sanya",
        person_id,
        {
            "filing_type": "long_term",
            "category": "relocated_retiree",
            "destination_region": SANYA,
            "commitment": True,
        },
    )
    show_filing(sanya)
    sms_caused(client, person_id, "remote_care.filed", seen)

    print("\n3. A second long-term filing (Shanghai) would overlap the first")
    problem = refused(
        client,
        "POST",
        f"{REMOTE_CARE}/persons/{person_id}/filings",
        409,
        json={
            "filing_type": "long_term",
            "category": "long_term_resident",
            "destination_region": SHANGHAI,
            "commitment": True,
        },
    )
    print(
        f"  POST /persons/{person_id}/filings → 409 rule {problem['rule']}: "
        f"{problem['detail']} (no SMS: a refusal is answered at once)"
    )

    print("\n4. Is she covered? (the answer reimbursement needs)")
    for place, day in ((SANYA, today + timedelta(days=90)), (QINGDAO, today), (SHANGHAI, today)):
        answer = call(
            client,
            f"coverage-{place}",
            "GET",
            f"{REMOTE_CARE}/persons/{person_id}/coverage",
            200,
            params={"region": place, "date": day.isoformat()},
        )
        print(
            f"     {place} on {day}: covered={answer['covered']} basis={answer['basis']} "
            f"— {answer['reason']}"
        )

    husband = new_person(LIXIA, birth - timedelta(days=700), female=False, mobile_prefix=MOBILES)
    print(f"\n5. Her husband {mask_name(husband.name)}, registered but never enrolled, files too")
    other = register(client, "husband", husband)["person_id"]
    problem = refused(
        client,
        "POST",
        f"{REMOTE_CARE}/persons/{other}/filings",
        422,
        json={
            "filing_type": "long_term",
            "category": "relocated_retiree",
            "destination_region": SANYA,
            "commitment": True,
        },
        auth=as_person(other),  # in the public app: no agency serves a person never enrolled
    )
    print(f"  POST /persons/{other}/filings → 422 rule {problem['rule']}: {problem['detail']}")

    admitted = today - timedelta(days=3)
    print(
        f"\n6. Visiting Shanghai she was admitted as an emergency on {admitted}: a temporary "
        "filing back-dated to the admission day"
    )
    emergency = call(
        client,
        "file-emergency",
        "POST",
        f"{REMOTE_CARE}/persons/{person_id}/filings",
        201,
        json={
            "filing_type": "temporary",
            "category": "emergency",
            "destination_region": SHANGHAI,
            "commitment": True,
            "admission_date": admitted.isoformat(),
        },
    )
    show_filing(emergency)
    sms_caused(client, person_id, "remote_care.filed", seen)

    print("\n7. She moves back to Jinan and revokes the Sanya filing")
    revoked = call(
        client,
        "revoke",
        "POST",
        f"{REMOTE_CARE}/filings/{sanya['filing_id']}/revoke",
        200,
        json={"reason": "已回济南居住"},
    )
    print(f"     filing {revoked['filing_id']}: {revoked['status']} on {revoked['revoked_on']}")
    sms_caused(client, person_id, "remote_care.revoked", seen)
    print(
        "\n(Temporary filings expire after 6 months: `python -m chs_remote_care expire` sends "
        "remote_care.expired.)\nDemo complete."
    )


if __name__ == "__main__":
    main()
