"""The rules of product changes and package splitting, on plain domain objects."""

from __future__ import annotations

import pytest
from cc_common.errors import Conflict, InvalidInput, NotFound
from package_service.domain import catalogue, model


def package(product="hosting-plus", domains=("a.example",), **usage) -> model.Package:
    return model.Package(
        id=model.new_package_id(), customer_number="100", product=product, domains=list(domains), **usage
    )


def test_the_catalogue_lists_at_least_three_products_smallest_first_with_limits_and_prices():
    products = catalogue.products_in_order()
    assert len(products) >= 3
    assert [p.rank for p in products] == sorted(p.rank for p in products)
    assert products[0].code == "hosting-basic" == catalogue.smallest_product().code
    for smaller, larger in zip(products, products[1:], strict=False):
        assert smaller.max_domains <= larger.max_domains and smaller.storage_gb <= larger.storage_gb
    assert {p.market for p in products[0].prices} == {"de", "nl", "uk"}


def test_a_downgrade_is_refused_when_the_domains_do_not_fit_and_the_message_names_the_reason():
    pkg = package(domains=("a.example", "b.example", "c.example"))
    with pytest.raises(Conflict) as err:
        model.change_product(pkg, "hosting-basic")
    assert err.value.code == "package_does_not_fit"
    assert err.value.message == "The package has 3 domains; Hosting Basic allows 1 domain."
    assert pkg.product == "hosting-plus"


@pytest.mark.parametrize(
    ("usage", "reason"),
    [
        ({"storage_used_gb": 11}, "The package has 11 GB of storage in use; Hosting Basic allows 10 GB."),
        ({"mailboxes_used": 6}, "The package has 6 mailboxes; Hosting Basic allows 5 mailboxes."),
        ({"databases_used": 2}, "The package has 2 databases; Hosting Basic allows 1 database."),
    ],
)
def test_a_downgrade_is_refused_when_any_usage_exceeds_the_smaller_products_limit(usage, reason):
    pkg = package(**usage)
    with pytest.raises(Conflict) as err:
        model.change_product(pkg, "hosting-basic")
    assert err.value.code == "package_does_not_fit"
    assert reason in err.value.message


def test_a_downgrade_that_fits_exactly_at_the_limits_changes_the_product():
    pkg = package(storage_used_gb=10, mailboxes_used=5, databases_used=1)
    assert model.change_product(pkg, "hosting-basic") == "downgrade"
    assert pkg.product == "hosting-basic"


def test_an_upgrade_is_named_an_upgrade():
    pkg = package(product="hosting-basic")
    assert model.change_direction(pkg, "hosting-pro") == "upgrade"
    assert model.change_product(pkg, "hosting-pro") == "upgrade"
    assert pkg.product == "hosting-pro"


def test_the_same_product_an_unknown_product_and_a_terminated_package_are_refused():
    with pytest.raises(Conflict) as err:
        model.change_product(package(), "hosting-plus")
    assert err.value.code == "same_product"
    with pytest.raises(InvalidInput) as bad:
        model.change_product(package(), "hosting-gold")
    assert bad.value.field == "product"
    with pytest.raises(Conflict) as ended:
        model.change_product(package(status="terminated"), "hosting-pro")
    assert ended.value.code == "package_terminated"


def test_a_domain_moves_into_another_package_with_room_as_an_additional_domain():
    source = package(domains=("a.example", "b.example"))
    target = package(domains=("c.example",))
    model.move_domain(source, "a.example", target)
    assert source.domains == ["b.example"]
    assert target.domains == ["c.example", "a.example"]


def test_the_last_domain_of_a_package_is_never_moved():
    source = package(domains=("a.example",))
    target = package(domains=("c.example",))
    with pytest.raises(Conflict) as err:
        model.move_domain(source, "a.example", target)
    assert err.value.code == "last_domain"
    assert source.domains == ["a.example"] and target.domains == ["c.example"]


def test_a_full_target_package_is_refused():
    source = package(domains=("a.example", "b.example"))
    target = package(product="hosting-basic", domains=("c.example",))
    with pytest.raises(Conflict) as err:
        model.move_domain(source, "a.example", target)
    assert err.value.code == "package_full"
    assert source.domains == ["a.example", "b.example"]


def test_a_domain_the_package_does_not_have_is_not_found_and_the_same_package_as_target_is_invalid_input():
    source = package(domains=("a.example", "b.example"))
    with pytest.raises(NotFound) as err:
        model.move_domain(source, "x.example", package())
    assert (err.value.code, err.value.field) == ("domain_not_found", "domain")
    with pytest.raises(InvalidInput) as same:
        model.move_domain(source, "a.example", source)
    assert same.value.field == "target_package_id"


def test_splitting_off_creates_a_new_package_of_the_same_customer_with_the_smallest_product_by_default():
    source = package(domains=("a.example", "b.example"))
    new = model.split_off(source, "b.example")
    assert new.customer_number == source.customer_number and new.id != source.id
    assert new.product == "hosting-basic" and new.domains == ["b.example"]
    assert source.domains == ["a.example"]
    other = model.split_off(package(domains=("c.example", "d.example")), "d.example", "hosting-pro")
    assert other.product == "hosting-pro"


def test_settings_are_validated_before_any_is_applied():
    pkg = package()
    with pytest.raises(InvalidInput) as err:
        model.update_settings(pkg, {"php_version": "8.2", "https_redirect": "sometimes"})
    assert err.value.field == "settings.https_redirect"
    assert pkg.settings == {}
    assert (
        model.update_settings(pkg, {"php_version": "8.2", "php_memory_limit_mb": "512"})["php_version"]
        == "8.2"
    )
    assert model.effective_settings(pkg)["https_redirect"] == "true"
    with pytest.raises(InvalidInput):
        model.update_settings(pkg, {"php_memory_limit_mb": "4096"})
    with pytest.raises(InvalidInput):
        model.update_settings(pkg, {"shell_access": "true"})


def test_the_catalogue_offers_the_product_codes_the_gateway_documents():
    from cc_common.rules import products

    assert tuple(catalogue.PRODUCTS) == products.CODES
