"""identity-service over real gRPC on port 0, against a real database. Every hash here is a
real argon2id hash (~34 ms), so the tests keep their number small."""

from __future__ import annotations

import time

import grpc
import pytest
from cc_common.revocation import RevocationState, RevocationWatcher
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from cc_common.tokens import TokenVerifier
from customercenter.v2 import common_pb2, identity_pb2_grpc
from customercenter.v2 import identity_pb2 as pb
from identity_service.bootstrap import Settings, create_server
from identity_service.domain.password_reset import ResetPolicy
from identity_service.domain.throttling import LoginLimits

TIMEOUT = 5


class Identity:
    """A running identity-service with a stub, token factory and verifier."""

    def __init__(
        self,
        tmp_path,
        url: str,
        limits: LoginLimits | None = None,
        ack_timeout: float = 1.0,
        public_base_url: str = "http://127.0.0.1:8000",
        staff_password: str = "boss-password-1",
        reset_policy: ResetPolicy | None = None,
    ) -> None:
        self.token_settings = token_settings_in(tmp_path)
        self.settings = Settings(
            database_url=url,
            listen="127.0.0.1:0",
            tokens=self.token_settings,
            staff_username="boss",
            staff_password=staff_password,
            limits=limits or LoginLimits(),
            revocation_ack_timeout=ack_timeout,
            public_base_url=public_base_url,
            reset_policy=reset_policy or ResetPolicy(),
        )
        self.thread = ServerThread(lambda: create_server("127.0.0.1:0", self.settings)).start()
        self.runtime = self.thread.extra[-1]  # the mail dispatcher, started with the server
        self.runtime.start()
        self.channel = grpc.insecure_channel(self.thread.address)
        self.stub = identity_pb2_grpc.IdentityServiceStub(self.channel)
        self.tokens = TokenFactory(self.token_settings)
        self.verifier = TokenVerifier.from_settings(self.token_settings)
        self.service = metadata(self.tokens.service())
        self.watchers: list[RevocationWatcher] = []

    def watch(self) -> RevocationState:
        state = RevocationState()
        watcher = RevocationWatcher(
            grpc.insecure_channel(self.thread.address), self.tokens.service, state
        ).start()
        self.watchers.append(watcher)
        assert state.wait_synced(TIMEOUT)
        return state

    def customer_login(self, number: str, password: str, address: str = "192.0.2.1"):
        request = pb.CustomerLoginRequest(customer_number=number, password=password, client_address=address)
        return self.stub.CustomerLogin(request, metadata=self.service, timeout=TIMEOUT).login

    def set_customer_password(self, number: str, password: str) -> None:
        request = pb.SetCustomerPasswordRequest(customer_number=number, password=password)
        self.stub.SetCustomerPassword(request, metadata=metadata(self.tokens.staff()), timeout=TIMEOUT)

    def stop(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        self.channel.close()
        self.runtime.stop()
        self.thread.stop()


@pytest.fixture
def identity(tmp_path, database_url):
    server = Identity(tmp_path, database_url("identity"))
    yield server
    server.stop()


def failure(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value


def trailers(err: grpc.RpcError) -> dict[str, str]:
    return dict(err.trailing_metadata() or ())


def test_each_kind_of_login_answers_its_subject_and_generation(identity):
    identity.set_customer_password("100", "correct horse")
    identity.stub.SetPackagePassword(
        pb.SetPackagePasswordRequest(package_id="pkg_1", password="package-secret"),
        metadata=identity.service,
        timeout=TIMEOUT,
    )

    customer = identity.customer_login("100", "correct horse")
    package = identity.stub.PackageLogin(
        pb.PackageLoginRequest(domain="shop.example", package_id="pkg_1", password="package-secret"),
        metadata=identity.service,
        timeout=TIMEOUT,
    ).login
    staff = identity.stub.StaffLogin(
        pb.StaffLoginRequest(username="boss", password="boss-password-1"),
        metadata=identity.service,
        timeout=TIMEOUT,
    ).login

    assert (customer.subject, customer.generation) == ("customer:100", 0)
    assert (package.subject, package.generation) == ("package:pkg_1", 0)
    assert (staff.subject, staff.generation) == ("staff:boss", 0)


def test_a_wrong_password_and_an_unknown_number_get_the_same_answer(identity):
    identity.set_customer_password("100", "correct horse")

    known = failure(lambda: identity.customer_login("100", "wrong horse"))
    unknown = failure(lambda: identity.customer_login("999", "wrong horse"))
    unknown_domain = failure(
        lambda: (
            identity.stub.PackageLogin(
                pb.PackageLoginRequest(domain="nowhere.example", package_id="", password="whatever1"),
                metadata=identity.service,
                timeout=TIMEOUT,
            ).login
        )
    )

    assert known.code() == unknown.code() == grpc.StatusCode.UNAUTHENTICATED
    assert known.details() == unknown.details()
    assert trailers(known)["error-code"] == trailers(unknown)["error-code"] == "invalid_credentials"
    assert unknown_domain.code() == grpc.StatusCode.UNAUTHENTICATED
    assert trailers(unknown_domain)["error-code"] == "invalid_credentials"


def test_a_short_password_is_refused_with_the_password_field(identity):
    err = failure(lambda: identity.set_customer_password("100", "short"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(err)["error-field"] == "password"


def test_repeated_failures_lock_the_account_with_a_retry_after_even_across_a_restart(tmp_path, database_url):
    url = database_url("identity")
    limits = LoginLimits(max_failures_per_account=3, max_failures_per_address=100, lockout_seconds=120)
    server = Identity(tmp_path, url, limits)
    try:
        server.set_customer_password("100", "correct horse")
        for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):  # the account counts, not the address
            assert failure(lambda a=address: server.customer_login("100", "wrong horse", a)).code() == (
                grpc.StatusCode.UNAUTHENTICATED
            )
    finally:
        server.stop()
    server = Identity(tmp_path, url, limits)  # a new process on the same database
    try:
        locked = failure(lambda: server.customer_login("100", "correct horse", "198.51.100.7"))
        assert locked.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert trailers(locked)["error-code"] == "too_many_attempts"
        assert 1 <= int(trailers(locked)["error-x-retry-after"]) <= 120
    finally:
        server.stop()


def test_an_unknown_number_is_locked_like_a_known_one_and_the_address_limit_spans_accounts(
    tmp_path, database_url
):
    limits = LoginLimits(max_failures_per_account=2, max_failures_per_address=3)
    server = Identity(tmp_path, database_url("identity"), limits)
    try:
        for _ in range(2):
            failure(lambda: server.customer_login("555", "wrong horse", "192.0.2.1"))
        unknown_locked = failure(lambda: server.customer_login("555", "wrong horse", "192.0.2.9"))
        assert unknown_locked.code() == grpc.StatusCode.RESOURCE_EXHAUSTED

        failure(lambda: server.customer_login("556", "wrong horse", "192.0.2.1"))  # third from .1
        address_locked = failure(lambda: server.customer_login("557", "wrong horse", "192.0.2.1"))
        assert address_locked.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "error-x-retry-after" in trailers(address_locked)
    finally:
        server.stop()


def test_a_logout_is_seen_by_every_watcher_before_the_rpc_returns(tmp_path, database_url):
    # The ack timeout outlasts the RPC's deadline (TIMEOUT): an RPC that returns at all returned
    # because the watchers acknowledged; waiting out the ack timeout would be DEADLINE_EXCEEDED.
    identity = Identity(tmp_path, database_url("identity"), ack_timeout=10)
    try:
        assert TIMEOUT < identity.settings.revocation_ack_timeout
        states = [identity.watch(), identity.watch()]
        token = identity.tokens.customer("100")
        principal = identity.verifier.verify(token)
        assert not any(state.is_revoked(principal) for state in states)

        result = identity.stub.RevokeOwnToken(
            pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT
        ).revocation

        assert all(state.is_revoked(principal) for state in states)
        assert all(state.sequence >= result.sequence > 0 for state in states)
    finally:
        identity.stop()


def test_a_new_watcher_starts_from_a_snapshot_of_earlier_revocations(identity):
    token = identity.tokens.staff("boss")
    identity.stub.RevokeOwnToken(pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT)
    identity.stub.RevokeSubject(
        pb.RevokeSubjectRequest(subject="customer:7"), metadata=identity.service, timeout=TIMEOUT
    )

    state = identity.watch()

    assert state.is_revoked(identity.verifier.verify(token))
    assert state.is_revoked(identity.verifier.verify(identity.tokens.customer("7", generation=0)))
    assert not state.is_revoked(identity.verifier.verify(identity.tokens.customer("7", generation=1)))


def test_revoke_subject_kills_older_tokens_except_keep_jti_and_later_logins_get_the_new_generation(identity):
    identity.set_customer_password("100", "correct horse")
    state = identity.watch()
    kept = identity.verifier.verify(identity.tokens.customer("100"))
    other = identity.verifier.verify(identity.tokens.customer("100"))

    identity.stub.RevokeSubject(
        pb.RevokeSubjectRequest(subject="customer:100", keep_jti=kept.jti),
        metadata=identity.service,
        timeout=TIMEOUT,
    )

    assert state.is_revoked(other)
    assert not state.is_revoked(kept)
    login = identity.customer_login("100", "correct horse")
    assert login.generation == 1
    fresh = identity.verifier.verify(identity.tokens.customer("100", generation=login.generation))
    assert not state.is_revoked(fresh)


def test_a_malformed_subject_is_refused(identity):
    err = failure(
        lambda: (
            identity.stub.RevokeSubject(
                pb.RevokeSubjectRequest(subject="everyone"), metadata=identity.service, timeout=TIMEOUT
            ).revocation
        )
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert trailers(err)["error-field"] == "subject"


@pytest.mark.parametrize(
    "method, request_message",
    [
        ("CustomerLogin", pb.CustomerLoginRequest(customer_number="100", password="correct horse")),
        ("PackageLogin", pb.PackageLoginRequest(domain="a.example", package_id="pkg_1", password="x" * 8)),
        ("StaffLogin", pb.StaffLoginRequest(username="boss", password="boss-password-1")),
        ("RevokeSubject", pb.RevokeSubjectRequest(subject="customer:200")),
        ("SetCustomerPassword", pb.SetCustomerPasswordRequest(customer_number="200", password="y" * 8)),
        (
            "RequestPasswordReset",
            pb.RequestPasswordResetRequest(customer_number="100", email="a@example.org"),
        ),
        ("ConfirmPasswordReset", pb.ConfirmPasswordResetRequest(token="t" * 43, new_password="z" * 8)),
    ],
)
def test_a_customer_token_may_not_call_service_only_rpcs(identity, method, request_message):
    customer = metadata(identity.tokens.customer("100"))
    err = failure(lambda: getattr(identity.stub, method)(request_message, metadata=customer, timeout=TIMEOUT))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_customer_token_may_not_watch_revocations(identity):
    customer = metadata(identity.tokens.customer("100"))
    call = identity.stub.WatchRevocations(iter(()), metadata=customer, timeout=TIMEOUT)
    err = failure(lambda: next(call))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_login_without_a_token_is_unauthenticated(identity):
    err = failure(
        lambda: (
            identity.stub.CustomerLogin(
                pb.CustomerLoginRequest(customer_number="1", password="p"), timeout=TIMEOUT
            ).login
        )
    )
    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_retiring_a_number_kills_its_tokens_and_its_login_names_the_kept_number(identity):

    identity.set_customer_password("5000", "right-password-5")
    state = identity.watch()
    result = identity.customer_login("5000", "right-password-5")
    token = identity.tokens.customer("5000", generation=result.generation)
    principal = identity.verifier.verify(token)
    request = pb.IdentityServiceSetCustomerStatusRequest(
        merge_id="mrg_1",
        customer_numbers=["5000"],
        status=common_pb2.CUSTOMER_STATUS_RETIRED,
        merged_into="6000",
    )
    assert (
        identity.stub.SetCustomerStatus(
            request, metadata=metadata(identity.tokens.service("merge")), timeout=TIMEOUT
        ).changed
        == 1
    )
    assert state.is_revoked(principal)
    # Repeating the step changes nothing (idempotent).
    assert (
        identity.stub.SetCustomerStatus(
            request, metadata=metadata(identity.tokens.service("merge")), timeout=TIMEOUT
        ).changed
        == 0
    )
    err = failure(lambda: identity.customer_login("5000", "right-password-5"))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert trailers(err)["error-code"] == "customer_number_merged"
    assert trailers(err)["error-x-merged-into"] == "6000"
    wrong = failure(lambda: identity.customer_login("5000", "wrong-password-5"))
    assert trailers(wrong)["error-code"] == "invalid_credentials"
    back = pb.IdentityServiceSetCustomerStatusRequest(
        merge_id="mrg_1", customer_numbers=["5000"], status=common_pb2.CUSTOMER_STATUS_ACTIVE
    )
    identity.stub.SetCustomerStatus(
        back, metadata=metadata(identity.tokens.service("merge")), timeout=TIMEOUT
    )
    again = identity.customer_login("5000", "right-password-5")
    assert again.generation > result.generation


def test_identity_itself_refuses_a_token_once_it_is_logged_out(identity):
    token = identity.tokens.customer("100")
    identity.stub.RevokeOwnToken(pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT)

    err = failure(
        lambda: (
            identity.stub.RevokeOwnToken(
                pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT
            ).revocation
        )
    )

    assert err.code() == grpc.StatusCode.UNAUTHENTICATED


def test_identity_remembers_the_revocations_across_a_restart(tmp_path, database_url):
    url = database_url("identity")
    first = Identity(tmp_path, url)
    token = first.tokens.customer("100")
    first.stub.RevokeOwnToken(pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT)
    first.stop()
    second = Identity(tmp_path, url)
    try:
        err = failure(
            lambda: (
                second.stub.RevokeOwnToken(
                    pb.RevokeOwnTokenRequest(), metadata=metadata(token), timeout=TIMEOUT
                ).revocation
            )
        )
        assert err.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        second.stop()


def test_a_watcher_goes_stale_when_identity_stops(tmp_path, database_url):
    identity = Identity(tmp_path, database_url("identity"))
    state = RevocationState()
    watcher = RevocationWatcher(
        grpc.insecure_channel(identity.thread.address), identity.tokens.service, state
    )
    try:
        watcher.start()
        assert state.wait_synced(TIMEOUT)
        identity.stop()
        deadline = time.monotonic() + TIMEOUT
        while state.synced and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not state.synced
    finally:
        watcher.stop()


def test_contract_service_ends_the_tokens_of_a_package_and_of_nothing_else(identity):
    contract = metadata(identity.tokens.service("contract"))
    identity.stub.RevokeSubject(
        pb.RevokeSubjectRequest(subject="package:pkg_ended"), metadata=contract, timeout=TIMEOUT
    )
    state = identity.watch()
    assert state.is_revoked(identity.verifier.verify(identity.tokens.package("pkg_ended")))
    for subject in ("customer:7", "staff:admin"):
        with pytest.raises(grpc.RpcError) as err:
            identity.stub.RevokeSubject(
                pb.RevokeSubjectRequest(subject=subject), metadata=contract, timeout=TIMEOUT
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
