"""The merge invariants, checked against the real services (gRPC, staff credential):

- every package and invoice has exactly one owner, and that owner is an active number;
- nothing is lost or duplicated: the counts of records over the numbers involved are what
  they were before;
- a retired number owns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc
from cc_common.protoconv import enum_name
from cc_common.testing import TokenFactory, metadata
from customercenter.v2 import common_pb2, contract_pb2, contract_pb2_grpc, package_pb2, package_pb2_grpc


@dataclass(frozen=True)
class Holdings:
    packages: dict[str, list[str]]  # owner -> package ids
    invoices: dict[str, list[str]]  # owner -> invoice numbers
    statuses: dict[str, str]

    @property
    def package_count(self) -> int:
        return sum(len(v) for v in self.packages.values())

    @property
    def invoice_count(self) -> int:
        return sum(len(v) for v in self.invoices.values())


def holdings(suite, numbers: list[str]) -> Holdings:
    tokens = TokenFactory(suite.token_settings)
    staff = metadata(tokens.staff("invariants"))
    package = package_pb2_grpc.PackageServiceStub(grpc.insecure_channel(suite.addresses["package"]))
    contract = contract_pb2_grpc.ContractServiceStub(grpc.insecure_channel(suite.addresses["contract"]))
    packages, invoices, statuses = {}, {}, {}
    for number in numbers:
        listed = package.ListPackages(
            package_pb2.ListPackagesRequest(customer_number=number), metadata=staff, timeout=30
        )
        packages[number] = [p.id for p in listed.packages]
        bills = contract.ListInvoices(
            contract_pb2.ListInvoicesRequest(customer_number=number), metadata=staff, timeout=30
        )
        invoices[number] = [i.number for i in bills.invoices]
        statuses[number] = contract.GetCustomer(
            contract_pb2.GetCustomerRequest(customer_number=number), metadata=staff, timeout=30
        ).customer.status
        statuses[number] = enum_name(common_pb2.CustomerStatus, statuses[number])
    return Holdings(packages, invoices, statuses)


def check_invariants(suite, numbers: list[str], before: Holdings) -> Holdings:
    after = holdings(suite, numbers)
    for kind in ("packages", "invoices"):
        owned = getattr(after, kind)
        every = [record for records in owned.values() for record in records]
        assert len(every) == len(set(every)), f"a {kind[:-1]} has two owners: {owned}"
        was = {record for records in getattr(before, kind).values() for record in records}
        assert set(every) == was, f"{kind} lost or added: before {sorted(was)}, after {sorted(every)}"
        for owner, records in owned.items():
            if records:
                assert after.statuses[owner] == "active", (
                    f"{owner} is {after.statuses[owner]} but owns {kind}"
                )
    for number, status in after.statuses.items():
        if status == "retired":
            assert not after.packages[number] and not after.invoices[number], f"retired {number} owns records"
    return after
