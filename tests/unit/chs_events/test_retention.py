"""The log is the record: the topics that state is built from are kept whole, and the catalog
says why for each topic."""

import pytest

from chs_events.read_models import enrollments, filings
from chs_events.topics import (
    ACCOUNT_EVENTS,
    ACCOUNT_NOTICES_STATE,
    BY_NAME,
    CATALOG,
    CHRONIC_EVENTS,
    ENROLLMENT_CONTACTS,
    ENROLLMENT_EVENTS,
    FRAUD_BENEFITS_STATE,
    FRAUD_RECORDS_STATE,
    MATERNITY_EVENTS,
    NOTICE_PREFERENCES,
    NOTICE_REQUESTS,
    PUSH_PROFILES_STATE,
    REGISTRY_INSTITUTIONS,
    REIMBURSEMENT_EVENTS,
    REMOTE_CARE_EVENTS,
    TRANSFER_EVENTS,
    all_specs,
)

pytestmark = pytest.mark.unit

# Each service's consumer groups build state (a read model, a ledger, a directory) from these.
BUILT_FROM = {
    ENROLLMENT_EVENTS,
    ENROLLMENT_CONTACTS,
    REGISTRY_INSTITUTIONS,
    TRANSFER_EVENTS,
    REMOTE_CARE_EVENTS,
    REIMBURSEMENT_EVENTS,
}
DOMAIN = {CHRONIC_EVENTS, MATERNITY_EVENTS, ACCOUNT_EVENTS}


def test_the_topics_read_models_are_built_from_are_never_deleted_or_compacted():
    for topic in (*enrollments.TOPICS, *filings.TOPICS, *BUILT_FROM, *DOMAIN):
        spec = BY_NAME[topic]
        if spec.cleanup_policy != "compact":
            assert spec.configs == {"retention.ms": "-1", "cleanup.policy": "delete"}, topic
        assert spec.kept_forever, topic


def test_keyed_state_is_compacted_and_event_histories_are_kept_whole():
    assert {s.name for s in CATALOG if s.cleanup_policy == "compact"} == {
        ENROLLMENT_CONTACTS,
        REGISTRY_INSTITUTIONS,
        NOTICE_PREFERENCES,  # a person's push preference: the latest record is the state
        FRAUD_RECORDS_STATE,  # a faust table's changelog: the latest state per person
        FRAUD_BENEFITS_STATE,
        ACCOUNT_NOTICES_STATE,  # the account-notice processor's table: the state per account
        PUSH_PROFILES_STATE,  # the push processor's profiles
    }
    assert BY_NAME[ENROLLMENT_EVENTS].retention_ms == -1
    assert BY_NAME[REMOTE_CARE_EVENTS].retention_ms == -1


def test_every_topic_says_why_it_is_kept_as_it_is():
    for spec in all_specs():
        assert spec.kept, spec.name
        kind = spec.kept.split(":")[0]
        if spec.cleanup_policy == "compact":
            assert kind == "compacted", spec.name
        elif spec.retention_ms == -1:
            assert kind == "forever", spec.name
        else:
            assert kind == f"{spec.retention_ms // (24 * 60 * 60 * 1000)} d", spec.name


def test_with_tiered_storage_the_kept_histories_keep_a_week_on_the_brokers():
    spec = BY_NAME[ENROLLMENT_EVENTS]
    assert spec.topic_configs(tiered_storage=True) == {
        "retention.ms": "-1",
        "cleanup.policy": "delete",
        "remote.storage.enable": "true",
        "local.retention.ms": str(7 * 24 * 60 * 60 * 1000),
    }
    assert spec.topic_configs() == spec.configs
    # Tiered storage does not take compacted topics, nor those that expire anyway.
    contacts = BY_NAME[ENROLLMENT_CONTACTS]
    assert contacts.topic_configs(tiered_storage=True) == contacts.configs
    dlq = next(s for s in all_specs() if s.name == f"{NOTICE_REQUESTS}.dlq")
    assert dlq.retention_ms > 0
    assert dlq.topic_configs(tiered_storage=True) == dlq.configs


def test_a_dead_letter_of_a_topic_kept_whole_is_kept_until_it_is_redriven():
    """An event parked past its bound may still be owed: its dead letter does not expire."""
    by_name = {s.name: s for s in all_specs()}
    for spec in CATALOG:
        dlq = by_name[f"{spec.name}.dlq"]
        assert (dlq.retention_ms == -1) == spec.kept_forever, dlq.name
