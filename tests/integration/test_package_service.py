"""package-service over real gRPC on port 0, against a real database."""

from __future__ import annotations

import grpc
import pytest
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from customercenter.v2 import package_pb2, package_pb2_grpc
from package_service.bootstrap import Settings, create_server


@pytest.fixture
def package_server(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    settings = Settings(database_url=database_url("package"), listen="127.0.0.1:0", tokens=tokens)
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    yield package_pb2_grpc.PackageServiceStub(channel), TokenFactory(tokens)
    channel.close()
    thread.stop()


def test_staff_creates_a_package_and_its_owner_lists_it(package_server):
    stub, tokens = package_server
    created = stub.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number="100", product="hosting-basic", domains=["Bücher.example"]
        ),
        metadata=metadata(tokens.staff()),
        timeout=5,
    ).package
    assert created.id.startswith("pkg_")
    assert list(created.domains) == ["xn--bcher-kva.example"]
    listed = stub.ListPackages(
        package_pb2.ListPackagesRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    assert [p.id for p in listed.packages] == [created.id]
    other = stub.ListPackages(
        package_pb2.ListPackagesRequest(), metadata=metadata(tokens.customer("200")), timeout=5
    )
    assert list(other.packages) == []


def test_package_token_sees_only_its_own_package(package_server):
    stub, tokens = package_server
    staff = metadata(tokens.staff())
    a = stub.CreatePackage(
        package_pb2.CreatePackageRequest(customer_number="1", product="hosting-basic", domains=["a.example"]),
        metadata=staff,
        timeout=5,
    ).package
    b = stub.CreatePackage(
        package_pb2.CreatePackageRequest(customer_number="1", product="hosting-basic", domains=["b.example"]),
        metadata=staff,
        timeout=5,
    ).package
    own = metadata(tokens.package(a.id))
    assert (
        stub.GetPackage(package_pb2.GetPackageRequest(package_id=a.id), metadata=own, timeout=5).package.id
        == a.id
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.GetPackage(package_pb2.GetPackageRequest(package_id=b.id), metadata=own, timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_customer_may_not_create_packages_or_resolve_domains(package_server):
    stub, tokens = package_server
    with pytest.raises(grpc.RpcError) as err:
        stub.CreatePackage(
            package_pb2.CreatePackageRequest(
                customer_number="1", product="hosting-basic", domains=["c.example"]
            ),
            metadata=metadata(tokens.customer("1")),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.ResolveDomain(
            package_pb2.ResolveDomainRequest(domain="c.example"),
            metadata=metadata(tokens.customer("1")),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_call_without_token_is_unauthenticated(package_server):
    stub, _ = package_server
    with pytest.raises(grpc.RpcError) as err:
        stub.ListPackages(package_pb2.ListPackagesRequest(), timeout=5)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_a_taken_domain_is_refused_with_its_code(package_server):
    stub, tokens = package_server
    staff = metadata(tokens.staff())
    stub.CreatePackage(
        package_pb2.CreatePackageRequest(customer_number="1", product="hosting-basic", domains=["d.example"]),
        metadata=staff,
        timeout=5,
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.CreatePackage(
            package_pb2.CreatePackageRequest(
                customer_number="2", product="hosting-basic", domains=["D.example."]
            ),
            metadata=staff,
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert dict(err.value.trailing_metadata())["error-code"] == "domain_taken"


def _transfer(stub, tokens, merge_id, source, target, reverse=False):

    return stub.TransferPackages(
        package_pb2.TransferPackagesRequest(
            merge_id=merge_id, source_customer_number=source, target_customer_number=target, reverse=reverse
        ),
        metadata=metadata(tokens.service("merge")),
        timeout=30,
    )


def test_a_merge_transfer_moves_every_package_once_and_reverses_exactly_those(package_server):
    stub, tokens = package_server
    staff = metadata(tokens.staff())
    moved = [
        stub.CreatePackage(
            package_pb2.CreatePackageRequest(
                customer_number="2", product="hosting-basic", domains=[f"s{i}.example"]
            ),
            metadata=staff,
            timeout=5,
        ).package.id
        for i in range(3)
    ]
    kept = stub.CreatePackage(
        package_pb2.CreatePackageRequest(customer_number="1", product="hosting-basic", domains=["k.example"]),
        metadata=staff,
        timeout=5,
    ).package.id
    first = _transfer(stub, tokens, "mrg_1", "2", "1")
    assert sorted(first.moved[0].ids) == sorted(moved)
    # Created for the source after the transfer: a repeat must not move it.
    late = stub.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number="2", product="hosting-basic", domains=["late.example"]
        ),
        metadata=staff,
        timeout=5,
    ).package.id
    again = _transfer(stub, tokens, "mrg_1", "2", "1")
    assert list(again.moved[0].ids) == list(first.moved[0].ids)
    owned = {
        p.id
        for p in stub.ListPackages(
            package_pb2.ListPackagesRequest(customer_number="1"), metadata=staff, timeout=5
        ).packages
    }
    assert owned == {kept, *moved}
    # Created for the target after the merge: stays with the target on reversal.
    new = stub.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number="1", product="hosting-basic", domains=["new.example"]
        ),
        metadata=staff,
        timeout=5,
    ).package.id
    back = _transfer(stub, tokens, "mrg_1", "2", "1", reverse=True)
    assert sorted(back.moved[0].ids) == sorted(moved)
    source = {
        p.id
        for p in stub.ListPackages(
            package_pb2.ListPackagesRequest(customer_number="2"), metadata=staff, timeout=5
        ).packages
    }
    assert source == {*moved, late}
    counts = stub.CountPackages(package_pb2.CountPackagesRequest(), metadata=staff, timeout=5)
    assert counts.total == 6 and counts.by_owner["1"] == 2 and counts.by_owner["2"] == 4
    assert new


def test_only_the_service_credential_may_transfer_packages(package_server):
    stub, tokens = package_server

    for token in (tokens.staff(), tokens.customer("1")):
        with pytest.raises(grpc.RpcError) as err:
            stub.TransferPackages(
                package_pb2.TransferPackagesRequest(
                    merge_id="m", source_customer_number="2", target_customer_number="1"
                ),
                metadata=metadata(token),
                timeout=5,
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_late_forward_transfer_after_the_reversal_moves_nothing(package_server):
    stub, tokens = package_server
    staff = metadata(tokens.staff())
    stub.CreatePackage(
        package_pb2.CreatePackageRequest(
            customer_number="2", product="hosting-basic", domains=["late-fwd.example"]
        ),
        metadata=staff,
        timeout=5,
    )
    _transfer(stub, tokens, "mrg_undo", "2", "1", reverse=True)  # undone before the forward ever ran
    with pytest.raises(grpc.RpcError) as err:
        _transfer(stub, tokens, "mrg_undo", "2", "1")
    assert dict(err.value.trailing_metadata())["error-code"] == "transfer_reversed"
    owners = stub.CountPackages(
        package_pb2.CountPackagesRequest(customer_numbers=["1", "2"]), metadata=staff, timeout=5
    ).by_owner
    assert owners.get("2") == 1 and owners.get("1", 0) == 0
