"""A leaked gateway key at the gRPC level: the real identity, contract and package servers
refuse the gateway's service credential on every step of the merge saga, refuse a token signed
with the gateway's key that claims to be merge-service, and accept merge-service's own."""

from __future__ import annotations

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service import bootstrap as contract_boot
from customercenter.v2 import (
    common_pb2,
    contract_pb2,
    contract_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    package_pb2,
    package_pb2_grpc,
)
from identity_service import bootstrap as identity_boot
from package_service import bootstrap as package_boot

TIMEOUT = 10


@pytest.fixture
def stubs(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    identity_settings = identity_boot.Settings(
        database_url=database_url("identity"), listen="127.0.0.1:0", tokens=tokens
    )
    threads = {
        "identity": ServerThread(lambda: identity_boot.create_server("127.0.0.1:0", identity_settings)),
        "contract": ServerThread(
            lambda: contract_boot.create_server(
                "127.0.0.1:0", contract_boot.Settings(database_url("contract"), "127.0.0.1:0", tokens)
            )
        ),
        "package": ServerThread(
            lambda: package_boot.create_server(
                "127.0.0.1:0", package_boot.Settings(database_url("package"), "127.0.0.1:0", tokens)
            )
        ),
    }
    for thread in threads.values():
        thread.start()
    channels = {name: grpc.insecure_channel(thread.address) for name, thread in threads.items()}
    yield (
        {
            "identity": identity_pb2_grpc.IdentityServiceStub(channels["identity"]),
            "contract": contract_pb2_grpc.ContractServiceStub(channels["contract"]),
            "package": package_pb2_grpc.PackageServiceStub(channels["package"]),
        },
        TokenFactory(tokens),
    )
    for channel in channels.values():
        channel.close()
    for thread in threads.values():
        thread.stop()


def _transfer(request_type):
    return lambda: request_type(merge_id="mrg_1", source_customer_number="200", target_customer_number="100")


def _status(request_type, status: int):
    return lambda: request_type(merge_id="mrg_1", customer_numbers=["100"], status=status)


# Every RPC that only the merge saga calls (freeze, transfers, retire, snapshots with the full
# IBAN), with a request that is valid apart from who sends it.
MERGE_STEPS = [
    (
        "contract",
        "GetCustomerSnapshot",
        lambda: contract_pb2.GetCustomerSnapshotRequest(customer_number="100"),
    ),
    (
        "contract",
        "SetCustomerStatus",
        _status(contract_pb2.ContractServiceSetCustomerStatusRequest, common_pb2.CUSTOMER_STATUS_FROZEN),
    ),
    ("contract", "TransferContracts", _transfer(contract_pb2.TransferContractsRequest)),
    ("package", "TransferPackages", _transfer(package_pb2.TransferPackagesRequest)),
    (
        "identity",
        "SetCustomerStatus",
        _status(identity_pb2.IdentityServiceSetCustomerStatusRequest, common_pb2.CUSTOMER_STATUS_RETIRED),
    ),
]


def _code(call) -> grpc.StatusCode:
    try:
        call()
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize(
    "service, method, request_factory", MERGE_STEPS, ids=[f"{s}.{m}" for s, m, _ in MERGE_STEPS]
)
def test_the_gateways_service_key_is_refused_on_a_merge_step_and_merge_services_key_is_accepted(
    stubs, service, method, request_factory
):
    clients, tokens = stubs
    rpc = getattr(clients[service], method)

    def call(token: str):
        return lambda: rpc(request_factory(), metadata=metadata(token), timeout=TIMEOUT)

    assert _code(call(tokens.service("gateway"))) == grpc.StatusCode.PERMISSION_DENIED
    # The gateway's key cannot pass itself off as merge-service.
    assert _code(call(tokens.service("merge", signed_by="gateway"))) == grpc.StatusCode.UNAUTHENTICATED
    for other in ("contract", "package"):
        assert _code(call(tokens.service(other))) == grpc.StatusCode.PERMISSION_DENIED
    # merge-service's own credential gets past the door: the answer is the use case's (the
    # customer numbers do not exist here, or nothing is there to move).
    assert _code(call(tokens.service("merge"))) not in (
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    )


def test_no_service_credential_may_set_a_customer_password(stubs):
    clients, tokens = stubs
    request = identity_pb2.SetCustomerPasswordRequest(customer_number="100", password="a new password 1")
    for name in ("gateway", "merge"):
        code = _code(lambda n=name: clients["identity"].SetCustomerPassword(
            request, metadata=metadata(tokens.service(n)), timeout=TIMEOUT
        ))  # fmt: skip
        assert code == grpc.StatusCode.PERMISSION_DENIED, name
    assert _code(lambda: clients["identity"].SetCustomerPassword(
        request, metadata=metadata(tokens.staff()), timeout=TIMEOUT
    )) == grpc.StatusCode.OK  # fmt: skip


def test_the_gateways_key_still_reaches_what_the_gateway_calls(stubs):
    clients, tokens = stubs
    gateway = metadata(tokens.service("gateway"))
    login = identity_pb2.CustomerLoginRequest(customer_number="100", password="wrong password 1")
    assert _code(
        lambda: clients["identity"].CustomerLogin(login, metadata=gateway, timeout=TIMEOUT).login
    ) == (
        grpc.StatusCode.UNAUTHENTICATED  # a wrong password: the RPC itself ran
    )
    lookup = contract_pb2.GetCustomerRequest(customer_number="100")
    assert _code(
        lambda: clients["contract"].GetCustomer(lookup, metadata=gateway, timeout=TIMEOUT).customer
    ) == (grpc.StatusCode.NOT_FOUND)


@pytest.mark.parametrize("name", ["gateway", "merge", "contract", "package"])
def test_each_service_with_a_revocation_replica_may_watch_identity_with_its_own_key(stubs, name):
    clients, tokens = stubs
    call = clients["identity"].WatchRevocations(
        iter(()), metadata=metadata(tokens.service(name)), timeout=TIMEOUT
    )
    first = next(call)
    call.cancel()
    assert first.snapshot


def test_a_token_signed_with_the_contract_key_claiming_the_gateway_may_not_watch(stubs):
    clients, tokens = stubs
    forged = tokens.service("gateway", signed_by="contract")
    call = clients["identity"].WatchRevocations(iter(()), metadata=metadata(forged), timeout=TIMEOUT)
    assert _code(lambda: next(call)) == grpc.StatusCode.UNAUTHENTICATED
