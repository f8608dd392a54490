"""Reimbursement in Qingdao (青岛, 370200): one-stop settlement (一站式结算) and manual claims
(手工报销), over HTTP against the running platform, under the 2026 Qingdao policy.

A Qingdao urban-rural resident (390) on the minimum living allowance (低保) registers and enrolls;
the civil-affairs roll puts her in the assisted group dibao. Discharged from a level-3 hospital
(青岛大学附属医院) after lung cancer (C34.9), the hospital's HIS settles the stay at once and all
three tiers pay: basic insurance's pooled fund, critical-illness insurance on the easier terms of
an assisted person, and medical assistance; the demo checks the split against the policy. The
same invoice claimed again by hand is rejected (an invoice is never reimbursed twice). An
emergency admission in Sanya (三亚, 460200), paid out of pocket, is claimed: approved as temporary
remote care (10 % first self-pay) and paid. Last, a second settlement is reversed (冲正) and her
year-to-date totals are back to what they were. Each step prints the SMS it caused. Every run
uses a new person, so it can run again and again.
Environment: CHS_REIMBURSEMENT_URL (http://127.0.0.1:8108), and demo_support.py's
CHS_ENROLLMENT_URL, CHS_NOTIFICATION_URL, CHS_DEMO_TIMEOUT (30 s).
"""

import random
from datetime import date, datetime, timedelta

import httpx
from demo_support import (
    CHINA,
    ENROLLMENT,
    NOTIFICATION,
    QINGDAO_HOSPITAL,
    as_,
    call,
    call_when_caught_up,
    enroll,
    fail,
    local_client,
    new_person,
    refused,
    register,
    run,
    service_url,
    sms_caused,
)

from chs_events.masking import mask_name

REIMBURSEMENT = service_url("REIMBURSEMENT", 8108)
QINGDAO, SHINAN, SHIBEI, SANYA = "370200", "370202", "370203", "460200"
YEAR = 2026  # the policy year of the scenario (policies/370200-2026.json)
MOBILES = "1385331"  # the prefix of the demo's mobile numbers
FUND_TIERS = ("pooled_fund", "critical_illness", "medical_assistance")

# The lung-cancer stay: 80 000.00 yuan within the policy scope, 5 000.00 outside it. Under the
# 2026 Qingdao policy for a resident in the dibao group: (8 000 000 − 100 000 deductible) × 65 %;
# the self-pay left (2 865 000) above the assisted threshold 750 000 × (60 % + 5 %); of the rest
# (1 490 250) 70 % by medical assistance; the person pays the remainder and the 500 000.
STAY = {"eligible_fen": 8_000_000, "ineligible_fen": 500_000}
STAY_SPLIT = {
    "pooled_fund_fen": 5_135_000,
    "critical_illness_fen": 1_374_750,
    "medical_assistance_fen": 1_043_175,
    "personal_cash_fen": 947_075,
}
# The Sanya emergency: 12 000.00 + 800.00 yuan. Temporary remote care: 10 % first self-pay
# (120 000), then (1 080 000 − 100 000) × 65 %; the threshold is passed already, so the whole
# self-pay left (563 000) × 65 % is critical illness; of the rest (197 050) 70 % assistance.
SANYA_STAY = {"eligible_fen": 1_200_000, "ineligible_fen": 80_000}
SANYA_SPLIT = {
    "pooled_fund_fen": 637_000,
    "critical_illness_fen": 365_950,
    "medical_assistance_fen": 137_935,
    "personal_cash_fen": 139_115,
}


def in_policy_year(day: date) -> date:
    return min(max(day, date(YEAR, 1, 1)), date(YEAR, 12, 31))


def invoice() -> str:
    return f"3702{YEAR % 100}{random.randint(0, 10**10 - 1):010d}"


def show_split(split: dict) -> None:
    """Prints the split line by line; ends the demo when its parts do not add up."""
    print(
        f"     total {split['total_fen']} fen = eligible {split['eligible_fen']} + ineligible "
        f"{split['ineligible_fen']}"
    )
    for line in split["lines"]:
        print(f"     {line['tier']:<18} {line['amount_fen']:>9} fen  {line['rule']}")
    tiers = {t: split[f"{t}_fen"] for t in (*FUND_TIERS, "personal_cash")}
    print("     = " + ", ".join(f"{t} {v}" for t, v in tiers.items()))
    if sum(tiers.values()) != split["total_fen"]:
        fail(f"the four parts {tiers} do not add up to the total {split['total_fen']}")
    if sum(line["amount_fen"] for line in split["lines"]) != split["total_fen"]:
        fail(f"the lines do not add up to the total {split['total_fen']}")
    for tier, amount in tiers.items():
        by_lines = sum(line["amount_fen"] for line in split["lines"] if line["tier"] == tier)
        if by_lines != amount:
            fail(f"the {tier} lines add up to {by_lines}, the split says {amount}")


def expect_split(split: dict, expected: dict[str, int], what: str) -> None:
    """All three fund tiers pay, and each part is the one the policy gives."""
    if unpaid := [t for t in FUND_TIERS if split[f"{t}_fen"] <= 0]:
        fail(f"{what}: {', '.join(unpaid)} paid nothing")
    if wrong := {k: (split[k], v) for k, v in expected.items() if split[k] != v}:
        fail(f"{what}: (got, expected) {wrong}")


def accumulators(client: httpx.Client, step: str, person_id: str) -> dict:
    totals = call(
        client,
        step,
        "GET",
        f"{REIMBURSEMENT}/persons/{person_id}/accumulators",
        200,
        params={"year": YEAR},
    )
    return {k: v for k, v in totals.items() if k not in ("person_id", "year")}


def main() -> None:
    today = datetime.now(CHINA).date()
    discharged = in_policy_year(today - timedelta(days=4))
    admitted = in_policy_year(today - timedelta(days=12))
    if discharged >= today:
        fail(f"the scenario needs service days in {YEAR} before today ({today})")
    client = local_client()
    seen: set[str] = set()
    print(
        f"CHS reimbursement demo run {run}: reimbursement {REIMBURSEMENT}, enrollment "
        f"{ENROLLMENT}, notification {NOTIFICATION}\n"
    )

    resident = new_person(
        SHIBEI,
        date(1972, random.randint(1, 12), random.randint(1, 28)),
        female=True,
        mobile_prefix=MOBILES,
    )
    print(f"1. A Qingdao resident on 低保 registers and enrolls (390): {resident.described()}")
    person_id = register(client, "person", resident)["person_id"]
    enroll(client, "enroll", person_id, "390", QINGDAO, date(YEAR, 1, 1))
    sms_caused(client, person_id, "enrollment.registered", seen)
    groups = call(
        client,
        "groups",
        "PUT",
        f"{REIMBURSEMENT}/persons/{person_id}/assisted-groups",
        200,
        json={"groups": ["dibao"]},
    )["groups"]
    print(f"     assisted groups from the civil-affairs roll: {groups}")
    if groups != ["dibao"]:
        fail(f"assisted groups {groups}, expected ['dibao']")

    print(
        f"\n2. Lung cancer (C34.9): admitted {admitted}, discharged {discharged} from 青岛大学附属"
        "医院 (level 3); the HIS settles the stay (一站式结算)"
    )
    stay = {
        "person_id": person_id,
        "institution_code": "H37020200017",
        "visit_type": "inpatient",
        "admission_date": admitted.isoformat(),
        "discharge_date": discharged.isoformat(),
        "diagnoses": ["C34.9"],
        **STAY,
        "invoice_no": invoice(),
    }
    settled = call_when_caught_up(
        client,
        "settle",
        "POST",
        f"{REIMBURSEMENT}/settlements",
        201,
        auth=as_(QINGDAO_HOSPITAL),
        json=stay,
        behind=lambda r: r.status_code == 422 and r.json().get("rule") == "not_enrolled",
    )
    terms = settled["terms"]
    print(
        f"     settlement {settled['settlement_id']} ({settled['status']}): enrollment "
        f"{terms['enrollment_id']} ({terms['insutype']}, {terms['pooling_region']}), "
        f"basis {terms['basis']}"
    )
    show_split(settled["split"])
    expect_split(settled["split"], STAY_SPLIT, "the lung-cancer settlement")
    sms_caused(client, person_id, "reimbursement.settled", seen)

    print(f"\n3. The same invoice {stay['invoice_no']} claimed by hand afterwards (手工报销)")
    claim = call(client, "claim-again", "POST", f"{REIMBURSEMENT}/claims", 201, json=stay)
    print(
        f"     claim {claim['claim_id']}: {claim['status']}, rule {claim['rule']} — "
        f"{claim['reason']}"
    )
    if claim["status"] != "rejected" or claim["rule"] != "invoice_already_reimbursed":
        fail(
            f"expected rejected with invoice_already_reimbursed, got {claim['status']} "
            f"{claim['rule']}"
        )
    sms_caused(client, person_id, "reimbursement.claim_submitted", seen)
    sms_caused(client, person_id, "reimbursement.claim_rejected", seen)
    problem = refused(
        client, "POST", f"{REIMBURSEMENT}/settlements", 409, json=stay, auth=as_(QINGDAO_HOSPITAL)
    )
    print(
        f"  POST /settlements again → 409 rule {problem['rule']}: {problem['detail']} "
        "(no SMS: a refusal is answered at once)"
    )
    if settled["settlement_id"] not in str(problem.get("reimbursed_by")):
        fail(f"reimbursed by {problem.get('reimbursed_by')}, expected {settled['settlement_id']}")

    sanya_out = in_policy_year(today - timedelta(days=40))
    sanya_in = in_policy_year(sanya_out - timedelta(days=6))
    print(
        f"\n4. Visiting Sanya she was admitted as an emergency ({sanya_in} – {sanya_out}), "
        "paid herself and claims it"
    )
    emergency = {
        "person_id": person_id,
        "institution_code": "H46020000003",
        "visit_type": "inpatient",
        "admission_date": sanya_in.isoformat(),
        "discharge_date": sanya_out.isoformat(),
        "diagnoses": ["I21.9"],
        **SANYA_STAY,
        "invoice_no": invoice(),
        "emergency": True,
    }
    approved = call(client, "claim-sanya", "POST", f"{REIMBURSEMENT}/claims", 201, json=emergency)
    terms = approved["terms"] or {}
    print(
        f"     claim {approved['claim_id']}: {approved['status']} as {terms.get('filing')} "
        f"remote care, basis {terms.get('basis')}"
    )
    if approved["status"] != "approved" or terms.get("filing") != "temporary":
        fail(
            f"expected approved under a temporary filing, got {approved['status']} "
            f"{terms.get('filing')} (rule {approved['rule']}: {approved['reason']})"
        )
    show_split(approved["split"])
    expect_split(approved["split"], SANYA_SPLIT, "the Sanya claim")
    first_self_pay = SANYA_STAY["eligible_fen"] // 10
    if not any(
        f"first self-pay {first_self_pay} " in line["rule"]
        for line in approved["split"]["lines"]
        if line["tier"] == "personal_cash"
    ):
        fail(f"no personal-cash line tells the first self-pay {first_self_pay}")
    payable = sum(approved["split"][f"{t}_fen"] for t in FUND_TIERS)
    print(f"     the funds pay her back {approved['payable_fen']} fen")
    if approved["payable_fen"] != payable:
        fail(f"payable {approved['payable_fen']}, the funds' parts add up to {payable}")
    sms_caused(client, person_id, "reimbursement.claim_submitted", seen)
    sms_caused(client, person_id, "reimbursement.claim_approved", seen)
    paid = call(
        client,
        "pay",
        "POST",
        f"{REIMBURSEMENT}/claims/{approved['claim_id']}/pay",
        200,
        json={"payment_reference": f"BANK-{run}"},
    )
    print(f"     {paid['status']} on {paid['paid_on']}, reference {paid['payment_reference']}")
    if paid["status"] != "paid":
        fail(f"the claim is {paid['status']} after the payment")
    sms_caused(client, person_id, "reimbursement.claim_paid", seen)

    checked = in_policy_year(today - timedelta(days=2))
    print(f"\n5. A follow-up visit on {checked} is settled with wrong data, then reversed (冲正)")
    totals_before = accumulators(client, "totals-before", person_id)
    visit = {
        "person_id": person_id,
        "institution_code": "H37020200017",
        "visit_type": "outpatient",
        "admission_date": checked.isoformat(),
        "diagnoses": ["C34.9"],
        "eligible_fen": 60_000,
        "ineligible_fen": 5_000,
        "invoice_no": invoice(),
    }
    second = call(
        client,
        "settle-visit",
        "POST",
        f"{REIMBURSEMENT}/settlements",
        201,
        json=visit,
        auth=as_(QINGDAO_HOSPITAL),
    )
    split = second["split"]
    print(
        f"     settlement {second['settlement_id']}: total {split['total_fen']}, pooled fund "
        f"{split['pooled_fund_fen']}, critical illness {split['critical_illness_fen']}, "
        f"medical assistance {split['medical_assistance_fen']}, personal cash "
        f"{split['personal_cash_fen']} fen"
    )
    sms_caused(client, person_id, "reimbursement.settled", seen)
    undone = call(
        client,
        "reverse",
        "POST",
        f"{REIMBURSEMENT}/settlements/{second['settlement_id']}/reverse",
        200,
        auth=as_(QINGDAO_HOSPITAL),
        json={"reason_code": "settlement_data_error"},
    )
    print(f"     {undone['status']} at {undone['reversed_at']}: {undone['reversal_reason']}")
    if undone["status"] != "reversed":
        fail(f"the settlement is {undone['status']} after the reversal")
    sms_caused(client, person_id, "reimbursement.reversed", seen)
    totals_after = accumulators(client, "totals-after", person_id)
    if totals_after != totals_before:
        fail(
            f"year-to-date totals {totals_after} after the reversal, {totals_before} before "
            "the settlement"
        )
    print(
        f"     {mask_name(resident.name)}'s {YEAR} totals are back to what they were: "
        f"basic inpatient {totals_after['basic_inpatient_paid_fen']}, critical illness "
        f"{totals_after['critical_illness_paid_fen']}, assistance "
        f"{totals_after['assistance_paid_fen']} fen, {totals_after['admissions']} admissions"
    )
    print("\nReimbursement demo complete.")


if __name__ == "__main__":
    main()
