"""The merge endpoints (customer and staff) against a fake merge-service."""

from __future__ import annotations

import io
import json

import pytest
from cc_common.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyAttempts, Unauthenticated
from cc_common.protoconv import parse_timestamp
from customercenter.v2 import common_pb2, contract_pb2, merge_pb2

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MB = 1024 * 1024

MERGE = merge_pb2.Merge(
    id="m_1",
    target_customer_number="100",
    source_customer_number="200",
    status=merge_pb2.MERGE_STATUS_READY,
    comparison=[
        merge_pb2.ComparisonRow(
            field="last_name",
            target_value="Muster",
            source_value="Muster",
            result=merge_pb2.COMPARISON_RESULT_EQUAL,
        ),
        merge_pb2.ComparisonRow(
            field="phone", target_value="0301234", source_value="", result=merge_pb2.COMPARISON_RESULT_DIFFERS
        ),
        merge_pb2.ComparisonRow(
            field="iban",
            target_value="DE89 **** 3000",
            source_value="DE12 **** 0000",
            result=merge_pb2.COMPARISON_RESULT_DIFFERS,
        ),
    ],
    data_taken_over=False,
    legal_proof_uploaded=False,
    market=common_pb2.MARKET_DE,
    created_at=parse_timestamp("2026-03-01T10:00:00+00:00"),
    updated_at=parse_timestamp("2026-03-01T10:00:00+00:00"),
    proof_method=merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD,
)

MERGE_JSON = {
    "id": "m_1",
    "target_customer_number": "100",
    "source_customer_number": "200",
    "status": "ready",
    "market": "de",
    "comparison": [
        {"field": "last_name", "target_value": "Muster", "source_value": "Muster", "result": "equal"},
        {"field": "phone", "target_value": "0301234", "source_value": None, "result": "differs"},
        {
            "field": "iban",
            "target_value": "DE89 **** 3000",
            "source_value": "DE12 **** 0000",
            "result": "differs",
        },
    ],
    "data_taken_over": False,
    "legal_proof_uploaded": False,
    "proof_method": "customer_password",
    "objection_period_ends_at": None,
    "confirmed_by_source": False,
    "cancelled_by": None,
    "rejection_reason": None,
    "created_at": "2026-03-01T10:00:00+00:00",
    "updated_at": "2026-03-01T10:00:00+00:00",
    "completed_at": None,
}


def merge_with(**changes):
    message = merge_pb2.Merge()
    message.CopyFrom(MERGE)
    for name, value in changes.items():
        if name.endswith("_at"):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


AUDIT = merge_pb2.GetMergeAuditResponse(
    merge=merge_with(
        status=merge_pb2.MERGE_STATUS_COMPLETED, completed_at=parse_timestamp("2026-03-02T09:00:00+00:00")
    ),
    target_snapshot_json=json.dumps({"customer_number": "100", "last_name": "Muster"}),
    source_snapshot_json=json.dumps(
        {"customer_number": "200", "last_name": "Muster", "iban": "DE12 **** 0000"}
    ),
    steps=[
        merge_pb2.MergeStep(
            name="execute:transfer_packages",
            state=merge_pb2.MERGE_STEP_STATE_DONE,
            started_at=parse_timestamp("2026-03-02T08:59:00+00:00"),
            finished_at=parse_timestamp("2026-03-02T08:59:01+00:00"),
        ),
        merge_pb2.MergeStep(
            name="execute:retire_source",
            state=merge_pb2.MERGE_STEP_STATE_STARTED,
            started_at=parse_timestamp("2026-03-02T08:59:02+00:00"),
        ),
    ],
    moved=[
        merge_pb2.MovedRecords(kind=common_pb2.RECORD_KIND_PACKAGES, ids=["pkg_7", "pkg_8"]),
        merge_pb2.MovedRecords(kind=common_pb2.RECORD_KIND_INVOICES, ids=["R-9"]),
    ],
)


@pytest.fixture
def merge_service(gateway_backends):
    """merge-service answering every method with MERGE (or the audit, the PDF)."""
    service = gateway_backends.merge
    for method in ("StartMerge", "GetMerge", "TakeOverData", "CancelMerge", "ApproveMerge"):
        service.on(method, MERGE)
    service.on("SubmitMerge", merge_with(status=merge_pb2.MERGE_STATUS_SUBMITTED))
    service.on(
        "UploadLegalProof",
        merge_with(status=merge_pb2.MERGE_STATUS_NEEDS_LEGAL_PROOF, legal_proof_uploaded=True),
    )
    service.on(
        "RejectMerge",
        lambda req, token: merge_with(status=merge_pb2.MERGE_STATUS_REJECTED, rejection_reason=req.reason),
    )
    service.on("ReverseMerge", merge_with(status=merge_pb2.MERGE_STATUS_REVERSING))
    service.on(
        "ListMerges",
        merge_pb2.ListMergesResponse(
            merges=[MERGE, merge_with(id="m_2", status=merge_pb2.MERGE_STATUS_SUBMITTED)]
        ),
    )
    service.on("GetMergeAudit", AUDIT)
    service.on(
        "GetLegalProof",
        merge_pb2.GetLegalProofResponse(
            filename="form.pdf",
            content_type="application/pdf",
            content=PDF,
            uploaded_at=parse_timestamp("2026-03-01T11:00:00+00:00"),
        ),
    )
    return service


@pytest.fixture
def customer(gateway_tokens, gateway_auth):
    token = gateway_tokens.customer("100")
    return token, gateway_auth(token)


@pytest.fixture
def staff(gateway_tokens, gateway_auth):
    token = gateway_tokens.staff()
    return token, gateway_auth(token)


def assert_error(response, status, code, field=None):
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert error["field"] == field


# --- starting a merge -------------------------------------------------------------------------


def test_starting_a_merge_answers_201_with_the_merge_and_its_location(
    gateway_client, merge_service, customer
):
    token, headers = customer
    response = gateway_client.post(
        "/api/v1/merges",
        json={"source_customer_number": "200", "source_password": "secret-pass"},
        headers=headers,
        environ_overrides={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 201
    assert response.get_json() == MERGE_JSON
    assert response.headers["Location"].endswith("/api/v1/merges/m_1")
    call = merge_service.calls[-1]
    assert call.method == "StartMerge"
    assert call.token == token
    assert (call.request.source_customer_number, call.request.source_password) == ("200", "secret-pass")
    assert (call.request.domain, call.request.domain_password) == ("", "")
    assert call.request.client_address == "203.0.113.7"


def test_a_merge_can_be_proven_with_a_domain_and_its_package_password(
    gateway_client, merge_service, customer
):
    _, headers = customer
    response = gateway_client.post(
        "/api/v1/merges",
        json={"source_customer_number": "200", "domain": "Example.DE.", "domain_password": "pkg-pass"},
        headers=headers,
    )
    assert response.status_code == 201
    request = merge_service.calls[-1].request
    assert (request.domain, request.domain_password, request.source_password) == (
        "example.de",
        "pkg-pass",
        "",
    )


@pytest.mark.parametrize(
    "body,field",
    [
        ({"source_password": "x"}, "source_customer_number"),
        ({"source_customer_number": 200, "source_password": "x"}, "source_customer_number"),
        ({"source_customer_number": "2a0", "source_password": "x"}, "source_customer_number"),
        ({"source_customer_number": "200"}, "source_password"),
        ({"source_customer_number": "200", "source_password": ""}, "source_password"),
        ({"source_customer_number": "200", "source_password": 12345678}, "source_password"),
        ({"source_customer_number": "200", "domain": "a.de"}, "domain_password"),
        ({"source_customer_number": "200", "domain_password": "x"}, "domain"),
        ({"source_customer_number": "200", "domain": "not a domain", "domain_password": "x"}, "domain"),
        (
            {
                "source_customer_number": "200",
                "source_password": "x",
                "domain": "a.de",
                "domain_password": "y",
            },
            "domain",
        ),
        ({"source_customer_number": "200", "source_password": "x", "admin": True}, "admin"),
    ],
)
def test_malformed_merge_orders_answer_422_naming_the_field(
    body, field, gateway_client, merge_service, customer
):
    response = gateway_client.post("/api/v1/merges", json=body, headers=customer[1])
    assert_error(response, 422, "invalid_input", field)
    assert merge_service.calls == []


def test_a_merge_order_that_is_not_json_answers_400(gateway_client, merge_service, customer):
    response = gateway_client.post(
        "/api/v1/merges", data="source=200", content_type="application/json", headers=customer[1]
    )
    assert_error(response, 400, "invalid_json")
    assert merge_service.calls == []


MERGE_ERRORS = [
    pytest.param(
        Unauthenticated("Wrong.", code="invalid_credentials"),
        401,
        "invalid_credentials",
        id="invalid_credentials",
    ),
    pytest.param(
        InvalidInput("Same.", code="same_customer_number", field="source_customer_number"),
        422,
        "same_customer_number",
        id="same_customer_number",
    ),
    pytest.param(Conflict("Merged.", code="merge_conflict"), 409, "merge_conflict", id="merge_conflict"),
    pytest.param(
        Conflict("Markets.", code="different_markets"), 409, "different_markets", id="different_markets"
    ),
    pytest.param(TooManyAttempts("Wait.", retry_after=30), 429, "too_many_attempts", id="too_many_attempts"),
]


@pytest.mark.parametrize("error,status,code", MERGE_ERRORS)
def test_errors_of_starting_a_merge_keep_their_status_and_code(
    error, status, code, gateway_client, merge_service, customer
):
    merge_service.on("StartMerge", error)
    response = gateway_client.post(
        "/api/v1/merges",
        json={"source_customer_number": "200", "source_password": "secret"},
        headers=customer[1],
    )
    assert_error(response, status, code, error.field)
    if status == 429:
        assert response.headers["Retry-After"] == "30"


# --- the customer's other merge endpoints -----------------------------------------------------


def test_a_customer_lists_its_merges(gateway_client, merge_service, customer):
    token, headers = customer
    response = gateway_client.get("/api/v1/merges", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["merges"]
    assert body["merges"][0] == MERGE_JSON
    assert [item["id"] for item in body["merges"]] == ["m_1", "m_2"]
    assert merge_service.calls[-1].token == token
    assert merge_service.calls[-1].request.status == merge_pb2.MERGE_STATUS_UNSPECIFIED


@pytest.mark.parametrize(
    "method,path,rpc,status",
    [
        ("GET", "/api/v1/merges/m_1", "GetMerge", 200),
        ("POST", "/api/v1/merges/m_1/take-over-data", "TakeOverData", 200),
        ("POST", "/api/v1/merges/m_1/submit", "SubmitMerge", 202),
    ],
)
def test_merge_actions_answer_their_status_with_the_merge(
    method, path, rpc, status, gateway_client, merge_service, customer
):
    token, headers = customer
    response = gateway_client.open(path, method=method, headers=headers)
    assert response.status_code == status
    body = response.get_json()
    assert set(body) == set(MERGE_JSON)
    assert body["id"] == "m_1"
    call = merge_service.calls[-1]
    assert (call.method, call.request.merge_id, call.token) == (rpc, "m_1", token)


def test_submitting_answers_the_submitted_merge(gateway_client, merge_service, customer):
    response = gateway_client.post("/api/v1/merges/m_1/submit", headers=customer[1])
    assert response.status_code == 202
    assert response.get_json()["status"] == "submitted"


def test_cancelling_a_merge_answers_204_without_a_body(gateway_client, merge_service, customer):
    token, headers = customer
    response = gateway_client.delete("/api/v1/merges/m_1", headers=headers)
    assert response.status_code == 204
    assert response.data == b""
    call = merge_service.calls[-1]
    assert (call.method, call.request.merge_id, call.token) == ("CancelMerge", "m_1", token)


def test_staff_may_read_a_merge_on_the_customer_path(gateway_client, merge_service, staff):
    token, headers = staff
    response = gateway_client.get("/api/v1/merges/m_1", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == MERGE_JSON
    assert merge_service.calls[-1].token == token


@pytest.mark.parametrize(
    "method,path,rpc,error,status,code",
    [
        (
            "POST",
            "/api/v1/merges/m_1/submit",
            "SubmitMerge",
            Conflict("x", code="differences_not_resolved"),
            409,
            "differences_not_resolved",
        ),
        (
            "POST",
            "/api/v1/merges/m_1/submit",
            "SubmitMerge",
            Conflict("x", code="legal_proof_required"),
            409,
            "legal_proof_required",
        ),
        (
            "POST",
            "/api/v1/merges/m_1/submit",
            "SubmitMerge",
            Conflict("x", code="merge_not_open"),
            409,
            "merge_not_open",
        ),
        (
            "DELETE",
            "/api/v1/merges/m_1",
            "CancelMerge",
            Conflict("x", code="merge_not_open"),
            409,
            "merge_not_open",
        ),
        (
            "POST",
            "/api/v1/merges/m_1/take-over-data",
            "TakeOverData",
            Conflict("x", code="merge_not_open"),
            409,
            "merge_not_open",
        ),
        ("GET", "/api/v1/merges/m_9", "GetMerge", NotFound("No such merge."), 404, "not_found"),
        (
            "POST",
            "/api/v1/merges/m_1/take-over-data",
            "TakeOverData",
            Forbidden("Not the target."),
            403,
            "forbidden",
        ),
    ],
)
def test_errors_of_merge_actions_keep_their_status_and_code(
    method, path, rpc, error, status, code, gateway_client, merge_service, customer
):
    merge_service.on(rpc, error)
    assert_error(gateway_client.open(path, method=method, headers=customer[1]), status, code)


def test_an_overlong_merge_id_answers_404_without_asking_merge_service(
    gateway_client, merge_service, customer
):
    response = gateway_client.get("/api/v1/merges/" + "m" * 101, headers=customer[1])
    assert_error(response, 404, "not_found")
    assert merge_service.calls == []


# --- legal proof ------------------------------------------------------------------------------


def upload(client, headers, data, path="/api/v1/merges/m_1/legal-proof", **kwargs):
    return client.post(path, data=data, headers=headers, content_type="multipart/form-data", **kwargs)


def test_the_signed_form_is_forwarded_and_answers_201(gateway_client, merge_service, customer):
    token, headers = customer
    response = upload(
        gateway_client, headers, {"file": (io.BytesIO(PDF), "signed form.pdf", "application/pdf")}
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == set(MERGE_JSON)
    assert body["legal_proof_uploaded"] is True
    call = merge_service.calls[-1]
    assert call.method == "UploadLegalProof"
    assert call.token == token
    assert (
        call.request.merge_id,
        call.request.content,
        call.request.filename,
        call.request.content_type,
    ) == (
        "m_1",
        PDF,
        "signed form.pdf",
        "application/pdf",
    )


def test_a_form_of_almost_five_megabytes_is_accepted_despite_the_one_megabyte_body_limit(
    gateway_client, merge_service, customer
):
    content = PDF + b"0" * (5 * MB - len(PDF) - 10) + b"\n%%EOF\n"
    response = upload(gateway_client, customer[1], {"file": (io.BytesIO(content), "scan.pdf")})
    assert response.status_code == 201
    assert merge_service.calls[-1].request.content == content


def test_a_form_over_five_megabytes_answers_413(gateway_client, merge_service, customer):
    content = PDF + b"0" * (5 * MB)
    response = upload(gateway_client, customer[1], {"file": (io.BytesIO(content), "scan.pdf")})
    assert_error(response, 413, "payload_too_large")
    assert merge_service.calls == []


def test_a_file_just_over_five_megabytes_in_a_request_under_the_limit_answers_413(
    gateway_client, merge_service, customer
):
    content = b"%PDF-" + b"0" * (5 * MB - 4)
    response = upload(gateway_client, customer[1], {"file": (io.BytesIO(content), "scan.pdf")})
    assert_error(response, 413, "payload_too_large")
    assert merge_service.calls == []


def test_json_endpoints_keep_the_one_megabyte_limit(gateway_client, merge_service, customer):
    body = json.dumps({"source_customer_number": "200", "source_password": "x" * (2 * MB)})
    response = gateway_client.post(
        "/api/v1/merges", data=body, content_type="application/json", headers=customer[1]
    )
    assert_error(response, 413, "payload_too_large")
    assert merge_service.calls == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="no-parts"),
        pytest.param({"other": (io.BytesIO(PDF), "form.pdf")}, id="wrong-part-name"),
        pytest.param({"file": "just text"}, id="a-text-field"),
        pytest.param({"file": (io.BytesIO(b""), "")}, id="no-file-chosen"),
        pytest.param({"file": (io.BytesIO(b""), "form.pdf")}, id="empty-file"),
    ],
)
def test_an_upload_without_a_file_answers_422_on_field_file(data, gateway_client, merge_service, customer):
    assert_error(upload(gateway_client, customer[1], data), 422, "invalid_input", "file")
    assert merge_service.calls == []


def test_a_json_body_instead_of_a_form_answers_422_on_field_file(gateway_client, merge_service, customer):
    response = gateway_client.post("/api/v1/merges/m_1/legal-proof", json={"file": "x"}, headers=customer[1])
    assert_error(response, 422, "invalid_input", "file")


def test_a_file_that_is_not_a_pdf_answers_the_422_of_merge_service(gateway_client, merge_service, customer):
    merge_service.on("UploadLegalProof", InvalidInput("The file is not a PDF document.", field="file"))
    response = upload(gateway_client, customer[1], {"file": (io.BytesIO(b"GIF89a..."), "form.gif")})
    assert_error(response, 422, "invalid_input", "file")
    assert merge_service.calls[-1].request.content == b"GIF89a..."


def test_a_legal_proof_upload_without_a_token_answers_401(gateway_client, merge_service):
    response = upload(gateway_client, {}, {"file": (io.BytesIO(PDF), "form.pdf")})
    assert_error(response, 401, "unauthenticated")
    assert merge_service.calls == []


# --- staff --------------------------------------------------------------------------------


def test_staff_list_the_review_queue_by_status(gateway_client, merge_service, staff):
    token, headers = staff
    response = gateway_client.get("/api/v1/admin/merges?status=submitted", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["merges"][0] == MERGE_JSON
    call = merge_service.calls[-1]
    assert (call.method, call.request.status, call.token) == (
        "ListMerges",
        merge_pb2.MERGE_STATUS_SUBMITTED,
        token,
    )


def test_staff_list_every_merge_without_a_status(gateway_client, merge_service, staff):
    response = gateway_client.get("/api/v1/admin/merges", headers=staff[1])
    assert response.status_code == 200
    assert len(response.get_json()["merges"]) == 2
    assert merge_service.calls[-1].request.status == merge_pb2.MERGE_STATUS_UNSPECIFIED


def test_an_unknown_status_filter_answers_422(gateway_client, merge_service, staff):
    response = gateway_client.get("/api/v1/admin/merges?status=bogus", headers=staff[1])
    assert_error(response, 422, "invalid_input", "status")
    assert merge_service.calls == []


def test_approving_answers_202_with_the_merge(gateway_client, merge_service, staff):
    token, headers = staff
    response = gateway_client.post("/api/v1/admin/merges/m_1/approve", headers=headers)
    assert response.status_code == 202
    assert response.get_json() == MERGE_JSON
    call = merge_service.calls[-1]
    assert (call.method, call.request.merge_id, call.token) == ("ApproveMerge", "m_1", token)


def test_rejecting_answers_200_with_the_reason(gateway_client, merge_service, staff):
    response = gateway_client.post(
        "/api/v1/admin/merges/m_1/reject", json={"reason": "Signature missing."}, headers=staff[1]
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", "Signature missing.")
    assert merge_service.calls[-1].request.merge_id == "m_1"


def test_reversing_answers_202(gateway_client, merge_service, staff):
    response = gateway_client.post(
        "/api/v1/admin/merges/m_1/reverse", json={"reason": "Customer asked."}, headers=staff[1]
    )
    assert response.status_code == 202
    assert response.get_json()["status"] == "reversing"
    request = merge_service.calls[-1].request
    assert (request.merge_id, request.reason) == ("m_1", "Customer asked.")


@pytest.mark.parametrize("action", ["reject", "reverse"])
@pytest.mark.parametrize(
    "body",
    [{}, {"reason": ""}, {"reason": "x" * 1001}, {"reason": 5}, {"reason": "ok", "extra": 1}],
    ids=["missing", "empty", "too-long", "not-a-string", "unknown-field"],
)
def test_a_bad_reason_answers_422(action, body, gateway_client, merge_service, staff):
    response = gateway_client.post(f"/api/v1/admin/merges/m_1/{action}", json=body, headers=staff[1])
    assert_error(response, 422, "invalid_input")
    assert response.get_json()["error"]["field"] in ("reason", "extra")
    assert merge_service.calls == []


@pytest.mark.parametrize(
    "path,rpc,body,error,status,code",
    [
        ("approve", "ApproveMerge", None, Conflict("x", code="merge_not_open"), 409, "merge_not_open"),
        (
            "reject",
            "RejectMerge",
            {"reason": "r"},
            Conflict("x", code="merge_not_open"),
            409,
            "merge_not_open",
        ),
        (
            "reverse",
            "ReverseMerge",
            {"reason": "r"},
            Conflict("x", code="reversal_window_over"),
            409,
            "reversal_window_over",
        ),
        ("reverse", "ReverseMerge", {"reason": "r"}, NotFound("No such merge."), 404, "not_found"),
    ],
)
def test_errors_of_staff_actions_keep_their_status_and_code(
    path, rpc, body, error, status, code, gateway_client, merge_service, staff
):
    merge_service.on(rpc, error)
    response = gateway_client.post(f"/api/v1/admin/merges/m_1/{path}", json=body, headers=staff[1])
    assert_error(response, status, code)


def test_the_audit_shows_snapshots_steps_and_moved_records(gateway_client, merge_service, staff):
    response = gateway_client.get("/api/v1/admin/merges/m_1", headers=staff[1])
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "completed"
    assert body["completed_at"] == "2026-03-02T09:00:00+00:00"
    assert body["target_snapshot"] == {"customer_number": "100", "last_name": "Muster"}
    assert body["source_snapshot"]["iban"] == "DE12 **** 0000"
    assert body["steps"] == [
        {
            "name": "execute:transfer_packages",
            "state": "done",
            "started_at": "2026-03-02T08:59:00+00:00",
            "finished_at": "2026-03-02T08:59:01+00:00",
            "error": None,
        },
        {
            "name": "execute:retire_source",
            "state": "started",
            "started_at": "2026-03-02T08:59:02+00:00",
            "finished_at": None,
            "error": None,
        },
    ]
    assert body["moved"] == {
        "packages": ["pkg_7", "pkg_8"],
        "invoices": ["R-9"],
        "contracts": [],
        "terminations": [],
        "offer_orders": [],
        "contact_requests": [],
    }
    assert body["reversal_reason"] is None
    assert set(MERGE_JSON) <= set(body)
    assert merge_service.calls[-1].method == "GetMergeAudit"


def test_staff_download_the_legal_proof_as_a_pdf_attachment(gateway_client, merge_service, staff):
    token, headers = staff
    response = gateway_client.get("/api/v1/admin/merges/m_1/legal-proof", headers=headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "form.pdf" in response.headers["Content-Disposition"]
    assert response.data == PDF
    call = merge_service.calls[-1]
    assert (call.method, call.request.merge_id, call.token) == ("GetLegalProof", "m_1", token)


def test_a_missing_legal_proof_answers_404(gateway_client, merge_service, staff):
    merge_service.on("GetLegalProof", NotFound("No legal proof has been uploaded for this merge."))
    assert_error(
        gateway_client.get("/api/v1/admin/merges/m_1/legal-proof", headers=staff[1]), 404, "not_found"
    )


# --- who may call what ------------------------------------------------------------------------

CUSTOMER_ONLY = [
    ("POST", "/api/v1/merges", {"source_customer_number": "200", "source_password": "secret"}),
    ("GET", "/api/v1/merges", None),
    ("POST", "/api/v1/merges/m_1/take-over-data", None),
    ("POST", "/api/v1/merges/m_1/submit", None),
    ("DELETE", "/api/v1/merges/m_1", None),
    ("POST", "/api/v1/merges/m_1/legal-proof", None),
]
CUSTOMER_AND_STAFF = [("GET", "/api/v1/merges/m_1", None)]
STAFF_ONLY = [
    ("GET", "/api/v1/admin/merges", None),
    ("GET", "/api/v1/admin/merges/m_1", None),
    ("POST", "/api/v1/admin/merges/m_1/approve", None),
    ("POST", "/api/v1/admin/merges/m_1/cancel", None),
    ("POST", "/api/v1/admin/merges/m_1/reject", {"reason": "r"}),
    ("POST", "/api/v1/admin/merges/m_1/reverse", {"reason": "r"}),
    ("GET", "/api/v1/admin/merges/m_1/legal-proof", None),
]
ALL = CUSTOMER_ONLY + CUSTOMER_AND_STAFF + STAFF_ONLY


def refused(endpoints, kind):
    return [pytest.param(m, p, b, kind, id=f"{kind}-{m}-{p}") for m, p, b in endpoints]


@pytest.mark.parametrize(
    "method,path,body,kind",
    refused(ALL, "package") + refused(CUSTOMER_ONLY, "staff") + refused(STAFF_ONLY, "customer"),
)
def test_a_token_of_the_wrong_kind_answers_403(
    method, path, body, kind, gateway_client, merge_service, gateway_tokens, gateway_auth
):
    token = {
        "package": gateway_tokens.package("pkg_1"),
        "staff": gateway_tokens.staff(),
        "customer": gateway_tokens.customer("100"),
    }[kind]
    response = gateway_client.open(path, method=method, json=body, headers=gateway_auth(token))
    assert_error(response, 403, "forbidden")
    assert merge_service.calls == []


@pytest.mark.parametrize("method,path,body", ALL, ids=[f"{m}-{p}" for m, p, _ in ALL])
def test_every_merge_endpoint_answers_401_without_a_token(method, path, body, gateway_client, merge_service):
    assert_error(gateway_client.open(path, method=method, json=body), 401, "unauthenticated")
    assert merge_service.calls == []


@pytest.mark.parametrize("method,path,body", ALL, ids=[f"{m}-{p}" for m, p, _ in ALL])
def test_every_merge_endpoint_answers_503_while_merge_service_is_down(
    method, path, body, gateway_client, merge_service, gateway_tokens, gateway_auth
):
    token = gateway_tokens.staff() if "/admin/" in path else gateway_tokens.customer("100")
    merge_service.down = True
    kwargs = {"json": body}
    if path.endswith("/legal-proof") and method == "POST":
        kwargs = {"data": {"file": (io.BytesIO(PDF), "form.pdf")}, "content_type": "multipart/form-data"}
    response = gateway_client.open(path, method=method, headers=gateway_auth(token), **kwargs)
    assert_error(response, 503, "service_unavailable")
    assert "merge" in response.get_json()["error"]["message"]


def test_the_rest_of_the_gateway_works_while_merge_service_is_down(
    gateway_client, gateway_backends, merge_service, customer
):
    merge_service.down = True
    gateway_backends.contract.on(
        "GetCustomer", contract_pb2.Customer(customer_number="100", market=common_pb2.MARKET_DE)
    )
    response = gateway_client.get("/api/v1/customer", headers=customer[1])
    assert response.status_code == 200
    assert response.get_json()["customer_number"] == "100"


def test_a_chunked_upload_over_the_limit_answers_413(gateway_client, merge_service, customer):
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + b"0" * (6 * MB)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = gateway_client.post(
        "/api/v1/merges/m_1/legal-proof",
        input_stream=io.BytesIO(body),
        headers={
            **customer[1],
            "Transfer-Encoding": "chunked",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_error(response, 413, "payload_too_large")
    assert merge_service.calls == []
