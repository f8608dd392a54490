"""A day in Qingdao (青岛, 370200), over HTTP against the running platform (`make demo`).

An employer registers and gets its API key; its HR system adds an employee (增员); she pays two
months of employee contributions (310); her newborn is enrolled at birth (出生即参保) with her as
guardian; then the SMS each step caused are awaited (time-boxed) and printed. Every run uses a
new ID number, payment ids and birth-certificate number, so it can run again and again.
Environment: CHS_ENROLLMENT_URL, CHS_NOTIFICATION_URL, CHS_ADMIN_TOKEN, CHS_DEMO_TIMEOUT (30 s).
"""

import random
import time
from collections import Counter
from datetime import datetime, timedelta

import httpx
from demo_support import (
    CHINA,
    ENROLLMENT,
    NOTIFICATION,
    QINGDAO_HOSPITAL,
    SENT,
    TIMEOUT,
    add_staff,
    as_,
    call,
    fail,
    fake,
    local_client,
    messages_of,
    month,
    new_person,
    pay_contribution,
    register_employer,
    run,
)

from chs_events.identity import age_on
from chs_events.masking import (
    mask_birth_certificate,
    mask_id_number,
    mask_mobile,
    mask_name,
    redact,
)

QINGDAO, LAOSHAN = "370200", "370212"  # 青岛市, 崂山区
CONTRIBUTION_BASE_FEN = 650_000  # 6,500.00 yuan a month
EMPLOYER_RATE_PERCENT, PERSONAL_RATE_PERCENT = 9, 2
# The SMS her steps cause: one 310 enrollment, two contributions, one newborn (to the guardian).
EXPECTED = Counter(
    {
        "enrollment.registered": 1,
        "enrollment.contribution_paid": 2,
        "enrollment.newborn_enrolled": 1,
    }
)
FINAL = {"delivered", "failed", "undeliverable"}


def main() -> None:
    today = datetime.now(CHINA).date()
    birth = today - timedelta(days=random.randint(29 * 365 + 10, 30 * 365 - 10))
    mother = new_person(LAOSHAN, birth, female=True)
    print(f"CHS demo run {run}: enrollment {ENROLLMENT}, notification {NOTIFICATION}\n")
    client = local_client()

    print("1. A Qingdao employer registers (政企直联) and receives its API key")
    employer = register_employer(client, "青岛", QINGDAO)
    print(
        f"     employer {employer['employer_id']} {employer['name']}, "
        f"API key {employer['api_key'][:6]}… (shown once)"
    )

    print(
        f"\n2. Its HR system adds an employee (增员): {mask_name(mother.name)}, born {birth}, "
        f"aged {age_on(birth, today)}, ID {mask_id_number(mother.id_number)}, "
        f"mobile {mask_mobile(mother.mobile)}"
    )
    start = month(today, back=1)
    first_request_at = datetime.now(CHINA)
    [added] = add_staff(client, employer, [mother], CONTRIBUTION_BASE_FEN, start)
    person_id, enrollment_id = added["person_id"], added["enrollment_id"]
    print(
        f"     person {person_id}, enrollment {enrollment_id} (310 from {start}), "
        f"new to the registry: {added['registered']}"
    )

    print("\n3. Two months of employee contributions (310) are paid")
    employer_part = CONTRIBUTION_BASE_FEN * EMPLOYER_RATE_PERCENT // 100
    personal_part = CONTRIBUTION_BASE_FEN * PERSONAL_RATE_PERCENT // 100
    for period_month in (start, month(today)):
        period = f"{period_month:%Y%m}"
        paid = pay_contribution(client, enrollment_id, period, employer_part, personal_part)
        print(
            f"     {paid['payment_id']} period {period}: {paid['amount_fen']} fen = employer "
            f"{paid['employer_part_fen']} + personal {paid['personal_part_fen']}"
        )

    certificate_no = f"Q3702{random.randint(0, 99999):05d}"
    baby_name = fake.name()
    baby_birth = today - timedelta(days=2)
    print(
        f"\n4. Her baby is enrolled at birth (出生即参保): certificate "
        f"{mask_birth_certificate(certificate_no)}, born {baby_birth}, guardian {person_id}"
    )
    baby = call(
        client,
        "newborn",
        "POST",
        f"{ENROLLMENT}/newborns",
        201,
        auth=as_(QINGDAO_HOSPITAL),  # the birth hospital enrolls the baby
        json={
            "birth_certificate_no": certificate_no,
            "name": baby_name,
            "sex": random.choice("MF"),
            "birth_date": baby_birth.isoformat(),
            "guardian_person_id": person_id,
            "pooling_region": QINGDAO,
        },
    )
    baby_id = baby["person_id"]
    print(
        f"     newborn {baby_id} {mask_name(baby['name'])} ({baby['sex']}), "
        f"enrollments: {[e['insutype'] + ' ' + e['status'] for e in baby['enrollments']]}"
    )

    print("\n5. Her enrollment certificate (参保证明)")
    cert = call(client, "certificate", "GET", f"{ENROLLMENT}/persons/{person_id}/certificate", 200)
    for line in cert["enrollments"]:
        print(
            f"     {line['insutype']} {line['insutype_name']} {line['pooling_region']} "
            f"{line['employer_name']} since {line['start_date']}: {line['status']}, "
            f"{line['contribution_months']} months paid"
        )

    print(
        f"\n6. Waiting up to {TIMEOUT:.0f} s for her SMS: "
        + ", ".join(f"{n} × {t}" for t, n in EXPECTED.items())
    )
    messages = wait_for_messages(client, person_id)
    # A newborn has no mobile of its own: what notification sends about the child goes to hers.
    about_child = [
        {**m, "about": " (about the child)"}
        for m in messages_of(client, baby_id)
        if m["mobile_masked"] == mask_mobile(mother.mobile)
    ]
    listed = sorted(messages + about_child, key=lambda m: m["created_at"])
    print(
        f"\nSMS to {mask_name(mother.name)} ({mask_mobile(mother.mobile)}), oldest first:"
        + ("" if listed else " none")
    )
    for m in listed:
        at = datetime.fromisoformat(m["sent_at"] or m["created_at"]).astimezone(CHINA)
        print(
            f"  {at:%Y-%m-%d %H:%M:%S.%f}"[:-3] + f"  from {m['sender']}  {m['template_id']}  "
            f"{m['status']}{m.get('about', '')}\n    {redact(m['text'] or '(not sent)')}"
        )
    sent = [datetime.fromisoformat(m["sent_at"]) for m in messages if m["sent_at"]]
    if sent:
        print(
            f"\nFirst SMS went out {(min(sent) - first_request_at).total_seconds():.2f} s "
            "after the staff batch-add request."
        )
    check(messages)
    print("\nDemo complete.")


def wait_for_messages(client: httpx.Client, person_id: str) -> list[dict]:
    """Polls her messages until every expected one has a final status, or the time is up."""
    deadline, seen = time.monotonic() + TIMEOUT, None
    while True:
        messages = messages_of(client, person_id)
        final = Counter(m["template_id"] for m in messages if m["status"] in FINAL)
        recorded = Counter((m["template_id"], m["status"]) for m in messages)
        if recorded != seen:
            seen = recorded
            print(
                "     "
                + (
                    ", ".join(f"{t} {s} × {n}" for (t, s), n in sorted(recorded.items()))
                    or "nothing yet"
                )
            )
        if all(final[t] >= n for t, n in EXPECTED.items()) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


def check(messages: list[dict]) -> None:
    """Exits non-zero unless every expected SMS went out (sent or delivered)."""
    out = Counter(m["template_id"] for m in messages if m["status"] in SENT)
    missing = {t: n - out[t] for t, n in EXPECTED.items() if out[t] < n}
    if missing:
        states = {
            t: sorted(m["status"] for m in messages if m["template_id"] == t) for t in missing
        }
        fail(
            f"expected SMS did not go out within {TIMEOUT:.0f} s: "
            + "; ".join(
                f"{t}: {n} missing (seen: {states[t] or 'none'})" for t, n in missing.items()
            )
        )
    pending = [m["template_id"] for m in messages if m["status"] == "sent"]
    if pending:
        print(f"Note: no delivery receipt yet for {pending}.")


if __name__ == "__main__":
    main()
