"""The use cases of identity-service with fakes of the unit of work and the hasher (no I/O):
logins that answer the same whether the account exists, throttling, revocation rules."""

from __future__ import annotations

import copy

import pytest
from cc_common.errors import Forbidden, InvalidInput, TooManyAttempts, Unauthenticated
from identity_service.domain import throttling
from identity_service.domain.model import CustomerCredential, PackageCredential, StaffAccount
from identity_service.domain.password_reset import ResetToken
from identity_service.domain.revocation import DeniedToken, SubjectRule
from identity_service.domain.throttling import FailureRecord, ThrottleKey
from identity_service.service_layer import services


class FakeHasher:
    """ "Hashes" by prefixing; counts the checks so tests can compare the work done."""

    def __init__(self) -> None:
        self.checks = 0
        self.hashes = 0

    def hash(self, password: str) -> str:
        self.hashes += 1
        return "fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        self.checks += 1
        return password_hash == "fake$" + password

    def verify_dummy(self, password: str) -> bool:
        self.checks += 1
        return False

    def needs_rehash(self, password_hash: str) -> bool:
        return False


class FakeCredentials:
    def __init__(self) -> None:
        self.customers: dict[str, CustomerCredential] = {}
        self.packages: dict[str, PackageCredential] = {}
        self.staff: dict[str, StaffAccount] = {}

    def get_customer(self, number):
        return self.customers.get(number)

    def save_customer(self, credential):
        self.customers[credential.customer_number] = credential

    def get_package(self, package_id):
        return self.packages.get(package_id)

    def save_package(self, credential):
        self.packages[credential.package_id] = credential

    def get_staff(self, username):
        return self.staff.get(username)

    def save_staff(self, account):
        self.staff[account.username] = account


class FakeThrottle:
    def __init__(self) -> None:
        self.records: dict[ThrottleKey, FailureRecord] = {}

    def get(self, key):
        record = self.records.get(key)
        return FailureRecord(**vars(record)) if record else None

    def get_for_update(self, key):
        return self.get(key) or FailureRecord()

    def save(self, key, record):
        self.records[key] = FailureRecord(**vars(record))

    def reset(self, key):
        self.records.pop(key, None)

    def prune(self, *, now, window_seconds):
        return 0


class FakeRevocations:
    def __init__(self) -> None:
        self.sequence = 0
        self.rules: dict[str, SubjectRule] = {}
        self.denied: dict[str, DeniedToken] = {}

    def next_sequence(self):
        self.sequence += 1
        return self.sequence

    def current_sequence(self):
        return self.sequence

    def get_rule(self, subject):
        return self.rules.get(subject)

    def save_rule(self, rule, *, sequence):
        self.rules[rule.subject] = rule

    def deny(self, token, *, sequence):
        self.denied[token.jti] = token

    def prune_denied(self, *, now):
        for jti in [j for j, t in self.denied.items() if t.expires_at <= now]:
            del self.denied[jti]

    def all_rules(self):
        return list(self.rules.values())

    def denied_since(self, *, now):
        return [t for t in self.denied.values() if t.expires_at > now]


class FakeResets:
    def __init__(self) -> None:
        self.tokens: dict[str, ResetToken] = {}
        self.requests: list[tuple[str, float]] = []

    def add(self, token):
        self.tokens[token.token_hash] = copy.copy(token)

    def get(self, token_hash):
        token = self.tokens.get(token_hash)
        return copy.copy(token) if token else None

    def count_since(self, customer_number, since):
        return sum(
            1 for t in self.tokens.values() if t.customer_number == customer_number and t.created_at > since
        )

    def count_usable(self, customer_number, *, now):
        return sum(1 for t in self.tokens.values() if t.customer_number == customer_number and t.usable(now))

    def record_request(self, client_address, now):
        self.requests.append((client_address, now))

    def count_requests_since(self, client_address, since):
        return sum(1 for address, at in self.requests if address == client_address and at > since)

    def invalidate_pending(self, customer_number):
        for token in self.tokens.values():
            if token.customer_number == customer_number and token.status == "pending":
                token.status = "invalidated"

    def consume(self, token_hash, *, now):
        token = self.tokens.get(token_hash)
        if token is None or not token.usable(now):
            return None
        token.status = "used"
        return token.customer_number

    def prune(self, *, before):
        for key in [k for k, t in self.tokens.items() if t.created_at < before]:
            del self.tokens[key]
        self.requests = [(address, at) for address, at in self.requests if at >= before]


class FakeMails:
    def __init__(self) -> None:
        self.queued: dict[str, dict[str, str]] = {}

    def queue(self, *, dedup_key, recipient, subject, body):
        if dedup_key in self.queued:
            return False
        self.queued[dedup_key] = {"recipient": recipient, "subject": subject, "body": body}
        return True


class FakeSessions:
    """The sessions these use cases end along with a revocation (none are opened here: the
    tests of sessions run on a real database, tests/unit/test_identity_sessions.py)."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, str]] = []

    def end_by_jti(self, jti, *, now):
        self.ended.append(("jti", jti))

    def end_all(self, subject, *, now, keep_jti=""):
        self.ended.append(("subject", subject))
        return 0


class FakeSecondFactors:
    """No subject of these tests has a second factor (tests/unit/test_identity_second_factor.py
    has them, on a real database)."""

    def is_active(self, subject):
        return False


class FakeUnitOfWork:
    """Keeps what was committed; what was not committed is thrown away on exit."""

    _PARTS = ("credentials", "throttle", "revocations", "resets", "mails", "sessions")

    def __init__(self) -> None:
        self.credentials = FakeCredentials()
        self.throttle = FakeThrottle()
        self.revocations = FakeRevocations()
        self.resets = FakeResets()
        self.mails = FakeMails()
        self.sessions = FakeSessions()
        self.second_factors = FakeSecondFactors()
        self.commits = 0

    def __enter__(self):
        self._saved = copy.deepcopy(tuple(getattr(self, name) for name in self._PARTS))
        return self

    def __exit__(self, *exc):
        if self._saved is not None:
            for name, part in zip(self._PARTS, self._saved, strict=True):
                setattr(self, name, part)
        self._saved = None

    def commit(self):
        self.commits += 1
        self._saved = None


LIMITS = throttling.LoginLimits(
    max_failures_per_account=3, max_failures_per_address=5, window_seconds=900, lockout_seconds=300
)
NOW = 1_000_000.0


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def hasher():
    return FakeHasher()


def login(uow, hasher, number="100", password="correct horse", address="192.0.2.1", now=NOW):
    return services.customer_login(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        customer_number=number,
        password=password,
        client_address=address,
        now=now,
    )


def set_password(uow, hasher, number="100", password="correct horse", keep_jti=""):
    password_hash = services.new_password_hash(hasher=hasher, password=password)
    return services.set_customer_password(
        uow=uow, customer_number=number, password_hash=password_hash, keep_jti=keep_jti
    )


def with_customer(uow, hasher, number="100", password="correct horse"):
    set_password(uow, hasher, number, password)


def refused(call) -> Exception:
    with pytest.raises(Exception) as err:
        call()
    return err.value


# --- passwords --------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "seven77", "x" * 129])
def test_a_password_outside_8_to_128_characters_is_refused_with_the_password_field(uow, hasher, password):
    err = refused(lambda: with_customer(uow, hasher, password=password))
    assert isinstance(err, InvalidInput) and err.field == "password"
    assert uow.credentials.customers == {}


def test_setting_a_password_again_replaces_the_hash(uow, hasher):
    with_customer(uow, hasher, password="first password")
    with_customer(uow, hasher, password="second password")
    assert uow.credentials.customers["100"].password_hash == "fake$second password"


def test_a_staff_account_is_created_and_updated_from_the_settings(uow, hasher):
    services.ensure_staff_account(uow=uow, hasher=hasher, username="admin", password="admin-password")
    services.ensure_staff_account(uow=uow, hasher=hasher, username="admin", password="new-password")
    assert uow.credentials.staff["admin"].password_hash == "fake$new-password"


# --- logins -----------------------------------------------------------------------------


def test_the_right_password_answers_the_subject_and_its_current_generation(uow, hasher):
    with_customer(uow, hasher)
    services.revoke_subject(uow=uow, subject="customer:100")
    assert login(uow, hasher) == services.LoginResult(subject="customer:100", generation=1)


def test_an_unknown_number_gets_the_same_answer_and_costs_the_same_check_as_a_wrong_password(uow, hasher):
    with_customer(uow, hasher)
    hasher.checks = 0
    known = refused(lambda: login(uow, hasher, password="wrong horse"))
    checks_known = hasher.checks
    unknown = refused(lambda: login(uow, hasher, number="999", password="wrong horse"))

    assert isinstance(known, Unauthenticated) and isinstance(unknown, Unauthenticated)
    assert (known.code, known.message) == (unknown.code, unknown.message)
    assert known.code == "invalid_credentials"
    assert checks_known == 1 and hasher.checks == 2


def test_a_package_login_for_an_unknown_domain_checks_a_dummy_hash(uow, hasher):
    err = refused(
        lambda: services.package_login(
            uow=uow,
            hasher=hasher,
            limits=LIMITS,
            domain="Nowhere.Example.",
            package_id="",
            password="whatever1",
            client_address="192.0.2.1",
            now=NOW,
        )
    )
    assert isinstance(err, Unauthenticated) and err.code == "invalid_credentials"
    assert hasher.checks == 1
    assert uow.throttle.records[throttling.ThrottleKey("package", "domain:nowhere.example")].failures == 1


def test_a_merged_number_answers_merged_into_only_after_its_right_password(uow, hasher):
    with_customer(uow, hasher, number="200")
    uow.credentials.customers["200"].status = "retired"
    uow.credentials.customers["200"].merged_into = "100"

    wrong = refused(lambda: login(uow, hasher, number="200", password="wrong horse"))
    right = refused(lambda: login(uow, hasher, number="200"))

    assert isinstance(wrong, Unauthenticated) and wrong.code == "invalid_credentials"
    assert isinstance(right, Forbidden) and right.code == "customer_number_merged"
    assert right.extra == {"merged_into": "100"}


def test_a_staff_login_answers_the_staff_subject(uow, hasher):
    services.ensure_staff_account(uow=uow, hasher=hasher, username="admin", password="admin-password")
    result = services.staff_login(
        uow=uow,
        hasher=hasher,
        limits=LIMITS,
        username="admin",
        password="admin-password",
        client_address="",
        now=NOW,
    )
    assert result.subject == "staff:admin"


# --- throttling -------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["100", "999"], ids=["known", "unknown"])
def test_the_account_is_locked_after_its_limit_before_any_password_is_checked(uow, hasher, number):
    with_customer(uow, hasher)
    for _ in range(LIMITS.max_failures_per_account):
        refused(lambda: login(uow, hasher, number=number, password="wrong horse"))
    checks = hasher.checks

    err = refused(lambda: login(uow, hasher, number=number, password="correct horse", now=NOW + 10))

    assert isinstance(err, TooManyAttempts)
    assert err.retry_after == LIMITS.lockout_seconds - 10
    assert hasher.checks == checks


def test_the_lock_ends_after_the_lockout(uow, hasher):
    with_customer(uow, hasher)
    for _ in range(LIMITS.max_failures_per_account):
        refused(lambda: login(uow, hasher, password="wrong horse"))
    assert login(uow, hasher, now=NOW + LIMITS.lockout_seconds).subject == "customer:100"


def test_a_success_resets_the_account_counter_but_not_the_address_counter(uow, hasher):
    with_customer(uow, hasher)
    for _ in range(LIMITS.max_failures_per_account - 1):
        refused(lambda: login(uow, hasher, password="wrong horse"))
    login(uow, hasher)

    assert throttling.ThrottleKey("customer", "100") not in uow.throttle.records
    assert uow.throttle.records[throttling.ThrottleKey("address", "192.0.2.1")].failures == 2


def test_failures_from_one_address_over_many_accounts_lock_the_address(uow, hasher):
    for n in range(LIMITS.max_failures_per_address):
        refused(lambda n=n: login(uow, hasher, number=str(500 + n), password="wrong horse"))
    from_there = refused(lambda: login(uow, hasher, number="600", password="wrong horse"))
    elsewhere = refused(
        lambda: login(uow, hasher, number="600", password="wrong horse", address="198.51.100.1")
    )
    assert isinstance(from_there, TooManyAttempts)
    assert isinstance(elsewhere, Unauthenticated)


def test_failures_outside_the_window_do_not_add_up(uow, hasher):
    for i in range(LIMITS.max_failures_per_account * 2):
        now = NOW + i * LIMITS.window_seconds
        err = refused(
            lambda now=now: login(uow, hasher, number="100", password="wrong horse", address="", now=now)
        )
        assert isinstance(err, Unauthenticated)


# --- revocation -------------------------------------------------------------------------


def test_revoke_subject_bumps_the_generation_keeps_one_token_and_takes_a_new_sequence(uow):
    first = services.revoke_subject(uow=uow, subject="customer:100", keep_jti="abc")
    second = services.revoke_subject(uow=uow, subject="customer:100")

    assert [r.min_generation for r in first.rules + second.rules] == [1, 2]
    assert first.rules[0].keep_jti == "abc" and second.rules[0].keep_jti == ""
    assert second.sequence == first.sequence + 1


def test_a_malformed_subject_is_refused_with_the_subject_field(uow):
    err = refused(lambda: services.revoke_subject(uow=uow, subject="customer:abc"))
    assert isinstance(err, InvalidInput) and err.field == "subject"
    assert uow.revocations.sequence == 0


def test_a_revoked_token_is_denied_until_it_expires_and_then_pruned(uow):
    services.revoke_token(uow=uow, jti="old", expires_at=100, now=50)
    services.revoke_token(uow=uow, jti="new", expires_at=300, now=200)
    snapshot = services.revocation_snapshot(uow=uow, now=200)
    assert [d.jti for d in snapshot.denied] == ["new"]
    assert "old" not in uow.revocations.denied
    assert snapshot.snapshot and snapshot.sequence == 2


# --- merge steps: SetCustomerStatus ---------------------------------------------------------


def retire(uow, *numbers):
    return services.set_customer_status(
        uow=uow, merge_id="mrg_1", customer_numbers=list(numbers), status="retired", merged_into="600"
    )


def test_retiring_a_number_commits_its_status_and_its_revocation_together(uow):
    uow.credentials.customers["500"] = CustomerCredential("500", "fake$x")

    result = retire(uow, "500")

    assert uow.commits == 1  # one transaction: no crash can fall between status and revocation
    assert uow.credentials.customers["500"].status == "retired"
    assert uow.revocations.rules["customer:500"].min_generation == 1
    assert result.changed == 1
    assert [c.rules for c in result.revocations] == [[uow.revocations.rules["customer:500"]]]


def test_a_retry_after_a_crash_before_the_revocation_still_revokes(uow):
    # What an identity that died between status change and revocation left behind.
    uow.credentials.customers["500"] = CustomerCredential("500", "fake$x", "retired", "600")

    result = retire(uow, "500")

    assert result.changed == 0
    assert uow.revocations.rules["customer:500"].min_generation == 1
    assert len(result.revocations) == 1


def test_freezing_an_already_frozen_number_changes_and_revokes_nothing(uow):
    uow.credentials.customers["500"] = CustomerCredential("500", "fake$x", "frozen")

    result = services.set_customer_status(uow=uow, merge_id="m", customer_numbers=["500"], status="frozen")

    assert (result.changed, result.revocations, uow.commits) == (0, [], 0)
    assert uow.revocations.rules == {}
