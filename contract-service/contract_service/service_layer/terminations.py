"""Terminations take effect: on its effective date a termination is carried out (the contract
of a terminated package ends) and the customer is told. Safe with several copies: each
termination is claimed in its own transaction (on PostgreSQL rows another copy holds are
skipped) and moved from open to done by a compare-and-set, so each is carried out once.

What belongs to other services (the package or domain ends in package-service, its logins end
in identity-service) follows the termination's status; contract-service records and tells.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

from contract_service.domain import model, termination_notices
from contract_service.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def carry_out_due(
    *, uow_factory: Callable[[], UnitOfWork], today: date | None = None, now: datetime | None = None, limit: int = 100
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
            if not termination.domain:
                uow.contracts.end(termination.contract_id)
            customer = uow.customers.get(termination.customer_number)
            if customer is not None and customer.email:
                subject, body = termination_notices.render(
                    market=customer.market, package_id=termination.package_id, domain=termination.domain,
                    day=termination.effective_date,
                )  # fmt: skip
                uow.mails.queue(
                    dedup_key=f"termination-done:{termination.id}", recipient=customer.email, subject=subject, body=body
                )
            uow.commit()
        termination.status, termination.carried_out_at = "done", at
        log.info("termination %s of package %s carried out", termination.id, termination.package_id)
        done.append(termination)
    return done
