"""Contact requests: written by a customer or a package login, read and answered by the service
team (contract_service/domain/contact.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from cc_common.errors import Conflict, Forbidden, NotFound
from cc_common.rules import documents
from cc_common.tokens import Principal

from contract_service.domain import contact
from contract_service.domain.model import check_opaque_id
from contract_service.service_layer.unit_of_work import UnitOfWork


def create_request(
    *,
    uow: UnitOfWork,
    caller: Principal,
    subject: str,
    message: str,
    filename: str = "",
    attachment: bytes = b"",
    now: datetime | None = None,
) -> contact.ContactRequest:
    """Stores a contact request of the calling customer or package login; an attachment must
    be a PDF of at most 5 MB."""
    if caller.kind == "customer" and caller.customer_number:
        number, package = caller.customer_number, ""
    elif caller.kind == "package" and caller.package_id:
        number, package = "", caller.package_id
    else:
        raise Forbidden("Only a customer or package login can write to the service team here.")
    checked_subject, checked_message = contact.check_subject(subject), contact.check_message(message)
    file = documents.check_pdf(attachment, field="file", what="a PDF file") if attachment else None
    request = contact.ContactRequest(
        id=f"cr_{uuid.uuid4().hex[:16]}", customer_number=number, package_id=package, subject=checked_subject,
        message=checked_message, filename=contact.check_filename(filename) if file else "",
        created_at=now or datetime.now(UTC),
    )  # fmt: skip
    with uow:
        uow.contact_requests.add(request, file)
        uow.commit()
    return request


def list_requests(*, uow: UnitOfWork) -> list[contact.ContactRequest]:
    with uow:
        return uow.contact_requests.newest()


def attachment(*, uow: UnitOfWork, request_id: str) -> tuple[str, bytes]:
    """(filename, PDF) attached to a contact request."""
    checked = check_opaque_id(request_id, field_name="id", label="contact request")
    with uow:
        found = uow.contact_requests.attachment(checked)
    if found is None:
        raise NotFound("There is no contact request with an attachment under this id.")
    request, content = found
    return request.filename, content


def answer_request(
    *, uow: UnitOfWork, request_id: str, message: str, now: datetime | None = None
) -> contact.ContactRequest:
    """Answers a contact request by mail, once: the answer is queued in the outbox in the
    transaction that marks the request answered, to the contact address of the customer who
    wrote it (a package login's request: the customer whose contract holds the package), in
    that customer's language."""
    checked = check_opaque_id(request_id, field_name="id", label="contact request")
    text = contact.check_answer(message)
    with uow:
        found = uow.contact_requests.get_for_update(checked)
        if found is None:
            raise NotFound("There is no contact request under this id.")
        answered = found.answered(text, now or datetime.now(UTC))
        number = found.customer_number
        if not number and found.package_id:
            held_by = uow.contracts.by_package(found.package_id)
            number = held_by.customer_number if held_by else ""
        customer = uow.customers.get(number) if number else None
        if customer is None or not customer.email:
            raise Conflict(
                "The customer who wrote has no contact e-mail address to answer to.",
                code="no_contact_address",
            )
        subject, body = contact.answer_mail(answered, market=customer.market)
        uow.contact_requests.save_answer(answered)
        uow.mails.queue(
            dedup_key=f"contact-answer:{answered.id}", recipient=customer.email, subject=subject, body=body
        )
        uow.commit()
    return answered
