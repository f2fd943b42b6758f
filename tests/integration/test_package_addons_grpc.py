"""Add-ons of package-service over real gRPC on port 0 against a real database (SQLite and
PostgreSQL): ordered by the owner's customer login, listed by the package login too, ended only
by contract-service's credential, moved with their package by a merge, and counted in the
package's limits until they end."""

from __future__ import annotations

import grpc
import pytest
from cc_common.testing import metadata
from customercenter.v2 import common_pb2, package_pb2

from tests.integration.test_package_changes import create
from tests.integration.test_package_changes import package_server as _package_server
from tests.integration.test_package_service import _transfer

package_server = pytest.fixture(_package_server.__wrapped__, name="package_server")


def order(
    stub, token, package_id, kind=package_pb2.ADDON_KIND_EXTRA_DOMAIN_SLOT, market=common_pb2.MARKET_DE
):
    request = package_pb2.OrderAddonRequest(package_id=package_id, kind=kind, market=market)
    return stub.OrderAddon(request, metadata=metadata(token), timeout=5).addon


def listed(stub, token, package_id):
    return stub.ListAddons(
        package_pb2.ListAddonsRequest(package_id=package_id), metadata=metadata(token), timeout=5
    )


def refused(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()


def test_an_add_on_is_ordered_by_the_owner_listed_by_the_package_login_and_raises_max_domains(package_server):
    stub, tokens, _url = package_server
    pkg = create(stub, tokens, "100", "hosting-basic", "addons-a.example")
    owner = tokens.customer("100")
    addon = order(stub, owner, pkg.id, market=common_pb2.MARKET_UK)
    assert (addon.status, addon.currency, addon.monthly_price_cents) == (
        package_pb2.ADDON_STATUS_ACTIVE,
        "GBP",
        179,
    )
    seen = listed(stub, tokens.package(pkg.id), pkg.id)
    assert [a.id for a in seen.addons] == [addon.id]
    assert [o.kind for o in seen.available] == [
        package_pb2.ADDON_KIND_EXTRA_DOMAIN_SLOT, package_pb2.ADDON_KIND_MAILBOX_PACK, package_pb2.ADDON_KIND_DATABASE,
    ]  # fmt: skip
    get = package_pb2.GetPackageRequest(package_id=pkg.id)
    assert stub.GetPackage(get, metadata=metadata(owner), timeout=5).package.max_domains == 2
    mine = stub.ListPackages(package_pb2.ListPackagesRequest(), metadata=metadata(owner), timeout=5).packages
    assert [p.max_domains for p in mine] == [2]  # the customer's listing counts it, too

    assert refused(lambda: order(stub, tokens.package(pkg.id), pkg.id)) == grpc.StatusCode.PERMISSION_DENIED
    assert refused(lambda: order(stub, tokens.customer("200"), pkg.id)) == grpc.StatusCode.NOT_FOUND
    assert refused(lambda: listed(stub, tokens.customer("200"), pkg.id)) == grpc.StatusCode.NOT_FOUND


def test_only_contract_service_ends_an_add_on_and_an_ended_one_no_longer_counts(package_server):
    stub, tokens, _url = package_server
    pkg = create(stub, tokens, "300", "hosting-basic", "addons-b.example")
    addon = order(stub, tokens.customer("300"), pkg.id, kind=package_pb2.ADDON_KIND_MAILBOX_PACK)
    end = package_pb2.EndAddonRequest(package_id=pkg.id, addon_id=addon.id, ends_on="2026-12-31")
    for token in (tokens.customer("300"), tokens.staff(), tokens.service("gateway")):
        assert refused(lambda t=token: stub.EndAddon(end, metadata=metadata(t), timeout=5)) in (
            grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED,
        )  # fmt: skip
    mark = package_pb2.SetAddonEndRequest(package_id=pkg.id, addon_id=addon.id, ends_on="2026-12-31")
    marked = stub.SetAddonEnd(mark, metadata=metadata(tokens.customer("300")), timeout=5).addon
    assert (marked.status, marked.ends_at) == (package_pb2.ADDON_STATUS_TERMINATED, "2026-12-31")
    ended = stub.EndAddon(end, metadata=metadata(tokens.service("contract")), timeout=5).addon
    again = stub.EndAddon(end, metadata=metadata(tokens.service("contract")), timeout=5).addon
    assert (
        (ended.status, ended.ends_at)
        == (again.status, again.ends_at)
        == (package_pb2.ADDON_STATUS_ENDED, "2026-12-31")
    )
    get = package_pb2.GetPackageRequest(package_id=pkg.id)
    assert (
        stub.GetPackage(get, metadata=metadata(tokens.customer("300")), timeout=5).package.max_mailboxes == 5
    )


def test_a_merge_moves_the_add_ons_with_their_package_and_a_terminated_package_orders_none(package_server):
    stub, tokens, _url = package_server
    pkg = create(stub, tokens, "400", "hosting-basic", "addons-c.example")
    addon = order(stub, tokens.customer("400"), pkg.id, kind=package_pb2.ADDON_KIND_DATABASE)
    _transfer(stub, tokens, "mrg_addons", "400", "500")
    assert [a.id for a in listed(stub, tokens.customer("500"), pkg.id).addons] == [addon.id]
    assert refused(lambda: listed(stub, tokens.customer("400"), pkg.id)) == grpc.StatusCode.NOT_FOUND

    stub.EndPackage(package_pb2.EndPackageRequest(package_id=pkg.id), metadata=metadata(tokens.service("contract")),
                    timeout=5)  # fmt: skip
    assert [a.status for a in listed(stub, tokens.customer("500"), pkg.id).addons] == [
        package_pb2.ADDON_STATUS_ENDED
    ]
    with pytest.raises(grpc.RpcError) as err:
        order(stub, tokens.customer("500"), pkg.id)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert dict(err.value.trailing_metadata()).get("error-code") == "package_terminated"
