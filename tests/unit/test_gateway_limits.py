"""The gateway's size limits as a client meets them: a 413 says which limit was exceeded
(1 MB of JSON, 5 MB for the signed form), a service's size refusal is a 413 too, and the
OpenAPI document names 413/414/431 where they apply."""

from __future__ import annotations

import io

import pytest
from cc_common.errors import PayloadTooLarge
from customercenter.v2 import common_pb2, merge_pb2

MB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LOGIN = "/api/v1/auth/customer-login"
PROOF = "/api/v1/merges/m_1/legal-proof"


@pytest.fixture
def customer_headers(gateway_tokens, gateway_auth):
    return gateway_auth(gateway_tokens.customer("100"))


@pytest.fixture
def merge_service(gateway_backends):
    service = gateway_backends.merge
    service.on(
        "UploadLegalProof",
        merge_pb2.Merge(
            id="m_1",
            status=merge_pb2.MERGE_STATUS_NEEDS_LEGAL_PROOF,
            market=common_pb2.MARKET_DE,
            proof_method=merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD,
        ),
    )
    return service


def too_large(response) -> str:
    assert response.status_code == 413, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large"
    return error["message"]


def test_a_json_body_over_the_limit_is_told_the_limit_of_one_megabyte(gateway_client, gateway_backends):
    body = b'{"customer_number": "1", "password": "' + b"x" * MB + b'"}'
    message = too_large(gateway_client.post(LOGIN, data=body, content_type="application/json"))
    assert "1 MB" in message and "1048576 bytes" in message
    assert gateway_backends.identity.calls == []


def test_a_chunked_json_body_over_the_limit_is_told_the_same_limit(gateway_client, gateway_backends):
    body = b'{"customer_number": "1", "password": "' + b"x" * MB + b'"}'
    response = gateway_client.post(
        LOGIN,
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert "1 MB" in too_large(response)


def test_a_signed_form_over_five_megabytes_is_told_the_limit_of_the_file(
    gateway_client, merge_service, customer_headers
):
    content = PDF + b"0" * (5 * MB)
    response = gateway_client.post(
        PROOF,
        data={"file": (io.BytesIO(content), "scan.pdf")},
        headers=customer_headers,
        content_type="multipart/form-data",
    )
    assert "5 MB" in too_large(response)
    assert merge_service.calls == []


def test_a_chunked_upload_over_the_limit_is_told_the_limit_of_the_file(
    gateway_client, merge_service, customer_headers
):
    boundary = "b0undary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + b"0" * (6 * MB)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = gateway_client.post(
        PROOF,
        input_stream=io.BytesIO(body),
        headers={
            **customer_headers,
            "Transfer-Encoding": "chunked",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert "5 MB" in too_large(response)
    assert merge_service.calls == []


def test_a_size_refusal_of_merge_service_answers_413_not_429(gateway_client, merge_service, customer_headers):
    merge_service.on("UploadLegalProof", PayloadTooLarge("The request is larger than the service accepts."))
    response = gateway_client.post(
        PROOF,
        data={"file": (io.BytesIO(PDF), "scan.pdf")},
        headers=customer_headers,
        content_type="multipart/form-data",
    )
    assert too_large(response) == "The request is larger than the service accepts."
    assert "Retry-After" not in response.headers


def test_every_api_operation_documents_414_and_431(gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations
    for operation in operations:
        assert {"414", "431"} <= set(operation["responses"]), operation["summary"]
    assert "uri_too_long" in operations[0]["responses"]["414"]["description"]


def test_the_document_names_the_limits_and_the_closed_connection(gateway_client):
    document = gateway_client.get("/api/openapi.json").get_json()
    assert "Connection: close" in document["info"]["description"]
    proof = document["paths"]["/api/v1/merges/{merge_id}/legal-proof"]["post"]["responses"]["413"]
    assert "5 MB" in proof["description"]
    login = document["paths"][LOGIN]["post"]["responses"]["413"]
    assert "1 MB" in login["description"]
