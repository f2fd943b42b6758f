"""The customer's own record and invoices (customer token)."""

from __future__ import annotations

from customercenter.v1 import contract_pb2
from flask import Blueprint, Response, jsonify

from gateway_app import serializers
from gateway_app.backends import current_backends as backends
from gateway_app.security import current_principal, token_required

bp = Blueprint("customer", __name__)


@bp.get("/api/v1/customer")
@token_required("customer")
def get_customer() -> Response:
    # contract-service takes the customer number from the forwarded token, not from a field.
    record = backends().contract.call(
        "GetCustomer", contract_pb2.GetCustomerRequest(), token=current_principal().token
    )
    return jsonify(serializers.customer(record))


@bp.get("/api/v1/invoices")
@token_required("customer")
def list_invoices() -> Response:
    reply = backends().contract.call(
        "ListInvoices", contract_pb2.ListInvoicesRequest(), token=current_principal().token
    )
    return jsonify({"invoices": [serializers.invoice(item) for item in reply.invoices]})
