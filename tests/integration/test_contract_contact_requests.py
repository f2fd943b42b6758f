"""Contact requests through contract-service's use cases on a real database (SQLite and
PostgreSQL): a customer or a package login writes to the service team, optionally with a signed
form as a PDF; the service team lists them and downloads the attachment; what is not a PDF,
too large, empty or holding unwritable characters is refused naming the field; the service
team answers each one once, by mail in the customer's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cc_common.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from contract_service.adapters.orm import outbox
from contract_service.service_layer import contact, services
from sqlalchemy import select

from tests.support.contract_db import contract_database, principal

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def uow_factory(database_url):
    for uow_factory, _engine in contract_database(database_url("contract")):
        yield uow_factory


def test_a_customer_and_a_package_login_write_and_the_service_team_reads(uow_factory):
    first = contact.create_request(
        uow=uow_factory(), caller=principal("customer", "100"), subject="Signed contract handover",
        message="Dear team,\r\nattached the signed form.\n\tThanks", filename="C:\\scans\\handover.pdf", attachment=PDF,
    )  # fmt: skip
    second = contact.create_request(uow=uow_factory(), caller=principal("package", package="pkg_7"),
                                    subject="Question", message="Where are my mailboxes?")  # fmt: skip
    listed = contact.list_requests(uow=uow_factory())
    assert [r.id for r in listed] == [second.id, first.id]
    assert (listed[1].customer_number, listed[1].package_id, listed[1].filename) == (
        "100",
        "",
        "handover.pdf",
    )
    assert listed[1].message == "Dear team,\nattached the signed form.\n\tThanks"
    assert (listed[0].customer_number, listed[0].package_id, listed[0].filename) == ("", "pkg_7", "")
    assert contact.attachment(uow=uow_factory(), request_id=first.id) == ("handover.pdf", PDF)
    with pytest.raises(NotFound):
        contact.attachment(uow=uow_factory(), request_id=second.id)


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"subject": "  "}, InvalidInput, "subject"),
        ({"subject": "x" * 201}, InvalidInput, "subject"),
        ({"subject": "line\nbreak"}, InvalidInput, "subject"),
        ({"message": "a\x00b"}, InvalidInput, "message"),
        ({"message": "lone \ud800 surrogate"}, InvalidInput, "message"),
        ({"message": "x" * 5001}, InvalidInput, "message"),
        ({"attachment": b"GIF89a not a pdf"}, InvalidInput, "file"),
        ({"attachment": PDF[:-6] + b" " * (5 * 1024 * 1024) + b"%%EOF\n"}, PayloadTooLarge, "file"),
    ],
)
def test_what_cannot_be_stored_is_refused_naming_the_field(uow_factory, fields, error, field):
    values = {"subject": "Hello", "message": "A question", **fields}
    with pytest.raises(error) as refused:
        contact.create_request(uow=uow_factory(), caller=principal("customer", "100"), **values)
    assert refused.value.field == field
    assert contact.list_requests(uow=uow_factory()) == []


def test_only_a_customer_or_package_login_writes(uow_factory):
    with pytest.raises(Forbidden):
        contact.create_request(uow=uow_factory(), caller=principal("staff"), subject="s", message="m")


# --- the service team's answer by mail ------------------------------------------------------------


@pytest.fixture
def env(database_url):
    yield from contract_database(database_url("contract"))


def customer(uow_factory, number: str, market: str, email: str) -> None:
    data = {"first_name": "Sanne", "last_name": "de Vries", "street": "Keizersgracht 12", "zip": "1015 CX",
            "city": "Amsterdam", "country": "NL", "email": email}  # fmt: skip
    services.create_customer(uow=uow_factory(), market=market, master_data=data, customer_number=number)
    services.create_contract(uow=uow_factory(), package_id=f"pkg_{number}", customer_number=number,
                             product="hosting-basic")  # fmt: skip


def mails(engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(outbox.c.recipient, outbox.c.subject, outbox.c.body))]


def test_an_answer_is_mailed_once_to_the_customer_in_its_language_and_marks_the_request_answered(env):
    uow_factory, engine = env
    customer(uow_factory, "300", "nl", email="sanne@example.nl")
    written = contact.create_request(uow=uow_factory(), caller=principal("customer", "300"), subject="Vraag",
                                     message="Hoe werkt het?")  # fmt: skip
    moment = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    answered = contact.answer_request(
        uow=uow_factory(), request_id=written.id, message=" Zo.\r\nGroet ", now=moment
    )
    assert (answered.status, answered.answer, answered.answered_at) == ("answered", "Zo.\nGroet", moment)
    ((recipient, subject, body),) = mails(engine)
    assert (recipient, subject) == ("sanne@example.nl", "Ons antwoord op uw bericht: Vraag")
    assert body.startswith("Beste klant,") and "Zo.\nGroet" in body and body.endswith("Uw klantenserviceteam")
    (listed,) = [r for r in contact.list_requests(uow=uow_factory()) if r.id == written.id]
    assert (listed.status, listed.answer, listed.answered_at) == ("answered", "Zo.\nGroet", moment)
    with pytest.raises(Conflict) as twice:
        contact.answer_request(uow=uow_factory(), request_id=written.id, message="Again")
    assert twice.value.code == "already_answered" and len(mails(engine)) == 1


def test_a_package_logins_request_is_answered_to_the_customer_holding_the_package(env):
    uow_factory, engine = env
    customer(uow_factory, "301", "de", email="erika@example.de")
    written = contact.create_request(uow=uow_factory(), caller=principal("package", package="pkg_301"),
                                     subject="Postfächer", message="Wo?")  # fmt: skip
    contact.answer_request(uow=uow_factory(), request_id=written.id, message="Unter Einstellungen.")
    ((recipient, subject, _body),) = mails(engine)
    assert (recipient, subject) == ("erika@example.de", "Unsere Antwort auf Ihre Nachricht: Postfächer")


def test_an_answer_without_a_customer_to_write_to_or_a_text_or_a_request_is_refused_and_nothing_is_stored(
    env,
):
    uow_factory, engine = env
    customer(uow_factory, "302", "uk", email="oliver@example.co.uk")
    written = contact.create_request(uow=uow_factory(), caller=principal("customer", "302"), subject="Hi",
                                     message="Hello")  # fmt: skip
    orphan = contact.create_request(uow=uow_factory(), caller=principal("package", package="pkg_gone"),
                                    subject="Hi", message="Hello")  # fmt: skip
    with pytest.raises(Conflict) as refused:
        contact.answer_request(uow=uow_factory(), request_id=orphan.id, message="Answer")
    assert refused.value.code == "no_contact_address"
    with pytest.raises(InvalidInput) as blank:
        contact.answer_request(uow=uow_factory(), request_id=written.id, message=" \n ")
    assert blank.value.field == "message"
    with pytest.raises(NotFound):
        contact.answer_request(uow=uow_factory(), request_id="cr_unknown", message="Answer")
    assert mails(engine) == []
    assert {
        r.status for r in contact.list_requests(uow=uow_factory()) if r.id in (written.id, orphan.id)
    } == {"open"}
