"""Products, downgrade and upgrade, package splitting and technical settings of
package-service, over real gRPC on port 0 against a real database."""

from __future__ import annotations

import grpc
import pytest
from cc_common.errors import from_rpc_error
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from customercenter.v2 import common_pb2, package_pb2, package_pb2_grpc
from package_service.bootstrap import Settings, create_server
from sqlalchemy import create_engine, text


@pytest.fixture
def package_server(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    url = database_url("package")
    settings = Settings(database_url=url, listen="127.0.0.1:0", tokens=tokens)
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    yield package_pb2_grpc.PackageServiceStub(channel), TokenFactory(tokens), url
    channel.close()
    thread.stop()


def create(stub, tokens, customer, product, *domains):
    return stub.CreatePackage(
        package_pb2.CreatePackageRequest(customer_number=customer, product=product, domains=list(domains)),
        metadata=metadata(tokens.staff()),
        timeout=5,
    ).package


def change(stub, token, package_id, product):
    return stub.ChangeProduct(
        package_pb2.ChangeProductRequest(package_id=package_id, product=product),
        metadata=metadata(token),
        timeout=5,
    )


def move(stub, token, package_id, domain, target="", product=""):
    return stub.MoveDomain(
        package_pb2.MoveDomainRequest(
            package_id=package_id, domain=domain, target_package_id=target, product=product
        ),
        metadata=metadata(token),
        timeout=5,
    )


def product_changes(url, package_id):
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            return [
                tuple(row)
                for row in conn.execute(
                    text(
                        "SELECT from_product, to_product, direction, changed_by FROM product_changes"
                        " WHERE package_id = :id ORDER BY id"
                    ),
                    {"id": package_id},
                )
            ]
    finally:
        engine.dispose()


def test_every_user_kind_lists_the_products_smallest_first(package_server):
    stub, tokens, _ = package_server
    pkg = create(stub, tokens, "100", "hosting-basic", "a.example")
    for token in (tokens.customer("100"), tokens.package(pkg.id), tokens.staff()):
        products = stub.ListProducts(
            package_pb2.ListProductsRequest(), metadata=metadata(token), timeout=5
        ).products
        assert [p.code for p in products][:3] == ["hosting-basic", "hosting-plus", "hosting-pro"]
        assert [p.rank for p in products] == sorted(p.rank for p in products)
    basic = products[0]
    assert (basic.name, basic.max_domains, basic.storage_gb, basic.mailboxes, basic.databases) == (
        "Hosting Basic",
        1,
        10,
        5,
        1,
    )
    assert {(p.market, p.currency) for p in basic.prices} == {
        (common_pb2.MARKET_DE, "EUR"),
        (common_pb2.MARKET_NL, "EUR"),
        (common_pb2.MARKET_UK, "GBP"),
    }


def test_a_downgrade_that_does_not_fit_is_refused_with_the_reason(package_server):
    stub, tokens, url = package_server
    pkg = create(stub, tokens, "100", "hosting-plus", "a.example", "b.example", "c.example")
    assert (pkg.product_name, pkg.max_domains, pkg.storage_used_gb) == ("Hosting Plus", 5, 0)
    with pytest.raises(grpc.RpcError) as err:
        change(stub, tokens.customer("100"), pkg.id, "hosting-basic")
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.value.trailing_metadata())["error-code"] == "package_does_not_fit"
    assert err.value.details() == "The package has 3 domains; Hosting Basic allows 1 domain."
    again = stub.GetPackage(
        package_pb2.GetPackageRequest(package_id=pkg.id), metadata=metadata(tokens.customer("100")), timeout=5
    ).package
    assert again.product == "hosting-plus"
    assert product_changes(url, pkg.id) == []


def test_a_downgrade_refused_for_usage_fits_after_staff_lowers_the_usage(package_server):
    stub, tokens, url = package_server
    pkg = create(stub, tokens, "100", "hosting-plus", "a.example")
    used = stub.SetUsage(
        package_pb2.SetUsageRequest(
            package_id=pkg.id, storage_used_gb=12, mailboxes_used=3, databases_used=1
        ),
        metadata=metadata(tokens.staff()),
        timeout=5,
    ).package
    assert (used.storage_used_gb, used.mailboxes_used, used.databases_used) == (12, 3, 1)
    with pytest.raises(grpc.RpcError) as err:
        change(stub, tokens.customer("100"), pkg.id, "hosting-basic")
    assert "12 GB of storage" in err.value.details()
    stub.SetUsage(
        package_pb2.SetUsageRequest(package_id=pkg.id, storage_used_gb=9, mailboxes_used=3, databases_used=1),
        metadata=metadata(tokens.staff()),
        timeout=5,
    )
    done = change(stub, tokens.customer("100"), pkg.id, "hosting-basic")
    assert done.direction == package_pb2.CHANGE_DIRECTION_DOWNGRADE and done.from_product == "hosting-plus"
    assert (done.package.product, done.package.product_name, done.package.max_domains) == (
        "hosting-basic",
        "Hosting Basic",
        1,
    )
    assert done.package.storage_used_gb == 9
    assert product_changes(url, pkg.id) == [("hosting-plus", "hosting-basic", "downgrade", "customer:100")]


def test_the_package_login_may_neither_upgrade_nor_downgrade_its_package(package_server):
    stub, tokens, url = package_server
    pkg = create(stub, tokens, "100", "hosting-plus", "a.example")
    own = tokens.package(pkg.id)
    for product in ("hosting-pro", "hosting-basic"):
        with pytest.raises(grpc.RpcError) as err:
            change(stub, own, pkg.id, product)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert dict(err.value.trailing_metadata())["error-code"] == "forbidden"
    up = change(stub, tokens.customer("100"), pkg.id, "hosting-pro")
    assert up.direction == package_pb2.CHANGE_DIRECTION_UPGRADE and up.package.product == "hosting-pro"
    with pytest.raises(grpc.RpcError) as same:
        change(stub, tokens.customer("100"), pkg.id, "hosting-pro")
    assert dict(same.value.trailing_metadata())["error-code"] == "same_product"
    with pytest.raises(grpc.RpcError) as unknown:
        change(stub, tokens.customer("100"), pkg.id, "hosting-gold")
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(unknown.value.trailing_metadata())["error-field"] == "product"
    assert product_changes(url, pkg.id) == [("hosting-plus", "hosting-pro", "upgrade", "customer:100")]


def test_a_package_login_sees_its_package_without_the_owners_customer_number(package_server):
    stub, tokens, _ = package_server
    pkg = create(stub, tokens, "100", "hosting-plus", "a.example")
    own = metadata(tokens.package(pkg.id))
    one = stub.GetPackage(package_pb2.GetPackageRequest(package_id=pkg.id), metadata=own, timeout=5).package
    listed = stub.ListPackages(package_pb2.ListPackagesRequest(), metadata=own, timeout=5)
    assert one.id == pkg.id and one.customer_number == ""
    assert [p.customer_number for p in listed.packages] == [""]
    mine = stub.GetPackage(
        package_pb2.GetPackageRequest(package_id=pkg.id), metadata=metadata(tokens.customer("100")), timeout=5
    ).package
    assert mine.customer_number == "100"


def test_a_domain_moves_into_another_package_of_the_same_customer(package_server):
    stub, tokens, _ = package_server
    source = create(stub, tokens, "100", "hosting-plus", "a.example", "b.example")
    target = create(stub, tokens, "100", "hosting-plus", "c.example")
    moved = move(stub, tokens.customer("100"), source.id, "A.example", target=target.id)
    assert not moved.created
    assert list(moved.source.domains) == ["b.example"]
    assert (moved.target.id, list(moved.target.domains)) == (target.id, ["c.example", "a.example"])
    listed = {
        p.id: list(p.domains)
        for p in stub.ListPackages(
            package_pb2.ListPackagesRequest(), metadata=metadata(tokens.customer("100")), timeout=5
        ).packages
    }
    assert listed == {source.id: ["b.example"], target.id: ["c.example", "a.example"]}
    basic = create(stub, tokens, "100", "hosting-basic", "d.example")
    with pytest.raises(grpc.RpcError) as full:
        move(stub, tokens.customer("100"), target.id, "c.example", target=basic.id)
    assert dict(full.value.trailing_metadata())["error-code"] == "package_full"


def test_a_domain_moves_into_a_new_independent_package_under_the_same_customer_number(package_server):
    stub, tokens, _ = package_server
    source = create(stub, tokens, "100", "hosting-plus", "a.example", "b.example", "c.example")
    moved = move(stub, tokens.customer("100"), source.id, "c.example")
    assert moved.created and moved.target.id != source.id
    assert (moved.target.customer_number, moved.target.product, list(moved.target.domains)) == (
        "100",
        "hosting-basic",
        ["c.example"],
    )
    pro = move(stub, tokens.customer("100"), source.id, "b.example", product="hosting-pro")
    assert pro.target.product == "hosting-pro" and list(pro.source.domains) == ["a.example"]
    listed = stub.ListPackages(
        package_pb2.ListPackagesRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    ).packages
    assert sorted(list(p.domains) for p in listed) == [["a.example"], ["b.example"], ["c.example"]]
    with pytest.raises(grpc.RpcError) as err:
        move(stub, tokens.package(source.id), source.id, "a.example")
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_the_last_domain_of_a_package_cannot_be_split_off(package_server):
    stub, tokens, _ = package_server
    source = create(stub, tokens, "100", "hosting-plus", "a.example")
    target = create(stub, tokens, "100", "hosting-plus", "b.example")
    for target_id in ("", target.id):
        with pytest.raises(grpc.RpcError) as err:
            move(stub, tokens.customer("100"), source.id, "a.example", target=target_id)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert dict(err.value.trailing_metadata())["error-code"] == "last_domain"
    listed = stub.ListPackages(
        package_pb2.ListPackagesRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    ).packages
    assert sorted(list(p.domains) for p in listed) == [["a.example"], ["b.example"]]


def test_a_customer_cannot_touch_another_customers_package(package_server):
    stub, tokens, _ = package_server
    mine = create(stub, tokens, "100", "hosting-plus", "a.example", "b.example")
    theirs = create(stub, tokens, "200", "hosting-plus", "c.example", "d.example")
    me = tokens.customer("100")
    calls = [
        lambda: change(stub, me, theirs.id, "hosting-pro"),
        lambda: move(stub, me, theirs.id, "c.example"),
        lambda: move(stub, me, mine.id, "a.example", target=theirs.id),
        lambda: (
            stub.GetSettings(
                package_pb2.GetSettingsRequest(package_id=theirs.id), metadata=metadata(me), timeout=5
            ).package_settings
        ),
        lambda: (
            stub.UpdateSettings(
                package_pb2.UpdateSettingsRequest(package_id=theirs.id, settings={"php_version": "8.1"}),
                metadata=metadata(me),
                timeout=5,
            ).package_settings
        ),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as err:
            call()
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    staff = metadata(tokens.staff())
    assert list(
        stub.GetPackage(
            package_pb2.GetPackageRequest(package_id=theirs.id), metadata=staff, timeout=5
        ).package.domains
    ) == ["c.example", "d.example"]
    assert (
        stub.GetPackage(
            package_pb2.GetPackageRequest(package_id=theirs.id), metadata=staff, timeout=5
        ).package.product
        == "hosting-plus"
    )
    assert list(
        stub.GetPackage(
            package_pb2.GetPackageRequest(package_id=mine.id), metadata=staff, timeout=5
        ).package.domains
    ) == ["a.example", "b.example"]


def test_the_package_login_updates_the_settings_of_its_own_package_only(package_server):
    stub, tokens, _ = package_server
    own = create(stub, tokens, "100", "hosting-basic", "a.example")
    other = create(stub, tokens, "100", "hosting-basic", "b.example")
    token = metadata(tokens.package(own.id))
    before = stub.GetSettings(
        package_pb2.GetSettingsRequest(package_id=own.id), metadata=token, timeout=5
    ).package_settings.settings
    assert before["php_version"] == "8.3" and before["https_redirect"] == "true"
    updated = stub.UpdateSettings(
        package_pb2.UpdateSettingsRequest(
            package_id=own.id, settings={"php_version": "8.2", "https_redirect": "false"}
        ),
        metadata=token,
        timeout=5,
    ).package_settings.settings
    assert (updated["php_version"], updated["https_redirect"]) == ("8.2", "false")
    seen = stub.GetSettings(
        package_pb2.GetSettingsRequest(package_id=own.id),
        metadata=metadata(tokens.customer("100")),
        timeout=5,
    ).package_settings.settings
    assert seen["php_version"] == "8.2"
    with pytest.raises(grpc.RpcError) as bad:
        stub.UpdateSettings(
            package_pb2.UpdateSettingsRequest(package_id=own.id, settings={"php_version": "5.6"}),
            metadata=token,
            timeout=5,
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(bad.value.trailing_metadata())["error-field"] == "settings.php_version"
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateSettings(
            package_pb2.UpdateSettingsRequest(package_id=other.id, settings={"php_version": "8.1"}),
            metadata=token,
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    untouched = stub.GetSettings(
        package_pb2.GetSettingsRequest(package_id=other.id), metadata=metadata(tokens.staff()), timeout=5
    ).package_settings.settings
    assert untouched["php_version"] == "8.3"


@pytest.mark.parametrize("name", ["basic", "Hosting Basic", "HOSTING-BASIC", "webhosting-s", "small"])
def test_a_product_may_be_named_by_its_name_or_an_alias(name):
    from package_service.domain import catalogue

    assert catalogue.find(name).code == "hosting-basic"
    assert catalogue.find("gold") is None


@pytest.mark.parametrize("key", ["\x9cg8", "php_versiön", "a\nb", "50%"])
def test_an_unknown_setting_with_any_characters_is_refused_as_invalid_input_naming_it(package_server, key):
    # The refusal names the key in its error-field trailer; gRPC refuses a text trailer that is
    # not printable ASCII, which used to end the call as INTERNAL (a 500 at the gateway).
    stub, tokens, _ = package_server
    own = create(stub, tokens, "100", "hosting-basic", "a.example")
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateSettings(
            package_pb2.UpdateSettingsRequest(package_id=own.id, settings={key: "1"}),
            metadata=metadata(tokens.package(own.id)),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert from_rpc_error(err.value).field == f"settings.{key}"


# --- a termination took effect (contract-service: EndPackage) ---------------------------------


def test_contract_service_ends_a_domain_and_then_the_package_whose_domains_then_resolve_no_more(
    package_server,
):
    stub, tokens, _url = package_server
    pkg = create(stub, tokens, "100", "hosting-basic", "end-a.example", "end-b.example")
    contract = metadata(tokens.service("contract"))
    gateway = metadata(tokens.service("gateway"))

    def resolves(domain: str) -> bool:
        try:
            stub.ResolveDomain(package_pb2.ResolveDomainRequest(domain=domain), metadata=gateway, timeout=5)
            return True
        except grpc.RpcError as err:
            assert err.code() == grpc.StatusCode.NOT_FOUND
            return False

    one = stub.EndPackage(
        package_pb2.EndPackageRequest(package_id=pkg.id, domain="end-b.example"), metadata=contract, timeout=5
    )
    assert (
        list(one.package.domains) == ["end-a.example"]
        and one.package.status == package_pb2.PACKAGE_STATUS_ACTIVE
    )
    assert (resolves("end-a.example"), resolves("end-b.example")) == (True, False)
    for _ in range(2):  # idempotent
        whole = stub.EndPackage(
            package_pb2.EndPackageRequest(package_id=pkg.id), metadata=contract, timeout=5
        )
        assert whole.package.status == package_pb2.PACKAGE_STATUS_TERMINATED
    assert not resolves("end-a.example")  # its package login fails like an unknown domain
    for other in (gateway, metadata(tokens.service("merge")), metadata(tokens.staff())):
        with pytest.raises(grpc.RpcError) as err:
            stub.EndPackage(package_pb2.EndPackageRequest(package_id=pkg.id), metadata=other, timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
