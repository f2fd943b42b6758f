"""Redeeming a single sign-on link into a package's administration at identity-service, on a
real, migrated database (SQLite and PostgreSQL): a link's jti is accepted once, also when two
redeem it at the same moment; an expired link is refused; the answer is the package login's
subject and current revocation generation."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
from cc_common import db
from cc_common.errors import InvalidInput, Unauthenticated
from identity_service.service_layer import services
from identity_service.service_layer.unit_of_work import IdentityUnitOfWork

MIGRATIONS = Path(__file__).resolve().parents[2] / "identity-service" / "identity_service" / "migrations"


@pytest.fixture
def uow_factory(database_url):
    url = database_url("identity")
    db.upgrade(url, MIGRATIONS)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    yield lambda: IdentityUnitOfWork(factory)
    engine.dispose()


def redeem(uow_factory, jti: str, package_id: str = "pkg_1", *, expires_in: int = 60):
    now = int(time.time())
    return services.redeem_package_sign_on(
        uow=uow_factory(), jti=jti, package_id=package_id, expires_at=now + expires_in, now=now
    )


def test_a_link_is_redeemed_once_with_the_package_logins_subject_and_generation(uow_factory):
    first = redeem(uow_factory, "jti-a")
    assert (first.subject, first.generation) == ("package:pkg_1", 0)
    with pytest.raises(Unauthenticated) as again:
        redeem(uow_factory, "jti-a")
    assert again.value.code == "invalid_token"
    services.revoke_subject(uow=uow_factory(), subject="package:pkg_1")  # e.g. a new package password
    assert redeem(uow_factory, "jti-b").generation == 1  # a session that the revocation leaves alive


def test_of_several_redeeming_one_link_at_the_same_moment_exactly_one_succeeds(uow_factory):
    jti = uuid.uuid4().hex
    results: list[str] = []
    gate = threading.Barrier(5)

    def attempt() -> None:
        gate.wait()
        try:
            redeem(uow_factory, jti)
            results.append("ok")
        except Unauthenticated:
            results.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["ok", "refused", "refused", "refused", "refused"]


def test_an_expired_or_malformed_link_is_refused(uow_factory):
    with pytest.raises(Unauthenticated) as expired:
        redeem(uow_factory, "jti-old", expires_in=0)
    assert expired.value.code == "invalid_token"
    with pytest.raises(InvalidInput) as no_jti:
        redeem(uow_factory, "  ")
    assert no_jti.value.field == "jti"
    with pytest.raises(InvalidInput) as no_package:
        redeem(uow_factory, "jti-c", package_id="")
    assert no_package.value.field == "package_id"
    assert redeem(uow_factory, "jti-old", expires_in=60).subject == "package:pkg_1"  # never recorded


def test_links_that_have_expired_are_forgotten_on_the_way(uow_factory):
    now = int(time.time())
    with uow_factory() as uow:
        assert uow.sign_ons.redeem("stale", package_id="pkg_1", expires_at=now - 10)
        uow.commit()
    redeem(uow_factory, "fresh")
    with uow_factory() as uow:
        assert uow.sign_ons.redeem("stale", package_id="pkg_1", expires_at=now + 60)  # pruned before
