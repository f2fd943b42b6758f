"""Fakes of the backend services for the gateway's unit tests (no network).

A FakeService answers `invoke(fake.stub.Method, request, token=...)` from a table of handlers
(by method name), records
every call, and can be switched "down" so each call raises ServiceUnavailable, as a real
ServiceClient does when its service does not answer. Nothing here is used in production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cc_common.errors import DomainError, ServiceUnavailable

from gateway_app.backends import Backends


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

    def invoke(
        self, method: Callable[..., Any], request: Any, *, token: str | None = None, timeout: float | None = None
    ) -> Any:
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
            return answer(request, token)
        return answer

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
