"""One blueprint per area of the JSON API (described by the OpenAPI document, openapi.py)."""

from __future__ import annotations

from cc_common.errors import Conflict
from cc_common.protoconv import enum_name
from customercenter.v2 import common_pb2, contract_pb2

from gateway_app.clients import contracts


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
