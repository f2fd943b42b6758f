"""The access matrix and the token attacks against the gRPC services directly, bypassing the
gateway: each service verifies the caller's token and enforces ownership itself."""

from __future__ import annotations

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service import bootstrap as contract_boot
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc, package_pb2, package_pb2_grpc
from package_service import bootstrap as package_boot

from tests.support.forged_tokens import forged_tokens


@pytest.fixture
def services(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    threads = [
        ServerThread(
            lambda: package_boot.create_server(
                "127.0.0.1:0", package_boot.Settings(database_url("package"), "127.0.0.1:0", tokens)
            )
        ).start(),
        ServerThread(
            lambda: contract_boot.create_server(
                "127.0.0.1:0", contract_boot.Settings(database_url("contract"), "127.0.0.1:0", tokens)
            )
        ).start(),
    ]
    package = package_pb2_grpc.PackageServiceStub(grpc.insecure_channel(threads[0].address))
    contract = contract_pb2_grpc.ContractServiceStub(grpc.insecure_channel(threads[1].address))
    factory = TokenFactory(tokens)
    staff = metadata(factory.staff())
    customer = contract.CreateCustomer(
        contract_pb2.CreateCustomerRequest(
            market=common_pb2.MARKET_DE,
            first_name="Max",
            last_name="Mustermann",
            street="Hauptstraße 1",
            zip="10115",
            city="Berlin",
            email="max@example.com",
        ),
        metadata=staff,
        timeout=5,
    ).customer
    own = package.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number=customer.customer_number, product="hosting-basic", domains=["own.example"]
        ),
        metadata=staff,
        timeout=5,
    ).package
    other = package.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number="99999999", product="hosting-basic", domains=["other.example"]
        ),
        metadata=staff,
        timeout=5,
    ).package
    yield package, contract, factory, tokens, customer.customer_number, own.id, other.id
    for thread in threads:
        thread.stop()


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()


def test_every_forged_token_is_unauthenticated_at_each_service(services):
    package, contract, factory, settings, number, _, _ = services
    for name, token in forged_tokens(factory, settings, number).items():
        assert (
            code_of(
                lambda token=token: package.ListPackages(
                    package_pb2.ListPackagesRequest(), metadata=metadata(token), timeout=5
                )
            )
            == grpc.StatusCode.UNAUTHENTICATED
        ), name
        assert (
            code_of(
                lambda token=token: (
                    contract.GetCustomer(
                        contract_pb2.GetCustomerRequest(), metadata=metadata(token), timeout=5
                    ).customer
                )
            )
            == grpc.StatusCode.UNAUTHENTICATED
        ), name


def test_a_package_token_reaches_its_own_package_only_and_no_contract_data(services):
    package, contract, factory, _, number, own, other = services
    token = metadata(factory.package(own))
    assert (
        package.GetPackage(
            package_pb2.GetPackageRequest(package_id=own), metadata=token, timeout=5
        ).package.id
        == own
    )
    assert (
        code_of(
            lambda: (
                package.GetPackage(
                    package_pb2.GetPackageRequest(package_id=other), metadata=token, timeout=5
                ).package
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code_of(
            lambda: (
                contract.GetCustomer(
                    contract_pb2.GetCustomerRequest(customer_number=number), metadata=token, timeout=5
                ).customer
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        code_of(lambda: contract.ListInvoices(contract_pb2.ListInvoicesRequest(), metadata=token, timeout=5))
        == grpc.StatusCode.PERMISSION_DENIED
    )


def test_a_customer_token_reaches_its_own_record_and_packages_only(services):
    package, contract, factory, _, number, own, other = services
    token = metadata(factory.customer(number))
    assert (
        contract.GetCustomer(
            contract_pb2.GetCustomerRequest(customer_number="99999999"), metadata=token, timeout=5
        ).customer.customer_number
        == number
    )
    assert [
        p.id
        for p in package.ListPackages(
            package_pb2.ListPackagesRequest(customer_number="99999999"), metadata=token, timeout=5
        ).packages
    ] == [own]
    assert (
        code_of(
            lambda: (
                package.GetPackage(
                    package_pb2.GetPackageRequest(package_id=other), metadata=token, timeout=5
                ).package
            )
        )
        == grpc.StatusCode.NOT_FOUND
    )
    assert (
        code_of(
            lambda: (
                contract.CreateInvoice(
                    contract_pb2.CreateInvoiceRequest(customer_number=number, amount_cents=100),
                    metadata=token,
                    timeout=5,
                ).invoice
            )
        )
        == grpc.StatusCode.PERMISSION_DENIED
    )
