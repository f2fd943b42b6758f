"""The notification mails of a merge, queued in the outbox of the same transaction."""

from __future__ import annotations

from merge_service.domain import model

_SUBJECTS = {
    "submitted": "Your order to merge customer numbers has been received",
    "approved": "Your order to merge customer numbers has been approved",
    "rejected": "Your order to merge customer numbers could not be carried out",
    "completed": "Your customer numbers have been merged",
    "failed": "Your customer numbers could not be merged",
    "reversed": "The merge of your customer numbers has been reversed",
}


def _body(merge: model.Merge, event: str) -> str:
    t, s = merge.target_customer_number, merge.source_customer_number
    lines = [
        "Dear customer,",
        "",
        {
            "submitted": f"we have received your order to merge customer number {s} into {t}. "
            "Our service team checks it and we will write to you when it has been carried out.",
            "approved": f"our service team has approved the merge of customer number {s} into {t}. "
            "It is being carried out now.",
            "rejected": f"the merge of customer number {s} into {t} was not carried out. "
            f"Reason: {merge.rejection_reason}",
            "completed": f"customer number {s} has been merged into {t}. All packages, invoices and "
            f"contracts of {s} now belong to {t}; please sign in with {t} from now on.",
            "failed": f"the merge of customer number {s} into {t} could not be completed. Nothing "
            "was changed. Please contact our service team.",
            "reversed": f"the merge of customer number {s} into {t} has been reversed by our service "
            f"team. Reason: {merge.reversal_reason}",
        }[event],
        "",
        f"Merge reference: {merge.id}",
        "",
        "Your customer service team",
    ]
    return "\n".join(lines)


def queue(uow, merge: model.Merge, event: str) -> None:
    """Mails both customers (target and source) about `event`, once per event and recipient."""
    for role, snapshot in (("target", merge.target_snapshot), ("source", merge.source_snapshot)):
        recipient = (snapshot or {}).get("email", "")
        uow.merges.queue_mail(
            dedup_key=f"{merge.id}:{event}:{role}",
            recipient=recipient,
            subject=_SUBJECTS[event],
            body=_body(merge, event),
        )
