"""The logs of a whole run (docs/observability.md, "Logs"): a scenario through many features
with passwords, tokens, IBANs and card data, then the log of every process is read:

- every line is one JSON object with time, level, service and message;
- no password, token (access tokens, the reset token) or IBAN used appears anywhere;
- the gateway wrote one access line per request (route, status, duration, client address),
  and the services one per gRPC call.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import time
import uuid

import pytest

from tests.e2e.conftest import SHARED_SUITE_ENV
from tests.e2e.harness import MARKET_DEFAULTS, PROCESSES, Suite

# Lines the harness itself writes into each log ("--- 12:00:00 starting <argv>").
HARNESS_LINE = re.compile(r"^--- \d\d:\d\d:\d\d starting ")
RESET_LINK = re.compile(r"/password-reset\?token=([A-Za-z0-9_-]+)")
IBANS = ("DE89370400440532013000", "NL91ABNA0417164300", "DE02120300000000202051")
CARD_NUMBER = "4111 1111 1111 1111"


def spaced(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def json_lines(suite: Suite, name: str) -> list[dict]:
    """The lines of one process's whole log (every start), each parsed; fails on a line that
    is not a JSON object with the fields of every line."""
    parsed = []
    for number, line in enumerate(suite.log(name, since_last_start=False).splitlines(), 1):
        if not line.strip() or HARNESS_LINE.match(line):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"{name}.log line {number} is not JSON: {line[:300]!r}")
        assert isinstance(record, dict), f"{name}.log line {number}: {line[:300]!r}"
        for field in ("time", "level", "service", "message"):
            assert field in record, f"{name}.log line {number} has no {field}: {line[:300]!r}"
        assert record["service"] == name, f"{name}.log line {number}: {line[:300]!r}"
        parsed.append(record)
    return parsed


class Recorder:
    """The requests of the scenario: every one must have its access line."""

    def __init__(self, suite: Suite) -> None:
        self.suite = suite
        self.requests: list[tuple[str, str, int]] = []

    def __call__(self, method: str, path: str, **kwargs):
        reply = self.suite.api(method, path, **kwargs)
        self.requests.append((method, path.split("?", 1)[0], reply.status_code))
        return reply


@pytest.fixture(scope="module")
def run(suite_factory):
    """A suite of its own (its logs hold only this scenario) and the secrets it used."""
    suite = suite_factory(env={**SHARED_SUITE_ENV, "MERGE_REVIEW": "auto"})
    api = Recorder(suite)
    secrets: list[str] = [suite.staff_password]

    def remember(*values: str) -> None:
        secrets.extend(values)

    staff = api(
        "POST",
        "/api/v1/auth/staff-login",
        expect=200,
        json={"username": suite.staff_username, "password": suite.staff_password},
    ).json()["access_token"]
    remember(staff)

    def create(market: str, **fields) -> tuple[str, str, dict]:
        password = f"Logs-{uuid.uuid4().hex[:10]}-Pw1!"
        body = {
            "market": market,
            "password": password,
            "company": "",
            **MARKET_DEFAULTS[market],
            "email": f"logs-{uuid.uuid4().hex[:8]}@example.com",
            **fields,
        }
        number = api("POST", "/api/v1/admin/customers", token=staff, json=body, expect=201).json()[
            "customer_number"
        ]
        remember(password)
        return str(number), password, body

    # Customers with IBANs (de, nl) and card data (uk).
    number, password, body = create("de")
    nl_number, _, nl_body = create("nl")
    uk_number, uk_password, _ = create("uk")

    # Logins: right and wrong; a forged token.
    token = api(
        "POST",
        "/api/v1/auth/customer-login",
        expect=200,
        json={"customer_number": number, "password": password},
    ).json()["access_token"]
    remember(token)
    wrong = f"Wrong-{uuid.uuid4().hex[:8]}-Pw!"
    remember(wrong)
    api(
        "POST", "/api/v1/auth/customer-login", expect=401, json={"customer_number": number, "password": wrong}
    )
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    remember(forged)
    api("GET", "/api/v1/customer", token=forged, expect=401)
    api("GET", "/api/v1/customer", token=token, expect=200)

    # Payment changes: an IBAN, card data, a card number refused.
    uk_token = api(
        "POST",
        "/api/v1/auth/customer-login",
        expect=200,
        json={"customer_number": uk_number, "password": uk_password},
    ).json()["access_token"]
    remember(uk_token)
    api(
        "PUT",
        "/api/v1/customer/payment",
        token=uk_token,
        expect=200,
        json={"iban": IBANS[2], "bic": "COBADEFFXXX"},
    )
    api(
        "PUT",
        "/api/v1/customer/payment",
        token=uk_token,
        expect=200,
        json={"card_token": "tok_test_mc_4444", "card_last4": "4444", "card_expiry": "03/29"},
    )
    api(
        "PUT",
        "/api/v1/customer/payment",
        token=uk_token,
        expect=422,
        json={"card_number": CARD_NUMBER, "card_last4": "1111", "card_expiry": "12/30"},
    )
    api(
        "PUT",
        "/api/v1/customer/payment",
        token=token,
        expect=422,
        json={"iban": "DE00370400440532013000", "bic": "COBADEFFXXX"},
    )

    # A package password, a package login.
    domain = f"logs-{uuid.uuid4().hex[:10]}.example"
    package_id = api(
        "POST",
        f"/api/v1/admin/customers/{number}/packages",
        token=staff,
        expect=201,
        json={"product": "hosting-basic", "domains": [domain]},
    ).json()["id"]
    package_password = f"Pkg-{uuid.uuid4().hex[:10]}-1"
    remember(package_password)
    api(
        "PUT",
        f"/api/v1/packages/{package_id}/password",
        token=token,
        expect=204,
        json={"new_password": package_password},
    )
    package_token = api(
        "POST",
        "/api/v1/auth/package-login",
        expect=200,
        json={"domain": domain, "password": package_password},
    ).json()["access_token"]
    remember(package_token)
    api("GET", f"/api/v1/packages/{package_id}", token=package_token, expect=200)

    # A password change.
    new_password = f"Changed-{uuid.uuid4().hex[:8]}-Pw2!"
    remember(new_password)
    api(
        "PUT",
        "/api/v1/customer/password",
        token=token,
        expect=204,
        json={"current_password": password, "new_password": new_password},
    )

    # A password reset: the link's token in a query string, then the confirmation.
    api("POST", "/api/v1/auth/password-reset", json={"customer_number": nl_number}, expect=202)
    (mail,) = suite.mails.wait_for(nl_body["email"])
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    reset_token = RESET_LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(1)
    remember(reset_token)
    api("GET", f"/password-reset?token={reset_token}", expect=200)
    reset_password = f"Reset-{uuid.uuid4().hex[:8]}-Pw3!"
    remember(reset_password)
    api(
        "POST",
        "/api/v1/auth/password-reset/confirm",
        expect=204,
        json={"token": reset_token, "new_password": reset_password},
    )

    # A merge proven with the absorbed number's password (approved at once: MERGE_REVIEW=auto).
    target, target_password, target_body = create("de")
    source, source_password, _ = create(
        "de", first_name=target_body["first_name"], last_name=target_body["last_name"], iban=IBANS[0]
    )
    target_token = api(
        "POST",
        "/api/v1/auth/customer-login",
        expect=200,
        json={"customer_number": target, "password": target_password},
    ).json()["access_token"]
    remember(target_token)
    merge = api(
        "POST",
        "/api/v1/merges",
        token=target_token,
        expect=201,
        json={"source_customer_number": source, "source_password": source_password},
    ).json()
    api("POST", f"/api/v1/merges/{merge['id']}/submit", token=target_token, expect=(202, 409))
    api("GET", f"/api/v1/merges/{merge['id']}", token=target_token, expect=200)

    # Probes.
    api("GET", "/livez", expect=200)
    api("GET", "/healthz", expect=200)
    return suite, api.requests, secrets


def test_every_line_of_every_process_is_one_json_object_with_the_common_fields(run):
    suite, _, _ = run
    for name in PROCESSES:
        lines = json_lines(suite, name)
        assert lines, f"{name} logged nothing"
        assert all(line["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL") for line in lines)
        assert all("trace_id" in line and "span_id" in line for line in lines), name


def test_no_password_token_iban_or_card_number_is_in_any_log(run):
    suite, _, secrets = run
    wanted = [
        *secrets,
        *IBANS,
        *(spaced(i) for i in IBANS),
        *(i[4:] for i in IBANS),
        CARD_NUMBER,
        CARD_NUMBER.replace(" ", ""),
    ]
    for name in PROCESSES:
        text = suite.log(name, since_last_start=False)
        for secret in wanted:
            assert secret not in text, f"{name}.log contains a secret of the scenario ({secret[:6]}...)"


def test_the_gateway_wrote_an_access_line_per_request(run):
    suite, requests, _ = run
    access = [line for line in json_lines(suite, "gateway") if line.get("access") == "http"]
    for method, path, status in requests:
        if path in ("/livez", "/healthz") and status == 200:
            continue  # probes that answer are logged at DEBUG only
        matches = [a for a in access if (a["method"], a["path"], a["status"]) == (method, path, status)]
        assert matches, f"no access line for {method} {path} {status}"
        line = matches[0]
        assert line["client_address"] == "127.0.0.1"
        assert isinstance(line["duration_ms"], (int, float)) and line["duration_ms"] >= 0
        assert line["route"], line
        assert line["level"] in ("INFO", "WARNING")
    routes = {a["route"] for a in access}
    assert "/api/v1/packages/<package_id>/password" in routes and "/api/v1/merges/<merge_id>" in routes


def test_each_service_wrote_an_access_line_per_grpc_call(run):
    suite, _, _ = run
    for name, method in (
        ("identity", "/customercenter.v2.IdentityService/CustomerLogin"),
        ("contract", "/customercenter.v2.ContractService/CreateCustomer"),
        ("package", "/customercenter.v2.PackageService/CreatePackage"),
        ("merge", "/customercenter.v2.MergeService/StartMerge"),
    ):
        access = [line for line in json_lines(suite, name) if line.get("access") == "grpc"]
        calls = [a for a in access if a["grpc_method"] == method]
        assert calls, (
            f"{name}: no access line for {method} among {sorted({a['grpc_method'] for a in access})}"
        )
        assert all(isinstance(a["duration_ms"], (int, float)) and a["peer"] and a["grpc_code"] for a in calls)
    identity = [line for line in json_lines(suite, "identity") if line.get("access") == "grpc"]
    codes = {a["grpc_code"] for a in identity if a["grpc_method"].endswith("/CustomerLogin")}
    assert {"OK", "UNAUTHENTICATED"} <= codes, codes


def test_a_traceparent_sent_to_the_gateway_is_the_trace_id_of_its_lines(run):
    """Needs the trace propagation of cc_common.telemetry (docs/observability.md, "Traces")."""
    pytest.importorskip("cc_common.telemetry")
    suite, _, _ = run
    trace_id = uuid.uuid4().hex
    suite.api(
        "POST",
        "/api/v1/auth/customer-login",
        json={"customer_number": "10000001", "password": "x"},
        headers={"traceparent": f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"},
    )
    gateway = [line for line in json_lines(suite, "gateway") if line.get("trace_id") == trace_id]
    assert any(line.get("access") == "http" for line in gateway), (
        "the gateway's access line lacks the trace id"
    )

    def identity_has_it() -> bool:
        lines = [line for line in json_lines(suite, "identity") if line.get("trace_id") == trace_id]
        return any(line.get("access") == "grpc" for line in lines)

    # A refused call's status reaches the caller before the service writes its line.
    deadline = time.monotonic() + 5
    while not identity_has_it() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert identity_has_it(), "identity's access line lacks the trace id"
