"""Every registered operation answers what the generated OpenAPI document says: each is called
through the unit test client with fake backends answering realistic messages, and its status
and JSON body are checked against the document with jsonschema (answers and errors alike)."""

from __future__ import annotations

import re

import pytest
from cc_common.protoconv import parse_timestamp
from customercenter.v2 import common_pb2, contract_pb2, identity_pb2, merge_pb2, package_pb2
from jsonschema import Draft202012Validator

PACKAGE = package_pb2.Package(
    id="pkg_1", customer_number="100", product="hosting-basic", product_name="Hosting Basic", max_domains=3,
    domains=["example.com", "example.org"], status=package_pb2.PACKAGE_STATUS_ACTIVE, created_at=parse_timestamp("2026-01-01T09:00:00+00:00"), storage_used_gb=1,
)  # fmt: skip
MERGE = merge_pb2.Merge(
    id="m_1", target_customer_number="100", source_customer_number="200", status=merge_pb2.MERGE_STATUS_READY, market=common_pb2.MARKET_DE,
    comparison=[merge_pb2.ComparisonRow(field="phone", target_value="1", source_value="", result=merge_pb2.COMPARISON_RESULT_DIFFERS)],
    proof_method=merge_pb2.PROOF_METHOD_CUSTOMER_PASSWORD, created_at=parse_timestamp("2026-03-01T10:00:00+00:00"),
    updated_at=parse_timestamp("2026-03-01T10:00:00+00:00"),
)  # fmt: skip
CUSTOMER = contract_pb2.Customer(
    customer_number="100", market=common_pb2.MARKET_DE, first_name="Max", last_name="Muster", email="m@example.com",
    status=common_pb2.CUSTOMER_STATUS_ACTIVE, payment=contract_pb2.Payment(method=contract_pb2.PAYMENT_METHOD_SEPA, iban_masked="DE89 **** 3000", bic="COBADEFFXXX"),
)  # fmt: skip
INVOICE = contract_pb2.Invoice(
    number="RE00000001",
    date="2026-01-31",
    amount_cents=1250,
    currency="EUR",
    status=contract_pb2.INVOICE_STATUS_OPEN,
)
TERMINATION = contract_pb2.Termination(
    id="trm_1", package_id="pkg_1", domain="b.de", product="hosting-basic", contract_id="ctr_1",
    effective_date="2026-12-31", status=contract_pb2.TERMINATION_STATUS_OPEN,
    created_at=parse_timestamp("2026-03-01T10:00:00+00:00"),
)  # fmt: skip
ADDON = package_pb2.Addon(id="add_1", package_id="pkg_1", kind=package_pb2.ADDON_KIND_DATABASE, monthly_price_cents=149,
                          currency="EUR", status=package_pb2.ADDON_STATUS_TERMINATED, ends_at="2026-12-31",
                          ordered_at=parse_timestamp("2026-01-01T09:00:00+00:00"))  # fmt: skip
PDF = contract_pb2.Document(filename="x.pdf", content_type="application/pdf", content=b"%PDF-1.7 test")
COLLECTION = contract_pb2.DirectDebitCollection(
    id="dd_1", created_at=parse_timestamp("2026-12-02T10:00:00+00:00"), collection_date="2026-12-04",
    items=[contract_pb2.DirectDebitItem(invoice_number="RE00000001", customer_number="100", amount_cents=1250, currency="EUR",
                                        iban_masked="DE89 **** **** **** **30 00", mandate_id="CC-100")],
)  # fmt: skip
OFFER = contract_pb2.Offer(id="off_1", product="hosting-plus", price_cents=499, currency="EUR", markets=[common_pb2.MARKET_DE],
                           valid_from="2026-12-01", valid_until="2026-12-31")  # fmt: skip
CONTACT = contract_pb2.ContactRequest(id="cr_1", customer_number="100", subject="Hello", message="A question",
                                      created_at=parse_timestamp("2026-12-02T10:00:00+00:00"))  # fmt: skip
LOGIN = identity_pb2.LoginResult(subject="customer:100", generation=1)
SESSION = identity_pb2.Session(
    id="ses_0f3c9a6e1b2d4c5e6f7a8b9c", kind=identity_pb2.SESSION_KIND_CUSTOMER, created_at=parse_timestamp("2026-12-02T09:00:00+00:00"),
    last_used_at=parse_timestamp("2026-12-02T09:01:00+00:00"), client_address="192.0.2.7", user_agent="Firefox", current=True,
)  # fmt: skip
ATTEMPT = identity_pb2.LoginAttempt(
    at=parse_timestamp("2026-12-02T09:00:00+00:00"), client_address="192.0.2.7", user_agent="Firefox", success=False,
    method=identity_pb2.LOGIN_METHOD_PASSWORD,
)  # fmt: skip
REPLIES = {
    "identity": {
        "CustomerLogin": LOGIN,
        "PackageLogin": identity_pb2.LoginResult(subject="package:pkg_1", generation=1),
        "StaffLogin": identity_pb2.LoginResult(subject="staff:staff", generation=1),
        "RevokeOwnToken": identity_pb2.RevocationResult(),
        "RevokeSubject": identity_pb2.RevocationResult(),
        "RequestPasswordReset": lambda req, token: None,
        "ConfirmPasswordReset": identity_pb2.RevocationResult(),
        "ChangeCustomerPassword": identity_pb2.RevocationResult(),
        "SetCustomerPassword": lambda req, token: None,
        "SetPackagePassword": lambda req, token: None,
        "ListSessions": identity_pb2.ListSessionsResponse(sessions=[SESSION]),
        "EndSession": identity_pb2.RevocationResult(sequence=7),
        "EndOtherSessions": identity_pb2.RevocationResult(sequence=8),
        "ListLoginHistory": identity_pb2.ListLoginHistoryResponse(logins=[ATTEMPT]),
        "CompleteSecondFactor": identity_pb2.CompleteSecondFactorResponse(
            login=LOGIN, method=identity_pb2.LOGIN_METHOD_SECOND_FACTOR
        ),
        "StartSecondFactor": identity_pb2.StartSecondFactorResponse(
            secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            otpauth_uri="otpauth://totp/x?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        ),
        "ConfirmSecondFactor": identity_pb2.ConfirmSecondFactorResponse(
            recovery_codes=["k7q2x-mf3ab-9zt4p-wd6ns-c"] * 10
        ),
        "DisableSecondFactor": identity_pb2.DisableSecondFactorResponse(),
    },
    "contract": {
        "GetCustomer": CUSTOMER,
        "CreateCustomer": CUSTOMER,
        "UpdateCustomer": CUSTOMER,
        "RestoreCustomerEmail": CUSTOMER,
        "SetPayment": CUSTOMER,
        "CreateContract": contract_pb2.Contract(
            id="ctr_1",
            package_id="pkg_1",
            product="hosting-basic",
            status=contract_pb2.CONTRACT_STATUS_ACTIVE,
        ),
        "ChangeContractProduct": contract_pb2.ChangeContractProductResponse(),
        "ListContracts": contract_pb2.ListContractsResponse(
            contracts=[
                contract_pb2.Contract(
                    id="ctr_1",
                    package_id="pkg_1",
                    product="hosting-basic",
                    start_date="2026-01-01",
                    term_months=12,
                    current_term_end="2026-12-31",
                    status=contract_pb2.CONTRACT_STATUS_ACTIVE,
                    created_at=parse_timestamp("2026-01-01T09:00:00+00:00"),
                )
            ]
        ),  # fmt: skip
        "CreateInvoice": INVOICE,
        "ListInvoices": contract_pb2.ListInvoicesResponse(invoices=[INVOICE]),
        "GetInvoicePdf": PDF,
        "RepeatDebit": contract_pb2.RepeatDebitResponse(
            invoice_number="RE00000001",
            requested_at=parse_timestamp("2026-02-01T09:00:00+00:00"),
            status=contract_pb2.DEBIT_REQUEST_STATUS_REQUESTED,
        ),
        "CreateTermination": TERMINATION,
        "ListTerminations": contract_pb2.ListTerminationsResponse(terminations=[TERMINATION]),
        "RetractTermination": TERMINATION,
        "ListForms": contract_pb2.ListFormsResponse(
            forms=[
                contract_pb2.Form(
                    id="contract_transfer",
                    title="Transfer",
                    description="d",
                    mode=contract_pb2.FORM_MODE_WRITTEN,
                    has_pdf=True,
                ),
                contract_pb2.Form(
                    id="merge",
                    title="Merge",
                    description="d",
                    mode=contract_pb2.FORM_MODE_ONLINE,
                    endpoint="POST /api/v1/merges",
                ),
            ]
        ),
        "GetFormPdf": PDF,
        "CreateDirectDebitCollection": COLLECTION,
        "ListDirectDebitCollections": contract_pb2.ListDirectDebitCollectionsResponse(
            collections=[COLLECTION]
        ),
        "GetDirectDebitFile": contract_pb2.Document(
            filename="dd_1.xml", content_type="application/xml", content=b"<?xml version='1.0'?><Document/>"
        ),
        "MarkInvoicePaid": INVOICE,
        "MarkInvoiceReturned": INVOICE,
        "CreateOffer": OFFER,
        "ListOffers": contract_pb2.ListOffersResponse(offers=[OFFER]),
        "ListCurrentOffers": contract_pb2.ListCurrentOffersResponse(offers=[OFFER]),
        "OrderOffer": contract_pb2.OrderOfferResponse(
            offer_id="off_1", package_id="pkg_1", product="hosting-plus", price_cents=499, currency="EUR"
        ),
        "CreateContactRequest": CONTACT,
        "ListContactRequests": contract_pb2.ListContactRequestsResponse(requests=[CONTACT]),
        "GetContactAttachment": PDF,
        "AnswerContactRequest": contract_pb2.ContactRequest(
            id="cr_1",
            customer_number="100",
            subject="Hello",
            message="A question",
            created_at=parse_timestamp("2026-12-02T10:00:00+00:00"),
            status=contract_pb2.CONTACT_REQUEST_STATUS_ANSWERED,
            answer="Our answer",
            answered_at=parse_timestamp("2026-12-02T11:00:00+00:00"),
        ),
        "ListCustomerRecords": contract_pb2.ListCustomerRecordsResponse(
            debit_requests=[
                contract_pb2.DebitRequest(
                    invoice_number="RE00000001",
                    status=contract_pb2.DEBIT_REQUEST_STATUS_PAID,
                    requested_at=parse_timestamp("2026-02-01T09:00:00+00:00"),
                )
            ],
            offer_orders=[
                contract_pb2.OfferOrder(
                    offer_id="off_1",
                    package_id="pkg_1",
                    product="hosting-plus",
                    price_cents=499,
                    currency="EUR",
                    ordered_at=parse_timestamp("2026-12-02T10:00:00+00:00"),
                )
            ],
            contact_requests=[CONTACT],
        ),  # fmt: skip
    },
    "package": {
        "ResolveDomain": PACKAGE,
        "GetPackage": PACKAGE,
        "ListPackages": package_pb2.ListPackagesResponse(packages=[PACKAGE]),
        "CreatePackage": PACKAGE,
        "SetUsage": PACKAGE,
        "ListProducts": package_pb2.ListProductsResponse(
            products=[
                package_pb2.Product(
                    code="hosting-basic",
                    name="Hosting Basic",
                    rank=1,
                    max_domains=3,
                    storage_gb=10,
                    mailboxes=5,
                    databases=1,
                    prices=[
                        package_pb2.ProductPrice(
                            market=common_pb2.MARKET_DE, monthly_price_cents=499, currency="EUR"
                        )
                    ],
                )
            ]
        ),  # fmt: skip
        "ChangeProduct": package_pb2.ChangeProductResponse(
            package=PACKAGE, direction=package_pb2.CHANGE_DIRECTION_UPGRADE, from_product="hosting-start"
        ),
        "MoveDomain": package_pb2.MoveDomainResponse(source=PACKAGE, target=PACKAGE, created=True),
        "GetSettings": package_pb2.PackageSettings(package_id="pkg_1", settings={"php_version": "8.3"}),
        "UpdateSettings": package_pb2.PackageSettings(package_id="pkg_1", settings={"php_version": "8.3"}),
        "ListAddons": package_pb2.ListAddonsResponse(
            addons=[ADDON],
            available=[
                package_pb2.AddonOffer(
                    kind=package_pb2.ADDON_KIND_DATABASE,
                    name="Additional database",
                    databases=1,
                    prices=[
                        package_pb2.ProductPrice(
                            market=common_pb2.MARKET_DE, monthly_price_cents=149, currency="EUR"
                        )
                    ],
                )
            ],
        ),  # fmt: skip
        "OrderAddon": package_pb2.OrderAddonResponse(addon=ADDON),
        "SetAddonEnd": package_pb2.SetAddonEndResponse(addon=ADDON),
    },
    "merge": {
        **dict.fromkeys(
            (
                "StartMerge",
                "GetMerge",
                "TakeOverData",
                "RefreshComparison",
                "SubmitMerge",
                "CancelMerge",
                "UploadLegalProof",
                "ApproveMerge",
                "RejectMerge",
                "ReverseMerge",
                "ObjectToMerge",
                "ObjectMerge",
                "ConfirmMerge",
            ),
            MERGE,
        ),  # fmt: skip
        "ListMerges": merge_pb2.ListMergesResponse(merges=[MERGE]),
        "GetLegalProof": merge_pb2.GetLegalProofResponse(filename="proof.pdf", content=b"%PDF-1.7 proof"),
        "GetMergeAudit": merge_pb2.GetMergeAuditResponse(
            merge=MERGE,
            target_snapshot_json='{"last_name": "Muster"}',
            steps=[merge_pb2.MergeStep(name="execute:freeze", state=merge_pb2.MERGE_STEP_STATE_DONE)],
            moved=[merge_pb2.MovedRecords(kind=common_pb2.RECORD_KIND_PACKAGES, ids=["pkg_9"])],
        ),
    },
}
# Path values that the views accept, by parameter name.
VALUES = {
    "package_id": "pkg_1", "merge_id": "m_1", "number": "100", "termination_id": "trm_1", "form_id": "contract_transfer",
    "offer_id": "off_1", "collection_id": "dd_1", "request_id": "cr_1", "session_id": "ses_0f3c9a6e1b2d4c5e6f7a8b9c",
}  # fmt: skip
PATH_VALUES = {"/api/v1/invoices/{number}": "RE00000001"}


@pytest.fixture
def document(gateway_client):
    return gateway_client.get("/api/openapi.json").get_json()


@pytest.fixture
def answering(gateway_backends):
    for name, replies in REPLIES.items():
        for method, reply in replies.items():
            getattr(gateway_backends, name).on(method, reply)
    return gateway_backends


def operations(document):
    return [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]


def validator(document, schema):
    return Draft202012Validator({"allOf": [schema], "components": document["components"]})


def concrete(path):
    value = next((v for prefix, v in PATH_VALUES.items() if path.startswith(prefix)), None)
    return re.sub(r"\{([^}]+)\}", lambda m: value or VALUES[m.group(1)], path)


def call(client, tokens, auth, path, method, op):
    kinds = [next(iter(s)).removesuffix("Token") for s in op["security"]]
    headers = {}
    if kinds:
        token = {
            "customer": tokens.customer("100"),
            "package": tokens.package("pkg_1"),
            "staff": tokens.staff(),
        }
        headers = auth(token[kinds[0]])
    kwargs = {}
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        kwargs["json"] = content["application/json"]["example"]
    elif "multipart/form-data" in content:
        import io

        fields = {k: v for k, v in content["multipart/form-data"]["example"].items() if k != "file"}
        kwargs["data"] = {**fields, "file": (io.BytesIO(b"%PDF-1.7 signed"), "form.pdf", "application/pdf")}
    return client.open(concrete(path), method=method.upper(), headers=headers, **kwargs)


def check_answer(document, op, response, label):
    responses = op["responses"]
    assert str(response.status_code) in responses, (
        label,
        response.status_code,
        response.get_data(as_text=True),
    )
    documented = responses[str(response.status_code)]
    if "application/json" in documented.get("content", {}):
        assert response.mimetype == "application/json", label
        schema = documented["content"]["application/json"]["schema"]
        errors = list(validator(document, schema).iter_errors(response.get_json()))
        assert not errors, (label, [e.message for e in errors])
    elif "application/pdf" in documented.get("content", {}):
        assert response.mimetype == "application/pdf", label
    elif "application/xml" in documented.get("content", {}):
        assert response.mimetype == "application/xml", label
    else:
        assert response.get_data() == b"", label


def test_every_operation_answers_its_documented_status_and_schema(
    document, answering, gateway_client, gateway_tokens, gateway_auth
):
    assert len(operations(document)) >= 50
    for path, method, op in operations(document):
        response = call(gateway_client, gateway_tokens, gateway_auth, path, method, op)
        assert response.status_code < 300, (path, method, response.get_data(as_text=True))
        check_answer(document, op, response, (path, method))


def test_every_protected_operation_answers_a_documented_401_without_a_token(
    document, answering, gateway_client
):
    for path, method, op in operations(document):
        if op["security"]:
            response = gateway_client.open(concrete(path), method=method.upper())
            assert response.status_code == 401, (path, method)
            check_answer(document, op, response, (path, method))


def test_every_body_refusal_is_a_documented_error(
    document, answering, gateway_client, gateway_tokens, gateway_auth
):
    for path, method, op in operations(document):
        if "application/json" not in op.get("requestBody", {}).get("content", {}):
            continue
        bad = {**op, "requestBody": {"content": {"application/json": {"example": {"unknown_field": 1}}}}}
        response = call(gateway_client, gateway_tokens, gateway_auth, path, method, bad)
        assert response.status_code == 422, (path, method)
        assert response.get_json()["error"]["field"] == "unknown_field"
        check_answer(document, op, response, (path, method))


def test_a_down_service_is_a_documented_503(
    document, answering, gateway_client, gateway_tokens, gateway_auth
):
    for service in answering.by_name().values():
        service.down = True
    for path, method, op in operations(document):
        response = call(gateway_client, gateway_tokens, gateway_auth, path, method, op)
        if response.status_code == 503:
            assert "503" in op["responses"], (path, method)
            check_answer(document, op, response, (path, method))


def test_every_operation_has_an_id_tags_examples_and_its_error_responses(document):
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids)) and all(ids)
    for path, method, op in operations(document):
        label = (path, method)
        assert op["tags"] and op["summary"], label
        codes = set(op["responses"])
        assert {"414", "431"} <= codes, label
        if op["security"]:
            assert {"401", "403", "503"} <= codes, label
        content = op.get("requestBody", {}).get("content", {})
        if content:
            assert {"400", "413", "422"} <= codes, label
            assert all(media.get("example") for media in content.values()), label
        for code, answer in op["responses"].items():
            media = answer.get("content", {}).get("application/json")
            if code.startswith(("4", "5")) and code != "503" or (code == "503" and path != "/healthz"):
                assert media["schema"] == {"$ref": "#/components/schemas/Error"}, label
            elif media and path != "/api/openapi.json":
                assert "example" in media, (label, code)


def test_every_example_is_valid_against_its_schema(document):
    for path, method, op in operations(document):
        content = {**op.get("requestBody", {}).get("content", {})}
        for answer in op["responses"].values():
            content.update({f"{k} answer": v for k, v in answer.get("content", {}).items()})
        for kind, media in content.items():
            if "example" in media and "json" in kind:
                errors = list(validator(document, media["schema"]).iter_errors(media["example"]))
                assert not errors, (path, method, kind, [e.message for e in errors])


@pytest.mark.parametrize(
    "raw", [b'{"settings": {"\\udfff": "x"}}', b'{"settings": {"php_version": "8\\ud800"}}']
)
def test_a_lone_surrogate_in_a_settings_key_or_value_is_422_not_500(
    raw, answering, gateway_client, gateway_tokens, gateway_auth
):
    response = gateway_client.patch(
        "/api/v1/packages/pkg_1/settings", data=raw, content_type="application/json",
        headers=gateway_auth(gateway_tokens.customer("100")),
    )  # fmt: skip
    assert response.status_code == 422
    assert response.get_json()["error"] == {
        "code": "invalid_input", "message": "settings must be valid Unicode text.", "field": "settings",
    }  # fmt: skip
    assert "UpdateSettings" not in answering.package.methods_called()


def test_a_product_change_answer_is_the_package_with_direction_and_from_product(document):
    schema = document["components"]["schemas"]["ProductChange"]
    assert "allOf" not in schema and schema["additionalProperties"] is False
    assert {"id", "domains", "usage", "direction", "from_product"} <= set(schema["properties"])


def mutations(example):
    """Bodies near a valid example: each field left out, null, of another type, empty, overlong,
    padded with space or holding NUL."""
    for name, value in example.items():
        yield name, {k: v for k, v in example.items() if k != name}
        for other in (None, 12345, True, 1.5, "", "x" * 1001, "a\x00b", [], {}, [value], f" {value} "):
            if other != value:
                yield name, {**example, name: other}


def test_each_documented_request_schema_is_exactly_as_strict_as_the_gateway(
    document, answering, gateway_client, gateway_tokens, gateway_auth
):
    """A body the gateway refuses as invalid_input is invalid by the document, and one it takes is
    valid by it (schema-based clients and fuzzers see the real rules)."""
    looser, stricter = [], []
    for path, method, op in operations(document):
        media = op.get("requestBody", {}).get("content", {}).get("application/json")
        if media is None:
            continue
        check = validator(document, media["schema"])
        for name, body in mutations(media["example"]):
            bad = {**op, "requestBody": {"content": {"application/json": {"example": body}}}}
            response = call(gateway_client, gateway_tokens, gateway_auth, path, method, bad)
            refused = response.status_code == 422 and response.get_json()["error"]["code"] == "invalid_input"
            if refused and check.is_valid(body):
                looser.append((method, path, name, body))
            elif response.status_code < 300 and not check.is_valid(body):
                stricter.append((method, path, name, body))
    assert not looser and not stricter, (looser, stricter)
