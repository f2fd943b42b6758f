"""Add-ons of a package (package-service's domain): the catalogue's prices per market, the
limits they raise, ordering, terminating and ending them."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from cc_common.errors import Conflict, InvalidInput, NotFound
from package_service.domain import catalogue, model

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def package(product: str = "hosting-basic", *domains: str, status: str = "active") -> model.Package:
    return model.Package(
        id="pkg_1",
        customer_number="100",
        product=product,
        domains=list(domains or ["a.example"]),
        status=status,
    )


def test_the_catalogue_has_three_add_ons_each_priced_in_every_market():
    assert list(catalogue.ADDONS) == ["extra_domain_slot", "mailbox_pack", "database"]
    for addon in catalogue.addons_in_order():
        assert {(p.market, p.currency) for p in addon.prices} == {("de", "EUR"), ("nl", "EUR"), ("uk", "GBP")}
        assert addon.domains + addon.mailboxes + addon.databases > 0


def test_an_ordered_add_on_has_the_price_of_the_owners_market_and_raises_the_limit_it_names():
    pkg = package()
    assert model.limits(pkg, pkg.catalogue_entry) == (1, 5, 1)
    slot = model.order_addon(pkg, "extra_domain_slot", market="uk", now=NOW)
    assert (slot.kind, slot.status, slot.currency, slot.ordered_at) == (
        "extra_domain_slot",
        "active",
        "GBP",
        NOW,
    )
    assert slot.price_cents == catalogue.ADDONS["extra_domain_slot"].price_in("uk").monthly_price_cents
    model.order_addon(pkg, "mailbox_pack", market="de", now=NOW)
    model.order_addon(pkg, "database", market="de", now=NOW)
    assert model.limits(pkg, pkg.catalogue_entry) == (2, 15, 2)
    assert pkg.max_domains == 2


def test_an_unknown_kind_or_market_is_refused_naming_the_field():
    with pytest.raises(InvalidInput) as exc:
        model.order_addon(package(), "sauna", market="de", now=NOW)
    assert exc.value.field == "kind"
    with pytest.raises(InvalidInput) as exc:
        model.order_addon(package(), "database", market="", now=NOW)
    assert exc.value.field == "market"


def test_a_terminated_package_orders_no_add_on():
    with pytest.raises(Conflict) as exc:
        model.order_addon(package(status="terminated"), "database", market="de", now=NOW)
    assert exc.value.code == "package_terminated"


def test_a_terminated_add_on_still_counts_until_it_has_ended_and_a_retraction_makes_it_active_again():
    pkg = package()
    slot = model.order_addon(pkg, "extra_domain_slot", market="de", now=NOW)
    model.set_addon_end(pkg, slot.id, date(2026, 12, 31))
    assert (slot.status, slot.ends_at, pkg.max_domains) == ("terminated", date(2026, 12, 31), 2)
    model.set_addon_end(pkg, slot.id, None)
    assert (slot.status, slot.ends_at) == ("active", None)
    model.end_addon(pkg, slot.id, date(2026, 12, 31))
    model.end_addon(pkg, slot.id, date(2027, 1, 5))  # idempotent: the first day stays
    assert (slot.status, slot.ends_at, pkg.max_domains) == ("ended", date(2026, 12, 31), 1)
    with pytest.raises(Conflict) as exc:
        model.set_addon_end(pkg, slot.id, None)
    assert exc.value.code == "addon_ended"
    with pytest.raises(NotFound):
        model.end_addon(pkg, "add_other", date(2026, 12, 31))


def test_a_downgrade_counts_the_add_ons_of_the_package():
    pkg = package("hosting-plus", "a.example", "b.example")
    with pytest.raises(Conflict) as exc:
        model.change_product(pkg, "hosting-basic")
    assert exc.value.code == "package_does_not_fit"
    model.order_addon(pkg, "extra_domain_slot", market="de", now=NOW)
    assert model.change_product(pkg, "hosting-basic") == "downgrade"


def test_a_domain_moves_into_a_full_package_only_with_an_extra_domain_slot():
    source = model.Package(
        id="pkg_s", customer_number="100", product="hosting-plus", domains=["a.ex", "b.ex"]
    )
    target = model.Package(id="pkg_t", customer_number="100", product="hosting-basic", domains=["c.ex"])
    with pytest.raises(Conflict) as exc:
        model.move_domain(source, "b.ex", target)
    assert exc.value.code == "package_full"
    model.order_addon(target, "extra_domain_slot", market="nl", now=NOW)
    model.move_domain(source, "b.ex", target)
    assert target.domains == ["c.ex", "b.ex"]


def test_when_a_package_ends_its_add_ons_end_with_it():
    pkg = package()
    active = model.order_addon(pkg, "database", market="de", now=NOW)
    terminated = model.order_addon(pkg, "mailbox_pack", market="de", now=NOW)
    model.set_addon_end(pkg, terminated.id, date(2027, 6, 30))
    model.end_all_addons(pkg, date(2026, 12, 31))
    assert [(a.id, a.status, a.ends_at) for a in pkg.addons] == [
        (active.id, "ended", date(2026, 12, 31)),
        (terminated.id, "ended", date(2026, 12, 31)),
    ]
