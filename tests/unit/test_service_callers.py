"""Least privilege between the services, without a network: every RPC names its callers, a
bare "service" names no one, each service key signs for its own service only."""

from __future__ import annotations

import pytest
from cc_common.config import SERVICE_CALLERS
from cc_common.errors import Unauthenticated
from cc_common.grpc_server import Callers, rpc
from cc_common.testing import TokenFactory, token_settings_in
from cc_common.tokens import Principal, TokenVerifier
from contract_service.entrypoints.grpc_server import ContractServicer
from customercenter.v2 import contract_pb2, identity_pb2, merge_pb2, package_pb2
from identity_service.entrypoints.grpc_server import IdentityServicer
from merge_service.entrypoints.grpc_server import MergeServicer
from package_service.entrypoints.grpc_server import PackageServicer

SERVICERS = [
    (IdentityServicer, identity_pb2.DESCRIPTOR.services_by_name["IdentityService"]),
    (ContractServicer, contract_pb2.DESCRIPTOR.services_by_name["ContractService"]),
    (PackageServicer, package_pb2.DESCRIPTOR.services_by_name["PackageService"]),
    (MergeServicer, merge_pb2.DESCRIPTOR.services_by_name["MergeService"]),
]

# The steps of the merge saga: only merge-service may take them.
MERGE_STEPS = {
    "ContractService": ["GetCustomerSnapshot", "SetCustomerStatus", "TransferContracts"],
    "PackageService": ["TransferPackages"],
    "IdentityService": ["SetCustomerStatus"],
}


def _callers(servicer: type, method: str) -> Callers:
    return getattr(servicer, method).callers


def principal(kind: str, subject: str) -> Principal:
    return Principal(kind=kind, subject=subject, jti="j", generation=0, expires_at=2**31, issued_at=0)


@pytest.mark.parametrize("servicer, service", SERVICERS, ids=lambda s: getattr(s, "name", ""))
def test_every_rpc_of_every_service_names_its_callers_explicitly(servicer, service):
    for method in service.methods:
        implementation = getattr(servicer, method.name)
        callers = getattr(implementation, "callers", None)
        assert isinstance(callers, Callers), f"{service.name}.{method.name} is not declared with @rpc"
        assert callers.kinds or callers.services, f"{service.name}.{method.name} admits no one"
        assert callers.services <= {f"service:{name}" for name in SERVICE_CALLERS}


def test_a_bare_service_or_an_unknown_caller_is_refused_by_the_decorator():
    for bad in (("service",), ("customer", "service"), ("service:attacker",), ("admin",), ()):
        with pytest.raises(ValueError):
            rpc(*bad)


def test_the_merge_steps_accept_merge_service_and_no_one_else():
    by_name = {service.name: servicer for servicer, service in SERVICERS}
    for service, methods in MERGE_STEPS.items():
        for method in methods:
            callers = _callers(by_name[service], method)
            assert (callers.kinds, callers.services) == (frozenset(), {"service:merge"}), (
                f"{service}.{method}"
            )


def test_setting_a_customer_password_is_for_staff_only_and_no_service():
    callers = _callers(IdentityServicer, "SetCustomerPassword")
    assert (callers.kinds, callers.services) == ({"staff"}, frozenset())


def test_every_service_that_keeps_a_revocation_replica_may_watch_and_no_user_may():
    callers = _callers(IdentityServicer, "WatchRevocations")
    assert callers.services == {f"service:{name}" for name in SERVICE_CALLERS}
    assert callers.kinds == frozenset()


# What contract-service's own credential may do beyond watching revocations: have a terminated
# package ended (package-service) and its tokens revoked (identity-service, package subjects only).
CONTRACT_REACHES = {"WatchRevocations", "EndPackage", "EndAddon", "RevokeSubject"}


def test_contract_and_package_service_credentials_reach_little_but_the_revocation_stream():
    for servicer, service in SERVICERS:
        for method in service.methods:
            services = _callers(servicer, method.name).services
            if method.name != "WatchRevocations":
                assert "service:package" not in services, f"{service.name}.{method.name}"
            if method.name not in CONTRACT_REACHES:
                assert "service:contract" not in services, f"{service.name}.{method.name}"


def test_callers_admit_user_kinds_by_kind_and_services_by_subject_only():
    callers = Callers.of(["customer", "service:merge"])
    assert callers.admit(principal("customer", "customer:100"))
    assert callers.admit(principal("service", "service:merge"))
    assert not callers.admit(principal("service", "service:gateway"))
    assert not callers.admit(principal("staff", "staff:anna"))
    staff_or_merge = Callers.of(["staff", "service:merge"])
    assert not staff_or_merge.admit(principal("customer", "service:merge"))  # a user is no service


def test_a_service_key_signs_for_its_own_service_only(tmp_path):
    settings = token_settings_in(tmp_path)
    tokens = TokenFactory(settings)
    verifier = TokenVerifier.from_settings(settings)
    for name in SERVICE_CALLERS:
        assert verifier.verify(tokens.service(name)).subject == f"service:{name}"
    with pytest.raises(Unauthenticated):
        verifier.verify(tokens.service("merge", signed_by="gateway"))
    with pytest.raises(Unauthenticated):
        verifier.verify(tokens.service("gateway", signed_by="merge"))


def test_each_calling_service_has_a_key_pair_of_its_own(tmp_path):
    settings = token_settings_in(tmp_path)
    files = [settings.service_key(name) for name in SERVICE_CALLERS]
    assert len({f.private for f in files}) == len({f.public for f in files}) == len(SERVICE_CALLERS)
    assert [f.private.name for f in files] == [f"service-{name}.pem" for name in SERVICE_CALLERS]
    assert all(f.private.is_file() and f.public.is_file() for f in files)
    assert len({f.private.read_bytes() for f in files}) == len(SERVICE_CALLERS)


def test_an_add_on_is_ordered_by_the_customer_login_listed_by_its_package_and_ended_by_contract_alone():
    servicer = PackageServicer
    assert _callers(servicer, "OrderAddon").kinds == frozenset({"customer"})
    assert _callers(servicer, "OrderAddon").services == frozenset()
    assert _callers(servicer, "ListAddons").kinds == frozenset({"customer", "package", "staff"})
    assert _callers(servicer, "SetAddonEnd").kinds == frozenset({"customer"})
    assert _callers(servicer, "EndAddon").services == frozenset({"service:contract"})
    assert _callers(servicer, "EndAddon").kinds == frozenset()
