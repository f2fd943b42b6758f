"""The in-process hub of revocation watchers: a revoking call waits for every watcher's ack."""

from __future__ import annotations

import asyncio

from identity_service.domain.revocation import RevocationChange
from identity_service.service_layer.revocation_hub import RevocationHub


def test_a_change_waits_until_every_watcher_has_acknowledged_it():
    async def scenario():
        hub = RevocationHub(ack_timeout=5)
        a, b = hub.connect(), hub.connect()
        hub.publish(RevocationChange(3))
        waiting = asyncio.create_task(hub.wait_acked(3))
        await hub.ack(a, 3)
        await asyncio.sleep(0.01)
        still_waiting = not waiting.done()
        await hub.ack(b, 3)
        return still_waiting, await waiting, a.queue.qsize(), b.queue.qsize()

    assert asyncio.run(scenario()) == (True, True, 1, 1)


def test_a_watcher_that_never_acknowledges_costs_only_the_timeout():
    async def scenario():
        hub = RevocationHub(ack_timeout=0.05)
        hub.connect()
        return await hub.wait_acked(1)

    assert asyncio.run(scenario()) is False


def test_a_watcher_that_disconnects_no_longer_holds_up_a_change():
    async def scenario():
        hub = RevocationHub(ack_timeout=5)
        watcher = hub.connect()
        waiting = asyncio.create_task(hub.wait_acked(1))
        await asyncio.sleep(0.01)
        await hub.disconnect(watcher)
        return await waiting, hub.watcher_count

    assert asyncio.run(scenario()) == (True, 0)


def test_without_watchers_a_change_returns_at_once():
    assert asyncio.run(RevocationHub(ack_timeout=5).wait_acked(7)) is True


def test_the_local_state_of_identity_learns_each_change_as_it_is_published():
    import time

    from cc_common.revocation import RevocationState
    from cc_common.tokens import Principal
    from identity_service.domain.revocation import DeniedToken, SubjectRule

    local = RevocationState()
    hub = RevocationHub(ack_timeout=0.05, local=local)
    now = int(time.time())
    token = Principal("customer", "customer:100", "j1", 0, now + 600, now, customer_number="100")
    other = Principal("customer", "customer:200", "j2", 0, now + 600, now, customer_number="200")

    hub.publish(RevocationChange(1, denied=[DeniedToken("j1", now + 600)]))
    hub.publish(RevocationChange(2, rules=[SubjectRule("customer:200", 1, 1)]))

    assert local.is_revoked(token) and local.is_revoked(other)
    assert local.sequence == 2
