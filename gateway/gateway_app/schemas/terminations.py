"""Terminations of packages or single domains (/api/v1/terminations/...)."""

from __future__ import annotations

from typing import ClassVar, Literal

from gateway_app.schemas import Answer, Body, Date, DateTime, Domain, PackageId, omitted

TERMINATION_ID = {
    "type": "string",
    "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
    "description": "e.g. trm_5e6f (longer than 100 characters: 404; other malformed ids: 422)",
}


class Termination(Answer):
    """A termination; domain null: the whole package"""

    id: str
    package_id: str
    domain: str | None
    product: str | None
    contract_id: str | None
    effective_date: Date
    status: Literal["open", "effective", "retracted"]
    created_at: DateTime
    retracted_at: DateTime
    EXAMPLE: ClassVar = {
        "id": "trm_5e6f", "package_id": "pkg_3f2a9c", "domain": None, "product": "hosting-basic",
        "contract_id": "ctr_1a2b", "effective_date": "2026-12-31", "status": "open",
        "created_at": "2026-03-01T09:00:00+00:00", "retracted_at": None,
    }  # fmt: skip


class TerminationList(Answer):
    """The customer's terminations, newest first"""

    terminations: list[Termination]
    EXAMPLE: ClassVar = {"terminations": [Termination.EXAMPLE]}


class TerminationCreate(Body):
    """The package, or one domain of it, to terminate at the end of the current term."""

    package_id: PackageId
    domain: Domain = omitted()
    EXAMPLE: ClassVar = {"package_id": "pkg_3f2a9c", "domain": "example.org"}
