"""The fields only a signed form may change: company and name.

Changing them hands the contract over to someone else, which needs the signed contract
transfer form; they cannot be changed online. The rule is about the request, not the stored
record: an online change that names one of them is refused, even with the value already
stored, so the same request gets the same answer for every customer.
"""

from __future__ import annotations

from collections.abc import Iterable

from cc_common.errors import Conflict

FIELDS = ("company", "first_name", "last_name")
_LABELS = {"company": "company", "first_name": "first name", "last_name": "last name"}


def refuse_written_only(named: Iterable[str]) -> None:
    """Conflict written_form_required, on the first written-only field among `named` (the
    fields a change gives), if there is one; nothing is to be saved then."""
    given = set(named)
    found = [name for name in FIELDS if name in given]
    if found:
        labels = " and ".join(_LABELS[name] for name in found)
        raise Conflict(
            f"The {labels} cannot be changed online: a change of company or name is a contract "
            "handover and needs a signed form. Download the contract transfer form "
            "(GET /api/v1/forms, contract_transfer), sign it and send it to us.",
            code="written_form_required",
            field=found[0],
        )
