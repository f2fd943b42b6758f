"""Terminations take effect: on its effective date a termination is carried out (the contract
of a terminated package ends) and the customer is told. Safe with several copies: each
termination is claimed in its own transaction (on PostgreSQL rows another copy holds are
skipped) and moved from open to done by a compare-and-set, so each is carried out once.

Then the other services follow (`apply_carried_out`): package-service ends the package (or the
domain leaves it, or the add-on ends) and identity-service revokes a terminated package's logins, through the
`PackageEnds` port. Both calls are idempotent; a termination whose calls failed (a service
down) is tried again at the next run, so it is followed at least once and its effect once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Protocol

from cc_common.errors import DomainError

from contract_service.domain import model, termination_notices
from contract_service.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class PackageEnds(Protocol):
    """What the other services do when a termination took effect."""

    def end(self, *, package_id: str, domain: str, addon_id: str = "", day: date | None = None) -> None: ...


def carry_out_due(
    *,
    uow_factory: Callable[[], UnitOfWork],
    today: date | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> list[model.Termination]:
    """Carries out up to `limit` terminations due by `today`, one transaction each; returns them."""
    at = now or datetime.now(UTC)
    day = today or at.date()
    done: list[model.Termination] = []
    while len(done) < limit:
        uow = uow_factory()
        with uow:
            termination = uow.terminations.claim_due(day)
            if termination is None:
                break
            if not uow.terminations.mark_done(termination.id, at):
                continue  # retracted or carried out meanwhile
            if termination.whole_package:
                uow.contracts.end(termination.contract_id)
            customer = uow.customers.get(termination.customer_number)
            if customer is not None and customer.email:
                subject, body = termination_notices.render(
                    market=customer.market, preference=customer.language, package_id=termination.package_id,
                    domain=termination.domain, day=termination.effective_date, addon=termination.addon_id,
                )  # fmt: skip
                uow.mails.queue(
                    dedup_key=f"termination-done:{termination.id}",
                    recipient=customer.email,
                    subject=subject,
                    body=body,
                )
            uow.commit()
        termination.status, termination.carried_out_at = "done", at
        log.info("termination %s of package %s carried out", termination.id, termination.package_id)
        done.append(termination)
    return done


def apply_carried_out(
    *, uow_factory: Callable[[], UnitOfWork], ends: PackageEnds, now: datetime | None = None, limit: int = 100
) -> list[str]:
    """Has package-service and identity-service follow the carried-out terminations; returns
    the ids followed now. One that fails stays for the next run."""
    at = now or datetime.now(UTC)
    with uow_factory() as uow:
        pending = uow.terminations.not_applied(limit)
    followed = []
    for termination in pending:
        try:
            ends.end(
                package_id=termination.package_id,
                domain=termination.domain,
                addon_id=termination.addon_id,
                day=termination.effective_date,
            )
        except DomainError as error:  # unavailable, or refused: tried again at the next run
            log.warning("termination %s not followed yet: %s %s", termination.id, error.code, error.message)
            continue
        uow = uow_factory()
        with uow:
            uow.terminations.mark_applied(termination.id, at)
            uow.commit()
        followed.append(termination.id)
    return followed


def run(*, uow_factory: Callable[[], UnitOfWork], ends: PackageEnds | None) -> None:
    """One run of the job: carry out what is due, then have the other services follow."""
    carry_out_due(uow_factory=uow_factory)
    if ends is not None:
        apply_carried_out(uow_factory=uow_factory, ends=ends)
