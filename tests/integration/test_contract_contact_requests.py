"""Contact requests through contract-service's use cases on a real database (SQLite and
PostgreSQL): a customer or a package login writes to the service team, optionally with a signed
form as a PDF; the service team lists them and downloads the attachment; what is not a PDF,
too large, empty or holding unwritable characters is refused naming the field."""

from __future__ import annotations

import pytest
from cc_common.errors import Forbidden, InvalidInput, NotFound, PayloadTooLarge
from contract_service.service_layer import contact

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
