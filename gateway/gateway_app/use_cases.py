"""The gateway's use cases, each one function that the JSON API (gateway_app/blueprints) and the
web pages (gateway_app/web) both call, so that a rule lives in one place: signing in and the
passwords, the customer's data, what may be seen of a package and its contractual changes,
offers, contact requests, terminations, the merge window, and the customer's sessions, login
history and data export.

Each takes the signed-in principal from the request (gateway_app.security.current_principal),
never a customer number from a form or a body.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cc_common.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from cc_common.protoconv import enum_name, enum_value
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2, merge_pb2, package_pb2
from flask import Response, current_app

from gateway_app.clients import contracts, identity, merges, packages
from gateway_app.downloads import pdf_download
from gateway_app.errors import size_text
from gateway_app.schemas import MAX_OPAQUE_ID
from gateway_app.schemas.account import (
    CustomerExport,
    DebitRequestRecord,
    ExportedPackage,
    LoginAttempt,
    LoginHistory,
    OfferOrderRecord,
    Session,
    SessionList,
)
from gateway_app.schemas.billing import ContactRequest, OfferCreate
from gateway_app.schemas.customers import CARD_FIELDS, SEPA_FIELDS, Contract, Customer, refuse_card_numbers
from gateway_app.schemas.invoices import Invoice
from gateway_app.schemas.merges import Merge, MergeStart
from gateway_app.schemas.terminations import Termination
from gateway_app.security import PendingToken, current_principal, current_token, guard
from gateway_app.uploads import uploaded_file

log = logging.getLogger(__name__)

# The signed contract-transfer form and a contact request's PDF: at most 5 MB (the request may
# be a little larger: gateway_app/uploads.py). A larger body or file answers 413.
MAX_LEGAL_PROOF_BYTES = MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
TOO_LARGE = (
    f"The file is larger than {size_text(MAX_LEGAL_PROOF_BYTES)}, the limit for the signed form. "
    "Please upload a smaller scan."
)
ATTACHMENT_TOO_LARGE = (
    f"The file is larger than {size_text(MAX_ATTACHMENT_BYTES)}. Please attach a smaller scan."
)


class InvalidLinkToken(DomainError):
    """A mailed link (password reset, e-mail restore) that is unknown, used, superseded or
    expired: 400 invalid_token, not 401."""

    http_status = 400
    default_code = "invalid_token"


@contextmanager
def _mailed_link(message: str) -> Iterator[None]:
    """A link token the service does not know (401 invalid_token there) is 400 invalid_token."""
    try:
        yield
    except Unauthenticated as error:
        if error.code != "invalid_token":
            raise
        raise InvalidLinkToken(message) from error


@contextmanager
def _logged(failure: str, *args: object) -> Iterator[None]:
    """A follow-up of a change that has happened: its failure is logged, not answered."""
    try:
        yield
    except DomainError as error:
        current_app.logger.warning(failure + ": %s %s", *args, error.code, error.message)


def _contact_of(record: contract_pb2.Customer) -> dict[str, str]:
    """Where identity sends a mail for the customer, and in which language."""
    return {
        "email": record.email,
        "market": enum_name(common_pb2.Market, record.market),
        "language": record.language,
    }


# --- signing in and the passwords --------------------------------------------------------------

# A login's outcome: the issued token (access_token, ...), or the challenge of a second factor.
SignIn = dict[str, Any] | identity_pb2.SecondFactorChallenge


def sign_in_customer(number: str, password: str) -> SignIn:
    """The customer login: the token is named first, so identity records its session (and the
    attempt in the login history); with a second factor the answer is its challenge
    (complete_sign_in finishes it)."""
    pending = guard().pending_token()
    response = identity.customer_login(number, password, pending=pending)
    return response.second_factor if response.HasField("second_factor") else _issue(response, pending)


def sign_in_staff(username: str, password: str) -> SignIn:
    """The staff login (as sign_in_customer)."""
    pending = guard().pending_token()
    result = identity.staff_login(username, password, pending=pending)
    if isinstance(result, identity_pb2.SecondFactorChallenge):
        return result
    return guard().issue(kind="staff", subject=result.subject, generation=result.generation, pending=pending)


def sign_in_package(domain: str, password: str) -> dict[str, Any]:
    """The package login (as sign_in_customer). identity is asked about an unknown domain all the
    same (with a dummy hash), so it costs as much as a wrong password and answers the same 401.
    The token names no customer number: the package password may be held by a third party."""
    try:
        package_id = packages.resolve_domain(domain).id
    except NotFound:
        package_id = ""
    pending = guard().pending_token()
    result = identity.package_login(domain, package_id, password, pending=pending)
    package_id = identity.subject_name(result.subject) or package_id
    issued = guard().issue(
        kind="package",
        subject=result.subject,
        generation=result.generation,
        package_id=package_id,
        pending=pending,
    )
    return {**issued, "package_id": package_id}


def complete_sign_in(challenge: str, code: str) -> dict[str, Any]:
    """The second step of a customer or staff login: the session of the token is opened by
    identity as at a login without a second factor."""
    pending = guard().pending_token()
    return _issue(identity.complete_second_factor(challenge, code, pending=pending), pending)


def _issue(
    response: identity_pb2.CustomerLoginResponse | identity_pb2.CompleteSecondFactorResponse,
    pending: PendingToken,
) -> dict[str, Any]:
    """The token of a completed customer or staff login (by its subject's kind); on a customer
    login from a device not used before, the notice goes to the contact address."""
    subject, generation = response.login.subject, response.login.generation
    if subject.startswith("staff:"):
        return guard().issue(kind="staff", subject=subject, generation=generation, pending=pending)
    customer_number = identity.subject_name(subject)
    issued = guard().issue(
        kind="customer",
        subject=subject,
        generation=generation,
        customer_number=customer_number,
        pending=pending,
    )
    if response.new_device:
        # identity holds no contact data: the address and market come from contract-service
        # (read with the new token). The login succeeds even when this fails.
        token = issued["access_token"]
        try:
            identity.notify_new_device(
                response.session_id, **_contact_of(contracts.get_customer(token=token)), token=token
            )
        except DomainError as error:
            log.warning(
                "the new-device notice of session %s was not queued: %s", response.session_id, error.code
            )
    return issued


def send_password_reset(number: str) -> None:
    """ "Forgot password". The same calls whatever the number: the e-mail comes from
    contract-service (with the gateway's service credential); for an unknown number identity
    gets an empty address and sends nothing. identity also limits the requests per client
    address, silently. Only a service that is down answers differently (503).

    The link's base is the configured PUBLIC_BASE_URL, never derived from the request: a forged
    Host header would otherwise have identity mail a genuine reset link to the attacker's host."""
    try:
        contact = _contact_of(contracts.get_customer(number))
    except ServiceUnavailable:
        raise
    except DomainError:
        contact = {"email": "", "market": "", "language": ""}
    identity.request_password_reset(
        number, **contact, base_url=str(current_app.config.get("PUBLIC_BASE_URL") or "")
    )


def confirm_password_reset(token: str, new_password: str) -> None:
    with _mailed_link(
        "This reset link is invalid, was already used or has expired. Please ask for a new one."
    ):
        identity.confirm_password_reset(token, new_password)


def change_password(current_password: str, new_password: str) -> None:
    """The signed-in customer changes its password. identity checks the current one, revokes
    every other token of the customer (not this one) before it answers, and tells the contact
    address, which the gateway reads from contract-service (no call between the services)."""
    token = current_token()
    contact = _contact_of(contracts.get_customer(token=token))
    identity.change_customer_password(current_password, new_password, **contact, token=token)


def notice_address() -> tuple[str, str, str]:
    """Where identity sends the notice of a second factor turned on or off, and in which
    language: the customer's contact address, market and language from contract-service."""
    contact = _contact_of(contracts.get_customer(token=current_token()))
    return contact["email"], contact["market"], contact["language"]


def check_current_password(password: str) -> None:
    """Re-authentication of the signed-in customer: its customer password, checked by
    identity-service exactly like a login of its number (same throttling keys and answers).
    The number comes from the verified token, never from the request."""
    try:
        identity.customer_login(current_principal().customer_number or "", password)
    except Unauthenticated as error:
        if error.code != "invalid_credentials":
            raise
        raise Unauthenticated(
            "The current password is wrong.", code="invalid_credentials", field="current_password"
        ) from error


# --- the customer's data -----------------------------------------------------------------------


def require_active_customer(customer_number: str, *, token: str) -> contract_pb2.Customer:
    """The customer record from contract-service (404 for an unknown number), or 409
    customer_not_active when the number is frozen (a merge is running) or retired: no package
    is made for it or moved into a new package of it."""
    record = contracts.get_customer(customer_number, token=token)
    if record.status != common_pb2.CUSTOMER_STATUS_ACTIVE:
        status = enum_name(common_pb2.CustomerStatus, record.status)
        raise Conflict(
            f"Customer number {record.customer_number or customer_number} is {status or 'not active'}; "
            "it cannot be changed now.",
            code="customer_not_active",
        )
    return record


def change_customer_data(
    changes: dict[str, str], *, current_password: str | None, current_email: str | None = None
) -> contract_pb2.Customer:
    """Changes the caller's master data and answers the record.

    A new contact e-mail address needs the customer password in the same request: the
    address is where "forgot password" sends its link, so a stolen session alone must not be
    able to move it. The password is checked by identity-service like a login (its throttling
    keys, 401 invalid_credentials, 429 while locked); contract-service then stores the change
    and tells the old address, with a link that puts it back. An `email` equal to the current
    address (`current_email`, read here unless the caller has it) is no change and needs no
    password."""
    if "email" in changes:
        if current_email is None and not current_password:
            current_email = contracts.get_customer(token=current_token()).email
        if (
            current_email is not None
            and (changes["email"] or "").strip().lower() == current_email.strip().lower()
        ):
            changes = {name: value for name, value in changes.items() if name != "email"}
        elif not current_password:
            raise InvalidInput(
                "Give your current customer password (current_password) to change the e-mail address.",
                field="current_password",
            )
        else:
            check_current_password(current_password)
    if not changes:
        return contracts.get_customer(token=current_token())
    return contracts.update_customer(changes, token=current_token())


def restore_email(token: str) -> contract_pb2.Customer:
    """Puts back the contact address an e-mail change replaced, then ends every session of the
    customer: the change may have been made with a stolen session, which must not live on. 400
    invalid_token for an unknown, used or expired link."""
    with _mailed_link("This link is invalid, was already used or has expired (it is valid for 7 days)."):
        record = contracts.restore_customer_email(token)
    identity.revoke_subject(f"customer:{record.customer_number}")
    return record


def store_payment(payment: dict[str, str]) -> contract_pb2.Customer:
    """Stores the payment data and answers the customer record.

    Exactly one method: a bank account (iban, bic) or a card (card_token, card_last4,
    card_expiry). A card number in any field is refused here (card_number_refused, field of
    the field it was typed into) and never forwarded; contract-service validates the rest."""
    refuse_card_numbers(payment)
    has_sepa = any(name in payment for name in SEPA_FIELDS)
    if has_sepa == any(name in payment for name in CARD_FIELDS):
        raise InvalidInput(
            "Give either a bank account (iban and bic) or a card (card_token, card_last4, card_expiry).",
            field="payment",
        )
    for name in SEPA_FIELDS if has_sepa else CARD_FIELDS:
        if name not in payment:
            raise InvalidInput(f"{name} is required.", field=name)
    return contracts.set_payment(payment, token=current_token())


# --- packages ------------------------------------------------------------------------------


def package_id_of(package_id: str) -> str:
    """The package id of the path, if the token may name it at all: a package token naming
    another package is refused here already, with the same answer as an unknown id."""
    principal = current_principal()
    if (
        not package_id
        or len(package_id) > MAX_OPAQUE_ID
        or (principal.kind == "package" and package_id != principal.package_id)
    ):
        raise NotFound("There is no such package.")
    return package_id


def visible_package(package_id: str) -> package_pb2.Package:
    """The package as the caller may see it (package-service answers 404 otherwise)."""
    return packages.get_package(package_id_of(package_id), token=current_token())


def set_package_password(package_id: str, password: str) -> None:
    """Sets the password of a package the caller may administrate (404 otherwise). identity
    trusts that check (the gateway's service credential) and, in the same transaction, ends
    every other session of that package login, so a third party who had the old password is
    out before this returns; the package login that set it stays in."""
    package = visible_package(package_id)
    caller = current_principal()
    own = caller.kind == "package" and caller.package_id == package.id
    identity.set_package_password(package.id, password, keep_jti=caller.jti if own else "")


def change_product(package_id: str, product: str, *, wanted: str) -> package_pb2.ChangeProductResponse:
    """An upgrade or downgrade (`wanted`; "" for any direction): package-service checks the
    direction against the catalogue's ranks (not_a_downgrade / not_an_upgrade) and refuses an
    unknown product (422 product) before it changes anything; then the contract follows."""
    return _change_product(visible_package(package_id), product.strip(), wanted=wanted)


def _change_product(
    package: package_pb2.Package, product: str, *, wanted: str
) -> package_pb2.ChangeProductResponse:
    change = packages.change_product(package.id, product, expected_direction=wanted, token=current_token())
    _follow_contract_product(change, customer_number=package.customer_number)
    return change


def _follow_contract_product(change: package_pb2.ChangeProductResponse, *, customer_number: str = "") -> None:
    """Brings the package's contract to the product package-service just changed to, with the
    gateway's service credential (no token), so the contract overview and later terminations
    show the current product.

    The package change is the source of truth and has already happened: if contract-service
    fails here (down, not found, customer not active), the failure is logged and the caller
    still answers the package change. ChangeContractProduct is idempotent, so a repeat of the
    change (or a later reconciliation) brings the contract up to date.
    """
    pkg = change.package
    with _logged("contract of package %s not changed to %s after the package change", pkg.id, pkg.product):
        contracts.change_contract_product(pkg.id, pkg.product, pkg.customer_number or customer_number)


def split_package(
    package_id: str, domain: str, *, target_package_id: str = "", product: str = ""
) -> package_pb2.MoveDomainResponse:
    """Package splitting: moves `domain` into another package of the customer
    (`target_package_id`) or into a new one of `product`. Refused with 409 customer_not_active
    while the customer number is frozen (a merge is running) or retired. A new package gets a
    contract of its own (idempotent per package id), created with the gateway's service
    credential for the owner package-service reported, so it can be terminated like any other."""
    principal = current_principal()
    package_id = package_id_of(package_id)
    require_active_customer(principal.customer_number or "", token=principal.token)
    move = packages.move_domain(
        package_id,
        domain,
        target_package_id=target_package_id or "",
        product=(product or "").strip().lower(),
        token=principal.token,
    )
    if move.created:
        contracts.create_contract(move.target.id, move.target.customer_number, move.target.product)
    return move


def order_addon(package_id: str, kind: str) -> package_pb2.Addon:
    """Orders an add-on: the owner's customer login only, never while its number is frozen by a
    merge or retired, at the price of the customer's market."""
    principal = current_principal()
    package = visible_package(package_id)  # 404 for another customer's package
    record = require_active_customer(principal.customer_number or "", token=principal.token)
    market = enum_name(common_pb2.Market, record.market)
    return packages.order_addon(package.id, kind, market=market, token=principal.token)


# --- terminations ------------------------------------------------------------------------------


def terminate(package_id: str, *, domain: str = "", addon_id: str = "") -> contract_pb2.Termination:
    """A termination of the package, one domain or one add-on of it. contract-service knows
    contracts, not domains or add-ons: the gateway checks that the domain or the add-on belongs
    to the package first; package-service then shows the add-on as terminated until its date,
    when contract-service's scheduler ends it (EndAddon)."""
    token = current_token()
    if domain:
        package = visible_package(package_id)
        if domain not in package.domains:
            raise InvalidInput(f"{domain} is not a domain of package {package.id}.", field="domain")
    if addon_id:
        listed = packages.list_addons(package_id_of(package_id), token=token).addons
        addon = next((a for a in listed if a.id == addon_id), None)
        if addon is None:
            raise InvalidInput(f"{addon_id} is not an add-on of package {package_id}.", field="addon_id")
        if addon.status == package_pb2.ADDON_STATUS_ENDED:
            raise Conflict("This add-on has already ended.", code="addon_ended")
    created = contracts.create_termination(package_id, domain, addon_id=addon_id, token=token)
    if addon_id:
        _follow_addon_end(created, ends_on=created.effective_date)
    return created


def retract(termination_id: str) -> contract_pb2.Termination:
    """Retracts a termination; a retracted add-on is active again."""
    retracted = contracts.retract_termination(termination_id, token=current_token())
    if retracted.addon_id:
        _follow_addon_end(retracted, ends_on="")
    return retracted


def _follow_addon_end(termination: contract_pb2.Termination, *, ends_on: str) -> None:
    """Shows the add-on as terminated on its date (ends_on) or active again (a retraction,
    ends_on ""). The termination at contract-service is what counts and has happened: a failure
    here is logged, and its scheduler still ends the add-on on the date."""
    failure = "add-on %s of package %s not marked after its termination %s"
    with _logged(failure, termination.addon_id, termination.package_id, termination.id):
        packages.set_addon_end(termination.package_id, termination.addon_id, ends_on, token=current_token())


# --- offers and contact requests ---------------------------------------------------------------


def order(offer_id: str, package_id: str) -> package_pb2.Package:
    """Orders an offer of the month for one of the customer's packages: package-service changes
    the package to the offer's product (the source of truth), the contract follows, and
    contract-service records the order with the offer's price."""
    token = current_token()
    offer = next((o for o in contracts.list_current_offers(token=token) if o.id == offer_id), None)
    if offer is None:
        raise NotFound("There is no such offer for you this month; GET /api/v1/offers lists them.")
    package = visible_package(package_id)
    if package.product != offer.product:
        package = _change_product(package, offer.product, wanted="").package
    contracts.order_offer(offer.id, package.id, token=token)
    return package


def create_offer_of_the_month(body: OfferCreate) -> contract_pb2.Offer:
    """Sets up an offer of the month, from a body the schema has checked; contract-service
    checks the rest (markets billed in the offer's currency, the days: 422 naming the field)."""
    request = contract_pb2.CreateOfferRequest(
        product=body.product,
        price_cents=body.price,
        currency=str(body.currency).upper(),
        markets=[enum_value(common_pb2.Market, m) for m in body.markets],
        valid_from=body.valid_from,
        valid_until=body.valid_until,
    )
    return contracts.create_offer(request, token=current_token())


def send_contact_request(subject: str, message: str) -> contract_pb2.ContactRequest:
    """A contact request of the caller with the request's optional `file`. Subject and message
    are checked by contract-service (422 naming the field)."""
    upload = uploaded_file(
        limit=MAX_ATTACHMENT_BYTES,
        too_large=ATTACHMENT_TOO_LARGE,
        empty="The file is empty. Please attach a PDF.",
    )
    return contracts.create_contact_request(
        subject,
        message,
        filename=upload.filename or "attachment.pdf" if upload else "",
        attachment=upload.content if upload else b"",
        token=current_token(),
    )


def answer_contact(request_id: str, message: str) -> contract_pb2.ContactRequest:
    """Answers a contact request by mail: contract-service marks it answered and queues the
    mail in one transaction."""
    return contracts.answer_contact_request(request_id, message, token=current_token())


# --- merges ------------------------------------------------------------------------------------


def start_merge(body: MergeStart) -> merge_pb2.Merge:
    """Starts merging the number of `body` into the signed-in one, proven by its customer
    password or by a domain of one of its packages and that package's password (the API and
    the merge wizard)."""
    return merges.start_merge(
        body.source_customer_number,
        source_password=body.source_password or "",
        domain=body.domain or "",
        domain_password=body.domain_password or "",
        token=current_token(),
        second_factor_code=body.second_factor_code or "",
    )


def correct_data_in_merge(
    merge_id: str, changes: dict[str, str], *, current_password: str | None, current_email: str | None = None
) -> tuple[contract_pb2.Customer, merge_pb2.Merge]:
    """The kept number corrects its own contact data while its merge is open: the same change
    as PATCH /api/v1/customer (change_customer_data, with its e-mail re-authentication), then
    merge-service compares both numbers again. The merge is checked first (404 for another's,
    409 merge_not_open), so nothing changes for a merge that is no longer open."""
    token = current_token()
    merge = merges.get_merge(merge_id, token=token)
    if merge.target_customer_number != current_principal().customer_number:
        raise Forbidden("Only the customer number that is kept can change this merge.")
    if enum_name(merge_pb2.MergeStatus, merge.status) not in ("needs_legal_proof", "ready"):
        raise Conflict("This merge is no longer open; its data cannot be changed now.", code="merge_not_open")
    record = change_customer_data(changes, current_password=current_password, current_email=current_email)
    return record, merges.refresh_comparison(merge_id, token=token)


def legal_proof_download(merge_id: str, *, token: str) -> Response:
    """The uploaded signed form of a merge."""
    proof = merges.get_legal_proof(merge_id, token=token)
    return pdf_download(proof.content, proof.filename or f"legal-proof-{merge_id}.pdf")


# --- the customer's sessions, login history and data export ---------------------------------

EXPORT_FORMAT = "customer-center-export/1"


def session_list(token: str) -> SessionList:
    return SessionList(sessions=[Session.from_proto(s) for s in identity.list_sessions(token=token)])


def login_history(token: str) -> LoginHistory:
    return LoginHistory(logins=[LoginAttempt.from_proto(a) for a in identity.list_login_history(token=token)])


def customer_export(token: str) -> CustomerExport:
    """Everything the suite stores about the caller's customer number, read with the caller's
    own token from each service (each checks ownership itself)."""
    records = contracts.list_customer_records(token=token)
    exported_packages = [
        ExportedPackage.from_proto(
            item,
            settings=dict(sorted(packages.get_settings(item.id, token=token).settings.items())),
        )
        for item in packages.list_packages(token=token)
    ]
    return CustomerExport(
        format=EXPORT_FORMAT,
        exported_at=datetime.now(UTC).isoformat(),
        customer=Customer.from_proto(contracts.get_customer(token=token)),
        contracts=[Contract.from_proto(c) for c in contracts.list_contracts(token=token)],
        invoices=[Invoice.from_proto(i) for i in contracts.list_invoices(token=token)],
        terminations=[Termination.from_proto(t) for t in contracts.list_terminations(token=token)],
        debit_requests=[DebitRequestRecord.from_proto(d) for d in records.debit_requests],
        contact_requests=[ContactRequest.of(c) for c in records.contact_requests],
        offer_orders=[OfferOrderRecord.of(o) for o in records.offer_orders],
        packages=exported_packages,
        merges=[Merge.from_proto(m) for m in merges.list_merges(token=token)],
        sessions=session_list(token).sessions,
        login_history=login_history(token).logins,
    )


def export_filename(customer_number: str) -> str:
    return f"customer-{customer_number}-export.json"
