"""contract-service's issue-3 and merge use cases with a fake unit of work (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from cc_common.errors import AlreadyExists, Conflict, Forbidden, InvalidInput, NotFound
from cc_common.tokens import Principal
from contract_service.domain import model, transfers
from contract_service.service_layer import services

from tests.support.fake_notices import FakeEmailRestores, FakeMails
from tests.support.pdf import pdf_text

TODAY = date(2026, 5, 15)


class FakeCustomers:
    def __init__(self) -> None:
        self.rows: dict[str, model.Customer] = {}
        self.writes = 0

    def get(self, number: str) -> model.Customer | None:
        row = self.rows.get(number)
        return replace(row) if row else None

    def exists(self, number: str) -> bool:
        return number in self.rows

    def existing(self, numbers: list[str]) -> set[str]:
        return {n for n in numbers if n in self.rows}

    def set_master_data(self, number: str, data: dict[str, str]) -> datetime:
        self.writes += 1
        self.rows[number] = self.rows[number].with_master_data(data)
        return datetime.now(UTC)

    def set_language(self, number: str, language: str) -> datetime:
        self.writes += 1
        self.rows[number] = replace(self.rows[number], language=language)
        return datetime.now(UTC)

    def set_status(self, numbers: list[str], *, status: str, merged_into: str) -> int:
        changed = 0
        for n in numbers:
            row = self.rows[n]
            if (row.status, row.merged_into) != (status, merged_into):
                row.status, row.merged_into = status, merged_into
                changed += 1
        return changed


class FakeInvoices:
    def __init__(self) -> None:
        self.rows: dict[str, model.Invoice] = {}
        self.debits: list[model.DebitRequest] = []

    def get(self, number: str) -> model.Invoice | None:
        return self.rows.get(number)

    def pending_debit(self, number: str) -> model.DebitRequest | None:
        return next((d for d in self.debits if d.invoice_number == number and d.status == "requested"), None)

    def add_debit_request(self, request: model.DebitRequest) -> None:
        self.debits.append(request)


class FakeContracts:
    def __init__(self) -> None:
        self.rows: dict[str, model.Contract] = {}
        self.changes: list[tuple[str, str, str, str]] = []

    def add(self, contract: model.Contract) -> None:
        contract.created_at = datetime.now(UTC)
        self.rows[contract.package_id] = contract

    def by_package(self, package_id: str) -> model.Contract | None:
        return self.rows.get(package_id)

    def change_product(
        self, contract_id: str, *, from_product: str, to_product: str, changed_by: str
    ) -> bool:
        contract = next(c for c in self.rows.values() if c.id == contract_id)
        if contract.product != from_product:
            return False
        self.rows[contract.package_id] = replace(contract, product=to_product)
        self.changes.append((contract_id, from_product, to_product, changed_by))
        return True


class FakeTerminations:
    def __init__(self) -> None:
        self.rows: dict[str, model.Termination] = {}

    def add(self, termination: model.Termination) -> None:
        self.rows[termination.id] = termination

    def get(self, termination_id: str) -> model.Termination | None:
        row = self.rows.get(termination_id)
        return replace(row) if row else None

    def open_for_package(self, package_id: str) -> list[model.Termination]:
        return [t for t in self.rows.values() if t.package_id == package_id and t.status == "open"]

    def retract(self, termination_id: str) -> datetime:
        self.rows[termination_id].status = "retracted"
        return datetime.now(UTC)


class FakeTransfers:
    """Owners of records by kind, and the record of what moved, as the real tables hold them."""

    def __init__(self, owners: dict[str, dict[str, str]]) -> None:
        self.owners = owners  # kind -> record id -> customer number
        self.applied_rows: dict[tuple[str, str], transfers.AppliedTransfer] = {}
        self.records: dict[tuple[str, str, str], list[str]] = {}
        self.moves = 0
        self.calls: list[dict[str, str]] = []  # the keyword arguments of every move

    def applied(self, merge_id: str, direction: str) -> transfers.AppliedTransfer | None:
        return self.applied_rows.get((merge_id, direction))

    def start(self, applied: transfers.AppliedTransfer) -> None:
        self.applied_rows[(applied.merge_id, applied.direction)] = applied

    def move(self, *, merge_id: str, direction: str, kind: str, source: str, target: str) -> None:
        self.moves += 1
        self.calls.append(
            {"merge_id": merge_id, "direction": direction, "kind": kind, "source": source, "target": target}
        )
        table = self.owners[kind]
        if direction == "forward":
            ids = sorted(i for i, owner in table.items() if owner == source)
            new_owner = target
        else:
            ids = [i for i in self.records.get((merge_id, "forward", kind), []) if table[i] == target]
            new_owner = source
        self.records[(merge_id, direction, kind)] = ids
        for i in ids:
            table[i] = new_owner

    def recorded(self, merge_id: str, direction: str) -> dict[str, list[str]]:
        return {kind: list(self.records.get((merge_id, direction, kind), [])) for kind in transfers.KINDS}


class FakeUnitOfWork:
    def __init__(self) -> None:
        self.customers = FakeCustomers()
        self.invoices = FakeInvoices()
        self.mails = FakeMails()
        self.email_restores = FakeEmailRestores()
        self.contracts = FakeContracts()
        self.terminations = FakeTerminations()
        self.transfers = FakeTransfers({kind: {} for kind in transfers.KINDS})
        self.committed = 0

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.committed += 1


def principal(kind: str, number: str | None = None) -> Principal:
    return Principal(
        kind=kind, subject=f"{kind}:{number or 'x'}", jti="j", generation=0, expires_at=0, issued_at=0,
        customer_number=number, package_id="pkg_1" if kind == "package" else None,
    )  # fmt: skip


STAFF, SERVICE = principal("staff"), principal("service")


def with_customers(*numbers: str, status: str = "active") -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    for n in numbers:
        uow.customers.rows[n] = model.Customer(
            customer_number=n, market="de", first_name="Erika", last_name="Mustermann", street="Hauptstraße 1",
            zip="10115", city="Berlin", country="DE", email="erika@example.com", status=status,
        )  # fmt: skip
    return uow


# --- master data -----------------------------------------------------------------------------


def test_an_update_stores_the_whole_checked_record_once():
    uow = with_customers("100")
    got = services.update_customer(uow=uow, caller=principal("customer", "100"), customer_number="200",
                                   changes={"city": "Potsdam", "zip": "14467", "phone": "0331 123456"})  # fmt: skip
    assert (got.customer_number, got.city, got.phone) == ("100", "Potsdam", "+49331123456")
    assert (uow.customers.writes, uow.committed, uow.customers.rows["100"].city) == (1, 1, "Potsdam")


def test_a_language_preference_is_stored_alone_and_the_next_notice_is_written_in_it():
    uow = with_customers("100")
    got = services.update_customer(uow=uow, caller=principal("customer", "100"), changes={"language": "en"})
    assert (got.language, got.effective_language, got.city) == ("en", "en", "Berlin")
    assert (uow.customers.writes, uow.customers.rows["100"].language) == (1, "en")  # no master-data write
    services.update_customer(
        uow=uow, caller=principal("customer", "100"), changes={"email": "new@example.com"}
    )
    (notice,) = uow.mails.to("erika@example.com")
    assert notice["subject"] == "Your contact e-mail address was changed"


def test_an_empty_language_drops_the_preference_and_the_markets_language_counts_again():
    uow = with_customers("100")
    services.update_customer(uow=uow, caller=principal("customer", "100"), changes={"language": "en"})
    got = services.update_customer(uow=uow, caller=principal("customer", "100"), changes={"language": ""})
    assert (got.language, got.effective_language) == ("", "de")
    assert uow.customers.rows["100"].language == ""


def test_a_language_other_than_en_de_nl_saves_nothing():
    uow = with_customers("100")
    with pytest.raises(InvalidInput) as exc:
        services.update_customer(
            uow=uow, caller=principal("customer", "100"), changes={"language": "fr", "city": "Potsdam"}
        )
    assert exc.value.field == "language"
    assert (uow.customers.writes, uow.customers.rows["100"].language) == (0, "")


def test_an_update_with_one_bad_field_saves_nothing():
    uow = with_customers("100")
    with pytest.raises(InvalidInput) as exc:
        services.update_customer(
            uow=uow, caller=STAFF, customer_number="100", changes={"city": "Potsdam", "email": "x@"}
        )
    assert exc.value.field == "email"
    assert (uow.customers.writes, uow.customers.rows["100"].city) == (0, "Berlin")


def test_a_name_change_online_is_refused_before_anything_is_saved():
    uow = with_customers("100")
    with pytest.raises(Conflict) as exc:
        services.update_customer(
            uow=uow, caller=principal("customer", "100"), changes={"first_name": "Max", "city": "Potsdam"}
        )
    assert exc.value.code == "written_form_required"
    assert uow.customers.writes == 0


def test_an_empty_update_and_a_frozen_customer_are_refused():
    uow = with_customers("100", status="frozen")
    with pytest.raises(InvalidInput):
        services.update_customer(uow=uow, caller=principal("customer", "100"), changes={})
    with pytest.raises(Conflict) as exc:
        services.update_customer(uow=uow, caller=principal("customer", "100"), changes={"city": "Potsdam"})
    assert exc.value.code == "customer_not_active"


def test_a_package_token_cannot_update_master_data():
    with pytest.raises(Forbidden):
        services.update_customer(
            uow=with_customers("100"), caller=principal("package", "100"), changes={"city": "X"}
        )


# --- merge steps ---------------------------------------------------------------------------


def test_status_changes_count_only_real_changes_and_unknown_numbers_change_nothing():
    uow = with_customers("100", "200")
    assert (
        services.set_customer_status(uow=uow, merge_id="m", customer_numbers=["100", "200"], status="frozen")
        == 2
    )
    assert (
        services.set_customer_status(uow=uow, merge_id="m", customer_numbers=["100", "200"], status="frozen")
        == 0
    )
    with pytest.raises(NotFound):
        services.set_customer_status(uow=uow, merge_id="m", customer_numbers=["100", "999"], status="active")
    assert uow.customers.rows["100"].status == "frozen"
    with pytest.raises(InvalidInput) as exc:
        services.set_customer_status(uow=uow, merge_id="", customer_numbers=["100"], status="active")
    assert exc.value.field == "merge_id"


def transfer_uow() -> FakeUnitOfWork:
    uow = with_customers("100", "200")
    uow.transfers.owners["invoices"].update({"RE1": "200", "RE2": "200", "RE3": "100"})
    uow.transfers.owners["contracts"].update({"ctr_a": "200"})
    uow.transfers.owners["offer_orders"].update({"pkg_b": "200"})
    uow.transfers.owners["contact_requests"].update({"req_1": "200", "req_2": "100"})
    return uow


def test_a_forward_transfer_moves_every_kind_once_and_a_repeat_only_replays():
    uow = transfer_uow()
    first = services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=False)
    assert first == {
        "invoices": ["RE1", "RE2"],
        "contracts": ["ctr_a"],
        "terminations": [],
        "offer_orders": ["pkg_b"],
        "contact_requests": ["req_1"],
    }
    moves, commits = uow.transfers.moves, uow.committed
    uow.transfers.owners["invoices"]["RE4"] = "200"  # made after the merge (not possible while retired, but)
    assert (
        services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=False) == first
    )
    assert (uow.transfers.moves, uow.committed, uow.transfers.owners["invoices"]["RE4"]) == (
        moves,
        commits,
        "200",
    )


def test_a_reverse_moves_every_kind_back_once_in_one_commit_and_a_repeat_only_replays():
    uow = transfer_uow()
    services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=False)
    calls, commits = len(uow.transfers.calls), uow.committed

    back = services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=True)

    assert uow.transfers.calls[calls:] == [
        {"merge_id": "m", "direction": "reverse", "kind": kind, "source": "200", "target": "100"}
        for kind in transfers.KINDS
    ]
    assert uow.committed == commits + 1
    assert uow.transfers.applied("m", "reverse") == transfers.AppliedTransfer("m", "reverse", "200", "100")
    assert back == uow.transfers.recorded("m", "reverse")
    moves, commits = len(uow.transfers.calls), uow.committed
    assert (
        services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=True) == back
    )
    assert (len(uow.transfers.calls), uow.committed) == (moves, commits)


def test_a_transfer_between_unknown_numbers_is_not_found_and_records_nothing():
    uow = transfer_uow()
    with pytest.raises(NotFound):
        services.transfer_contracts(uow=uow, merge_id="m", source="999", target="100", reverse=False)
    assert uow.transfers.applied_rows == {} and uow.committed == 0


def test_the_crash_points_around_the_commit_are_reached_only_when_something_was_applied(monkeypatch):
    reached: list[str] = []
    monkeypatch.setattr(services, "crash_point", reached.append)
    uow = transfer_uow()
    services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=False)
    services.transfer_contracts(uow=uow, merge_id="m", source="200", target="100", reverse=False)
    assert reached == ["contract:before_commit:TransferContracts", "contract:after_commit:TransferContracts"]
    services.set_customer_status(
        uow=uow, merge_id="m", customer_numbers=["200"], status="retired", merged_into="100"
    )
    assert reached[-1] == "contract:after_commit:SetCustomerStatus"


# --- contracts -------------------------------------------------------------------------------


def test_a_contract_is_created_once_per_package():
    uow = with_customers("100", "200")
    first = services.create_contract(
        uow=uow, package_id="pkg_1", customer_number="100", product="Hosting-Basic", today=TODAY
    )
    assert (first.product, first.start_date, first.term_months) == ("hosting-basic", TODAY, 12)
    assert (
        services.create_contract(
            uow=uow, package_id="pkg_1", customer_number="100", product="hosting-basic"
        ).id
        == first.id
    )
    with pytest.raises(AlreadyExists) as exc:
        services.create_contract(uow=uow, package_id="pkg_1", customer_number="200", product="hosting-basic")
    assert exc.value.code == "contract_exists"
    with pytest.raises(NotFound):
        services.create_contract(uow=uow, package_id="pkg_2", customer_number="999", product="hosting-basic")


def test_a_product_change_of_a_terminated_contract_is_refused_and_nothing_is_recorded():
    uow = with_customers("100")
    made = services.create_contract(
        uow=uow, package_id="pkg_1", customer_number="100", product="hosting-plus", today=TODAY
    )
    uow.contracts.rows["pkg_1"] = replace(made, status="terminated")
    with pytest.raises(Conflict) as err:
        services.change_contract_product(uow=uow, caller=SERVICE, package_id="pkg_1", product="hosting-basic")
    assert err.value.code == "contract_not_active" and uow.contracts.changes == []


def test_a_product_change_records_from_to_and_the_caller_and_a_repeat_records_nothing():
    uow = with_customers("100")
    made = services.create_contract(
        uow=uow, package_id="pkg_1", customer_number="100", product="hosting-plus", today=TODAY
    )
    got, before, changed = services.change_contract_product(
        uow=uow, caller=STAFF, package_id="pkg_1", product=" Hosting-Basic ", customer_number="100"
    )
    assert (got.product, before, changed) == ("hosting-basic", "hosting-plus", True)
    again = services.change_contract_product(
        uow=uow, caller=STAFF, package_id="pkg_1", product="hosting-basic"
    )
    assert again[1:] == ("hosting-basic", False)
    assert uow.contracts.changes == [(made.id, "hosting-plus", "hosting-basic", "staff:x")]


# --- invoices ----------------------------------------------------------------------------------


def with_invoice(status: str = "open") -> FakeUnitOfWork:
    uow = with_customers("100", "200")
    uow.invoices.rows["RE00000001"] = model.Invoice(
        number="RE00000001",
        customer_number="100",
        date=TODAY,
        amount_cents=12100,
        currency="EUR",
        status=status,
    )
    return uow


def test_another_customers_invoice_pdf_is_not_found():
    # Repeat debits and their states: tests/integration/test_contract_direct_debit.py.
    with pytest.raises(NotFound):
        services.invoice_pdf(uow=with_invoice(), caller=principal("customer", "200"), number="RE00000001")


def test_the_invoice_pdf_uses_the_vat_of_the_customers_market():
    uow = with_invoice()
    uow.customers.rows["100"].market = "nl"
    filename, content = services.invoice_pdf(uow=uow, caller=STAFF, number="RE00000001")
    assert filename == "RE00000001.pdf" and content.startswith(b"%PDF")
    text = pdf_text(content)  # Dutch, as the market's language
    assert "Btw 21%" in text and "Nettobedrag € 100,00" in text and "€ 21,00" in text


# --- terminations ------------------------------------------------------------------------------


def with_contract(start: date = date(2025, 7, 1)) -> FakeUnitOfWork:
    uow = with_customers("100", "200")
    uow.contracts.rows["pkg_1"] = model.Contract(id="ctr_1", package_id="pkg_1", customer_number="100",
                                                 product="hosting-plus", start_date=start)  # fmt: skip
    return uow


def test_a_termination_takes_effect_at_the_end_of_the_current_term():
    uow = with_contract()
    made = services.create_termination(
        uow=uow, caller=principal("customer", "100"), package_id="pkg_1", today=TODAY
    )
    assert (made.effective_date, made.status, made.product, made.contract_id) == (
        date(2026, 6, 30),
        "open",
        "hosting-plus",
        "ctr_1",
    )
    with pytest.raises(Conflict) as exc:
        services.create_termination(
            uow=uow, caller=principal("customer", "100"), package_id="pkg_1", today=TODAY
        )
    assert exc.value.code == "already_terminated"


def test_only_the_owner_of_the_contract_terminates_it():
    uow = with_contract()
    with pytest.raises(NotFound):
        services.create_termination(
            uow=uow, caller=principal("customer", "200"), package_id="pkg_1", today=TODAY
        )
    with pytest.raises(Forbidden):
        services.create_termination(uow=uow, caller=STAFF, package_id="pkg_1", today=TODAY)
    assert uow.terminations.rows == {}


def test_a_retraction_works_before_the_effective_date_and_is_idempotent():
    uow = with_contract()
    me = principal("customer", "100")
    made = services.create_termination(
        uow=uow, caller=me, package_id="pkg_1", domain="www.example.com", today=TODAY
    )
    with pytest.raises(NotFound):
        services.retract_termination(
            uow=uow, caller=principal("customer", "200"), termination_id=made.id, today=TODAY
        )
    assert (
        services.retract_termination(uow=uow, caller=me, termination_id=made.id, today=TODAY).status
        == "retracted"
    )
    commits = uow.committed
    assert (
        services.retract_termination(uow=uow, caller=me, termination_id=made.id, today=TODAY).status
        == "retracted"
    )
    assert uow.committed == commits


def test_a_retraction_on_the_effective_date_is_refused():
    uow = with_contract()
    me = principal("customer", "100")
    made = services.create_termination(uow=uow, caller=me, package_id="pkg_1", today=TODAY)
    with pytest.raises(Conflict) as exc:
        services.retract_termination(uow=uow, caller=me, termination_id=made.id, today=made.effective_date)
    assert exc.value.code == "termination_effective"


# --- forms ---------------------------------------------------------------------------------------


def test_forms_are_listed_written_first_and_a_customers_pdf_carries_its_number_in_its_language():
    listed = services.list_forms()
    modes = [f.mode for f in listed]
    assert modes == sorted(modes, key=lambda m: m != "written") and "online" in modes
    uow = with_invoice()  # customer 100, market de
    _, content = services.form_pdf(
        uow=uow, caller=principal("customer", "100"), form_id="contract_transfer", today=TODAY
    )
    text = pdf_text(content)
    assert "Vertragsübernahme" in text and "Bisheriger Vertragspartner: Kundennummer" in text
    assert "100" in text and "Ort, Datum, Unterschrift: Neuer Vertragspartner" in text
    _, blank = services.form_pdf(uow=uow, caller=STAFF, form_id="contract_transfer", today=TODAY)
    text = pdf_text(blank)
    assert "Contract handover" in text and "Place, date, signature: New contract partner" in text
    assert "Current contract partner: Customer number\n" in text  # nothing filled in
