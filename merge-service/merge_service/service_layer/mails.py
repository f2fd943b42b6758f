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


# --- a merge proven with a package password: the absorbed side is told, in its language ----

LANGUAGE_OF_MARKET = {"de": "de", "nl": "nl", "uk": "en"}

_AGREEMENT_SUBJECTS = {
    "objection_notice": {
        "en": "Customer number {s}: a merge into customer number {t} has been started",
        "de": "Kundennummer {s}: Eine Zusammenfassung mit Kundennummer {t} wurde begonnen",
        "nl": "Klantnummer {s}: er is een samenvoeging met klantnummer {t} gestart",
    },
    "objected": {
        "en": "The merge of customer number {s} into {t} has been cancelled after an objection",
        "de": "Die Zusammenfassung von Kundennummer {s} mit {t} wurde nach einem Widerspruch abgebrochen",
        "nl": "De samenvoeging van klantnummer {s} met {t} is na bezwaar geannuleerd",
    },
    "cancelled": {
        "en": "The merge of customer number {s} into {t} has been cancelled",
        "de": "Die Zusammenfassung von Kundennummer {s} mit {t} wurde abgebrochen",
        "nl": "De samenvoeging van klantnummer {s} met {t} is geannuleerd",
    },
}

_AGREEMENT_BODIES = {
    "objection_notice": {
        "en": (
            "Dear customer,\n\n"
            "the holder of customer number {t} ({holder}) has started to merge your customer number {s} "
            "into {t}. As proof of ownership, the password of your package with the domain {domain} was "
            "given. After the merge, all packages, invoices and contracts of {s} would belong to {t}, and "
            "{s} could no longer be used.\n\n"
            "If you do not agree, object here; the merge is then cancelled at once:\n{link}\n\n"
            "If you agree, you can confirm the merge in your customer center ({manage}). Without an objection, our "
            "service team checks the merge {hours} hours after this message at the earliest.\n\n"
            "Merge reference: {id}\n\nYour customer service team"
        ),
        "de": (
            "Sehr geehrte Kundin, sehr geehrter Kunde,\n\n"
            "der Inhaber der Kundennummer {t} ({holder}) hat begonnen, Ihre Kundennummer {s} mit {t} "
            "zusammenzufassen. Als Nachweis wurde das Passwort Ihres Pakets mit der Domain {domain} "
            "angegeben. Nach der Zusammenfassung gehörten alle Pakete, Rechnungen und Verträge von {s} zu "
            "{t}, und {s} könnte nicht mehr verwendet werden.\n\n"
            "Wenn Sie nicht einverstanden sind, widersprechen Sie hier; die Zusammenfassung wird dann "
            "sofort abgebrochen:\n{link}\n\n"
            "Wenn Sie einverstanden sind, können Sie die Zusammenfassung in Ihrem Kundencenter bestätigen ({manage}). "
            "Ohne Widerspruch prüft unser Service-Team die Zusammenfassung frühestens {hours} Stunden nach "
            "dieser Nachricht.\n\n"
            "Referenz der Zusammenfassung: {id}\n\nIhr Kundenservice"
        ),
        "nl": (
            "Geachte klant,\n\n"
            "de houder van klantnummer {t} ({holder}) is begonnen uw klantnummer {s} samen te voegen met "
            "{t}. Als bewijs is het wachtwoord van uw pakket met het domein {domain} opgegeven. Na de "
            "samenvoeging zouden alle pakketten, facturen en contracten van {s} bij {t} horen, en kan {s} "
            "niet meer worden gebruikt.\n\n"
            "Gaat u niet akkoord, maak dan hier bezwaar; de samenvoeging wordt dan direct geannuleerd:\n"
            "{link}\n\n"
            "Gaat u akkoord, dan kunt u de samenvoeging in uw klantencentrum bevestigen ({manage}). Zonder bezwaar "
            "controleert ons serviceteam de samenvoeging op zijn vroegst {hours} uur na dit bericht.\n\n"
            "Referentie van de samenvoeging: {id}\n\nUw klantenservice"
        ),
    },
    "objected": {
        "en": (
            "Dear customer,\n\nthe holder of customer number {s} objected to the merge of {s} into {t}. "
            "The merge has been cancelled; nothing was changed.\n\nMerge reference: {id}\n\n"
            "Your customer service team"
        ),
        "de": (
            "Sehr geehrte Kundin, sehr geehrter Kunde,\n\nder Inhaber der Kundennummer {s} hat der "
            "Zusammenfassung von {s} mit {t} widersprochen. Die Zusammenfassung wurde abgebrochen; es wurde "
            "nichts geändert.\n\nReferenz der Zusammenfassung: {id}\n\nIhr Kundenservice"
        ),
        "nl": (
            "Geachte klant,\n\nde houder van klantnummer {s} heeft bezwaar gemaakt tegen de samenvoeging "
            "van {s} met {t}. De samenvoeging is geannuleerd; er is niets gewijzigd.\n\n"
            "Referentie van de samenvoeging: {id}\n\nUw klantenservice"
        ),
    },
    "cancelled": {
        "en": (
            "Dear customer,\n\nthe merge of customer number {s} into {t} has been cancelled; nothing was "
            "changed.\n\nMerge reference: {id}\n\nYour customer service team"
        ),
        "de": (
            "Sehr geehrte Kundin, sehr geehrter Kunde,\n\ndie Zusammenfassung von Kundennummer {s} mit {t} "
            "wurde abgebrochen; es wurde nichts geändert.\n\nReferenz der Zusammenfassung: {id}\n\n"
            "Ihr Kundenservice"
        ),
        "nl": (
            "Geachte klant,\n\nde samenvoeging van klantnummer {s} met {t} is geannuleerd; er is niets "
            "gewijzigd.\n\nReferentie van de samenvoeging: {id}\n\nUw klantenservice"
        ),
    },
}


def holder_name(snapshot: dict[str, str] | None) -> str:
    """The holder of a customer number as a notice names them: company, or first and last name."""
    snapshot = snapshot or {}
    name = " ".join(p for p in (snapshot.get("first_name", ""), snapshot.get("last_name", "")) if p)
    company = snapshot.get("company", "")
    return ", ".join(p for p in (company, name) if p) or snapshot.get("customer_number", "")


def queue_agreement(
    uow,
    merge: model.Merge,
    event: str,
    *,
    to: tuple[str, ...],
    link: str = "",
    manage: str = "",
    domain: str = "",
    hours: int = 0,
) -> None:
    """The mails of a merge proven with a package password, in the customer's language:
    `objection_notice` (to the source, with the objection link), `objected` and `cancelled`."""
    language = LANGUAGE_OF_MARKET.get(merge.market, "en")
    values = {
        "s": merge.source_customer_number,
        "t": merge.target_customer_number,
        "holder": holder_name(merge.target_snapshot),
        "domain": domain,
        "link": link,
        "manage": manage,
        "hours": hours,
        "id": merge.id,
    }
    for role in to:
        snapshot = merge.source_snapshot if role == "source" else merge.target_snapshot
        uow.merges.queue_mail(
            dedup_key=f"{merge.id}:{event}:{role}",
            recipient=(snapshot or {}).get("email", ""),
            subject=_AGREEMENT_SUBJECTS[event][language].format(**values),
            body=_AGREEMENT_BODIES[event][language].format(**values),
        )
