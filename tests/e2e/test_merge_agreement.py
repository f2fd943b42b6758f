"""A merge proven with a package password is a two-sided agreement, end to end: what the third
party who holds a package password sees and can do, what the real holder of the absorbed number
is told (mails through the test SMTP server), the objection by link or while signed in, the
waiting period, the confirmation, and a merge proven with the customer password unchanged."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.test_merges import wait_status

VICTIM = {
    "de": {
        "street": "Gartenweg 5",
        "zip": "20095",
        "city": "Hamburg",
        "phone": "+49 40 12344321",
        "mobile": "+49 151 99887766",
        "iban": "DE02120300000000202051",
        "bic": "BYLADEM1001",
    },
    # In the Netherlands IBAN and BIC block a merge: the same bank account, another address.
    "nl": {"street": "Coolsingel 40", "zip": "3011 AD", "city": "Rotterdam", "phone": "+31 10 1234321"},
}


def body_of(mail) -> tuple[str, str]:
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    return str(message["Subject"]), message.get_body(preferencelist=("plain",)).get_content()


def token_from(text: str) -> str:
    link = re.search(r"https?://\S+/merge-objection\?token=\S+", text)
    assert link, text
    return parse_qs(urlparse(link.group(0)).query)["token"][0]


def third_party_and_victim(suite, market="de"):
    """The holder of a customer number (who also holds a package password of someone else's
    package, e.g. an agency) and the customer whose number that package belongs to."""
    third = suite.create_customer(market)
    same = {k: third.fields[k] for k in ("first_name", "last_name", "company")}
    victim = suite.create_customer(market, **same, **VICTIM[market])
    domain = f"agency-{uuid.uuid4().hex[:10]}.example"
    suite.create_package(victim.number, domains=[domain], package_password="Agency-pass-1")
    return third, victim, domain


def start_with_package_password(suite, token, victim, domain):
    return suite.api(
        "POST",
        "/api/v1/merges",
        token=token,
        json={"source_customer_number": victim.number, "domain": domain, "domain_password": "Agency-pass-1"},
        expect=201,
    ).json()


def test_the_third_party_sees_only_masked_values_and_the_absorbed_holder_is_told_at_once(suite):
    third, victim, domain = third_party_and_victim(suite)
    token = suite.login_customer(third.number, third.password)
    merge = start_with_package_password(suite, token, victim, domain)

    assert merge["proof_method"] == "package_password"
    assert merge["objection_period_ends_at"] and merge["confirmed_by_source"] is False
    shown = {row["field"]: row for row in merge["comparison"]}
    answer = suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).text
    for secret in ("Gartenweg", "12344321", victim.fields["email"], "Hamburg", "BYLADEM1001", "99887766"):
        assert secret not in answer, secret
    assert shown["street"]["source_value"].startswith("Ga") and "***" in shown["street"]["source_value"]
    assert shown["phone"]["source_value"].endswith("4321") and "****" in shown["phone"]["source_value"]
    assert re.fullmatch(r"c\*\*\*@example\.com", shown["email"]["source_value"])
    # The results are exact although the values are masked.
    assert (shown["street"]["result"], shown["last_name"]["result"]) == ("differs", "equal")
    assert shown["street"]["target_value"] == third.fields["street"]  # one's own data in full

    (notice,) = suite.mails.wait_for(victim.fields["email"])
    subject, text = body_of(notice)
    assert "Zusammenfassung" in subject  # a German customer is told in German
    assert third.number in text and third.fields["last_name"] in text and domain in text
    assert token_from(text)
    assert not suite.mails.to(third.fields["email"])  # nothing for the kept side yet


def test_the_objection_link_cancels_the_merge_once_and_both_sides_are_told(suite):
    third, victim, domain = third_party_and_victim(suite)
    token = suite.login_customer(third.number, third.password)
    merge = start_with_package_password(suite, token, victim, domain)
    (notice,) = suite.mails.wait_for(victim.fields["email"])
    link_token = token_from(body_of(notice)[1])

    suite.api("POST", "/api/v1/merge-objections", json={"token": link_token}, expect=204)
    after = suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()
    assert (after["status"], after["cancelled_by"]) == ("cancelled", "objection")
    again = suite.api("POST", "/api/v1/merge-objections", json={"token": link_token}, expect=400)
    assert again.json()["error"]["code"] == "invalid_token"
    unknown = suite.api("POST", "/api/v1/merge-objections", json={"token": "x" * 43}, expect=400)
    assert unknown.json()["error"] == again.json()["error"]

    kept = suite.mails.wait_for(third.fields["email"])
    assert any(victim.number in body_of(m)[1] and "widersprochen" in body_of(m)[1] for m in kept)
    assert len(suite.mails.wait_for(victim.fields["email"], count=2)) == 2
    # The numbers are free again: the kept side could start another merge at once.
    start_with_package_password(suite, token, victim, domain)


def test_the_absorbed_customer_objects_while_signed_in_and_the_kept_side_may_not(suite):
    third, victim, domain = third_party_and_victim(suite)
    token = suite.login_customer(third.number, third.password)
    merge = start_with_package_password(suite, token, victim, domain)
    victim_token = suite.login_customer(victim.number, victim.password)

    listed = suite.api("GET", "/api/v1/merges", token=victim_token, expect=200).json()["merges"]
    assert merge["id"] in [m["id"] for m in listed]
    refused = suite.api("POST", f"/api/v1/merges/{merge['id']}/object", token=token, expect=403)
    assert refused.json()["error"]["code"] == "forbidden"
    suite.api("POST", f"/api/v1/merges/{merge['id']}/object", token=victim_token, expect=204)
    assert (
        suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()["status"]
        == "cancelled"
    )
    suite.mails.wait_for(third.fields["email"])


def test_cancelling_a_merge_the_absorbed_side_was_told_of_tells_it(suite):
    third, victim, domain = third_party_and_victim(suite)
    token = suite.login_customer(third.number, third.password)
    merge = start_with_package_password(suite, token, victim, domain)
    suite.api("DELETE", f"/api/v1/merges/{merge['id']}", token=token, expect=204)
    mails = suite.mails.wait_for(victim.fields["email"], count=2)
    subject, text = body_of(mails[-1])
    assert "abgebrochen" in subject and merge["id"] in text


@pytest.fixture(scope="module")
def auto_suite(suite_factory):
    """MERGE_REVIEW=auto: a merge proven with a package password still goes to staff review."""
    return suite_factory(env={"MERGE_REVIEW": "auto", "MERGE_OBJECTION_HOURS": "72"})


def test_it_goes_to_review_whatever_merge_review_says_and_waits_for_the_objection_period(auto_suite):
    suite = auto_suite
    third, victim, domain = third_party_and_victim(suite, "nl")
    token = suite.login_customer(third.number, third.password)
    merge = start_with_package_password(suite, token, victim, domain)
    assert "samenvoeging" in body_of(suite.mails.wait_for(victim.fields["email"])[0])[0]  # Dutch
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    submitted = suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202).json()
    assert submitted["status"] == "submitted"  # not approved at once despite MERGE_REVIEW=auto

    staff = suite.staff_token()
    early = suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=staff, expect=409)
    assert early.json()["error"]["code"] == "objection_period_running"
    assert early.json()["error"]["objection_period_ends_at"] == submitted["objection_period_ends_at"]

    victim_token = suite.login_customer(victim.number, victim.password)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/confirm", token=token, expect=403)
    suite.api("POST", f"/api/v1/merges/{merge['id']}/confirm", token=victim_token, expect=204)
    confirmed = suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()
    assert confirmed["confirmed_by_source"] is True and confirmed["objection_period_ends_at"] is None
    suite.api("POST", f"/api/v1/admin/merges/{merge['id']}/approve", token=staff, expect=202)
    assert wait_status(suite, token, merge["id"], {"completed", "failed"}) == "completed"


def test_a_merge_proven_with_the_customer_password_is_unchanged(auto_suite):
    suite = auto_suite
    third, victim, _ = third_party_and_victim(suite)
    token = suite.login_customer(third.number, third.password)
    merge = suite.api(
        "POST",
        "/api/v1/merges",
        token=token,
        json={"source_customer_number": victim.number, "source_password": victim.password},
        expect=201,
    ).json()
    assert merge["proof_method"] == "customer_password" and merge["objection_period_ends_at"] is None
    street = next(row for row in merge["comparison"] if row["field"] == "street")
    assert street["source_value"] == "Gartenweg 5"  # the owner of both numbers sees both in full
    suite.api("POST", f"/api/v1/merges/{merge['id']}/take-over-data", token=token, expect=200)
    done = suite.api("POST", f"/api/v1/merges/{merge['id']}/submit", token=token, expect=202).json()
    assert done["status"] in ("approved", "executing", "completed")  # MERGE_REVIEW=auto applies
    assert wait_status(suite, token, merge["id"], {"completed", "failed"}) == "completed"
    time.sleep(0.5)
    assert not any("merge-objection" in m.text for m in suite.mails.to(victim.fields["email"]))
