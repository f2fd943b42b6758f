"""Use cases of contract-service: one function each, keyword-only arguments.

Ownership is decided here from the verified caller, never from a plain request field: a
customer token reaches only its own customer number.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from cc_common import i18n
from cc_common import notices as notice_texts
from cc_common.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from cc_common.faults import crash_point
from cc_common.rules.customers import check_customer_number
from cc_common.rules.domains import normalise_domain
from cc_common.tokens import Principal

from contract_service.adapters import pdf
from contract_service.domain import forms, model, notices, transfers
from contract_service.service_layer.unit_of_work import UnitOfWork

_NOT_FOUND = "No customer has this customer number."
INVALID_TOKEN = "invalid_token"
_ALLOCATION_ATTEMPTS = 20


def _today() -> date:
    return datetime.now(UTC).date()


def owned_customer_number(caller: Principal, requested: str) -> str:
    """The customer number a call is about: a customer's own (the request field is ignored),
    or for staff and service the one named in the request."""
    if caller.kind == "customer":
        if not caller.customer_number:
            raise Forbidden("This login is not bound to a customer number.")
        return caller.customer_number
    if caller.kind in ("staff", "service"):
        return check_customer_number(requested)
    raise Forbidden("This kind of login may not do this.")


def _require_active(customer: model.Customer) -> None:
    if customer.status != "active":
        raise Conflict(
            f"Customer number {customer.customer_number} is {customer.status}; it cannot be changed now.",
            code="customer_not_active",
        )


def create_customer(
    *,
    uow: UnitOfWork,
    market: str,
    master_data: dict[str, str],
    payment: model.PaymentInput | None = None,
    customer_number: str = "",
    today: date | None = None,
) -> model.Customer:
    """Checks and stores a new customer. A customer number chosen by staff must be free
    (ALREADY_EXISTS customer_number_taken); otherwise a random one is allocated."""
    chosen = check_customer_number(customer_number) if customer_number.strip() else ""
    m = model.check_market(market)
    data: dict[str, Any] = model.normalise_master_data(m, master_data)
    checked_payment = model.check_payment(payment, today=today or _today()) if payment else None
    for _ in range(_ALLOCATION_ATTEMPTS):
        number = chosen or model.new_customer_number()
        customer = model.Customer(customer_number=number, market=m.code, payment=checked_payment, **data)
        with uow:
            if uow.customers.exists(number):
                if chosen:
                    raise _taken(number)
                continue
            try:
                uow.customers.add(customer)
            except model.CustomerTaken:
                if chosen:
                    raise _taken(number) from None
                continue
            uow.commit()
        return customer
    raise RuntimeError("could not allocate a free customer number")  # pragma: no cover


def _taken(number: str) -> AlreadyExists:
    return AlreadyExists(
        f"Customer number {number} is already taken.", code="customer_number_taken", field="customer_number"
    )


def get_customer(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> model.Customer:
    number = owned_customer_number(caller, customer_number)
    with uow:
        customer = uow.customers.get(number)
    if customer is None:
        raise NotFound(_NOT_FOUND)
    return customer


def set_payment(
    *,
    uow: UnitOfWork,
    caller: Principal,
    customer_number: str = "",
    payment: model.PaymentInput,
    today: date | None = None,
) -> model.Customer:
    """Replaces the payment data of a customer (PUT /customer/payment; staff on its behalf).
    The contact address is told in the same transaction (the new IBAN masked, a card by its
    last four digits only)."""
    number = owned_customer_number(caller, customer_number)
    checked = model.check_payment(payment, today=today or _today())
    if checked is None:
        raise InvalidInput("Give a bank account (IBAN and BIC) or a card.", field="payment")
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        customer.updated_at = uow.customers.set_payment(number, checked)
        if customer.email:
            _queue(
                uow,
                notices.payment_changed_notice(
                    customer_number=number,
                    market=customer.market,
                    preference=customer.language,
                    email=customer.email,
                    iban_masked=checked.iban_masked if checked.iban else "",
                    card_last4=checked.card_last4,
                    event_id=uuid.uuid4().hex,
                ),
            )
        uow.commit()
    customer.payment = checked
    return customer


def _queue(uow: UnitOfWork, notice: notices.Notice) -> None:
    uow.mails.queue(
        dedup_key=notice.dedup_key, recipient=notice.recipient, subject=notice.subject, body=notice.body
    )


def create_invoice(
    *,
    uow: UnitOfWork,
    customer_number: str,
    amount_cents: int,
    currency: str = "",
    status: str = "",
    invoice_date: str = "",
    today: date | None = None,
) -> model.Invoice:
    number = check_customer_number(customer_number)
    amount = model.check_amount(amount_cents)
    checked_status = model.check_invoice_status(status)
    day = model.check_invoice_date(invoice_date, today=today or _today())
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        checked_currency = model.check_currency(currency, market=model.MARKETS[customer.market])
        seq = uow.invoices.next_seq()
        invoice = model.Invoice(
            number=model.invoice_number(seq),
            customer_number=number,
            date=day,
            amount_cents=amount,
            currency=checked_currency,
            status=checked_status,
            seq=seq,
        )
        uow.invoices.add(invoice)
        uow.commit()
    return invoice


def list_invoices(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> list[model.Invoice]:
    """Newest first. A customer lists its own; staff and service name an existing number."""
    number = owned_customer_number(caller, customer_number)
    with uow:
        if caller.kind != "customer" and not uow.customers.exists(number):
            raise NotFound(_NOT_FOUND)
        return uow.invoices.list_for_customer(number)


# --- master data online ------------------------------------------------------------------


def update_customer(
    *,
    uow: UnitOfWork,
    caller: Principal,
    customer_number: str = "",
    changes: dict[str, str],
    base_url: str = notice_texts.DEFAULT_BASE_URL,
    now: datetime | None = None,
) -> model.Customer:
    """Changes master data (PATCH /customer): only the given fields; company and names need
    the written form. The whole record is checked and stored in one update. `language` in
    `changes` is the language preference of mails and PDFs (en, de, nl), stored with it.

    A new contact e-mail address is told to the old one in the same transaction, with a link
    (`base_url`: the configured PUBLIC_BASE_URL, never a request's) that puts it back within
    7 days; the notice shows the new address masked. The gateway has checked the customer's
    current password before it asks for an e-mail change."""
    number = owned_customer_number(caller, customer_number)
    if not changes:
        raise InvalidInput("Give at least one field to change.", field="customer")
    moment = now or datetime.now(UTC)
    master_changes = {name: value for name, value in changes.items() if name != "language"}
    # "" (null in the API): no preference any more, the market's language again.
    language = (
        (model.check_language(changes["language"]) if changes["language"] else "")
        if "language" in changes
        else None
    )
    with uow:
        customer = uow.customers.get(number)
        if customer is None:
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        data = (
            model.apply_master_data_change(customer, master_changes)
            if master_changes
            else customer.master_data()
        )
        updated_at = uow.customers.set_master_data(number, data) if master_changes else customer.updated_at
        if language is not None:
            updated_at = uow.customers.set_language(number, language)
            customer.language = language
        if customer.email and not notices.same_email(customer.email, data["email"]):
            token, token_hash = notices.new_token()
            uow.email_restores.add(
                notices.EmailRestore(token_hash, number, customer.email, moment, moment + notices.RESTORE_TTL)
            )
            _queue(
                uow,
                notices.email_changed_notice(
                    customer_number=number,
                    market=customer.market,
                    preference=customer.language,
                    old_email=customer.email,
                    new_email=data["email"],
                    token_hash=token_hash,
                    link=notice_texts.email_restore_link(notice_texts.check_base_url(base_url), token),
                ),
            )
        uow.commit()
    customer = customer.with_master_data(data)
    customer.updated_at = updated_at
    return customer


def restore_email(*, uow: UnitOfWork, token: str, now: datetime | None = None) -> model.Customer:
    """Puts back the contact address that an e-mail change replaced, with the single-use
    token of the link mailed to that address (anyone holding the link; no login). Returns the
    customer, whose sessions the caller ends: the change may have been made with a stolen one.
    INVALID_TOKEN for an unknown, used, voided or expired link; customer_not_active while the
    number is frozen or retired."""
    moment = now or datetime.now(UTC)
    token_hash = notices.hash_token(token) if notices.looks_like_token(token) else ""
    # The same answer whatever is wrong with the link (the gateway answers 400 invalid_token).
    invalid = Unauthenticated("This link is invalid, was already used or has expired.", code=INVALID_TOKEN)
    with uow:
        restore = uow.email_restores.get(token_hash) if token_hash else None
        if restore is None or not restore.usable(moment):
            raise invalid
        customer = uow.customers.get(restore.customer_number)
        if customer is None:
            raise invalid
        _require_active(customer)
        if not uow.email_restores.consume(restore):  # another request was faster
            raise invalid
        data = customer.master_data()
        data["email"] = restore.old_email
        updated_at = uow.customers.set_master_data(customer.customer_number, data)
        uow.commit()
    customer = customer.with_master_data(data)
    customer.updated_at = updated_at
    return customer


# --- merge steps ---------------------------------------------------------------------------


def customer_snapshot(*, uow: UnitOfWork, customer_number: str) -> model.Customer:
    """The customer with its payment data as stored (for the merge comparison)."""
    number = check_customer_number(customer_number)
    with uow:
        customer = uow.customers.get(number)
    if customer is None:
        raise NotFound(_NOT_FOUND)
    return customer


def set_customer_status(
    *, uow: UnitOfWork, merge_id: str, customer_numbers: list[str], status: str, merged_into: str = ""
) -> int:
    """Freezes, unfreezes, retires or restores customer numbers for a merge, all in one
    update; repeating it changes nothing. Returns the number of rows that changed."""
    if not (merge_id or "").strip():
        raise InvalidInput("Name the merge by its id.", field="merge_id")
    checked_status, into, numbers = model.check_status_change(status, merged_into, customer_numbers)
    with uow:
        missing = sorted(set(numbers) - uow.customers.existing(numbers))
        if missing:
            raise NotFound(f"No customer has the customer number {missing[0]}.")
        changed = uow.customers.set_status(numbers, status=checked_status, merged_into=into)
        crash_point("contract:before_commit:SetCustomerStatus")
        uow.commit()
    crash_point("contract:after_commit:SetCustomerStatus")
    return changed


def transfer_contracts(
    *, uow: UnitOfWork, merge_id: str, source: str, target: str, reverse: bool
) -> dict[str, list[str]]:
    """Moves invoices, contracts and terminations source -> target (or back), set-based and in
    one transaction, recording the ids per merge. A repeat replays the record."""
    mid, src, tgt = transfers.check_transfer_request(merge_id, source, target)
    direction = transfers.REVERSE if reverse else transfers.FORWARD
    for _attempt in range(2):
        with uow:
            plan = transfers.plan_transfer(
                direction=direction,
                source=src,
                target=tgt,
                forward=uow.transfers.applied(mid, transfers.FORWARD),
                reverse=uow.transfers.applied(mid, transfers.REVERSE),
            )
            if plan == transfers.REPLAY:
                return uow.transfers.recorded(mid, direction)
            missing = sorted({src, tgt} - uow.customers.existing([src, tgt]))
            if missing:
                raise NotFound(f"No customer has the customer number {missing[0]}.")
            try:
                uow.transfers.start(transfers.AppliedTransfer(mid, direction, src, tgt))
            except transfers.TransferRace:
                continue  # applied concurrently: read its record in a fresh transaction
            for kind in transfers.KINDS:
                uow.transfers.move(merge_id=mid, direction=direction, kind=kind, source=src, target=tgt)
            moved = uow.transfers.recorded(mid, direction)
            crash_point("contract:before_commit:TransferContracts")
            uow.commit()
        crash_point("contract:after_commit:TransferContracts")
        return moved
    raise Conflict("The transfer is being applied by another call; please repeat it.", code="transfer_busy")


# --- contracts -----------------------------------------------------------------------------


def create_contract(
    *,
    uow: UnitOfWork,
    package_id: str,
    customer_number: str,
    product: str,
    start_date: str = "",
    term_months: int = 0,
    today: date | None = None,
) -> model.Contract:
    """The contract of a new package; idempotent per package (same customer: the stored one)."""
    pkg = model.check_opaque_id(package_id, field_name="package_id", label="package")
    number = check_customer_number(customer_number)
    checked_product = model.check_product(product)
    start = model.check_start_date(start_date, today=today or _today())
    term = model.check_term_months(term_months)
    for _attempt in range(2):
        with uow:
            existing = uow.contracts.by_package(pkg)
            if existing is not None:
                if existing.customer_number != number:
                    raise AlreadyExists(
                        "This package already has a contract of another customer.",
                        code="contract_exists",
                        field="package_id",
                    )
                return existing
            customer = uow.customers.get(number)
            if customer is None:
                raise NotFound(_NOT_FOUND)
            _require_active(customer)
            contract = model.Contract(
                id=model.new_contract_id(),
                package_id=pkg,
                customer_number=number,
                product=checked_product,
                start_date=start,
                term_months=term,
            )
            try:
                uow.contracts.add(contract)
            except model.ContractTaken:
                continue  # created concurrently: answer from the stored one
            uow.commit()
        return contract
    raise Conflict("The contract is being created by another call; please repeat it.", code="contract_busy")


def list_contracts(*, uow: UnitOfWork, caller: Principal, customer_number: str = "") -> list[model.Contract]:
    number = owned_customer_number(caller, customer_number)
    with uow:
        if caller.kind != "customer" and not uow.customers.exists(number):
            raise NotFound(_NOT_FOUND)
        return uow.contracts.list_for_customer(number)


_NO_PACKAGE_CONTRACT = "This package has no contract."


def change_contract_product(
    *, uow: UnitOfWork, caller: Principal, package_id: str, product: str, customer_number: str = ""
) -> tuple[model.Contract, str, bool]:
    """Follows a product change of a package (package-service is the source of truth) in its
    contract and records it. Returns (contract, product before, changed); the product the
    contract already has changes nothing (a repeat)."""
    pkg = model.check_opaque_id(package_id, field_name="package_id", label="package")
    checked_product = model.check_product(product)
    owner = check_customer_number(customer_number) if (customer_number or "").strip() else ""
    for _attempt in range(2):
        with uow:
            contract = uow.contracts.by_package(pkg)
            if contract is None or (owner and contract.customer_number != owner):
                raise NotFound(_NO_PACKAGE_CONTRACT)
            before = contract.product
            if before == checked_product:
                return contract, before, False
            customer = uow.customers.get(contract.customer_number)
            if customer is None:  # pragma: no cover - the contract's foreign key keeps it
                raise NotFound(_NOT_FOUND)
            _require_active(customer)
            model.check_product_change(contract)
            if not uow.contracts.change_product(
                contract.id, from_product=before, to_product=checked_product, changed_by=caller.subject
            ):
                continue  # changed concurrently: decide again on the stored product
            uow.commit()
        contract.product = checked_product
        return contract, before, True
    raise Conflict("The contract is being changed by another call; please repeat it.", code="contract_busy")


# --- invoices: PDF and repeat debit --------------------------------------------------------

_INVOICE_NOT_FOUND = "There is no invoice with this number under your customer number."


def _owned_invoice(uow: UnitOfWork, caller: Principal, number: str) -> model.Invoice:
    """An invoice the caller may see: a customer's own only (another's is NOT_FOUND, so its
    existence is not revealed); staff and service any."""
    if caller.kind not in ("customer", "staff", "service"):
        raise Forbidden("This kind of login may not do this.")
    invoice = uow.invoices.get(model.check_invoice_ref(number))
    if invoice is None:
        raise NotFound(_INVOICE_NOT_FOUND)
    if caller.kind == "customer" and invoice.customer_number != caller.customer_number:
        raise NotFound(_INVOICE_NOT_FOUND)
    return invoice


def invoice_pdf(*, uow: UnitOfWork, caller: Principal, number: str) -> tuple[str, bytes]:
    """(filename, PDF) of an invoice: number, date, the customer's address, one line for the
    hosting services, net, VAT by market and gross (amount_cents is gross)."""
    with uow:
        invoice = _owned_invoice(uow, caller, number)
        customer = uow.customers.get(invoice.customer_number)
    if customer is None:  # pragma: no cover - the foreign key keeps the customer
        raise NotFound(_INVOICE_NOT_FOUND)
    split = model.split_gross(invoice.amount_cents, vat_percent=model.MARKETS[customer.market].vat_percent)
    lines = [pdf.InvoiceLine("Hosting services", split.net_cents)]
    language = customer.effective_language
    content = pdf.invoice_pdf(invoice=invoice, customer=customer, lines=lines, split=split, language=language)
    return f"{invoice.number}.pdf", content


# --- terminations --------------------------------------------------------------------------

_NO_CONTRACT = "This package has no contract under your customer number."
_NO_TERMINATION = "There is no termination with this id under your customer number."


def create_termination(
    *,
    uow: UnitOfWork,
    caller: Principal,
    package_id: str,
    domain: str = "",
    addon_id: str = "",
    today: date | None = None,
) -> model.Termination:
    """Terminates a package (or one domain or one add-on of it) at the end of its contract's
    current term."""
    number = _customer_only(caller)
    pkg = model.check_opaque_id(package_id, field_name="package_id", label="package")
    checked_domain = normalise_domain(domain) if (domain or "").strip() else ""
    addon = model.check_opaque_id(addon_id, field_name="addon_id", label="add-on") if addon_id else ""
    day = today or _today()
    with uow:
        contract = uow.contracts.by_package(pkg)
        if contract is None or contract.customer_number != number:
            raise NotFound(_NO_CONTRACT)
        customer = uow.customers.get(number)
        if customer is None:  # pragma: no cover - the contract's foreign key keeps it
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        model.check_new_termination(
            contract, checked_domain, uow.terminations.open_for_package(pkg), addon_id=addon
        )
        termination = model.Termination(
            id=model.new_termination_id(),
            customer_number=number,
            contract_id=contract.id,
            package_id=pkg,
            domain=checked_domain,
            addon_id=addon,
            effective_date=model.current_term_end(contract.start_date, contract.term_months, today=day),
            product=contract.product,
        )
        try:
            uow.terminations.add(termination)
        except model.TerminationTaken:
            raise Conflict(
                "A termination of this package or domain is already in place.", code="already_terminated"
            ) from None
        uow.commit()
    return termination


def list_terminations(
    *, uow: UnitOfWork, caller: Principal, customer_number: str = ""
) -> list[model.Termination]:
    number = owned_customer_number(caller, customer_number)
    with uow:
        if caller.kind != "customer" and not uow.customers.exists(number):
            raise NotFound(_NOT_FOUND)
        return uow.terminations.list_for_customer(number)


def retract_termination(
    *, uow: UnitOfWork, caller: Principal, termination_id: str, today: date | None = None
) -> model.Termination:
    """Retracts an open termination before its effective date; a retracted one is returned."""
    number = _customer_only(caller)
    tid = model.check_opaque_id(termination_id, field_name="id", label="termination")
    with uow:
        termination = uow.terminations.get(tid)
        if termination is None or termination.customer_number != number:
            raise NotFound(_NO_TERMINATION)
        if not model.check_retraction(termination, today=today or _today()):
            return termination
        customer = uow.customers.get(number)
        if customer is None:  # pragma: no cover - the foreign key keeps it
            raise NotFound(_NOT_FOUND)
        _require_active(customer)
        termination.retracted_at = uow.terminations.retract(tid)
        termination.status = "retracted"
        uow.commit()
    return termination


def _customer_only(caller: Principal) -> str:
    if caller.kind != "customer" or not caller.customer_number:
        raise Forbidden("Only the customer login may do this.")
    return caller.customer_number


# --- forms ---------------------------------------------------------------------------------


def list_forms() -> tuple[forms.Form, ...]:
    """Written-only forms first, then the online ones."""
    return tuple(sorted(forms.FORMS, key=lambda f: f.mode != "written"))


def form_pdf(
    *, uow: UnitOfWork, caller: Principal, form_id: str, today: date | None = None
) -> tuple[str, bytes]:
    """(filename, PDF) of a written-only form. A customer's copy carries its customer number and
    is in its language (cc_common.i18n.customer_language); anyone else's is blank and English."""
    form = forms.written_form(form_id)
    number, language = "", i18n.DEFAULT_LANGUAGE
    if caller.kind == "customer" and caller.customer_number:
        number = caller.customer_number
        with uow:
            customer = uow.customers.get(number)
        if customer is not None:
            language = customer.effective_language
    content = pdf.form_pdf(form, language=language, customer_number=number, today=today or _today())
    return f"{form.id}.pdf", content
