"""The gRPC servicer of identity-service: proto in, one service call, proto out.

Logins and password changes hash with argon2 (~34 ms, the GIL released), so they run in
worker threads (`in_thread=True`, `asyncio.to_thread`) and scale over the cores while the
event loop stays free for the revocation streams.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from cc_common import metrics
from cc_common.errors import Forbidden
from cc_common.grpc_server import rpc
from cc_common.grpc_types import Context
from cc_common.protoconv import enum_name, enum_value, timestamp_from_unix, unix_from_timestamp
from cc_common.tokens import Principal
from customercenter.v2 import common_pb2, identity_pb2, identity_pb2_grpc

from identity_service.domain import password_reset, second_factor
from identity_service.domain.model import ChallengeIssued, Hasher, LoginResult
from identity_service.domain.revocation import DeniedToken, RevocationChange, SubjectRule
from identity_service.domain.sessions import LoginRecord, Session, SessionStart
from identity_service.domain.throttling import LoginLimits
from identity_service.service_layer import services
from identity_service.service_layer.revocation_hub import RevocationHub, Watcher
from identity_service.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

# Rules and denied tokens per snapshot event: a large state goes out as one snapshot event and
# then additions at the same sequence, each well below gRPC's 4 MB message limit.
SNAPSHOT_CHUNK = 5000


def to_proto(result: LoginResult) -> identity_pb2.LoginResult:
    return identity_pb2.LoginResult(subject=result.subject, generation=result.generation)


def session_start(
    request: identity_pb2.CustomerLoginRequest
    | identity_pb2.PackageLoginRequest
    | identity_pb2.StaffLoginRequest
    | identity_pb2.CompleteSecondFactorRequest,
) -> SessionStart | None:
    """The token the gateway will issue on success; None when the caller named none."""
    if not request.HasField("session"):
        return None
    return SessionStart(
        jti=request.session.jti,
        expires_at=unix_from_timestamp(request.session.expires_at),
        user_agent=request.session.user_agent,
        client_address=request.client_address,
    )


def session_to_proto(session: Session, *, caller_jti: str) -> identity_pb2.Session:
    return identity_pb2.Session(
        id=session.id,
        kind=enum_value(identity_pb2.SessionKind, session.kind),
        created_at=timestamp_from_unix(session.created_at),
        last_used_at=timestamp_from_unix(session.last_used_at),
        expires_at=timestamp_from_unix(session.expires_at),
        client_address=session.client_address,
        user_agent=session.user_agent,
        current=bool(caller_jti) and session.jti == caller_jti,
    )


def attempt_to_proto(record: LoginRecord) -> identity_pb2.LoginAttempt:
    return identity_pb2.LoginAttempt(
        at=timestamp_from_unix(record.at),
        client_address=record.client_address,
        user_agent=record.user_agent,
        success=record.success,
        method=enum_value(identity_pb2.LoginMethod, record.method),
    )


def challenge_or_login(
    result: LoginResult | ChallengeIssued,
) -> tuple[identity_pb2.LoginResult | None, identity_pb2.SecondFactorChallenge | None]:
    """A login's answer: what it proves, or the challenge of its second factor."""
    if isinstance(result, ChallengeIssued):
        return None, identity_pb2.SecondFactorChallenge(challenge=result.challenge)
    return to_proto(result), None


LOGIN_METHODS = {
    second_factor.PASSWORD: identity_pb2.LOGIN_METHOD_PASSWORD,
    second_factor.SECOND_FACTOR: identity_pb2.LOGIN_METHOD_SECOND_FACTOR,
    second_factor.RECOVERY_CODE: identity_pb2.LOGIN_METHOD_RECOVERY_CODE,
}


def to_events(change: RevocationChange) -> Iterator[identity_pb2.WatchRevocationsResponse]:
    items = [("rule", r) for r in change.rules] + [("denied", d) for d in change.denied]
    first = True
    for start in range(0, max(len(items), 1), SNAPSHOT_CHUNK):
        chunk = items[start : start + SNAPSHOT_CHUNK]
        yield identity_pb2.WatchRevocationsResponse(
            sequence=change.sequence,
            snapshot=change.snapshot and first,
            rules=[
                identity_pb2.SubjectRule(
                    subject=r.subject, min_generation=r.min_generation, keep_jti=r.keep_jti
                )
                for _, r in chunk
                if isinstance(r, SubjectRule)
            ],
            denied=[
                identity_pb2.DeniedToken(jti=d.jti, expires_at=timestamp_from_unix(d.expires_at))
                for _, d in chunk
                if isinstance(d, DeniedToken)
            ],
        )
        first = False


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        hasher: Hasher,
        limits: LoginLimits,
        hub: RevocationHub,
        *,
        reset_policy: password_reset.ResetPolicy | None = None,
        public_base_url: str = password_reset.DEFAULT_BASE_URL,
        on_mail: Callable[[], None] = lambda: None,
    ) -> None:
        self._uow = uow_factory
        self._hasher = hasher
        self._limits = limits
        self._hub = hub
        self._reset_policy = reset_policy or password_reset.ResetPolicy()
        self._public_base_url = public_base_url
        self._on_mail = on_mail  # wakes the outbox dispatcher

    # --- logins ---------------------------------------------------------------------------

    @rpc("service:gateway", "service:merge", in_thread=True)
    def CustomerLogin(
        self, request: identity_pb2.CustomerLoginRequest, context: Context, caller: Principal
    ) -> identity_pb2.CustomerLoginResponse:
        result = services.customer_login(
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            customer_number=request.customer_number,
            password=request.password,
            client_address=request.client_address,
            now=time.time(),
            session=session_start(request),
        )
        login, challenge = challenge_or_login(result)
        if challenge is not None:
            return identity_pb2.CustomerLoginResponse(second_factor=challenge)
        assert isinstance(result, LoginResult)
        return identity_pb2.CustomerLoginResponse(
            login=login, session_id=result.session_id, new_device=result.new_device
        )

    @rpc("service:gateway", "service:merge", in_thread=True)
    def PackageLogin(
        self, request: identity_pb2.PackageLoginRequest, context: Context, caller: Principal
    ) -> identity_pb2.PackageLoginResponse:
        result = services.package_login(
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            domain=request.domain,
            package_id=request.package_id,
            password=request.password,
            client_address=request.client_address,
            now=time.time(),
            session=session_start(request),
        )
        assert isinstance(result, LoginResult)  # a package has no second factor
        return identity_pb2.PackageLoginResponse(login=to_proto(result))

    @rpc("service:gateway", in_thread=True)
    def StaffLogin(
        self, request: identity_pb2.StaffLoginRequest, context: Context, caller: Principal
    ) -> identity_pb2.StaffLoginResponse:
        result = services.staff_login(
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            username=request.username,
            password=request.password,
            client_address=request.client_address,
            now=time.time(),
            session=session_start(request),
        )
        login, challenge = challenge_or_login(result)
        return identity_pb2.StaffLoginResponse(login=login, second_factor=challenge)

    # --- second factor --------------------------------------------------------------------

    @rpc("service:gateway", "service:merge")
    def CompleteSecondFactor(
        self, request: identity_pb2.CompleteSecondFactorRequest, context: Context, caller: Principal
    ) -> identity_pb2.CompleteSecondFactorResponse:
        done = services.complete_second_factor(
            uow=self._uow(),
            limits=self._limits,
            challenge=request.challenge,
            code=request.code,
            client_address=request.client_address,
            now=time.time(),
            session=session_start(request),
        )
        return identity_pb2.CompleteSecondFactorResponse(
            login=to_proto(done.login),
            method=LOGIN_METHODS[done.method],
            session_id=done.login.session_id,
            new_device=done.login.new_device,
        )

    @rpc("customer", in_thread=True)
    def StartSecondFactor(
        self, request: identity_pb2.StartSecondFactorRequest, context: Context, caller: Principal
    ) -> identity_pb2.StartSecondFactorResponse:
        enrolment = services.start_second_factor(
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            subject=caller.subject,
            current_password=request.current_password,
            client_address=request.client_address,
            now=time.time(),
        )
        return identity_pb2.StartSecondFactorResponse(
            secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri
        )

    @rpc("customer")
    def ConfirmSecondFactor(
        self, request: identity_pb2.ConfirmSecondFactorRequest, context: Context, caller: Principal
    ) -> identity_pb2.ConfirmSecondFactorResponse:
        codes = services.confirm_second_factor(
            uow=self._uow(),
            subject=caller.subject,
            code=request.code,
            now=time.time(),
            email=request.email,
            market=enum_name(common_pb2.Market, request.market),
            language=request.language,
        )
        self._on_mail()
        return identity_pb2.ConfirmSecondFactorResponse(recovery_codes=codes)

    @rpc("customer", in_thread=True)
    def DisableSecondFactor(
        self, request: identity_pb2.DisableSecondFactorRequest, context: Context, caller: Principal
    ) -> identity_pb2.DisableSecondFactorResponse:
        services.disable_second_factor(
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            subject=caller.subject,
            current_password=request.current_password,
            code=request.code,
            client_address=request.client_address,
            now=time.time(),
            email=request.email,
            market=enum_name(common_pb2.Market, request.market),
            language=request.language,
        )
        self._on_mail()
        return identity_pb2.DisableSecondFactorResponse()

    @rpc("customer")
    def GetSecondFactor(
        self, request: identity_pb2.GetSecondFactorRequest, context: Context, caller: Principal
    ) -> identity_pb2.GetSecondFactorResponse:
        status = services.second_factor_status(uow=self._uow(), subject=caller.subject)
        return identity_pb2.GetSecondFactorResponse(
            active=status.active, pending=status.pending, recovery_codes_left=status.recovery_codes_left
        )

    # --- passwords ------------------------------------------------------------------------
    # Each change: the slow step (argon2) in a worker thread, then the new hash and the
    # revocation of the subject's tokens in one transaction, published to the watchers before
    # the RPC returns (`_revoke`), so an old token is refused everywhere from then on.

    @rpc("staff")
    async def SetCustomerPassword(
        self, request: identity_pb2.SetCustomerPasswordRequest, context: Context, caller: Principal
    ) -> identity_pb2.SetCustomerPasswordResponse:
        password_hash = await self._hash(request.password)
        await self._revoke(
            services.set_customer_password,
            customer_number=request.customer_number,
            password_hash=password_hash,
        )
        return identity_pb2.SetCustomerPasswordResponse()

    @rpc("service:gateway", "staff")
    async def SetPackagePassword(
        self, request: identity_pb2.SetPackagePasswordRequest, context: Context, caller: Principal
    ) -> identity_pb2.SetPackagePasswordResponse:
        password_hash = await self._hash(request.password)
        await self._revoke(
            services.set_package_password,
            package_id=request.package_id,
            password_hash=password_hash,
            keep_jti=request.keep_jti,
        )
        return identity_pb2.SetPackagePasswordResponse()

    @rpc("customer")
    async def ChangeCustomerPassword(
        self, request: identity_pb2.ChangeCustomerPasswordRequest, context: Context, caller: Principal
    ) -> identity_pb2.ChangeCustomerPasswordResponse:
        number = caller.customer_number or caller.name
        password_hash = await asyncio.to_thread(
            services.check_password_change,
            uow=self._uow(),
            hasher=self._hasher,
            limits=self._limits,
            customer_number=number,
            current_password=request.current_password,
            new_password=request.new_password,
            client_address=request.client_address,
            now=time.time(),
        )
        result = await self._revoke(
            services.store_password_change,
            customer_number=number,
            password_hash=password_hash,
            keep_jti=caller.jti,
            email=request.email,
            market=enum_name(common_pb2.Market, request.market),
            language=request.language,
        )
        self._on_mail()  # the notice was queued with the new hash
        return identity_pb2.ChangeCustomerPasswordResponse(revocation=result)

    @rpc("service:gateway", in_thread=True)
    def RequestPasswordReset(
        self, request: identity_pb2.RequestPasswordResetRequest, context: Context, caller: Principal
    ) -> identity_pb2.RequestPasswordResetResponse:
        queued = services.request_password_reset(
            uow=self._uow(),
            policy=self._reset_policy,
            customer_number=request.customer_number,
            email=request.email,
            client_address=request.client_address,
            # request.base_url is deprecated and ignored: the link base is configuration only.
            base_url=self._public_base_url,
            now=time.time(),
            market=enum_name(common_pb2.Market, request.market),
            language=request.language,
        )
        if queued:
            self._on_mail()
        return identity_pb2.RequestPasswordResetResponse()

    @rpc("service:gateway")
    async def ConfirmPasswordReset(
        self, request: identity_pb2.ConfirmPasswordResetRequest, context: Context, caller: Principal
    ) -> identity_pb2.ConfirmPasswordResetResponse:
        password_hash = await asyncio.to_thread(
            services.check_password_reset,
            uow=self._uow(),
            hasher=self._hasher,
            token=request.token,
            new_password=request.new_password,
            now=time.time(),
        )
        result = await self._revoke(
            services.confirm_password_reset, token=request.token, password_hash=password_hash, now=time.time()
        )
        self._on_mail()  # the notice was queued with the new hash
        return identity_pb2.ConfirmPasswordResetResponse(revocation=result)

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(services.new_password_hash, hasher=self._hasher, password=password)

    # --- single sign-on into the package administration -----------------------------------

    @rpc("service:gateway")
    def RedeemPackageSignOn(
        self, request: identity_pb2.RedeemPackageSignOnRequest, context: Context, caller: Principal
    ) -> identity_pb2.RedeemPackageSignOnResponse:
        result = services.redeem_package_sign_on(
            uow=self._uow(),
            jti=request.jti,
            package_id=request.package_id,
            expires_at=int(unix_from_timestamp(request.expires_at)),
            now=int(time.time()),
        )
        return identity_pb2.RedeemPackageSignOnResponse(login=to_proto(result))

    # --- revocation -----------------------------------------------------------------------

    @rpc("customer", "package", "staff")
    async def RevokeOwnToken(
        self, request: identity_pb2.RevokeOwnTokenRequest, context: Context, caller: Principal
    ) -> identity_pb2.RevokeOwnTokenResponse:
        result = await self._revoke(
            services.revoke_token, jti=caller.jti, expires_at=caller.expires_at, now=int(time.time())
        )
        return identity_pb2.RevokeOwnTokenResponse(revocation=result)

    @rpc("service:gateway", "service:contract")
    async def RevokeSubject(
        self, request: identity_pb2.RevokeSubjectRequest, context: Context, caller: Principal
    ) -> identity_pb2.RevokeSubjectResponse:
        if caller.subject == "service:contract" and not request.subject.startswith("package:"):
            # contract-service ends the logins of a terminated package, nothing else.
            raise Forbidden("contract-service may only end the tokens of a package.")
        result = await self._revoke(
            services.revoke_subject, subject=request.subject, keep_jti=request.keep_jti
        )
        return identity_pb2.RevokeSubjectResponse(revocation=result)

    # --- sessions and the login history ------------------------------------------------------

    @rpc("customer")
    def ListSessions(
        self, request: identity_pb2.ListSessionsRequest, context: Context, caller: Principal
    ) -> identity_pb2.ListSessionsResponse:
        found = services.list_sessions(uow=self._uow(), subject=caller.subject, now=time.time())
        return identity_pb2.ListSessionsResponse(
            sessions=[session_to_proto(s, caller_jti=caller.jti) for s in found]
        )

    @rpc("customer")
    async def EndSession(
        self, request: identity_pb2.EndSessionRequest, context: Context, caller: Principal
    ) -> identity_pb2.EndSessionResponse:
        result = await self._revoke(
            services.end_session, subject=caller.subject, session_id=request.session_id, now=time.time()
        )
        return identity_pb2.EndSessionResponse(revocation=result)

    @rpc("customer")
    async def EndOtherSessions(
        self, request: identity_pb2.EndOtherSessionsRequest, context: Context, caller: Principal
    ) -> identity_pb2.EndOtherSessionsResponse:
        result = await self._revoke(services.end_other_sessions, subject=caller.subject, keep_jti=caller.jti)
        return identity_pb2.EndOtherSessionsResponse(revocation=result)

    @rpc("customer")
    def ListLoginHistory(
        self, request: identity_pb2.ListLoginHistoryRequest, context: Context, caller: Principal
    ) -> identity_pb2.ListLoginHistoryResponse:
        records = services.login_history(uow=self._uow(), subject=caller.subject, now=time.time())
        return identity_pb2.ListLoginHistoryResponse(logins=[attempt_to_proto(r) for r in records])

    @rpc("service:gateway")
    def TouchSessions(
        self, request: identity_pb2.TouchSessionsRequest, context: Context, caller: Principal
    ) -> identity_pb2.TouchSessionsResponse:
        services.touch_sessions(uow=self._uow(), jtis=list(request.jtis), now=time.time())
        return identity_pb2.TouchSessionsResponse()

    @rpc("customer")
    def NotifyNewDevice(
        self, request: identity_pb2.NotifyNewDeviceRequest, context: Context, caller: Principal
    ) -> identity_pb2.NotifyNewDeviceResponse:
        queued = services.notify_new_device(
            uow=self._uow(),
            subject=caller.subject,
            session_id=request.session_id,
            email=request.email,
            market=enum_name(common_pb2.Market, request.market),
            language=request.language,
        )
        if queued:
            self._on_mail()
        return identity_pb2.NotifyNewDeviceResponse()

    @rpc("service:merge")
    async def SetCustomerStatus(
        self,
        request: identity_pb2.IdentityServiceSetCustomerStatusRequest,
        context: Context,
        caller: Principal,
    ) -> identity_pb2.IdentityServiceSetCustomerStatusResponse:
        async with self._hub.publishing:
            result = await asyncio.to_thread(
                services.set_customer_status,
                uow=self._uow(),
                merge_id=request.merge_id,
                customer_numbers=list(request.customer_numbers),
                status=enum_name(common_pb2.CustomerStatus, request.status),
                merged_into=request.merged_into,
            )
            for change in result.revocations:
                self._hub.publish(change)
        if result.revocations:
            await self._wait_acked(result.revocations[-1].sequence)
        return identity_pb2.IdentityServiceSetCustomerStatusResponse(changed=result.changed)

    async def _wait_acked(self, sequence: int) -> bool:
        """The hub's wait for every watcher's ack, timed (cc_revocation_ack_seconds): how long a
        revocation takes to reach every replica, the replication lag a revoking call sees."""
        started = time.perf_counter()
        acked = await self._hub.wait_acked(sequence)
        metrics.REVOCATION_ACK_SECONDS.labels("acked" if acked else "timeout").observe(
            time.perf_counter() - started
        )
        return acked

    async def _revoke(
        self, operation: Callable[..., RevocationChange | None], **kwargs: Any
    ) -> identity_pb2.RevocationResult:
        """Commits a change, hands it to every watcher, and returns once they all applied it
        (or the ack timeout passed): after logout returns, the gateway already refuses the token.
        An operation that revoked nothing (a new credential) returns None: nothing to publish."""
        async with self._hub.publishing:
            change: RevocationChange | None = await asyncio.to_thread(operation, uow=self._uow(), **kwargs)
            if change is not None:
                self._hub.publish(change)
        if change is None:
            return identity_pb2.RevocationResult()
        await self._wait_acked(change.sequence)
        return identity_pb2.RevocationResult(sequence=change.sequence)

    @rpc("service:gateway", "service:merge", "service:contract", "service:package")
    async def WatchRevocations(
        self,
        request_iterator: AsyncIterator[identity_pb2.WatchRevocationsRequest],
        context: Context,
        caller: Principal,
    ) -> AsyncIterator[identity_pb2.WatchRevocationsResponse]:
        watcher = self._hub.connect()  # before the snapshot is read: no change falls between
        reader = asyncio.create_task(self._read_acks(request_iterator, watcher))
        try:
            snapshot = await asyncio.to_thread(
                services.revocation_snapshot, uow=self._uow(), now=int(time.time())
            )
            for event in to_events(snapshot):
                yield event
            while True:
                change = await watcher.queue.get()
                if change is None:
                    return
                for event in to_events(change):
                    yield event
        finally:
            reader.cancel()
            await self._hub.disconnect(watcher)

    async def _read_acks(
        self, request_iterator: AsyncIterator[identity_pb2.WatchRevocationsRequest], watcher: Watcher
    ) -> None:
        try:
            async for ack in request_iterator:
                await self._hub.ack(watcher, ack.sequence)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream broke: the watcher is gone
            log.debug("revocation watcher stream ended: %s", exc)
        # No more acknowledgements can come: end the stream rather than make revocations wait.
        watcher.queue.put_nowait(None)
