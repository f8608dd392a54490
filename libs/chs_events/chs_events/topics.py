"""The topic catalog: the single source for creating topics and for the AsyncAPI document.

``python -m chs_events.topics create`` creates every topic (and its ``.dlq``) idempotently and
alters the configs of existing ones to match the catalog (``chs_events.admin``);
``python -m chs_events.topics asyncapi`` prints the AsyncAPI document.

**The log is the record.** A topic that state is built from (a read model, a ledger, a directory)
is kept, so that a new consumer, a reset group or a restored database rebuilds from offset 0
(``python -m <service> replay <read-model>``, ``chs_events.replay``): compacted where the latest
record per key is the state (contacts, institutions), otherwise never deleted
(``retention.ms=-1``, ``FOREVER``): a person's events of many types share the key, so compaction
would keep only the last of them. ``TopicSpec.kept`` says which, and why, for each topic.
In production the kept topics go to tiered storage (Kafka 3.6+, KIP-405): the brokers run with
``remote.log.storage.system.enable=true`` and a remote storage manager (an object store), and
``python -m chs_events.topics create --tiered-storage`` gives each kept topic
``remote.storage.enable=true`` with ``local.retention.ms`` (``LOCAL_RETENTION_MS``, 7 days on the
brokers' disks; older segments are read back from the object store).
"""

from dataclasses import dataclass

DAY_MS = 24 * 60 * 60 * 1000
FOREVER = -1  # retention.ms: never deleted
LOCAL_RETENTION_MS = 7 * DAY_MS  # with tiered storage: what stays on the brokers' disks

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
NOTICE_PREFERENCES = "chs.notices.preferences"
PUSH_CAMPAIGNS = "chs.push.campaigns"
FRAUD_SIGNALS = "chs.fraud.signals"
# The fraud processor's faust tables' changelogs (its state per person).
FRAUD_RECORDS_STATE = "chs.fraud.state.records"
FRAUD_BENEFITS_STATE = "chs.fraud.state.benefits"
QUALITY_SIGNALS = "chs.quality.signals"
# The account-notice processor's faust table's changelog (its state per account).
ACCOUNT_NOTICES_STATE = "chs.account-notices.state.accounts"
# The account-notice processor's clock: a record to each partition, closing the bursts' windows.
ACCOUNT_NOTICES_TICKS = "chs.account-notices.ticks"
# The push processor's faust table's changelog (each person's push profile).
PUSH_PROFILES_STATE = "chs.push.state.profiles"

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
    # Why the topic is kept as it is: what is built from it (``retention_ms`` FOREVER or a
    # compacted topic), or why its records may go.
    kept: str = ""

    @property
    def kept_forever(self) -> bool:
        """Every record stays: compacted (the latest per key) or never deleted."""
        return self.cleanup_policy == "compact" or self.retention_ms == FOREVER

    @property
    def configs(self) -> dict[str, str]:
        return {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy}

    def topic_configs(self, *, tiered_storage: bool = False) -> dict[str, str]:
        """The topic's configs on the broker; with ``tiered_storage`` (KIP-405) a topic kept
        forever keeps only ``LOCAL_RETENTION_MS`` on the brokers' disks."""
        if not (tiered_storage and self.kept_forever and self.cleanup_policy == "delete"):
            return self.configs
        return self.configs | {
            "remote.storage.enable": "true",
            "local.retention.ms": str(LOCAL_RETENTION_MS),
        }

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
            "push",
        ),
        "Person registry, enrollments, staff changes, newborns, contributions; no names, "
        "mobiles or ID numbers (those are on chs.enrollment.contacts)",
        retention_ms=FOREVER,
        kept="forever: the enrollment read model (remote-care, transfer, maternity, "
        "reimbursement), maternity's contribution bases, transfer's contributions, the "
        "accounts ledger's persons and accounts and the push profiles are built from it; one "
        "person's events of many types share the key, so compaction would keep only the last",
    ),
    TopicSpec(
        ENROLLMENT_CONTACTS,
        "enrollment",
        ("notification",),
        "A person's contact as it now is (name, mobile, guardian) and a pending mobile change's "
        "one-time code: notification's directory only. Compacted, the latest record per person "
        "is the contact. ACL-restricted: only enrollment writes and only notification reads it",
        retention_ms=FOREVER,
        cleanup_policy="compact",
        kept="compacted: notification's contact directory is the latest record per person",
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
        retention_ms=FOREVER,
        cleanup_policy="compact",
        key="institution_code",
        kept="compacted: the registry every API follows is the latest record per code",
    ),
    TopicSpec(
        TRANSFER_EVENTS,
        "transfer",
        ("progress-notices", "enrollment", "accounts"),
        "Relationship transfer between pooling regions",
        retention_ms=FOREVER,
        kept="forever: enrollment's pooling-region moves and the accounts ledger's transfers "
        "are built from it; a transfer's events share the person's key",
    ),
    TopicSpec(
        REMOTE_CARE_EVENTS,
        "remote-care",
        ("progress-notices", "reimbursement", "push"),
        "Remote-care filings",
        retention_ms=FOREVER,
        kept="forever: the remote-care filing read model (reimbursement) and the push profiles' "
        "filings are built from it; "
        "a filing's filed, revoked and expired events share the person's key",
    ),
    TopicSpec(
        CHRONIC_EVENTS,
        "chronic",
        ("progress-notices", "push"),
        "Outpatient chronic and special disease certification",
        retention_ms=FOREVER,
        kept="forever: the record of certifications (a new consumer starts from offset 0) and "
        "the push profiles' conditions and applications are built from it; one person's events "
        "share the key",
    ),
    TopicSpec(
        REIMBURSEMENT_EVENTS,
        "reimbursement",
        ("progress-notices", "chronic", "maternity", "remote-care", "fraud", "push"),
        "Manual claims and one-stop settlements",
        retention_ms=FOREVER,
        kept="forever: chronic's auto-certifications, maternity's allowances without "
        "application, remote-care's settled stays and the fraud processor's benefits are built "
        "from it (the push processor's triggers read its settlements as they come); a settlement "
        "and its reversal share the person's key",
    ),
    TopicSpec(
        MATERNITY_EVENTS,
        "maternity",
        ("progress-notices", "fraud", "push"),
        "Maternity benefits",
        retention_ms=FOREVER,
        kept="forever: the record of allowances (a new consumer starts from offset 0) and the "
        "push profiles' maternity are built from it",
    ),
    TopicSpec(
        ACCOUNT_EVENTS,
        "accounts",
        ("account-notices", "transfer", "fraud"),
        "Personal-account ledger; transfer records the balance each transfer moved from it",
        retention_ms=FOREVER,
        kept="forever: the record of the personal accounts' money (a new consumer starts from "
        "offset 0)",
    ),
    TopicSpec(
        DEATH_FEED,
        "feeds",
        ("enrollment", "fraud", "push"),
        "Death records (生存认证): first reports and corrections, deduplicated across sources",
        retention_ms=FOREVER,
        kept="forever: enrollment's deceased persons, the fraud processor's per-person state and "
        "the push profiles are built from it",
    ),
    TopicSpec(
        ACCIDENT_FEED,
        "feeds",
        ("fraud",),
        "Traffic-accident cases with a liable third party (医保警)",
        retention_ms=FOREVER,
        kept="forever: the fraud processor's per-person accident cases are built from it",
    ),
    TopicSpec(
        NOTICE_REQUESTS,
        "progress-notices, account-notices, push",
        ("notification",),
        "Requests to tell a person something",
        retention_ms=14 * DAY_MS,
        kept="14 d: a work queue made from the domain topics; notification keeps each message",
    ),
    TopicSpec(
        NOTICE_STATUS,
        "notification",
        ("analytics", "push"),
        "Message status changes",
        retention_ms=30 * DAY_MS,
        kept="30 d: notification's database keeps every message's status",
    ),
    TopicSpec(
        NOTICE_PREFERENCES,
        "notification",
        ("push",),
        "A person's push preference as it now is (opted out of push by replying TD or in the "
        "app, or back in); service messages are never affected. Compacted, the latest record "
        "per person is the preference",
        retention_ms=FOREVER,
        cleanup_policy="compact",
        kept="compacted: the push profiles' opt-out is the latest record per person",
    ),
    TopicSpec(
        PUSH_CAMPAIGNS,
        "push",
        ("push",),
        "Push campaigns: published, started, completed (fanned out), cancelled",
        partitions=1,
        key="campaign_id",
        kept="90 d: a campaign is over by then; push's database keeps each campaign",
    ),
    TopicSpec(
        FRAUD_SIGNALS,
        "fraud",
        ("fraud", "analytics"),
        "Fraud signals raised by the fraud processor and resolved in case work",
        retention_ms=FOREVER,
        kept="forever: the cases of case work are built from it",
    ),
    *(
        TopicSpec(
            name,
            "fraud",
            ("fraud",),
            f"The fraud processor's {side} per person (a faust table's changelog)",
            cleanup_policy="compact",
            kept="compacted: the latest record per person is the processor's state",
        )
        for name, side in (
            (FRAUD_RECORDS_STATE, "death and accident records"),
            (FRAUD_BENEFITS_STATE, "benefits kept"),
        )
    ),
    TopicSpec(
        QUALITY_SIGNALS,
        "account-notices",
        ("analytics",),
        "Data-quality signals: an account's posting whose balance after does not follow from "
        "the previous one, or a transaction posted twice (never told to the person)",
        retention_ms=FOREVER,
        kept="forever: the record of what was found inconsistent in the ledger's events",
    ),
    TopicSpec(
        ACCOUNT_NOTICES_STATE,
        "account-notices",
        ("account-notices",),
        "The account-notice processor's state per account: the last balance after, the recent "
        "postings applied, the low-balance alert armed (a faust table's changelog)",
        cleanup_policy="compact",
        key="account_id",  # written to the partition of the account's events (its person's)
        kept="compacted: the latest record per account is the processor's state",
    ),
    TopicSpec(
        ACCOUNT_NOTICES_TICKS,
        "account-notices",
        ("account-notices",),
        "The account-notice processor's clock: each instance sends a tick to each partition it "
        "owns, co-partitioned with chs.account.events, so a burst of small debits is told when "
        "its window ends without a further event (only where coalescing is on)",
        retention_ms=1 * DAY_MS,
        key="partition",
        kept="1 d: a clock; nothing is built from it",
    ),
    TopicSpec(
        PUSH_PROFILES_STATE,
        "push",
        ("push",),
        "The push processor's profile of each person (a faust table's changelog)",
        cleanup_policy="compact",
        kept="compacted: the latest record per person is the processor's state; the profiles "
        "projection in push's database is rebuilt from it",
    ),
)

BY_NAME = {spec.name: spec for spec in CATALOG}


def dlq_of(topic: str) -> str:
    return f"{topic}{DLQ_SUFFIX}"


def dead_letter_spec(spec: TopicSpec) -> TopicSpec:
    """The ``.dlq`` of ``spec``. A dead letter of a topic kept whole may be owed (an event parked
    past its bound, a cause not fixed yet): it is kept as long, until an operator redrives it."""
    owed = spec.kept_forever
    return TopicSpec(
        dlq_of(spec.name),
        spec.producer,
        ("operators",),
        f"Events of {spec.name} that could not be processed",
        partitions=spec.partitions,
        retention_ms=FOREVER if owed else 30 * DAY_MS,
        kept=("forever" if owed else "30 d")
        + ": operators list, show and redrive them (python -m chs_events.dlq)",
    )


def all_specs() -> list[TopicSpec]:
    return [s for spec in CATALOG for s in (spec, dead_letter_spec(spec))]


if __name__ == "__main__":
    from chs_events.admin import main

    main()
