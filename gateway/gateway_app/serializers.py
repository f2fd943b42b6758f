"""Protobuf messages -> the JSON shapes of the API (/api/openapi.json). An unset optional string is `null`.

The protos' enums become their lower-case names and their Timestamps ISO 8601 strings in UTC
(cc_common.protoconv), the strings the API has always shown."""

from __future__ import annotations

import json
from typing import Any

from cc_common.protoconv import enum_name, iso
from customercenter.v2 import common_pb2, contract_pb2, merge_pb2, package_pb2


def _opt(value: str) -> str | None:
    return value or None


def _time(message: Any, field: str) -> str | None:
    """A Timestamp field as ISO 8601 (UTC), null when unset."""
    return _opt(iso(message, field))


CUSTOMER_FIELDS = (
    "company",
    "first_name",
    "last_name",
    "street",
    "zip",
    "city",
    "country",
    "phone",
    "mobile",
    "fax",
    "email",
)


def customer(message: Any) -> dict[str, Any]:
    payment = message.payment
    return {
        "customer_number": message.customer_number,
        "market": enum_name(common_pb2.Market, message.market),
        **{name: _opt(getattr(message, name)) for name in CUSTOMER_FIELDS},
        "payment": {
            "method": _opt(enum_name(contract_pb2.PaymentMethod, payment.method)),
            "iban_masked": _opt(payment.iban_masked),
            "bic": _opt(payment.bic),
            "card_last4": _opt(payment.card_last4),
            "card_expiry": _opt(payment.card_expiry),
        },
    }


def package(message: Any) -> dict[str, Any]:
    """A package; `customer_number` only where package-service gave it (never to a package
    login, whose password may be held by a third party)."""
    owner = {"customer_number": message.customer_number} if message.customer_number else {}
    return {
        "id": message.id,
        **owner,
        "product": message.product,
        "product_name": _opt(message.product_name),
        "max_domains": message.max_domains or None,
        "domains": list(message.domains),
        "status": enum_name(package_pb2.PackageStatus, message.status),
        "created_at": _time(message, "created_at"),
        "usage": {
            "storage_used_gb": message.storage_used_gb,
            "mailboxes_used": message.mailboxes_used,
            "databases_used": message.databases_used,
        },
    }


def product(message: Any) -> dict[str, Any]:
    return {
        "code": message.code,
        "name": message.name,
        "rank": message.rank,
        "max_domains": message.max_domains,
        "storage_gb": message.storage_gb,
        "mailboxes": message.mailboxes,
        "databases": message.databases,
        "prices": [
            {
                "market": enum_name(common_pb2.Market, price.market),
                "monthly_price": amount(price.monthly_price_cents),
                "currency": price.currency,
            }
            for price in message.prices
        ],
    }


def product_change(message: Any) -> dict[str, Any]:
    """The changed package, with the direction of the change and the product before it."""
    return {
        **package(message.package),
        "direction": enum_name(package_pb2.ChangeDirection, message.direction),
        "from_product": message.from_product,
    }


def domain_move(message: Any) -> dict[str, Any]:
    return {"source": package(message.source), "target": package(message.target), "created": message.created}


def package_settings(message: Any) -> dict[str, Any]:
    return {"package_id": message.package_id, "settings": dict(sorted(message.settings.items()))}


def amount(cents: int) -> float:
    """Money as a JSON number (12.5 for 1250 cents): API clients post and compare numbers.
    Cents stay integers in every service; only this view divides."""
    return round(cents / 100, 2)


def invoice(message: Any) -> dict[str, Any]:
    return {
        "number": message.number,
        "date": _opt(message.date),
        "amount": amount(message.amount_cents),
        "currency": message.currency,
        "status": enum_name(contract_pb2.InvoiceStatus, message.status),
        "return_reason": _opt(message.return_reason),
        "repeat_debit_requested": message.repeat_debit_requested,
        "repeat_debit_requested_at": _time(message, "repeat_debit_requested_at"),
    }


def debit_request(message: Any) -> dict[str, Any]:
    return {
        "invoice_number": message.invoice_number,
        "requested_at": _time(message, "requested_at"),
        "status": enum_name(contract_pb2.DebitRequestStatus, message.status),
    }


def termination(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "package_id": message.package_id,
        "domain": _opt(message.domain),
        "product": _opt(message.product),
        "contract_id": _opt(message.contract_id),
        "effective_date": message.effective_date,
        "status": enum_name(contract_pb2.TerminationStatus, message.status),
        "created_at": _time(message, "created_at"),
        "retracted_at": _time(message, "retracted_at"),
    }


def contract(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "package_id": message.package_id,
        "product": message.product,
        "start_date": _opt(message.start_date),
        "term_months": message.term_months,
        "current_term_end": _opt(message.current_term_end),
        "status": enum_name(contract_pb2.ContractStatus, message.status),
        "created_at": _time(message, "created_at"),
    }


def form(message: Any, *, pdf_url: str | None) -> dict[str, Any]:
    """A written-only form with the URL of its PDF, or an online one with its endpoint."""
    return {
        "id": message.id,
        "title": message.title,
        "description": message.description,
        "mode": enum_name(contract_pb2.FormMode, message.mode),
        "endpoint": _opt(message.endpoint),
        "pdf_url": pdf_url if message.has_pdf else None,
    }


# --- merges -----------------------------------------------------------------------------------

MOVED_KINDS = ("packages", "invoices", "contracts", "terminations")


def merge(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "target_customer_number": message.target_customer_number,
        "source_customer_number": message.source_customer_number,
        "status": enum_name(merge_pb2.MergeStatus, message.status),
        "market": enum_name(common_pb2.Market, message.market),
        "comparison": [
            {
                "field": row.field,
                "target_value": _opt(row.target_value),
                "source_value": _opt(row.source_value),
                "result": enum_name(merge_pb2.ComparisonResult, row.result),
            }
            for row in message.comparison
        ],
        "data_taken_over": message.data_taken_over,
        "legal_proof_uploaded": message.legal_proof_uploaded,
        "proof_method": enum_name(merge_pb2.ProofMethod, message.proof_method),
        # A merge proven with a package password: until when the absorbed side may object
        # (null for other merges and once it confirmed), and whether it confirmed.
        "objection_period_ends_at": _time(message, "objection_period_ends_at"),
        "confirmed_by_source": message.confirmed_by_source,
        "cancelled_by": _opt(enum_name(merge_pb2.MergeCanceller, message.cancelled_by)),
        "rejection_reason": _opt(message.rejection_reason),
        "created_at": _time(message, "created_at"),
        "updated_at": _time(message, "updated_at"),
        "completed_at": _time(message, "completed_at"),
    }


def _snapshot(raw: str) -> dict[str, Any]:
    """A master-data snapshot as an object; {} when merge-service sent none (or no object)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def merge_audit(message: Any) -> dict[str, Any]:
    """The merge, both snapshots, the saga's step log and the ids of every moved record."""
    moved: dict[str, list[str]] = {kind: [] for kind in MOVED_KINDS}
    for group in message.moved:
        moved.setdefault(enum_name(common_pb2.RecordKind, group.kind), []).extend(group.ids)
    return {
        **merge(message.merge),
        "target_snapshot": _snapshot(message.target_snapshot_json),
        "source_snapshot": _snapshot(message.source_snapshot_json),
        "steps": [
            {
                "name": step.name,
                "state": enum_name(merge_pb2.MergeStepState, step.state),
                "started_at": _time(step, "started_at"),
                "finished_at": _time(step, "finished_at"),
                "error": _opt(step.error),
            }
            for step in message.steps
        ],
        "moved": moved,
        "reversal_reason": _opt(message.reversal_reason),
    }
