"""Sessions, the login history and the new-device notice of identity-service: the use cases on
a real, migrated SQLite database (no server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cc_common import db
from cc_common.errors import NotFound, Unauthenticated
from identity_service.adapters.passwords import Argon2Hasher
from identity_service.domain import sessions
from identity_service.domain.sessions import SessionStart
from identity_service.service_layer import services
from identity_service.service_layer.unit_of_work import IdentityUnitOfWork
from sqlalchemy import func, select

from tests.unit.test_identity_services import LIMITS, NOW, FakeHasher

MIGRATIONS = Path(__file__).resolve().parents[2] / "identity-service" / "identity_service" / "migrations"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
FIREFOX_NEWER = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
NUMBER = "10000001"
SUBJECT = f"customer:{NUMBER}"


@pytest.fixture
def uow_factory(tmp_path: Path) -> Iterator[type]:
    url = f"sqlite:///{tmp_path / 'identity.db'}"
    db.upgrade(url, MIGRATIONS)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    yield lambda: IdentityUnitOfWork(factory)
    engine.dispose()


@pytest.fixture
def hasher() -> FakeHasher:
    return FakeHasher()


@pytest.fixture
def customer(uow_factory, hasher) -> str:
    services.set_customer_password(uow=uow_factory(), customer_number=NUMBER, password_hash="fake$secret123")
    return NUMBER


def login(uow_factory, hasher, *, password="secret123", agent=FIREFOX, jti=None, now=NOW, number=NUMBER):
    start = SessionStart(jti=jti or f"jti-{now}-{agent[:8]}", expires_at=now + 3600, user_agent=agent,
                         client_address="192.0.2.7")  # fmt: skip
    return services.customer_login(
        uow=uow_factory(), hasher=hasher, limits=LIMITS, customer_number=number, password=password,
        client_address="192.0.2.7", now=now, session=start,
    )  # fmt: skip


def test_a_login_opens_a_session_that_knows_its_token_and_lists_as_live(uow_factory, hasher, customer):
    result = login(uow_factory, hasher, jti="tok-1")
    listed = services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 1)
    assert [(s.id, s.jti, s.kind, s.user_agent) for s in listed] == [
        (result.session_id, "tok-1", "customer", FIREFOX)
    ]
    assert sessions.looks_like_session_id(result.session_id) and result.session_id != "tok-1"


def test_a_login_without_a_session_start_records_nothing(uow_factory, hasher, customer):
    services.customer_login(
        uow=uow_factory(), hasher=hasher, limits=LIMITS, customer_number=NUMBER, password="secret123",
        client_address="192.0.2.7", now=NOW,
    )  # fmt: skip
    assert services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW) == []
    assert services.login_history(uow=uow_factory(), subject=SUBJECT, now=NOW) == []


def test_the_history_has_failures_and_successes_of_an_existing_number_newest_first(
    uow_factory, hasher, customer
):
    with pytest.raises(Unauthenticated):
        login(uow_factory, hasher, password="wrong-one", now=NOW)
    login(uow_factory, hasher, now=NOW + 5)
    history = services.login_history(uow=uow_factory(), subject=SUBJECT, now=NOW + 10)
    assert [(r.success, r.method, r.client_address) for r in history] == [
        (True, "password", "192.0.2.7"),
        (False, "password", "192.0.2.7"),
    ]


def test_an_unknown_number_leaves_no_history(uow_factory, hasher, customer):
    with pytest.raises(Unauthenticated):
        login(uow_factory, hasher, number="10000002", password="whatever1")
    uow = uow_factory()
    with uow:
        from identity_service.adapters.orm import LoginHistoryRow

        assert uow.session.scalar(select(func.count()).select_from(LoginHistoryRow)) == 0


def test_the_history_keeps_the_last_hundred_attempts(uow_factory, hasher, customer):
    for i in range(sessions.HISTORY_KEEP + 5):
        with pytest.raises(Unauthenticated):
            services.customer_login(
                uow=uow_factory(), hasher=hasher, limits=LIMITS.__class__(10_000, 10_000, 900, 300),
                customer_number=NUMBER, password="wrong-one", client_address=f"192.0.2.{i % 200}",
                now=NOW + i, session=SessionStart(jti=f"j{i}", expires_at=NOW + 3600, user_agent=FIREFOX),
            )  # fmt: skip
    history = services.login_history(uow=uow_factory(), subject=SUBJECT, now=NOW + 200)
    assert len(history) == sessions.HISTORY_KEEP
    assert history[0].at == NOW + sessions.HISTORY_KEEP + 4


def test_attempts_older_than_180_days_are_not_shown(uow_factory, hasher, customer):
    login(uow_factory, hasher, now=NOW)
    later = NOW + sessions.HISTORY_SECONDS + 10
    assert services.login_history(uow=uow_factory(), subject=SUBJECT, now=later) == []


def test_the_first_login_is_never_a_new_device(uow_factory, hasher, customer):
    assert login(uow_factory, hasher, agent=FIREFOX).new_device is False


def test_a_second_device_is_new_but_the_same_device_again_is_not(uow_factory, hasher, customer):
    login(uow_factory, hasher, agent=FIREFOX, now=NOW)
    assert login(uow_factory, hasher, agent=PHONE, now=NOW + 1).new_device is True
    assert login(uow_factory, hasher, agent=PHONE, now=NOW + 2).new_device is False


def test_a_browser_update_is_not_a_new_device(uow_factory, hasher, customer):
    login(uow_factory, hasher, agent=FIREFOX, now=NOW)
    assert login(uow_factory, hasher, agent=FIREFOX_NEWER, now=NOW + 1).new_device is False


def test_the_new_device_notice_is_queued_once_in_the_market_language(uow_factory, hasher, customer):
    login(uow_factory, hasher, agent=FIREFOX, now=NOW)
    result = login(uow_factory, hasher, agent=PHONE, now=NOW + 1)
    notify = dict(
        uow=uow_factory(), subject=SUBJECT, session_id=result.session_id, email="k@example.org", market="de"
    )
    assert services.notify_new_device(**notify) is True
    assert services.notify_new_device(**{**notify, "uow": uow_factory()}) is False
    uow = uow_factory()
    with uow:
        from identity_service.adapters.orm import outbox

        mails = uow.session.execute(select(outbox.c.recipient, outbox.c.subject, outbox.c.body)).all()
    assert len(mails) == 1
    recipient, title, body = mails[0]
    assert recipient == "k@example.org" and title == "Neue Anmeldung bei Ihrem Kundenkonto"
    assert "192.0.2.7" in body and "iPhone" in body and "Kundenpasswort" in body


def test_no_notice_for_a_session_that_is_not_from_a_new_device(uow_factory, hasher, customer):
    result = login(uow_factory, hasher)
    assert not services.notify_new_device(
        uow=uow_factory(), subject=SUBJECT, session_id=result.session_id, email="k@example.org", market="uk"
    )


def test_another_customer_cannot_have_a_notice_sent_for_a_session(uow_factory, hasher, customer):
    result = login(uow_factory, hasher)
    with pytest.raises(NotFound):
        services.notify_new_device(
            uow=uow_factory(), subject="customer:10000009", session_id=result.session_id, email="x@example.org",
            market="uk",
        )  # fmt: skip


def test_ending_a_session_denies_its_token_and_hides_it(uow_factory, hasher, customer):
    first = login(uow_factory, hasher, jti="tok-1", now=NOW)
    login(uow_factory, hasher, jti="tok-2", now=NOW + 1)
    change = services.end_session(
        uow=uow_factory(), subject=SUBJECT, session_id=first.session_id, now=NOW + 2
    )
    assert [d.jti for d in change.denied] == ["tok-1"]
    assert change.denied[0].expires_at >= NOW + 3600
    live = services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 3)
    assert [s.jti for s in live] == ["tok-2"]


@pytest.mark.parametrize("session_id", ["ses_000000000000000000000000", "nonsense", ""])
def test_ending_an_unknown_session_is_not_found(uow_factory, hasher, customer, session_id):
    with pytest.raises(NotFound):
        services.end_session(uow=uow_factory(), subject=SUBJECT, session_id=session_id, now=NOW)


def test_ending_a_session_of_another_customer_is_not_found(uow_factory, hasher, customer):
    result = login(uow_factory, hasher)
    with pytest.raises(NotFound):
        services.end_session(
            uow=uow_factory(), subject="customer:10000009", session_id=result.session_id, now=NOW
        )
    assert len(services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW)) == 1


def test_ending_the_other_sessions_keeps_only_the_callers(uow_factory, hasher, customer):
    login(uow_factory, hasher, jti="tok-1", now=NOW)
    login(uow_factory, hasher, jti="tok-2", now=NOW + 1)
    login(uow_factory, hasher, jti="tok-3", now=NOW + 2)
    change = services.end_other_sessions(uow=uow_factory(), subject=SUBJECT, keep_jti="tok-2")
    assert change.rules[0].keep_jti == "tok-2"
    assert [s.jti for s in services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 3)] == [
        "tok-2"
    ]


def test_logout_ends_the_session_of_its_token(uow_factory, hasher, customer):
    login(uow_factory, hasher, jti="tok-1", now=NOW)
    services.revoke_token(uow=uow_factory(), jti="tok-1", expires_at=int(NOW) + 3600, now=int(NOW) + 1)
    assert services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 2) == []


def test_a_password_change_ends_the_other_sessions(uow_factory, hasher, customer):
    login(uow_factory, hasher, jti="tok-1", now=NOW)
    login(uow_factory, hasher, jti="tok-2", now=NOW + 1)
    services.store_password_change(
        uow=uow_factory(), customer_number=NUMBER, password_hash="fake$new-secret", keep_jti="tok-2"
    )
    assert [s.jti for s in services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 2)] == [
        "tok-2"
    ]


def test_touching_moves_last_used_forward_only_for_known_tokens(uow_factory, hasher, customer):
    login(uow_factory, hasher, jti="tok-1", now=NOW)
    assert services.touch_sessions(uow=uow_factory(), jtis=["tok-1", "unknown"], now=NOW + 90) == 1
    (found,) = services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 91)
    assert found.last_used_at == NOW + 90 and found.created_at == NOW


def test_an_expired_session_is_no_longer_listed(uow_factory, hasher, customer):
    login(uow_factory, hasher, now=NOW)
    assert services.list_sessions(uow=uow_factory(), subject=SUBJECT, now=NOW + 3601) == []


def test_the_real_hasher_logs_in_with_a_session_too(uow_factory):
    real = Argon2Hasher()
    services.set_customer_password(
        uow=uow_factory(), customer_number=NUMBER, password_hash=real.hash("secret123")
    )
    assert login(uow_factory, real).session_id


def test_device_keys_ignore_versions_case_and_spaces():
    assert sessions.device_of(FIREFOX) == sessions.device_of(FIREFOX_NEWER.upper().replace(" ", "  "))
    assert sessions.device_of(FIREFOX) != sessions.device_of(PHONE)
