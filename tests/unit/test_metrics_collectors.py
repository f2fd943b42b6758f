"""cc_common.metrics without the processes: the interceptor counts RPCs by method and status
code, and the collector reads the outbox, merges and connection pool at scrape time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from cc_common import metrics
from cc_common.outbox import outbox_table
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Column, MetaData, String, Table, create_engine, insert

HEALTH = "grpc.health.v1.Health"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_interceptor_counts_rpcs_by_method_and_code_and_times_them():
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_health.v1._async import HealthServicer

    async def scenario() -> None:
        server = grpc.aio.server(interceptors=[metrics.MetricsInterceptor()])
        health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                for _ in range(2):
                    await stub.Check(health_pb2.HealthCheckRequest(service=""))
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
                assert refused.value.code() == grpc.StatusCode.NOT_FOUND
        finally:
            await server.stop(None)

    ok = value("cc_grpc_server_handled_total", grpc_service=HEALTH, grpc_method="Check", grpc_code="OK")
    missing = value(
        "cc_grpc_server_handled_total", grpc_service=HEALTH, grpc_method="Check", grpc_code="NOT_FOUND"
    )
    timed = value("cc_grpc_server_handling_seconds_count", grpc_service=HEALTH, grpc_method="Check")
    asyncio.run(scenario())
    assert (
        value("cc_grpc_server_handled_total", grpc_service=HEALTH, grpc_method="Check", grpc_code="OK")
        == ok + 2
    )
    assert (
        value("cc_grpc_server_handled_total", grpc_service=HEALTH, grpc_method="Check", grpc_code="NOT_FOUND")
        == missing + 1
    )
    assert (
        value("cc_grpc_server_handling_seconds_count", grpc_service=HEALTH, grpc_method="Check") == timed + 3
    )
    assert value("cc_grpc_server_in_flight", grpc_service=HEALTH, grpc_method="Check") == 0


def test_the_collector_reads_the_outbox_the_merges_and_the_pool_at_scrape_time(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    meta = MetaData()
    outbox = outbox_table(meta)
    merges = Table("merges", meta, Column("id", String(40), primary_key=True), Column("status", String(24)))
    meta.create_all(engine)
    service = f"test-{uuid.uuid4().hex[:6]}"
    metrics.watch_database(engine, service, outbox=outbox, merges=merges)
    assert value("cc_outbox_oldest_waiting_age_seconds", service=service) == 0
    now = datetime.now(UTC)

    def mail(status: str, age: float) -> dict:
        created = now - timedelta(seconds=age)
        return {
            "id": uuid.uuid4().hex,
            "dedup_key": uuid.uuid4().hex,
            "recipient": "a@example.com",
            "subject": "s",
            "body": "b",
            "status": status,
            "attempts": 0,
            "next_attempt_at": created,
            "created_at": created,
            "message_id": f"<{uuid.uuid4().hex}@example.com>",
        }

    with engine.begin() as conn:
        conn.execute(
            insert(outbox), [mail("pending", 120), mail("pending", 5), mail("sending", 30), mail("sent", 999)]
        )
        conn.execute(
            insert(merges), [{"id": "m1", "status": "completed"}, {"id": "m2", "status": "completed"}]
        )
    assert value("cc_outbox_messages", service=service, status="pending") == 2
    assert value("cc_outbox_messages", service=service, status="sending") == 1
    assert value("cc_outbox_messages", service=service, status="failed") == 0
    assert 119 <= value("cc_outbox_oldest_waiting_age_seconds", service=service) < 180
    assert value("cc_merges", status="completed") >= 2
    assert value("cc_db_pool_checked_out", service=service) == 0
    # The exposition parses.
    from prometheus_client import generate_latest

    families = {f.name for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())}
    assert {"cc_outbox_messages", "cc_db_pool_checked_out", "cc_grpc_server_handled"} <= families
    engine.dispose()


def test_metrics_ports_default_per_process_and_zero_is_off(monkeypatch):
    monkeypatch.delenv("METRICS_PORT", raising=False)
    assert metrics.metrics_port("identity") == 9101 and metrics.metrics_port("merge") == 9104
    monkeypatch.setenv("METRICS_PORT", "0")
    assert metrics.metrics_port("contract") == 0 and metrics.start_metrics_server(0) is None
    monkeypatch.setenv("METRICS_PORT", "http")
    with pytest.raises(RuntimeError, match="METRICS_PORT"):
        metrics.metrics_port("package")
