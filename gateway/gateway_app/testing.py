"""Fakes of the backend services for the gateway's unit tests (no network; never in production).

A FakeService answers `invoke(fake.stub.Method, request, token=...)` from a table of handlers
(by method name), records every call, and can be switched "down" so each call raises
ServiceUnavailable, as a real ServiceClient does when its service does not answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cc_common.errors import DomainError, ServiceUnavailable
from customercenter.v2 import contract_pb2, identity_pb2, merge_pb2, package_pb2
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from gateway_app.backends import Backends

_SERVICES = {
    "identity": identity_pb2.DESCRIPTOR.services_by_name["IdentityService"],
    "contract": contract_pb2.DESCRIPTOR.services_by_name["ContractService"],
    "package": package_pb2.DESCRIPTOR.services_by_name["PackageService"],
    "merge": merge_pb2.DESCRIPTOR.services_by_name["MergeService"],
}


def as_response(service: str, method: str, answer: Any) -> Any:
    """`answer` as the RPC's response: as it is when it has that type (or is no message), else
    wrapped in the response's one field of the answer's type (a Customer in GetCustomerResponse's
    `customer`), as the real service does, so the gateway's unwrapping is exercised."""
    descriptor = _SERVICES.get(service)
    if descriptor is None or method not in descriptor.methods_by_name or not isinstance(answer, Message):
        return answer
    output = descriptor.methods_by_name[method].output_type
    if answer.DESCRIPTOR is output:
        return answer
    response = GetMessageClass(output)
    if not output.fields and not answer.ListFields():
        return response()
    fields = [f for f in output.fields if f.message_type is answer.DESCRIPTOR]
    if len(fields) != 1:  # the one field of the answer's type (others keep their defaults)
        raise AssertionError(f"{service}.{method} answers {output.name}, not {answer.DESCRIPTOR.name}")
    return response(**{fields[0].name: answer})


@dataclass
class Call:
    method: str
    request: Any
    token: str | None


@dataclass
class FakeService:
    name: str
    handlers: dict[str, Callable[[Any, str | None], Any] | Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    down: bool = False
    healthy: bool = True

    def on(self, method: str, answer: Callable[[Any, str | None], Any] | Any) -> None:
        """`answer` is a reply message, a DomainError to raise, or a function (request, token)."""
        self.handlers[method] = answer

    @property
    def stub(self) -> Any:  # stands in for the stub of any service
        return _FakeStub(self)

    def invoke(self, method: Callable[..., Any], request: Any, *, token: str | None = None) -> Any:
        return method(request, token)

    def answer(self, method: str, request: Any, token: str | None) -> Any:
        self.calls.append(Call(method, request, token))
        if self.down:
            raise ServiceUnavailable(
                f"The {self.name} is not available at the moment.", extra={"service": self.name}
            )
        if method not in self.handlers:
            raise AssertionError(f"unexpected call {self.name}.{method}")
        answer = self.handlers[method]
        if isinstance(answer, DomainError):
            raise answer
        if callable(answer):
            answer = answer(request, token)
        return as_response(self.name, method, answer)

    def serving(self, timeout: float = 1.0) -> bool:
        return self.healthy and not self.down

    def methods_called(self) -> list[str]:
        return [call.method for call in self.calls]


class _FakeStub:
    """`fake.stub.GetCustomer` like a real stub's method, answered by the fake's table."""

    def __init__(self, service: FakeService) -> None:
        self._service = service

    def __getattr__(self, method: str) -> Callable[[Any, str | None], Any]:
        return lambda request, token: self._service.answer(method, request, token)


def fake_backends() -> Backends:
    return Backends(
        identity=FakeService("identity"),
        contract=FakeService("contract"),
        package=FakeService("package"),
        merge=FakeService("merge"),
    )
