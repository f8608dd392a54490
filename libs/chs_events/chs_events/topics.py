"""The topic catalog: the single source for creating topics and for the AsyncAPI document.

``python -m chs_events.topics create`` creates every topic (and its ``.dlq``) idempotently;
``python -m chs_events.topics asyncapi`` prints the AsyncAPI document.
"""

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000

ENROLLMENT_EVENTS = "chs.enrollment.events"
ENROLLMENT_CONTACTS = "chs.enrollment.contacts"
REGISTRY_INSTITUTIONS = "chs.registry.institutions"
TRANSFER_EVENTS = "chs.transfer.events"
REMOTE_CARE_EVENTS = "chs.remote-care.events"
CHRONIC_EVENTS = "chs.chronic.events"
REIMBURSEMENT_EVENTS = "chs.reimbursement.events"
MATERNITY_EVENTS = "chs.maternity.events"
ACCOUNT_EVENTS = "chs.account.events"
DEATH_FEED = "chs.feeds.deaths"
ACCIDENT_FEED = "chs.feeds.accidents"
NOTICE_REQUESTS = "chs.notices.requests"
NOTICE_STATUS = "chs.notices.status"
PUSH_CAMPAIGNS = "chs.push.campaigns"
FRAUD_SIGNALS = "chs.fraud.signals"

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    producer: str
    consumers: tuple[str, ...]
    description: str
    partitions: int = 6
    retention_ms: int = 90 * DAY_MS
    cleanup_policy: str = "delete"
    key: str = "person_id"

    @property
    def configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}

    @property
    def event_types(self) -> tuple[str, ...]:
        from chs_events.events import EVENT_TYPES

        return tuple(t for t, model in EVENT_TYPES.items() if model.topic == self.name)


CATALOG: tuple[TopicSpec, ...] = (
    TopicSpec(
        ENROLLMENT_EVENTS,
        "enrollment",
        (
            "progress-notices",
            "remote-care",
            "transfer",
            "maternity",
            "accounts",
            "reimbursement",
        ),
        "Person registry, enrollments, staff changes, newborns, contributions; no names, "
        "mobiles or ID numbers (those are on chs.enrollment.contacts)",
    ),
    TopicSpec(
        ENROLLMENT_CONTACTS,
        "enrollment",
        ("notification",),
        "A person's contact as it now is (name, mobile, guardian) and a pending mobile change's "
        "one-time code: notification's directory only. Compacted, the latest record per person "
        "is the contact. ACL-restricted: only enrollment writes and only notification reads it",
        cleanup_policy="compact",
    ),
    TopicSpec(
        REGISTRY_INSTITUTIONS,
        "enrollment",
        ("reimbursement", "chronic"),
        "The designated institutions (定点医疗机构) the admin registers, beside those of "
        "chs_events/data/institutions.json. Compacted, keyed by the institution's national code: "
        "the latest record per code is the institution. Read from the beginning, without a "
        "group, by every API that resolves institutions (chs_events.institutions)",
        partitions=1,
        cleanup_policy="compact",
        key="institution_code",
    ),
    TopicSpec(
        TRANSFER_EVENTS,
        "transfer",
        ("progress-notices", "enrollment", "accounts"),
        "Relationship transfer between pooling regions",
    ),
    TopicSpec(
        REMOTE_CARE_EVENTS,
        "remote-care",
        ("progress-notices", "reimbursement"),
        "Remote-care filings",
    ),
    TopicSpec(
        CHRONIC_EVENTS,
        "chronic",
        ("progress-notices",),
        "Outpatient chronic and special disease certification",
    ),
    TopicSpec(
        REIMBURSEMENT_EVENTS,
        "reimbursement",
        ("progress-notices", "chronic", "maternity"),
        "Manual claims and one-stop settlements",
    ),
    TopicSpec(MATERNITY_EVENTS, "maternity", ("progress-notices",), "Maternity benefits"),
    TopicSpec(
        ACCOUNT_EVENTS,
        "accounts",
        ("progress-notices", "transfer"),
        "Personal-account ledger; transfer records the balance each transfer moved from it",
    ),
    TopicSpec(DEATH_FEED, "feeds", ("fraud-signals",), "Death records", retention_ms=365 * DAY_MS),
    TopicSpec(
        ACCIDENT_FEED,
        "feeds",
        ("fraud-signals",),
        "Traffic-accident cases",
        retention_ms=365 * DAY_MS,
    ),
    TopicSpec(
        NOTICE_REQUESTS,
        "progress-notices",
        ("notification",),
        "Requests to tell a person something",
        retention_ms=14 * DAY_MS,
    ),
    TopicSpec(
        NOTICE_STATUS,
        "notification",
        ("analytics",),
        "Message status changes",
        retention_ms=30 * DAY_MS,
    ),
    TopicSpec(PUSH_CAMPAIGNS, "push-ops", ("push-targeting",), "Push campaigns", partitions=1),
    TopicSpec(FRAUD_SIGNALS, "fraud-signals", ("analytics",), "Fraud signals for case work"),
)

BY_NAME = {spec.name: spec for spec in CATALOG}


def dlq_of(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def dead_letter_spec(spec: TopicSpec) -> TopicSpec:
    return TopicSpec(
        dlq_of(spec.name),
        spec.producer,
        ("operators",),
        f"Events of {spec.name} that could not be processed",
        partitions=spec.partitions,
        retention_ms=30 * DAY_MS,
    )


def all_specs() -> list[TopicSpec]:
    return [s for spec in CATALOG for s in (spec, dead_letter_spec(spec))]


if __name__ == "__main__":
    from chs_events.admin import main

    main()
