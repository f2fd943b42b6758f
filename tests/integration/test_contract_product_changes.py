"""contract-service's ChangeContractProduct over real gRPC on port 0, against SQLite and
PostgreSQL: a package's upgrade or downgrade followed in its contract, recorded once,
idempotent, and who may call it."""

from __future__ import annotations

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service.bootstrap import Settings, create_server
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc
from sqlalchemy import create_engine, text


@pytest.fixture
def server(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    url = database_url("contract")
    settings = Settings(database_url=url, listen="127.0.0.1:0", tokens=tokens)
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    stub = contract_pb2_grpc.ContractServiceStub(channel)
    factory = TokenFactory(tokens)
    staff = metadata(factory.staff())
    for number in ("100", "200"):
        stub.CreateCustomer(
            contract_pb2.CreateCustomerRequest(
                customer_number=number, market=common_pb2.MARKET_DE, first_name="Erika", last_name=f"Kunde{number}",
                street="Hauptstraße 1", zip="10115", city="Berlin", email=f"k{number}@example.com",
            ),
            metadata=staff, timeout=5,
        )  # fmt: skip
        stub.CreateContract(
            contract_pb2.CreateContractRequest(package_id=f"pkg_{number}", customer_number=number, product="hosting-plus"),
            metadata=staff, timeout=5,
        )  # fmt: skip
    yield stub, factory, url
    channel.close()
    thread.stop()


def refused(call, request, md) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as err:
        call(request, metadata=md, timeout=5)
    t = dict(err.value.trailing_metadata() or ())
    return err.value.code(), t.get("error-code", ""), t.get("error-field", "")


def change(
    package_id: str, product: str, customer_number: str = ""
) -> contract_pb2.ChangeContractProductRequest:
    return contract_pb2.ChangeContractProductRequest(
        package_id=package_id, product=product, customer_number=customer_number
    )


def recorded_changes(url: str) -> list[tuple[str, str, str, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT c.package_id, ch.from_product, ch.to_product, ch.changed_by FROM contract_changes ch"
                    " JOIN contracts c ON c.id = ch.contract_id ORDER BY ch.id"
                )
            )
            return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def test_a_downgrade_changes_the_contracts_product_once_and_a_repeat_changes_nothing(server):
    stub, tokens, url = server
    service = metadata(tokens.service())
    first = stub.ChangeContractProduct(change("pkg_100", "Hosting-Basic", "100"), metadata=service, timeout=5)
    assert (first.contract.product, first.from_product, first.changed) == (
        "hosting-basic",
        "hosting-plus",
        True,
    )
    assert (first.contract.package_id, first.contract.customer_number, first.contract.status) == (
        "pkg_100",
        "100",
        contract_pb2.CONTRACT_STATUS_ACTIVE,
    )
    again = stub.ChangeContractProduct(change("pkg_100", "hosting-basic"), metadata=service, timeout=5)
    assert (again.contract.product, again.from_product, again.changed) == (
        "hosting-basic",
        "hosting-basic",
        False,
    )
    listed = stub.ListContracts(
        contract_pb2.ListContractsRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    assert [(c.package_id, c.product) for c in listed.contracts] == [("pkg_100", "hosting-basic")]
    others = stub.ListContracts(
        contract_pb2.ListContractsRequest(customer_number="200"), metadata=metadata(tokens.staff()), timeout=5
    )
    assert [c.product for c in others.contracts] == ["hosting-plus"]
    assert recorded_changes(url) == [("pkg_100", "hosting-plus", "hosting-basic", "service:gateway")]


def test_staff_changes_it_back_and_a_later_termination_shows_the_current_product(server):
    stub, tokens, url = server
    stub.ChangeContractProduct(
        change("pkg_100", "hosting-basic"), metadata=metadata(tokens.service()), timeout=5
    )
    back = stub.ChangeContractProduct(
        change("pkg_100", "hosting-pro"), metadata=metadata(tokens.staff()), timeout=5
    )
    assert (back.contract.product, back.from_product, back.changed) == ("hosting-pro", "hosting-basic", True)
    made = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_100"),
        metadata=metadata(tokens.customer("100")),
        timeout=5,
    ).termination
    assert made.product == "hosting-pro"
    assert [r[1:] for r in recorded_changes(url)] == [
        ("hosting-plus", "hosting-basic", "service:gateway"),
        ("hosting-basic", "hosting-pro", "staff:admin"),
    ]


def test_an_unknown_package_or_another_owner_is_not_found_and_bad_input_names_the_field(server):
    stub, tokens, url = server
    service = metadata(tokens.service())
    assert refused(stub.ChangeContractProduct, change("pkg_none", "hosting-basic"), service)[:2] == (
        grpc.StatusCode.NOT_FOUND, "not_found",
    )  # fmt: skip
    assert (
        refused(stub.ChangeContractProduct, change("pkg_200", "hosting-basic", "100"), service)[0]
        == grpc.StatusCode.NOT_FOUND
    )
    assert refused(stub.ChangeContractProduct, change("pkg_100", "Gold Plan!"), service) == (
        grpc.StatusCode.INVALID_ARGUMENT, "invalid_input", "product",
    )  # fmt: skip
    assert refused(stub.ChangeContractProduct, change("", "hosting-basic"), service)[2] == "package_id"
    assert recorded_changes(url) == []


def test_a_frozen_or_retired_customers_contract_is_not_changed(server):
    stub, tokens, url = server
    service = metadata(tokens.service())
    for status, into in (
        (common_pb2.CUSTOMER_STATUS_FROZEN, ""),
        (common_pb2.CUSTOMER_STATUS_RETIRED, "200"),
    ):
        stub.SetCustomerStatus(
            contract_pb2.ContractServiceSetCustomerStatusRequest(merge_id="mrg_1", customer_numbers=["100"], status=status, merged_into=into),
            metadata=metadata(tokens.service("merge")), timeout=5,
        )  # fmt: skip
        assert refused(stub.ChangeContractProduct, change("pkg_100", "hosting-basic"), service)[:2] == (
            grpc.StatusCode.FAILED_PRECONDITION, "customer_not_active",
        )  # fmt: skip
    # The product it already has is still a no-op answer, not a refusal.
    same = stub.ChangeContractProduct(change("pkg_100", "hosting-plus"), metadata=service, timeout=5)
    assert (same.contract.product, same.changed) == ("hosting-plus", False)
    assert recorded_changes(url) == []


@pytest.mark.parametrize("kind", ["customer", "package"])
def test_only_staff_and_service_may_change_a_contracts_product(server, kind):
    stub, tokens, url = server
    token = tokens.customer("100") if kind == "customer" else tokens.package("pkg_100")
    assert refused(stub.ChangeContractProduct, change("pkg_100", "hosting-basic"), metadata(token))[0] == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    listed = stub.ListContracts(
        contract_pb2.ListContractsRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    assert [c.product for c in listed.contracts] == ["hosting-plus"]
