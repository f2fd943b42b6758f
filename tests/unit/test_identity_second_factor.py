"""identity-service's second-factor use cases on a migrated database (SQLite, and PostgreSQL
where it runs: the `database_url` fixture), with a fake hasher and a fixed clock (pyotp
computes the codes of that moment)."""

from __future__ import annotations

from pathlib import Path

import pyotp
import pytest
from cc_common import db
from cc_common.errors import Conflict, InvalidInput, TooManyAttempts, Unauthenticated
from identity_service.adapters.orm import outbox
from identity_service.domain import second_factor
from identity_service.domain.model import ChallengeIssued, CustomerCredential, LoginResult, StaffAccount
from identity_service.domain.throttling import LoginLimits
from identity_service.service_layer import services
from identity_service.service_layer.unit_of_work import IdentityUnitOfWork
from sqlalchemy import select

MIGRATIONS = Path(__file__).resolve().parents[2] / "identity-service" / "identity_service" / "migrations"
NOW = 1_800_000_000.0
NUMBER = "10001"
PASSWORD = "correct horse battery"
LIMITS = LoginLimits(max_failures_per_account=3, max_failures_per_address=50)


class FakeHasher:
    def hash(self, password: str) -> str:
        return "fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "fake$" + password

    def verify_dummy(self, password: str) -> bool:
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        return False


@pytest.fixture
def uow(database_url):
    url = database_url("identity")
    db.upgrade(url, MIGRATIONS)
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    with IdentityUnitOfWork(factory) as first:
        first.credentials.save_customer(CustomerCredential(NUMBER, "fake$" + PASSWORD))
        first.credentials.save_staff(StaffAccount("staff", "fake$" + PASSWORD))
        first.commit()
    yield lambda: IdentityUnitOfWork(factory)
    engine.dispose()


def login(uow, *, password=PASSWORD, now=NOW, address="198.51.100.7"):
    return services.customer_login(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, customer_number=NUMBER, password=password,
        client_address=address, now=now,
    )  # fmt: skip


def enrol(uow, subject=f"customer:{NUMBER}"):
    enrolment = services.start_second_factor(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=subject, current_password=PASSWORD,
        client_address="198.51.100.7", now=NOW,
    )  # fmt: skip
    totp = pyotp.TOTP(enrolment.secret)
    codes = services.confirm_second_factor(uow=uow(), subject=subject, code=totp.at(NOW), now=NOW)
    return totp, codes


def complete(uow, challenge, code, *, now=NOW + 30):
    return services.complete_second_factor(
        uow=uow(), limits=LIMITS, challenge=challenge, code=code, client_address="198.51.100.7", now=now
    )


def test_a_login_without_a_second_factor_gives_the_login_at_once(uow):
    assert login(uow) == LoginResult(f"customer:{NUMBER}", 0)


def test_an_enrolment_gives_a_secret_and_its_otpauth_uri_but_no_second_factor_yet(uow):
    enrolment = services.start_second_factor(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}", current_password=PASSWORD,
        client_address="", now=NOW,
    )  # fmt: skip
    assert enrolment.otpauth_uri.startswith("otpauth://totp/")
    assert f"secret={enrolment.secret}" in enrolment.otpauth_uri
    assert isinstance(login(uow), LoginResult)
    assert services.second_factor_status(uow=uow(), subject=f"customer:{NUMBER}").pending


def test_an_enrolment_with_a_wrong_password_is_refused_and_counts_like_a_failed_login(uow):
    for _ in range(LIMITS.max_failures_per_account):
        with pytest.raises(Unauthenticated) as refused:
            services.start_second_factor(
                uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}",
                current_password="wrong password", client_address="", now=NOW,
            )  # fmt: skip
        assert refused.value.code == "invalid_credentials"
    with pytest.raises(TooManyAttempts):
        login(uow)


def test_confirming_with_a_wrong_code_is_refused_and_confirming_without_an_enrolment_conflicts(uow):
    services.start_second_factor(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}", current_password=PASSWORD,
        client_address="", now=NOW,
    )  # fmt: skip
    with pytest.raises(Unauthenticated):
        services.confirm_second_factor(uow=uow(), subject=f"customer:{NUMBER}", code="000000", now=NOW)
    with pytest.raises(Conflict) as conflict:
        services.confirm_second_factor(uow=uow(), subject="staff:staff", code="123456", now=NOW)
    assert conflict.value.code == "no_second_factor_enrolment"


def test_a_confirmed_second_factor_gives_ten_distinct_recovery_codes_and_a_second_enrolment_conflicts(uow):
    _, codes = enrol(uow)
    assert len(set(codes)) == 10
    with pytest.raises(Conflict) as conflict:
        services.start_second_factor(
            uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}",
            current_password=PASSWORD, client_address="", now=NOW,
        )  # fmt: skip
    assert conflict.value.code == "second_factor_active"


def test_the_right_password_gives_a_challenge_and_a_code_of_the_moment_completes_the_login(uow):
    totp, _ = enrol(uow)
    issued = login(uow)
    assert isinstance(issued, ChallengeIssued)
    done = complete(uow, issued.challenge, totp.at(NOW + 30))
    assert done.login == LoginResult(f"customer:{NUMBER}", 0)
    assert done.method == second_factor.SECOND_FACTOR


def test_a_totp_code_is_not_accepted_twice_within_its_window(uow):
    totp, _ = enrol(uow)
    code = totp.at(NOW + 30)
    complete(uow, login(uow).challenge, code)
    with pytest.raises(Unauthenticated):
        complete(uow, login(uow).challenge, code, now=NOW + 40)


def test_the_code_used_to_confirm_the_enrolment_does_not_sign_in(uow):
    totp, _ = enrol(uow)
    with pytest.raises(Unauthenticated):
        complete(uow, login(uow).challenge, totp.at(NOW), now=NOW)


def test_a_recovery_code_signs_in_once(uow):
    _, codes = enrol(uow)
    done = complete(uow, login(uow).challenge, codes[3].upper().replace("-", " "))
    assert done.method == second_factor.RECOVERY_CODE
    with pytest.raises(Unauthenticated):
        complete(uow, login(uow).challenge, codes[3])
    assert services.second_factor_status(uow=uow(), subject=f"customer:{NUMBER}").recovery_codes_left == 9


def test_a_challenge_is_spent_by_its_login_and_expires_after_five_minutes(uow):
    totp, codes = enrol(uow)
    challenge = login(uow).challenge
    complete(uow, challenge, codes[0])
    with pytest.raises(Unauthenticated):
        complete(uow, challenge, codes[1])
    late = login(uow).challenge
    with pytest.raises(Unauthenticated):
        complete(uow, late, codes[1], now=NOW + second_factor.CHALLENGE_TTL_SECONDS + 1)


def test_wrong_codes_lock_the_account_and_a_right_password_does_not_unlock_it(uow):
    totp, _ = enrol(uow)
    for _ in range(LIMITS.max_failures_per_account - 1):
        with pytest.raises(Unauthenticated):
            complete(uow, login(uow).challenge, "000000")
    challenge = login(uow).challenge  # the right password: the failures are kept
    with pytest.raises(Unauthenticated):
        complete(uow, challenge, "000000")
    with pytest.raises(TooManyAttempts):
        complete(uow, challenge, totp.at(NOW + 30))


def test_a_wrong_password_answers_the_same_with_or_without_a_second_factor(uow):
    with pytest.raises(Unauthenticated) as without:
        login(uow, password="wrong password")
    enrol(uow)
    with pytest.raises(Unauthenticated) as with_factor:
        login(uow, password="wrong password")
    assert (with_factor.value.code, str(with_factor.value)) == (without.value.code, str(without.value))


def test_turning_the_second_factor_off_needs_a_right_code_and_then_the_password_alone_signs_in(uow):
    totp, _ = enrol(uow)
    arguments = dict(
        hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}", current_password=PASSWORD,
        client_address="", now=NOW + 60,
    )  # fmt: skip
    with pytest.raises(Unauthenticated):
        services.disable_second_factor(uow=uow(), code="000000", **arguments)
    services.disable_second_factor(uow=uow(), code=totp.at(NOW + 60), **arguments)
    assert isinstance(login(uow), LoginResult)
    with pytest.raises(Conflict):
        services.disable_second_factor(uow=uow(), code=totp.at(NOW + 60), **arguments)


def test_turning_it_on_and_off_queues_a_notice_to_the_given_address(uow):
    services.start_second_factor(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}", current_password=PASSWORD,
        client_address="", now=NOW,
    )  # fmt: skip
    with uow() as work:
        secret = work.second_factors.get(f"customer:{NUMBER}").secret
    services.confirm_second_factor(
        uow=uow(), subject=f"customer:{NUMBER}", code=pyotp.TOTP(secret).at(NOW), now=NOW,
        email="max@example.org", market="de",
    )  # fmt: skip
    services.disable_second_factor(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, subject=f"customer:{NUMBER}", current_password=PASSWORD,
        code=pyotp.TOTP(secret).at(NOW + 30), client_address="", now=NOW + 30, email="max@example.org", market="de",
    )  # fmt: skip
    with uow() as work:
        queued = work.mails.session.execute(select(outbox.c.recipient, outbox.c.subject)).all()
    assert sorted(queued) == [
        ("max@example.org", "Die Zwei-Faktor-Authentifizierung wurde ausgeschaltet"),
        ("max@example.org", "Die Zwei-Faktor-Authentifizierung wurde eingeschaltet"),
    ]


def test_the_staff_secret_from_the_setting_is_active_at_once_and_asked_for_at_login(uow):
    secret = pyotp.random_base32(32)
    services.ensure_staff_second_factor(uow=uow(), username="staff", secret=secret)
    issued = services.staff_login(
        uow=uow(), hasher=FakeHasher(), limits=LIMITS, username="staff", password=PASSWORD,
        client_address="", now=NOW,
    )  # fmt: skip
    assert isinstance(issued, ChallengeIssued)
    assert complete(uow, issued.challenge, pyotp.TOTP(secret).at(NOW)).login.subject == "staff:staff"


def test_a_short_staff_secret_is_refused():
    with pytest.raises(InvalidInput, match="at least 32"):
        second_factor.check_secret("JBSWY3DPEHPK3PXP", field_name="STAFF_TOTP_SECRET")
