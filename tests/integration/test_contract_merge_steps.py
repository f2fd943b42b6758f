"""contract-service's merge steps over real gRPC on port 0, against SQLite and PostgreSQL:
snapshot, status changes, and the set-based transfer of invoices, contracts and terminations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import grpc
import pytest
from cc_common import db
from cc_common.protoconv import enum_name
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from contract_service.adapters.orm import ContactRequestRow, InvoiceRow, OfferOrderRow, OfferRow
from contract_service.bootstrap import Settings, create_server
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc
from sqlalchemy import func, insert, select


@pytest.fixture
def server(tmp_path, database_url):
    tokens = token_settings_in(tmp_path)
    url = database_url("contract")
    settings = Settings(database_url=url, listen="127.0.0.1:0", tokens=tokens)
    thread = ServerThread(lambda: create_server("127.0.0.1:0", settings)).start()
    channel = grpc.insecure_channel(thread.address)
    engine = db.make_engine(url)
    yield contract_pb2_grpc.ContractServiceStub(channel), TokenFactory(tokens), engine
    engine.dispose()
    channel.close()
    thread.stop()


def customer(number: str, **changes) -> contract_pb2.CreateCustomerRequest:
    fields = {
        "customer_number": number,
        "market": common_pb2.MARKET_DE,
        "first_name": "Erika",
        "last_name": "Mustermann",
        "street": "Hauptstraße 1",
        "zip": "10115",
        "city": "Berlin",
        "email": "erika@example.com",
    }
    fields.update(changes)
    return contract_pb2.CreateCustomerRequest(**fields)


def code_of(err: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    return dict(err.value.trailing_metadata() or ()).get("error-code", "")


def moved(result: contract_pb2.TransferContractsResponse) -> dict[str, list[str]]:
    return {enum_name(common_pb2.RecordKind, r.kind): list(r.ids) for r in result.moved}


def owners(engine, numbers: list[str]) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(InvoiceRow.customer_number, func.count())
            .where(InvoiceRow.number.in_(numbers))
            .group_by(InvoiceRow.customer_number)
        )
        return {owner: count for owner, count in rows}


def seed_invoices(engine, owner: str, count: int, start: int) -> list[str]:
    """Bulk-inserts invoices directly (10,000 CreateInvoice calls would test the RPC, not the transfer)."""
    now = datetime.now(UTC)
    rows = [
        {"number": f"RX{start + i:08d}", "seq": start + i, "customer_number": owner, "date": date(2026, 1, 1),
         "amount_cents": 1190, "currency": "EUR", "status": "open", "created_at": now}
        for i in range(count)
    ]  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(InvoiceRow), rows)
    return [r["number"] for r in rows]


def transfer(stub, tokens, *, merge_id="mrg_1", source="200", target="100", reverse=False):
    request = contract_pb2.TransferContractsRequest(
        merge_id=merge_id, source_customer_number=source, target_customer_number=target, reverse=reverse
    )
    return stub.TransferContracts(request, metadata=metadata(tokens.service("merge")), timeout=30)


def test_the_snapshot_has_the_raw_normalised_iban_and_is_for_the_service_only(server):
    stub, tokens, _ = server
    payment = contract_pb2.PaymentInput(iban="de89 3704 0044 0532 0130 00")
    stub.CreateCustomer(customer("100", payment=payment), metadata=metadata(tokens.staff()), timeout=5)
    snap = stub.GetCustomerSnapshot(
        contract_pb2.GetCustomerRequest(customer_number="100"),
        metadata=metadata(tokens.service("merge")),
        timeout=5,
    )
    assert (snap.iban, snap.customer.last_name, snap.customer.payment.bic) == (
        "DE89370400440532013000", "Mustermann", "COBADEFFXXX",
    )  # fmt: skip
    for token in (tokens.customer("100"), tokens.staff()):
        with pytest.raises(grpc.RpcError) as err:
            stub.GetCustomerSnapshot(
                contract_pb2.GetCustomerRequest(customer_number="100"), metadata=metadata(token), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        stub.GetCustomerSnapshot(
            contract_pb2.GetCustomerRequest(customer_number="999"),
            metadata=metadata(tokens.service("merge")),
            timeout=5,
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_status_changes_are_idempotent_and_a_frozen_customer_cannot_change_anything(server):
    stub, tokens, _ = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    service = metadata(tokens.service("merge"))
    freeze = contract_pb2.ContractServiceSetCustomerStatusRequest(
        merge_id="mrg_1", customer_numbers=["100", "200"], status=common_pb2.CUSTOMER_STATUS_FROZEN
    )
    assert stub.SetCustomerStatus(freeze, metadata=service, timeout=5).changed == 2
    assert stub.SetCustomerStatus(freeze, metadata=service, timeout=5).changed == 0
    own = metadata(tokens.customer("100"))
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateCustomer(contract_pb2.UpdateCustomerRequest(city="Hamburg"), metadata=own, timeout=5)
    assert (err.value.code(), code_of(err)) == (grpc.StatusCode.FAILED_PRECONDITION, "customer_not_active")
    with pytest.raises(grpc.RpcError) as err:
        stub.SetPayment(
            contract_pb2.SetPaymentRequest(payment=contract_pb2.PaymentInput(iban="DE89370400440532013000")),
            metadata=own, timeout=5,
        )  # fmt: skip
    assert code_of(err) == "customer_not_active"
    with pytest.raises(grpc.RpcError) as err:
        stub.CreateInvoice(
            contract_pb2.CreateInvoiceRequest(customer_number="100", amount_cents=100),
            metadata=staff,
            timeout=5,
        )
    assert code_of(err) == "customer_not_active"
    retire = contract_pb2.ContractServiceSetCustomerStatusRequest(
        merge_id="mrg_1",
        customer_numbers=["200"],
        status=common_pb2.CUSTOMER_STATUS_RETIRED,
        merged_into="100",
    )
    assert stub.SetCustomerStatus(retire, metadata=service, timeout=5).changed == 1
    got = stub.GetCustomer(
        contract_pb2.GetCustomerRequest(customer_number="200"), metadata=staff, timeout=5
    ).customer
    assert (got.status, got.merged_into) == (common_pb2.CUSTOMER_STATUS_RETIRED, "100")
    back = contract_pb2.ContractServiceSetCustomerStatusRequest(
        merge_id="mrg_1", customer_numbers=["200", "100"], status=common_pb2.CUSTOMER_STATUS_ACTIVE
    )
    assert stub.SetCustomerStatus(back, metadata=service, timeout=5).changed == 2
    got = stub.GetCustomer(
        contract_pb2.GetCustomerRequest(customer_number="200"), metadata=staff, timeout=5
    ).customer
    assert (got.status, got.merged_into) == (common_pb2.CUSTOMER_STATUS_ACTIVE, "")


def test_a_status_change_naming_an_unknown_number_changes_nothing(server):
    stub, tokens, _ = server
    stub.CreateCustomer(customer("100"), metadata=metadata(tokens.staff()), timeout=5)
    request = contract_pb2.ContractServiceSetCustomerStatusRequest(
        merge_id="mrg_1", customer_numbers=["100", "999"], status=common_pb2.CUSTOMER_STATUS_FROZEN
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.SetCustomerStatus(request, metadata=metadata(tokens.service("merge")), timeout=5)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    got = stub.GetCustomer(
        contract_pb2.GetCustomerRequest(customer_number="100"), metadata=metadata(tokens.staff()), timeout=5
    ).customer
    assert got.status == common_pb2.CUSTOMER_STATUS_ACTIVE
    with pytest.raises(grpc.RpcError) as err:
        stub.SetCustomerStatus(
            contract_pb2.ContractServiceSetCustomerStatusRequest(merge_id="mrg_1", customer_numbers=["100"], status=common_pb2.CUSTOMER_STATUS_UNSPECIFIED),
            metadata=metadata(tokens.service("merge")), timeout=5,
        )  # fmt: skip
    assert (err.value.code(), dict(err.value.trailing_metadata())["error-field"]) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "status",
    )


def test_a_transfer_of_ten_thousand_invoices_moves_them_all_and_a_repeat_changes_nothing(server):
    stub, tokens, engine = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    numbers = seed_invoices(engine, "200", 10_000, start=1_000_000)
    contract = stub.CreateContract(
        contract_pb2.CreateContractRequest(package_id="pkg_a", customer_number="200", product="hosting-basic"),
        metadata=staff, timeout=5,
    ).contract  # fmt: skip
    first = moved(transfer(stub, tokens))
    assert sorted(first["invoices"]) == sorted(numbers)
    assert (first["contracts"], first["terminations"]) == ([contract.id], [])
    assert owners(engine, numbers) == {"100": 10_000}
    # An invoice of the target made after the merge, and a repeat of the same step.
    late = stub.CreateInvoice(
        contract_pb2.CreateInvoiceRequest(customer_number="100", amount_cents=500), metadata=staff, timeout=5
    ).invoice
    assert moved(transfer(stub, tokens)) == first
    assert owners(engine, [*numbers, late.number]) == {"100": 10_001}


def test_reverse_returns_exactly_the_moved_records_and_leaves_later_ones_with_the_target(server):
    stub, tokens, engine = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    kept = stub.CreateInvoice(
        contract_pb2.CreateInvoiceRequest(customer_number="100", amount_cents=100), metadata=staff, timeout=5
    ).invoice
    numbers = seed_invoices(engine, "200", 10_000, start=2_000_000)
    forward = moved(transfer(stub, tokens))
    assert kept.number not in forward["invoices"] and len(forward["invoices"]) == 10_000
    late = stub.CreateInvoice(
        contract_pb2.CreateInvoiceRequest(customer_number="100", amount_cents=700), metadata=staff, timeout=5
    ).invoice
    back = moved(transfer(stub, tokens, reverse=True))
    assert sorted(back["invoices"]) == sorted(numbers)
    assert owners(engine, numbers) == {"200": 10_000}
    assert owners(engine, [kept.number, late.number]) == {"100": 2}
    # Repeats of either direction replay their record and move nothing.
    assert moved(transfer(stub, tokens, reverse=True)) == back
    assert moved(transfer(stub, tokens)) == forward
    assert owners(engine, numbers) == {"200": 10_000}


def test_a_forward_arriving_after_the_compensating_reverse_is_refused(server):
    stub, tokens, engine = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    numbers = seed_invoices(engine, "200", 2, start=4_000_000)
    assert moved(transfer(stub, tokens, reverse=True))["invoices"] == []
    with pytest.raises(grpc.RpcError) as err:
        transfer(stub, tokens)
    assert (err.value.code(), code_of(err)) == (grpc.StatusCode.FAILED_PRECONDITION, "transfer_reversed")
    assert owners(engine, numbers) == {"200": 2}


def test_reverse_skips_a_moved_record_that_no_longer_belongs_to_the_target(server):
    stub, tokens, engine = server
    staff = metadata(tokens.staff())
    for number in ("100", "200", "300"):
        stub.CreateCustomer(customer(number), metadata=staff, timeout=5)
    numbers = seed_invoices(engine, "200", 3, start=3_000_000)
    transfer(stub, tokens, merge_id="mrg_a")
    # A later merge moves everything of 100 on to 300.
    transfer(stub, tokens, merge_id="mrg_b", source="100", target="300")
    back = moved(transfer(stub, tokens, merge_id="mrg_a", reverse=True))
    assert back["invoices"] == []
    assert owners(engine, numbers) == {"300": 3}


def test_a_merge_id_reused_for_other_numbers_is_refused(server):
    stub, tokens, _ = server
    staff = metadata(tokens.staff())
    for number in ("100", "200", "300"):
        stub.CreateCustomer(customer(number), metadata=staff, timeout=5)
    transfer(stub, tokens)
    with pytest.raises(grpc.RpcError) as err:
        transfer(stub, tokens, source="300")
    assert code_of(err) == "transfer_mismatch"
    with pytest.raises(grpc.RpcError) as err:
        transfer(stub, tokens, merge_id="mrg_2", source="999")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_contracts_and_terminations_move_with_the_merge_and_back(server):
    stub, tokens, _ = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    stub.CreateContract(
        contract_pb2.CreateContractRequest(package_id="pkg_b", customer_number="200", product="hosting-plus"),
        metadata=staff, timeout=5,
    )  # fmt: skip
    termination = stub.CreateTermination(
        contract_pb2.CreateTerminationRequest(package_id="pkg_b", domain="example.com"),
        metadata=metadata(tokens.customer("200")), timeout=5,
    ).termination  # fmt: skip
    forward = moved(transfer(stub, tokens))
    assert forward["terminations"] == [termination.id]
    target_view = stub.ListTerminations(
        contract_pb2.ListTerminationsRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    assert [t.id for t in target_view.terminations] == [termination.id]
    contracts = stub.ListContracts(
        contract_pb2.ListContractsRequest(), metadata=metadata(tokens.customer("100")), timeout=5
    )
    assert [c.package_id for c in contracts.contracts] == ["pkg_b"]
    transfer(stub, tokens, reverse=True)
    source_view = stub.ListTerminations(
        contract_pb2.ListTerminationsRequest(), metadata=metadata(tokens.customer("200")), timeout=5
    )
    assert [t.id for t in source_view.terminations] == [termination.id]


def test_the_merge_steps_refuse_every_caller_but_the_service(server):
    stub, tokens, _ = server
    stub.CreateCustomer(customer("100"), metadata=metadata(tokens.staff()), timeout=5)
    for token in (tokens.customer("100"), tokens.staff(), tokens.package("pkg_1")):
        for call, request in (
            (
                stub.TransferContracts,
                contract_pb2.TransferContractsRequest(
                    merge_id="m", source_customer_number="200", target_customer_number="100"
                ),
            ),
            (
                stub.SetCustomerStatus,
                contract_pb2.ContractServiceSetCustomerStatusRequest(
                    merge_id="m", customer_numbers=["100"], status=common_pb2.CUSTOMER_STATUS_FROZEN
                ),
            ),
        ):
            with pytest.raises(grpc.RpcError) as err:
                call(request, metadata=metadata(token), timeout=5)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_merge_moves_offer_orders_with_their_package_and_contact_requests_and_a_reverse_moves_them_back(
    server,
):
    stub, tokens, engine = server
    staff = metadata(tokens.staff())
    stub.CreateCustomer(customer("100"), metadata=staff, timeout=5)
    stub.CreateCustomer(customer("200"), metadata=staff, timeout=5)
    now = datetime.now(UTC)
    offer = {"product": "hosting-plus", "price_cents": 499, "currency": "EUR", "markets": "de",
             "valid_from": date(2026, 1, 1), "valid_until": date(2026, 12, 31), "created_at": now,
             "created_by": "staff:test"}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(OfferRow), [{**offer, "id": "off_1"}, {**offer, "id": "off_2"}])
        conn.execute(
            insert(OfferOrderRow),
            [
                {
                    "offer_id": off,
                    "package_id": pkg,
                    "customer_number": owner,
                    "product": "hosting-plus",
                    "price_cents": 499,
                    "currency": "EUR",
                    "ordered_at": now,
                }
                for off, pkg, owner in [
                    ("off_1", "pkg_b", "200"),
                    ("off_2", "pkg_b", "200"),
                    ("off_1", "pkg_a", "100"),
                ]
            ],  # fmt: skip
        )
        conn.execute(
            insert(ContactRequestRow),
            [
                {
                    "id": rid,
                    "customer_number": owner,
                    "subject": "Form",
                    "message": "Signed form",
                    "created_at": now,
                }
                for rid, owner in [("req_b", "200"), ("req_a", "100")]
            ],  # fmt: skip
        )

    def holders() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
        with engine.connect() as conn:
            orders = {
                (o, p): c
                for o, p, c in conn.execute(
                    select(OfferOrderRow.offer_id, OfferOrderRow.package_id, OfferOrderRow.customer_number)
                )
            }
            requests = dict(
                conn.execute(select(ContactRequestRow.id, ContactRequestRow.customer_number)).all()
            )
        return orders, requests  # fmt: skip

    first = moved(transfer(stub, tokens))
    assert (first["offer_orders"], first["contact_requests"]) == (["pkg_b"], ["req_b"])
    assert holders() == (
        {("off_1", "pkg_b"): "100", ("off_2", "pkg_b"): "100", ("off_1", "pkg_a"): "100"},
        {"req_b": "100", "req_a": "100"},
    )
    back = moved(transfer(stub, tokens, reverse=True))
    assert (back["offer_orders"], back["contact_requests"]) == (["pkg_b"], ["req_b"])
    assert holders() == (
        {("off_1", "pkg_b"): "200", ("off_2", "pkg_b"): "200", ("off_1", "pkg_a"): "100"},
        {"req_b": "200", "req_a": "100"},
    )
