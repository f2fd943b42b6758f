"""The gRPC adapter of `Backends`: merge-service calling identity, contract and package
services with its service credential and a deadline on every call. The protos' enums are
mapped to the domain's names here (cc_common.protoconv)."""

from __future__ import annotations

from cc_common.config import GrpcTls
from cc_common.errors import NotFound, Unauthenticated
from cc_common.grpc_client import ServiceClient, make_channel
from cc_common.protoconv import enum_name, enum_value
from cc_common.tokens import ServiceCredential
from customercenter.v2 import (
    common_pb2,
    contract_pb2,
    contract_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    package_pb2,
    package_pb2_grpc,
)

# The absorbed number has a second factor and the merge start gave no code of it (401).
SECOND_FACTOR_REQUIRED = "second_factor_required"


def _moved(
    result: package_pb2.TransferPackagesResponse | contract_pb2.TransferContractsResponse,
) -> dict[str, list[str]]:
    return {enum_name(common_pb2.RecordKind, r.kind): list(r.ids) for r in result.moved}


class GrpcBackends:
    def __init__(
        self,
        *,
        identity_addr: str,
        contract_addr: str,
        package_addr: str,
        credential: ServiceCredential,
        timeout: float,
        tls: GrpcTls | None = None,
    ) -> None:
        token = credential.token  # service:merge, signed with merge-service's own key
        self.identity = ServiceClient(
            "identity service",
            make_channel(identity_addr, tls),
            identity_pb2_grpc.IdentityServiceStub,
            service_token=token,
            timeout=timeout,
        )
        self.contract = ServiceClient(
            "contract service",
            make_channel(contract_addr, tls),
            contract_pb2_grpc.ContractServiceStub,
            service_token=token,
            timeout=timeout,
        )
        self.package = ServiceClient(
            "package service",
            make_channel(package_addr, tls),
            package_pb2_grpc.PackageServiceStub,
            service_token=token,
            timeout=timeout,
        )
        # Moving 10,000 records takes well under a second, but give transfers room.
        self._transfer_timeout = max(timeout, 60.0)

    def verify_customer_password(
        self, *, customer_number: str, password: str, client_address: str, second_factor_code: str = ""
    ) -> None:
        answer = self.identity.invoke(
            self.identity.stub.CustomerLogin,
            identity_pb2.CustomerLoginRequest(
                customer_number=customer_number, password=password, client_address=client_address
            ),
        )
        if not answer.HasField("second_factor"):
            return
        # The number has a second factor: the proof needs its code too (spent like at a login).
        if not second_factor_code:
            raise Unauthenticated(
                "This customer number has two-factor authentication: give a code of it "
                "(second_factor_code) with its password.",
                code=SECOND_FACTOR_REQUIRED,
                field="second_factor_code",
            )
        self.identity.invoke(
            self.identity.stub.CompleteSecondFactor,
            identity_pb2.CompleteSecondFactorRequest(
                challenge=answer.second_factor.challenge,
                code=second_factor_code,
                client_address=client_address,
            ),
        )

    def verify_domain_password(
        self, *, customer_number: str, domain: str, password: str, client_address: str
    ) -> None:
        package_id = ""
        try:
            request = package_pb2.ResolveDomainRequest(domain=domain)
            package = self.package.invoke(self.package.stub.ResolveDomain, request).package
            if package.customer_number == customer_number:
                package_id = package.id
        except NotFound:
            pass
        except Exception as exc:  # an invalid domain is a wrong proof, nothing more
            if getattr(exc, "code", "") != "invalid_input":
                raise
        # An unknown domain or one of another customer still costs one hash (package_id "").
        self.identity.invoke(
            self.identity.stub.PackageLogin,
            identity_pb2.PackageLoginRequest(
                domain=domain.strip().lower(),
                package_id=package_id,
                password=password,
                client_address=client_address,
            ),
        )
        if not package_id:  # pragma: no cover - identity already refused an empty package id
            raise Unauthenticated("The details are not correct.", code="invalid_credentials")

    def customer_snapshot(self, customer_number: str) -> dict[str, str]:
        snap = self.contract.invoke(
            self.contract.stub.GetCustomerSnapshot,
            contract_pb2.GetCustomerSnapshotRequest(customer_number=customer_number),
        )
        c = snap.customer
        return {
            "customer_number": c.customer_number,
            "market": enum_name(common_pb2.Market, c.market),
            "status": enum_name(common_pb2.CustomerStatus, c.status),
            "merged_into": c.merged_into,
            "company": c.company,
            "first_name": c.first_name,
            "last_name": c.last_name,
            "street": c.street,
            "zip": c.zip,
            "city": c.city,
            "country": c.country,
            "phone": c.phone,
            "mobile": c.mobile,
            "fax": c.fax,
            "email": c.email,
            "language": c.language,
            "iban": snap.iban,
            "bic": c.payment.bic,
            "card_last4": c.payment.card_last4,
            "card_expiry": c.payment.card_expiry,
        }

    def set_customer_status(
        self, *, merge_id: str, customer_numbers: list[str], status: str, merged_into: str = ""
    ) -> None:
        self.contract.invoke(
            self.contract.stub.SetCustomerStatus,
            contract_pb2.ContractServiceSetCustomerStatusRequest(
                merge_id=merge_id,
                customer_numbers=customer_numbers,
                status=enum_value(common_pb2.CustomerStatus, status),
                merged_into=merged_into,
            ),
        )

    def transfer_packages(
        self, *, merge_id: str, source: str, target: str, reverse: bool
    ) -> dict[str, list[str]]:
        request = package_pb2.TransferPackagesRequest(
            merge_id=merge_id, source_customer_number=source, target_customer_number=target, reverse=reverse
        )
        return _moved(
            self.package.invoke(self.package.stub.TransferPackages, request, timeout=self._transfer_timeout)
        )

    def transfer_contracts(
        self, *, merge_id: str, source: str, target: str, reverse: bool
    ) -> dict[str, list[str]]:
        request = contract_pb2.TransferContractsRequest(
            merge_id=merge_id, source_customer_number=source, target_customer_number=target, reverse=reverse
        )
        return _moved(
            self.contract.invoke(
                self.contract.stub.TransferContracts, request, timeout=self._transfer_timeout
            )
        )

    def retire_credentials(self, *, merge_id: str, source: str, target: str) -> None:
        self.identity.invoke(
            self.identity.stub.SetCustomerStatus,
            identity_pb2.IdentityServiceSetCustomerStatusRequest(
                merge_id=merge_id,
                customer_numbers=[source],
                status=common_pb2.CUSTOMER_STATUS_RETIRED,
                merged_into=target,
            ),
        )

    def restore_credentials(self, *, merge_id: str, source: str) -> None:
        self.identity.invoke(
            self.identity.stub.SetCustomerStatus,
            identity_pb2.IdentityServiceSetCustomerStatusRequest(
                merge_id=merge_id, customer_numbers=[source], status=common_pb2.CUSTOMER_STATUS_ACTIVE
            ),
        )
