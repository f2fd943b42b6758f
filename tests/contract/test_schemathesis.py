"""The HTTP contract checked from outside: schemathesis over every operation of the OpenAPI
document the gateway serves (`GET /api/openapi.json`), against the five real processes.

Each operation is called with each user token kind it refuses and without a token, then with
the token kinds its description names ("Token kinds: ..."), with data that fits the document
(positive) and data that does not (negative). Every answer must be no 5xx, a documented status
code and content type with a body valid against its documented schema; positive data must not
be refused with 400/422 (the document is as strict as the validation, no stricter), negative
data must be refused; a refused kind gets 403, no token 401. How to run it: docs/http.md.

Generation is deterministic (`derandomize`, no example database) and bounded by EXAMPLES.
Each operation, and each further kind, gets a fresh customer, package, invoice and tokens, so a
destructive call (logout, password change, merge approval, termination) spoils no other run.

Any finding fails the test, with up to three examples of it.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.harness import Suite

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("contract")]

REPO = Path(__file__).resolve().parents[2]
USER_KINDS = ("customer", "package", "staff")
# Examples per operation, token kind and mode (positive, negative); per refused kind and
# without a token. Chosen so that the whole run stays near two minutes on two busy cores.
EXAMPLES = 15
REFUSED_EXAMPLES = 3


# The formats the document names beyond JSON Schema's own, taught to the generator with values
# of that format: an IBAN whose check digits are right (ISO 13616) and a BIC (ISO 9362), in the
# spellings the API takes. The gateway checks their shape by the documented pattern,
# contract-service the rest.
FORMATS = {
    "iban": st.sampled_from(
        [
            "DE89370400440532013000",
            "NL91ABNA0417164300",
            "GB29NWBK60161331926819",
            "de89 3704 0044 0532 0130 00",
        ]
    ),
    "bic": st.sampled_from(["COBADEFFXXX", "ABNANL2A", "NWBKGB2L", "cobadeff"]),
    # Numbers the phonenumbers library takes as valid, with their country prefix (valid in every
    # market), in the spellings people type.
    "phone": st.sampled_from(
        [
            "+49 30 1234567",
            "+4915112345678",
            "+31 20 1234567",
            "+31 6 12345678",
            "+44 20 7946 0018",
            "+1 202 555 0143",
        ]
    ),
    # Addresses email-validator takes (schemathesis' own also draws the special-use top-level
    # domain .test, which it refuses).
    "email": st.sampled_from(
        ["max@example.com", "Erika.Mustermann@example.org", "info+shop@beispiel.de", "j.smith@example.co.uk"]
    ),
}
for _name, _strategy in FORMATS.items():
    schemathesis.openapi.format(_name, _strategy)

# The content of a file part documented as application/pdf (the merge's signed form, a contact
# request's attachment): small PDF documents of the shape merge-service checks
# (cc_common/rules/documents.py: %PDF- at the start, %%EOF in the last 2 KB).
schemathesis.openapi.media_type(
    "application/pdf",
    st.sampled_from(
        [
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
            b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n%%EOF",
        ]
    ),
)


def _error_code(response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def accepts_positive_data(ctx, response, case):
    """schemathesis's positive_data_acceptance, except for a 400 `invalid_token`: a link token
    (password reset, e-mail restore, merge objection) of the right shape that the service does
    not know. No document can say which tokens exist; a wrong password's 401 passes the same way."""
    if response.status_code == 400 and _error_code(response) == "invalid_token":
        return None
    return positive_data_acceptance(ctx, response, case)


# name -> check; the names are schemathesis's, as the findings use them.
CHECKS = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
    "positive_data_acceptance": accepts_positive_data,
    "negative_data_rejection": negative_data_rejection,
}


def _committed_operations() -> list[str]:
    # The committed copy equals what the gateway serves (tests/unit/test_gateway_openapi.py);
    # the served document is compared with this list below, so no operation is left out.
    document = json.loads((REPO / "docs" / "openapi.json").read_text())
    return sorted(
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    )


OPERATIONS = _committed_operations()


def token_kinds(operation: schemathesis.APIOperation) -> tuple[str, ...]:
    """The user token kinds an operation takes; () for an operation without security."""
    definition = operation.definition.raw
    if not definition.get("security"):
        return ()
    found = re.search(r"Token kinds: ([a-z, ]+)\.", definition.get("description", ""))
    assert found, f"{operation.label} needs a token but does not say which kinds"
    return tuple(kind.strip() for kind in found.group(1).split(","))


@dataclass
class Finding:
    check: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class Run:
    """The findings of one operation: check name -> what failed, with a few examples."""

    label: str
    findings: dict[str, Finding] = field(default_factory=dict)
    requests: int = 0

    def record(self, check: str, detail: str) -> None:
        finding = self.findings.setdefault(check, Finding(check))
        finding.count += 1
        if len(finding.examples) < 3 and detail not in finding.examples:
            finding.examples.append(detail)


@pytest.fixture(scope="module")
def contract_suite(tmp_path_factory):
    # Hypothesis keeps caches (constants, unicode data) under its home directory, by default
    # .hypothesis/ in the working directory: here they go to a temporary one.
    set_hypothesis_home_dir(tmp_path_factory.mktemp("hypothesis"))
    # A suite of its own: the fuzzed logins, resets and merges stay out of the shared suites.
    suite = Suite(
        tmp_path_factory.mktemp("contract"),
        env={"LOGIN_MAX_FAILURES_PER_ADDRESS": "100000", "PASSWORD_RESET_MAX_REQUESTS_PER_ADDRESS": "100000"},
    )
    try:
        suite.start_all()
        yield suite
    finally:
        suite.close()
        set_hypothesis_home_dir(None)


@pytest.fixture(scope="module")
def served_schema(contract_suite):
    # from_dict, not from_url: from_url leaves out the document's own operation.
    document = contract_suite.api("GET", "/api/openapi.json", expect=200).json()
    schema = schemathesis.openapi.from_dict(document)
    served = sorted(op.ok().label for op in schema.get_all_operations())
    assert served == OPERATIONS, "docs/openapi.json is not what the gateway serves: run `make openapi`"
    return schema


@dataclass
class Account:
    """A fresh customer with one package (and its password) and one invoice, and a token of
    each user kind."""

    suite: Suite
    tokens: dict[str, str]
    customer_number: str
    package_id: str
    invoice_number: str

    @classmethod
    def create(cls, suite: Suite) -> Account:
        customer = suite.create_customer("de")
        domain = f"contract-{uuid.uuid4().hex[:10]}.example"
        package_password = f"Pkg-{uuid.uuid4().hex[:12]}"
        package_id = suite.create_package(
            customer.number, domains=[domain], package_password=package_password
        )
        invoice = suite.create_invoice(customer.number)
        staff = {"username": suite.staff_username, "password": suite.staff_password}
        tokens = {
            "customer": suite.login_customer(customer.number, customer.password),
            "package": suite.login_package(domain, package_password),
            # Not the suite's own staff token, which sets up the next operations.
            "staff": suite.api("POST", "/api/v1/auth/staff-login", json=staff, expect=200).json()[
                "access_token"
            ],
        }
        return cls(suite, tokens, customer.number, package_id, invoice)

    def merge(self, *, submitted: bool) -> str:
        source = self.suite.create_customer("de")
        token = self.tokens["customer"]
        body = {"source_customer_number": source.number, "source_password": source.password}
        merge_id = self.suite.api("POST", "/api/v1/merges", token=token, json=body, expect=201).json()["id"]
        if submitted:
            self.suite.api("POST", f"/api/v1/merges/{merge_id}/take-over-data", token=token, expect=200)
            self.suite.api("POST", f"/api/v1/merges/{merge_id}/submit", token=token, expect=202)
        return merge_id

    def termination(self) -> str:
        body = {"package_id": self.package_id}
        reply = self.suite.api(
            "POST", "/api/v1/terminations", token=self.tokens["customer"], json=body, expect=201
        )
        return reply.json()["id"]

    def path_parameters(self, operation: schemathesis.APIOperation) -> dict[str, str]:
        """Real values for the operation's path parameters, so that calls reach past the 404."""
        path = operation.path
        values: dict[str, str] = {}
        if "{package_id}" in path:
            values["package_id"] = self.package_id
        if "{number}" in path:
            values["number"] = (
                self.customer_number if path.startswith("/api/v1/admin/") else self.invoice_number
            )
        if "{merge_id}" in path:
            values["merge_id"] = self.merge(submitted=path.startswith("/api/v1/admin/"))
        if "{termination_id}" in path:
            values["termination_id"] = self.termination()
        if "{form_id}" in path:
            values["form_id"] = "contract_transfer"
        return values


def _explore(strategy: st.SearchStrategy, examples: int, send: Callable[[Any], None]) -> None:
    @settings(
        max_examples=examples,
        derandomize=True,  # the same examples on every run
        database=None,  # nothing written into the repository
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategy)
    def explore(case):
        send(case)

    explore()


def _strategy(operation, mode: GenerationMode, path_parameters: dict[str, str]) -> st.SearchStrategy:
    generated = operation.as_strategy(generation_mode=mode)
    if not path_parameters:
        return generated
    return st.one_of(operation.as_strategy(generation_mode=mode, path_parameters=path_parameters), generated)


def _body(case) -> str:
    body = case.body
    return "-" if isinstance(body, NotSet) else f"{body!r:.300}"


def _describe(case, response, kind: str | None, mode: GenerationMode, failure: BaseException) -> str:
    failures = failure.exceptions if isinstance(failure, FailureGroup) else (failure,)
    first = "; ".join(getattr(f, "title", None) or str(f) for f in failures)
    return (
        f"[{kind or 'no token'}, {mode.value}] {case.method} {case.formatted_path} "
        f"query={case.query!r} body={_body(case)} -> {response.status_code}: "
        f"{response.text[:200]!r} ({first})"
    )


def run_operation(suite: Suite, schema, label: str) -> Run:
    operation = schema.find_operation_by_label(label)
    run = Run(label)
    http = requests.Session()  # kept alive across the operation's calls
    kinds = token_kinds(operation)

    def sender(
        account: Account | None, kind: str | None, mode: GenerationMode, refused_with: int | None = None
    ) -> Callable[[Any], None]:
        headers = {"Authorization": f"Bearer {account.tokens[kind]}"} if account and kind else {}

        def send(case) -> None:
            response = case.call(base_url=suite.base_url, session=http, headers=headers, timeout=30)
            run.requests += 1
            for name, check in CHECKS.items():
                try:
                    case.validate_response(response, checks=[check], headers=headers)
                except (Failure, FailureGroup) as failure:
                    run.record(name, _describe(case, response, kind, mode, failure))
            if refused_with is not None and response.status_code != refused_with:
                failure = AssertionError(f"expected {refused_with}")
                run.record(f"refused_with_{refused_with}", _describe(case, response, kind, mode, failure))

        return send

    # An operation without parameters or body has no invalid request to send.
    takes_input = (
        bool(operation.definition.raw.get("parameters")) or "requestBody" in operation.definition.raw
    )
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (GenerationMode.POSITIVE,)
    positive = GenerationMode.POSITIVE
    try:
        if not kinds:
            for mode in modes:
                _explore(operation.as_strategy(generation_mode=mode), EXAMPLES, sender(None, None, mode))
            return run
        # Refused calls first, while every token of the account is alive: a refused kind gets
        # 403 and no token 401, whatever the data.
        account = Account.create(suite)
        path_parameters = account.path_parameters(operation)
        for kind in (*(k for k in USER_KINDS if k not in kinds), None):
            send = sender(account, kind, positive, refused_with=403 if kind else 401)
            _explore(_strategy(operation, positive, path_parameters), REFUSED_EXAMPLES, send)
        for number, kind in enumerate(kinds):
            if number:
                # A fresh account per further kind: the customer's calls may end the package's
                # tokens (a new package password does).
                account = Account.create(suite)
                path_parameters = account.path_parameters(operation)
            for mode in modes:
                _explore(_strategy(operation, mode, path_parameters), EXAMPLES, sender(account, kind, mode))
    finally:
        http.close()
    return run


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_operation_keeps_the_published_contract(contract_suite, served_schema, label):
    run = run_operation(contract_suite, served_schema, label)
    assert run.requests > 0
    report = "\n".join(
        f"  {label} / {f.check}: {f.count} time(s), e.g.\n" + "\n".join(f"    {e}" for e in f.examples)
        for f in run.findings.values()
    )
    assert not run.findings, f"contract findings (fix the document or the server):\n{report}"
