"""The forms of the customer center: written-only forms, which need the signatures of both
parties and come as a PDF to print, and online ones, which an API endpoint does
(docs/architecture.md, "Online or on a signed form")."""

from __future__ import annotations

from dataclasses import dataclass, field

from cc_common.errors import NotFound


@dataclass(frozen=True)
class Form:
    id: str
    title: str
    description: str
    mode: str  # written, online
    endpoint: str = ""  # online: "METHOD /path"
    # written: the fields to fill in, in order (label, lines).
    fields: tuple[tuple[str, int], ...] = field(default_factory=tuple)
    signatures: tuple[str, ...] = ()

    @property
    def has_pdf(self) -> bool:
        return self.mode == "written"


_PARTY = (("Customer number", 1), ("Company", 1), ("First and last name", 1), ("Street and house number", 1),
          ("Postcode and city", 1), ("Country", 1), ("E-mail address", 1))  # fmt: skip

FORMS: tuple[Form, ...] = (
    Form(
        id="contract_transfer",
        title="Contract handover (change of contract partner or name)",
        description="Hands the contract of a customer number, with all its packages, over to a new "
        "contract partner, or changes the name or company of the customer. The current and the "
        "new contract partner both sign. Also the signed proof a merge of customer numbers with "
        "different names needs.",
        mode="written",
        fields=(
            *(("Current contract partner: " + label, n) for label, n in _PARTY),
            *(("New contract partner: " + label, n) for label, n in _PARTY[1:]),
            ("Packages / domains concerned (all, if empty)", 2),
            ("Date of the handover", 1),
        ),
        signatures=("Current contract partner", "New contract partner"),
    ),
    Form(
        id="domain_holder_change",
        title="Change of domain holder (owner / Admin-C)",
        description="Changes the holder or the administrative contact of a domain. The previous "
        "and the future domain holder both sign.",
        mode="written",
        fields=(
            ("Customer number", 1),
            ("Domain(s)", 2),
            *(("Previous holder: " + label, n) for label, n in _PARTY[1:]),
            *(("Future holder: " + label, n) for label, n in _PARTY[1:]),
            ("New administrative contact (Admin-C), if it changes", 2),
        ),
        signatures=("Previous domain holder", "Future domain holder"),
    ),
    Form(
        id="domain_transfer",
        title="Domain transfer to another contract partner",
        description="Transfers a whole package or individual domains to a different contract "
        "partner. The current and the future contract partner both sign.",
        mode="written",
        fields=(
            ("Customer number (current contract partner)", 1),
            ("Package id", 1),
            ("Domains to transfer (all domains of the package, if empty)", 3),
            ("Customer number of the future contract partner (if any)", 1),
            *(("Future contract partner: " + label, n) for label, n in _PARTY[1:]),
        ),
        signatures=("Current contract partner", "Future contract partner"),
    ),
    Form(
        id="link_customer_numbers",
        title="Linking customer numbers",
        description="Merges another of your customer numbers into this one, online: you need "
        "the other customer number and its password (or a domain and its package password).",
        mode="online",
        endpoint="POST /api/v1/merges",
    ),
    Form(
        id="downgrade",
        title="Package change (downgrade)",
        description="Changes a package to a smaller product, online.",
        mode="online",
        endpoint="POST /api/v1/packages/{id}/downgrade",
    ),
    Form(
        id="termination",
        title="Termination",
        description="Terminates a package or an individual domain at the end of the contract "
        "term, online; a termination can be retracted (DELETE /api/v1/terminations/{id}) until "
        "it takes effect.",
        mode="online",
        endpoint="POST /api/v1/terminations",
    ),
    Form(
        id="package_splitting",
        title="Package splitting",
        description="Registers domains of a package as additional domains of another package or "
        "as an independent hosting package under your customer number, online.",
        mode="online",
        endpoint="POST /api/v1/packages/{id}/split",
    ),
)

_BY_ID = {f.id: f for f in FORMS}


def written_form(form_id: str) -> Form:
    """The written-only form with this id; NOT_FOUND for an unknown or an online form."""
    form = _BY_ID.get((form_id or "").strip())
    if form is None:
        raise NotFound("There is no form with this id; GET /api/v1/forms lists them.")
    if not form.has_pdf:
        raise NotFound(f"The form {form.id!r} is done online ({form.endpoint}); it has no PDF.")
    return form
