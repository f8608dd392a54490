"""The stack itself works: the broker takes idempotent acks=all writes and serves them back, and
the PostgreSQL server answers and lets the platform's role create and drop databases."""

from __future__ import annotations

import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

pytestmark = pytest.mark.integration


async def test_broker_round_trip_with_idempotent_acks_all(kafka_bootstrap: str, topic_prefix: str):
    topic = f"{topic_prefix}stack.check"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])

        producer = AIOKafkaProducer(
            bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            sent = await producer.send_and_wait(
                topic,
                key=b"person-1",
                value=b'{"hello": "\xe5\x8c\xbb\xe4\xbf\x9d"}',
                headers=[("ce_type", b"chs.test.checked.v1")],
            )
        finally:
            await producer.stop()
        assert sent.offset == 0

        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"{topic_prefix}stack-check",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        assert (record.partition, record.offset) == (sent.partition, sent.offset)
        assert record.key == b"person-1"
        assert record.value.decode() == '{"hello": "医保"}'
        assert dict(record.headers) == {"ce_type": b"chs.test.checked.v1"}
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()


async def test_postgres_answers_and_databases_can_be_created_and_dropped(database_url: str):
    conn = await asyncpg.connect(database_url)
    try:
        version = await conn.fetchval("select version()")
        assert version.startswith("PostgreSQL ")

        name = f"t_{secrets.token_hex(4)}"
        await conn.execute(f'create database "{name}"')
        try:
            parts = urlsplit(database_url)
            db = await asyncpg.connect(urlunsplit(parts._replace(path=f"/{name}")))
            try:
                await db.execute("create table t (id bigint primary key, note text not null)")
                await db.execute("insert into t values (1, '参保登记')")
                assert await db.fetchval("select note from t where id = 1") == "参保登记"
                assert await db.fetchval("select current_database()") == name
            finally:
                await db.close()
        finally:
            await conn.execute(f'drop database "{name}"')
        assert await conn.fetchval("select count(*) from pg_database where datname = $1", name) == 0
    finally:
        await conn.close()
