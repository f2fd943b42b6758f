"""`<SERVICE>_ADDR` names one copy, a list of copies or a dns:/// name, and the channel's
service config spreads calls (round_robin) and retries only reads (cc_common.grpc_client)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cc_common import config
from cc_common.config import GrpcTarget, grpc_target
from cc_common.grpc_client import CHANNEL_OPTIONS, READ_METHODS, channel_options, service_config
from customercenter.v2 import contract_pb2, identity_pb2, merge_pb2, package_pb2

SERVICES = {
    file.package + "." + name: service
    for file in (
        identity_pb2.DESCRIPTOR,
        contract_pb2.DESCRIPTOR,
        package_pb2.DESCRIPTOR,
        merge_pb2.DESCRIPTOR,
    )
    for name, service in file.services_by_name.items()
}

# Every RPC that changes state (or counts an attempt, as the logins do). A new RPC must be
# added here or to READ_METHODS: the test below fails until it is.
WRITES = {
    "customercenter.v2.IdentityService": {
        "EndSession",
        "EndOtherSessions",
        "TouchSessions",
        "NotifyNewDevice",
        "CompleteSecondFactor",
        "StartSecondFactor",
        "ConfirmSecondFactor",
        "DisableSecondFactor",
        "CustomerLogin",
        "PackageLogin",
        "StaffLogin",
        "SetCustomerPassword",
        "SetPackagePassword",
        "ChangeCustomerPassword",
        "RequestPasswordReset",
        "ConfirmPasswordReset",
        "RevokeOwnToken",
        "RevokeSubject",
        "SetCustomerStatus",
        "RedeemPackageSignOn",
    },
    "customercenter.v2.ContractService": {
        "CreateCustomer",
        "CreateInvoice",
        "SetPayment",
        "UpdateCustomer",
        "RestoreCustomerEmail",
        "SetCustomerStatus",
        "TransferContracts",
        "CreateContract",
        "ChangeContractProduct",
        "RepeatDebit",
        "CreateTermination",
        "RetractTermination",
        "CreateDirectDebitCollection",
        "MarkInvoicePaid",
        "MarkInvoiceReturned",
        "CreateOffer",
        "OrderOffer",
        "CreateContactRequest",
        "AnswerContactRequest",
    },
    "customercenter.v2.PackageService": {
        "OrderAddon",
        "SetAddonEnd",
        "EndAddon",
        "CreatePackage",
        "TransferPackages",
        "ChangeProduct",
        "MoveDomain",
        "UpdateSettings",
        "SetUsage",
        "EndPackage",
    },
    "customercenter.v2.MergeService": {
        "StartMerge",
        "TakeOverData",
        "RefreshComparison",
        "SubmitMerge",
        "CancelMerge",
        "UploadLegalProof",
        "ApproveMerge",
        "RejectMerge",
        "ReverseMerge",
        "ObjectToMerge",
        "ObjectMerge",
        "ConfirmMerge",
    },
}
SERVICE_CONFIG = service_config(copies=True)
# Streams are never retried by the channel (WatchRevocations reconnects on its own).
STREAMS = {"customercenter.v2.IdentityService": {"WatchRevocations"}}
READ_PREFIXES = ("Get", "List", "Count", "Resolve")


def retried() -> set[tuple[str, str]]:
    return {
        (name["service"], name["method"])
        for method_config in SERVICE_CONFIG["methodConfig"]
        if "retryPolicy" in method_config
        for name in method_config["name"]
    }


# --- the service config ------------------------------------------------------------------------


def test_the_channel_balances_round_robin_over_healthy_copies():
    assert dict(CHANNEL_OPTIONS)["grpc.enable_retries"] == 1
    for address in ("127.0.0.1:1,127.0.0.1:2", "dns:///identity:50051"):
        _, options = channel_options(address)
        parsed = json.loads(dict(options)["grpc.service_config"])
        assert parsed["loadBalancingConfig"] == [{"round_robin": {}}]
        assert parsed["healthCheckConfig"] == {"serviceName": ""}
        assert parsed["methodConfig"] == SERVICE_CONFIG["methodConfig"]


def test_a_single_copy_is_picked_first_and_reconnected_on_the_next_call():
    _, options = channel_options("127.0.0.1:50051")
    parsed = json.loads(dict(options)["grpc.service_config"])
    assert "loadBalancingConfig" not in parsed and "healthCheckConfig" not in parsed
    assert parsed["methodConfig"] == SERVICE_CONFIG["methodConfig"]  # reads are still retried


def test_only_unavailable_is_retried_a_bounded_number_of_times():
    (policy,) = [m["retryPolicy"] for m in SERVICE_CONFIG["methodConfig"] if "retryPolicy" in m]
    assert policy["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert 2 <= policy["maxAttempts"] <= 4
    assert policy["initialBackoff"].endswith("s") and policy["maxBackoff"].endswith("s")
    # No method config names a whole service (that would retry its writes too).
    assert all("method" in name for m in SERVICE_CONFIG["methodConfig"] for name in m["name"])


def test_no_write_is_in_the_retry_list():
    for service, method in retried():
        assert method not in WRITES.get(service, set()), f"{service}/{method} is a write"
        assert method.startswith(READ_PREFIXES), f"{service}/{method} does not read by its name"


def test_every_retried_rpc_exists_and_is_unary():
    for service, method in retried():
        descriptor = SERVICES[service].methods_by_name.get(method)
        assert descriptor is not None, f"{service}/{method} is not in the protos"
        assert not descriptor.client_streaming and not descriptor.server_streaming


def test_every_rpc_of_the_protos_is_classified_as_read_write_or_stream():
    for service, descriptor in SERVICES.items():
        reads = set(READ_METHODS[service])
        writes = WRITES[service]
        streams = STREAMS.get(service, set())
        assert not reads & writes
        assert set(descriptor.methods_by_name) == reads | writes | streams, service


# --- addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:50051", GrpcTarget("127.0.0.1:50051")),
        ("identity:50051", GrpcTarget("identity:50051")),
        (
            "dns:///identity.ns.svc.cluster.local:50051",
            GrpcTarget("dns:///identity.ns.svc.cluster.local:50051"),
        ),
        ("10.0.0.5:50051,10.0.0.6:50052", GrpcTarget("ipv4:10.0.0.5:50051,10.0.0.6:50052", "10.0.0.5:50051")),
        (" localhost:1, localhost:2 ", GrpcTarget("ipv4:127.0.0.1:1,127.0.0.1:2", "localhost:1")),
        (
            "[fd00::1]:50051,[fd00::2]:50051",
            GrpcTarget("ipv6:[fd00::1]:50051,[fd00::2]:50051", "[fd00::1]:50051"),
        ),
    ],
)
def test_an_address_becomes_a_grpc_target(address, expected):
    assert grpc_target(address) == expected


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("identity-1:50051,identity-2:50051", "is not an IP address"),
        ("10.0.0.5:50051,[fd00::1]:50051", "all IPv4 or all IPv6"),
        ("10.0.0.5,10.0.0.6:50051", "is not host:port"),
        ("10.0.0.5:http", "is not host:port"),
        ("dns:///a:1,b:2", "names one host"),
    ],
)
def test_a_bad_address_is_refused_naming_the_variable(address, message):
    with pytest.raises(RuntimeError, match=f"PACKAGE_ADDR: .*{message}"):
        grpc_target(address, "PACKAGE_ADDR")


def test_service_addresses_refuse_a_bad_one_at_start_up(monkeypatch):
    monkeypatch.setenv("CONTRACT_ADDR", "contract-a:50052,contract-b:50052")
    with pytest.raises(RuntimeError, match="CONTRACT_ADDR"):
        config.ServiceAddresses.from_env()


def test_a_service_listens_on_its_own_address_only_when_it_is_one(monkeypatch):
    monkeypatch.delenv("LISTEN_ADDR", raising=False)
    assert config.listen_address("127.0.0.1:50053", "PACKAGE_ADDR") == "127.0.0.1:50053"
    with pytest.raises(RuntimeError, match="LISTEN_ADDR is not set and PACKAGE_ADDR"):
        config.listen_address("dns:///package:50053", "PACKAGE_ADDR")
    with pytest.raises(RuntimeError, match="LISTEN_ADDR"):
        config.listen_address("127.0.0.1:1,127.0.0.1:2", "PACKAGE_ADDR")
    monkeypatch.setenv("LISTEN_ADDR", "0.0.0.0:50053")
    assert config.listen_address("dns:///package:50053", "PACKAGE_ADDR") == "0.0.0.0:50053"


def test_tls_checks_every_copy_of_a_list_against_the_first_host(monkeypatch):
    monkeypatch.delenv("GRPC_TLS_SERVER_NAME", raising=False)
    tls = config.GrpcTls(Path("c"), Path("k"), Path("ca"))
    target, options = channel_options("localhost:1,localhost:2", tls)
    assert target == "ipv4:127.0.0.1:1,127.0.0.1:2"
    assert ("grpc.default_authority", "localhost:1") in options
    assert ("grpc.ssl_target_name_override", "localhost") in options
    _, plain = channel_options("localhost:1,localhost:2")
    assert not any(key == "grpc.ssl_target_name_override" for key, _ in plain)
    _, single = channel_options("package:50053", tls)
    assert not any(key == "grpc.ssl_target_name_override" for key, _ in single)
    monkeypatch.setenv("GRPC_TLS_SERVER_NAME", "package.internal")
    _, named = channel_options("dns:///package:50053", tls)
    assert ("grpc.ssl_target_name_override", "package.internal") in named


def test_the_health_check_command_channel_reaches_a_not_serving_server():
    """cc_common.healthcheck asks the health service itself: no client-side health checking."""
    _, options = channel_options("127.0.0.1:1,127.0.0.1:2", health_checked=False)
    parsed = json.loads(dict(options)["grpc.service_config"])
    assert "healthCheckConfig" not in parsed
    assert parsed["loadBalancingConfig"] == [{"round_robin": {}}]
