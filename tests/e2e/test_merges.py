"""Merging customer numbers end to end, through the gateway and the five real processes,
with customers of all three markets and their cases (docs/architecture.md, "Markets")."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.support.invariants import check_invariants, holdings

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def unique_domain() -> str:
    return f"merge-{uuid.uuid4().hex[:10]}.example"


def wait_status(suite, token, merge_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = suite.api("GET", f"/api/v1/merges/{merge_id}", token=token, expect=200).json()["status"]
        if status in wanted:
            return status
        time.sleep(0.1)
    raise AssertionError(f"merge {merge_id} stayed {status}, expected {wanted}")


def wait_admin_status(suite, merge_id, wanted, timeout=30):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = suite.api(
            "GET", f"/api/v1/admin/merges/{merge_id}", token=suite.staff_token(), expect=200
        ).json()["status"]
        if status in wanted:
            return status
        time.sleep(0.1)
    raise AssertionError(f"merge {merge_id} stayed {status}, expected {wanted}")


def pair(suite, market="de", source_fields=None, packages=2, invoices=2):
    """A kept customer with one package and a customer to absorb with packages and invoices."""
    target = suite.create_customer(market)
    same = {k: target.fields[k] for k in ("first_name", "last_name", "company") if k in target.fields}
    source = suite.create_customer(market, **{**same, **(source_fields or {})})
    suite.create_package(target.number, domains=[unique_domain()])
    domains = []
    for _ in range(packages):
        domain = unique_domain()
        suite.create_package(source.number, domains=[domain], package_password="Package-pass-1")
        domains.append(domain)
    currency = "GBP" if market == "uk" else "EUR"
    for _ in range(invoices):
        suite.create_invoice(source.number, currency=currency)
    return target, source, domains


def start(suite, token, source, **proof):
    body = {"source_customer_number": source.number, **(proof or {"source_password": source.password})}
    return suite.api("POST", "/api/v1/merges", token=token, json=body)


def rows(merge):
    return {row["field"]: row["result"] for row in merge["comparison"]}


def test_a_merge_with_different_contact_data_is_highlighted_taken_over_submitted_approved_and_completed(
    suite,
):
    target, source, domains = pair(
        suite,
        "de",
        {
            "street": "Gartenweg 5",
            "zip": "20095",
            "city": "Hamburg",
            "iban": "DE02120300000000202051",
            "bic": "BYLADEM1001",
        },
    )
    numbers = [target.number, source.number]
    before = holdings(suite, numbers)
    token = suite.login_customer(target.number, target.password)
    source_token = suite.login_customer(source.number, source.password)

    reply = start(suite, token, source)
    assert reply.status_code == 201, reply.text
    merge = reply.json()
    assert merge["status"] == "ready"
    assert (
        merge["target_customer_number"] == target.number and merge["source_customer_number"] == source.number
    )
    assert (
        rows(merge)["street"] == "differs" and rows(merge)["iban"] == "differs"
    )  # de: bank data highlighted only
    assert rows(merge)["last_name"] == "equal"
    iban_row = next(r for r in merge["comparison"] if r["field"] == "iban")
    assert "0532013000" not in (iban_row["target_value"] or "")  # payment data masked

    denied = suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token)
    assert denied.status_code == 409 and denied.json()["error"]["code"] == "differences_not_resolved"
    taken = suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200).json()
    assert taken["data_taken_over"] is True
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)

    queue = suite.api(
        "GET", "/api/v1/admin/merges?status=submitted", token=suite.staff_token(), expect=200
    ).json()
    assert merge["id"] in [m["id"] for m in queue["merges"]]
    suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=suite.staff_token(), expect=202)
    assert wait_status(suite, token, merge["id"], {"completed", "failed"}) == "completed"

    after = check_invariants(suite, numbers, before)
    assert sorted(after.packages[target.number]) == sorted(
        before.packages[target.number] + before.packages[source.number]
    )
    assert after.statuses[source.number] == "retired"
    # The absorbed number's old token is dead at once; its login names the kept number.
    assert suite.api("GET", "/api/v1/customer", token=source_token).status_code == 401
    login = suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": source.number, "password": source.password},
    )
    assert login.status_code == 403
    assert login.json()["error"]["code"] == "customer_number_merged"
    assert login.json()["error"]["merged_into"] == target.number
    # Package logins of the moved packages keep working and show the package.
    package_token = suite.login_package(domains[0], "Package-pass-1")
    assert suite.api("GET", "/api/v1/packages", token=package_token, expect=200).json()["packages"][0][
        "domains"
    ] == [domains[0]]
    # Both customers got the completion mail.
    for email in (target.fields["email"], source.fields["email"]):
        mails = suite.mails.wait_for(email, count=3)
        assert any(m.subject == "Ihre Kundennummern wurden zusammengefasst" for m in mails)  # German market
    audit = suite.api(
        "GET", f"/api/v1/admin/merges/{merge['id']}", token=suite.staff_token(), expect=200
    ).json()
    assert sorted(audit["moved"]["packages"]) == sorted(before.packages[source.number])
    assert sorted(audit["moved"]["invoices"]) == sorted(before.invoices[source.number])
    assert audit["source_snapshot"]["customer_number"] == source.number
    # The kept number can start the next merge.
    third = suite.create_customer(
        "de", first_name=target.fields["first_name"], last_name=target.fields["last_name"]
    )
    assert start(suite, token, third).status_code == 201


@pytest.mark.parametrize(
    "market, source_fields, blocking_field",
    [
        ("de", {"last_name": "Musterfrau"}, "last_name"),
        ("de", {"company": "Muster GmbH"}, "company"),
        ("nl", {"iban": "NL39RABO0300065264", "bic": "RABONL2U"}, "iban"),
        ("uk", {"card_token": "tok_test_mc_4444", "card_last4": "4444", "card_expiry": "03/29"}, "card"),
    ],
)
def test_a_blocking_difference_needs_the_signed_form_and_staff_approval(
    suite, market, source_fields, blocking_field
):
    target, source, _ = pair(suite, market, source_fields, packages=1, invoices=1)
    numbers = [target.number, source.number]
    before = holdings(suite, numbers)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    assert merge["status"] == "needs_legal_proof"
    assert rows(merge)[blocking_field] == "blocking"
    refused = suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "legal_proof_required"
    not_pdf = suite.api(
        "POST",
        f"/api/v1/merges/{merge['id']}/legal-proof",
        token=token,
        files={"file": ("form.pdf", b"hello", "application/pdf")},
    )
    assert not_pdf.status_code == 422
    suite.api(
        "POST",
        f"/api/v1/merges/{merge['id']}/legal-proof",
        token=token,
        files={"file": ("form.pdf", PDF, "application/pdf")},
        expect=201,
    )
    if any(r == "differs" for r in rows(merge).values()):
        suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    assert wait_status(suite, token, merge["id"], {"submitted"}) == "submitted"
    proof = suite.api(
        "GET", f"/api/v1/admin/merges/{merge['id']}/legal-proof", token=suite.staff_token(), expect=200
    )
    assert proof.content == PDF
    suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=suite.staff_token(), expect=202)
    assert wait_status(suite, token, merge["id"], {"completed", "failed"}) == "completed"
    check_invariants(suite, numbers, before)


def test_wrong_proof_of_ownership_is_invalid_credentials_without_a_hint(suite):
    target, source, domains = pair(suite, "de", packages=1, invoices=0)
    token = suite.login_customer(target.number, target.password)
    wrong_password = start(suite, token, source, source_password="not-the-password")
    wrong_domain = start(suite, token, source, domain=domains[0], domain_password="not-the-password")
    foreign_domain = start(
        suite, token, source, domain="unknown-" + domains[0], domain_password="Package-pass-1"
    )
    for reply in (wrong_password, wrong_domain, foreign_domain):
        assert reply.status_code == 401
        assert reply.json()["error"]["code"] == "invalid_credentials"
    # A wrong domain password and a domain that is not the source's get the same answer.
    assert wrong_domain.json() == foreign_domain.json()
    by_domain = start(suite, token, source, domain=domains[0], domain_password="Package-pass-1")
    assert by_domain.status_code == 201, by_domain.text
    suite.api("DELETE", f"/api/v1/merges/{by_domain.json()['id']}", token=token, expect=204)


def test_the_same_number_other_markets_and_open_merges_are_refused(suite):
    target, source, _ = pair(suite, "de", packages=0, invoices=0)
    token = suite.login_customer(target.number, target.password)
    same = suite.api(
        "POST",
        "/api/v1/merges",
        token=token,
        json={"source_customer_number": target.number, "source_password": target.password},
    )
    assert same.status_code == 422 and same.json()["error"]["code"] == "same_customer_number"
    dutch = suite.create_customer("nl")
    other = start(suite, token, dutch)
    assert other.status_code == 409 and other.json()["error"]["code"] == "different_markets"
    first = start(suite, token, source)
    assert first.status_code == 201
    third = suite.create_customer(
        "de", first_name=target.fields["first_name"], last_name=target.fields["last_name"]
    )
    third_token = suite.login_customer(third.number, third.password)
    busy = start(suite, third_token, source)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "merge_conflict"
    suite.api("DELETE", f"/api/v1/merges/{first.json()['id']}", token=token, expect=204)
    assert start(suite, third_token, source).status_code == 201


def test_a_package_token_cannot_merge_and_a_customer_cannot_see_anothers_merge(suite):
    target, source, domains = pair(suite, "de", packages=1, invoices=0)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    package_token = suite.login_package(domains[0], "Package-pass-1")
    assert (
        suite.api(
            "POST",
            "/api/v1/merges",
            token=package_token,
            json={"source_customer_number": "1", "source_password": "x" * 8},
        ).status_code
        == 403
    )
    stranger = suite.create_customer("de")
    stranger_token = suite.login_customer(stranger.number, stranger.password)
    assert suite.api("GET", f"/api/v1/merges/{merge['id']}", token=stranger_token).status_code in (403, 404)
    assert suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=token).status_code == 403
    suite.api("DELETE", f"/api/v1/merges/{merge['id']}", token=token, expect=204)


def test_staff_can_reject_with_a_reason_and_both_customers_are_told(suite):
    target, source, _ = pair(suite, "nl", {"street": "Coolsingel 40"}, packages=1, invoices=0)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    rejected = suite.api(
        "POST",
        f"/api/v1/admin/merges/{merge['id']}/reject",
        token=suite.staff_token(),
        json={"reason": "Please call us first."},
        expect=200,
    ).json()
    assert rejected["status"] == "rejected"
    for email in (source.fields["email"], target.fields["email"]):
        texts = [m.text for m in suite.mails.wait_for(email, count=2)]
        assert any("Please call us first." in t for t in texts), email
    assert start(suite, token, source).status_code == 201  # the numbers are free again


def test_staff_reverse_a_completed_merge_and_exactly_the_moved_records_come_back(suite):
    target, source, _ = pair(suite, "uk", {"phone": "+44 20 7946 0999"}, packages=2, invoices=2)
    numbers = [target.number, source.number]
    before = holdings(suite, numbers)
    token = suite.login_customer(target.number, target.password)
    merge = start(suite, token, source).json()
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202)
    suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=suite.staff_token(), expect=202)
    assert wait_status(suite, token, merge["id"], {"completed"}) == "completed"
    late = suite.create_package(target.number, domains=[unique_domain()])  # created after: stays
    suite.api(
        "POST",
        f"/api/v1/admin/merges/{merge['id']}/reverse",
        token=suite.staff_token(),
        json={"reason": "Signed by mistake"},
        expect=202,
    )
    assert wait_admin_status(suite, merge["id"], {"reversed", "completed"}) == "reversed"
    after = holdings(suite, numbers)
    assert sorted(after.packages[source.number]) == sorted(before.packages[source.number])
    assert sorted(after.invoices[source.number]) == sorted(before.invoices[source.number])
    assert late in after.packages[target.number]
    assert after.statuses[source.number] == "active"
    assert suite.login_customer(source.number, source.password)


def test_staff_and_the_absorbed_number_can_cancel_a_draft_that_blocks_them(suite):
    target, source, _ = pair(suite, "de", packages=0, invoices=0)
    token = suite.login_customer(target.number, target.password)
    draft = start(suite, token, source).json()
    source_token = suite.login_customer(source.number, source.password)
    suite.api("DELETE", f"/api/v1/merges/{draft['id']}", token=source_token, expect=204)
    again = start(suite, token, source).json()
    cancelled = suite.api(
        "POST", f"/api/v1/admin/merges/{again['id']}/cancel", token=suite.staff_token(), expect=200
    ).json()
    assert cancelled["status"] == "cancelled"
    assert start(suite, token, source).status_code == 201
