"""Terminations of packages or single domains (/api/v1/terminations/...)."""

from __future__ import annotations

from typing import ClassVar, Literal

from cc_common.errors import InvalidInput
from pydantic import ConfigDict, model_validator

from gateway_app.schemas import Answer, Body, fields, omitted

TERMINATION_ID = {
    "type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$",
    "description": "e.g. trm_5e6f (longer than 100 characters: 404; other malformed ids: 422)",
}  # fmt: skip


class Termination(Answer):
    """A termination; domain and addon_id null: the whole package"""

    id: str
    package_id: str
    domain: str | None
    addon_id: str | None
    product: str | None
    contract_id: str | None
    effective_date: fields.Date
    status: Literal["open", "effective", "retracted"]
    created_at: fields.DateTime
    retracted_at: fields.DateTime
    EXAMPLE: ClassVar = {"id": "trm_5e6f", "contract_id": "ctr_1a2b", "retracted_at": None}


class TerminationList(Answer):
    """The customer's terminations, newest first"""

    terminations: list[Termination]


class TerminationCreate(Body):
    """The package, or one domain of it, or one add-on of it (addon_id, from GET
    /api/v1/packages/{package_id}/addons), to terminate at the end of the current term: one
    target per termination, so never a domain and an add-on together."""

    model_config = ConfigDict(json_schema_extra={"not": {"required": ["domain", "addon_id"]}})
    package_id: fields.PackageId
    domain: fields.Domain = omitted()
    addon_id: fields.OpaqueId = omitted()
    EXAMPLE: ClassVar = {"package_id": "pkg_3f2a9c", "domain": "example.org"}

    @model_validator(mode="after")
    def _one_target(self) -> TerminationCreate:
        if self.domain is not None and self.addon_id is not None:
            raise InvalidInput(
                "A termination has one target: name a domain or an add-on, not both.", field="addon_id"
            )
        return self
