"""The notification mails of a merge, queued in the outbox of the same transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cc_common import i18n

from merge_service.domain import model

if TYPE_CHECKING:
    from merge_service.service_layer.unit_of_work import UnitOfWork

# The mails of a merge's events: subject and text by event and language. A merge joins two
# numbers of one market; each customer gets its own language: its preference as contract-service
# reported it in the merge's snapshot, else the market's (cc_common.i18n.customer_language).
_EVENTS: dict[str, dict[str, tuple[str, str]]] = {
    "submitted": {
        "en": (
            "Your order to merge customer numbers has been received",
            "we have received your order to merge customer number {s} into {t}. Our service team checks "
            "it and we will write to you when it has been carried out.",
        ),
        "de": (
            "Ihr Auftrag zur Zusammenfassung von Kundennummern ist eingegangen",
            "wir haben Ihren Auftrag erhalten, die Kundennummer {s} mit {t} zusammenzufassen. Unser "
            "Service-Team prüft ihn, und wir schreiben Ihnen, sobald er ausgeführt ist.",
        ),
        "nl": (
            "Uw opdracht om klantnummers samen te voegen is ontvangen",
            "wij hebben uw opdracht ontvangen om klantnummer {s} samen te voegen met {t}. Ons serviceteam "
            "controleert deze en wij schrijven u zodra ze is uitgevoerd.",
        ),
    },
    "approved": {
        "en": (
            "Your order to merge customer numbers has been approved",
            "our service team has approved the merge of customer number {s} into {t}. It is being carried out now.",
        ),
        "de": (
            "Ihr Auftrag zur Zusammenfassung von Kundennummern wurde freigegeben",
            "unser Service-Team hat die Zusammenfassung der Kundennummer {s} mit {t} freigegeben. Sie wird "
            "jetzt ausgeführt.",
        ),
        "nl": (
            "Uw opdracht om klantnummers samen te voegen is goedgekeurd",
            "ons serviceteam heeft de samenvoeging van klantnummer {s} met {t} goedgekeurd. Deze wordt nu uitgevoerd.",
        ),
    },
    "rejected": {
        "en": (
            "Your order to merge customer numbers could not be carried out",
            "the merge of customer number {s} into {t} was not carried out. Reason: {reason}",
        ),
        "de": (
            "Ihr Auftrag zur Zusammenfassung von Kundennummern konnte nicht ausgeführt werden",
            "die Zusammenfassung der Kundennummer {s} mit {t} wurde nicht ausgeführt. Grund: {reason}",
        ),
        "nl": (
            "Uw opdracht om klantnummers samen te voegen kon niet worden uitgevoerd",
            "de samenvoeging van klantnummer {s} met {t} is niet uitgevoerd. Reden: {reason}",
        ),
    },
    "completed": {
        "en": (
            "Your customer numbers have been merged",
            "customer number {s} has been merged into {t}. All packages, invoices and contracts of {s} now "
            "belong to {t}; please sign in with {t} from now on.",
        ),
        "de": (
            "Ihre Kundennummern wurden zusammengefasst",
            "die Kundennummer {s} wurde mit {t} zusammengefasst. Alle Pakete, Rechnungen und Verträge von {s} "
            "gehören jetzt zu {t}; bitte melden Sie sich ab jetzt mit {t} an.",
        ),
        "nl": (
            "Uw klantnummers zijn samengevoegd",
            "klantnummer {s} is samengevoegd met {t}. Alle pakketten, facturen en contracten van {s} horen nu "
            "bij {t}; meld u voortaan aan met {t}.",
        ),
    },
    "failed": {
        "en": (
            "Your customer numbers could not be merged",
            "the merge of customer number {s} into {t} could not be completed. Nothing was changed. Please "
            "contact our service team.",
        ),
        "de": (
            "Ihre Kundennummern konnten nicht zusammengefasst werden",
            "die Zusammenfassung der Kundennummer {s} mit {t} konnte nicht abgeschlossen werden. Es wurde "
            "nichts geändert. Bitte wenden Sie sich an unser Service-Team.",
        ),
        "nl": (
            "Uw klantnummers konden niet worden samengevoegd",
            "de samenvoeging van klantnummer {s} met {t} kon niet worden voltooid. Er is niets gewijzigd. Neem "
            "contact op met ons serviceteam.",
        ),
    },
    "reversed": {
        "en": (
            "The merge of your customer numbers has been reversed",
            "the merge of customer number {s} into {t} has been reversed by our service team. Reason: {reason}",
        ),
        "de": (
            "Die Zusammenfassung Ihrer Kundennummern wurde rückgängig gemacht",
            "die Zusammenfassung der Kundennummer {s} mit {t} wurde von unserem Service-Team rückgängig "
            "gemacht. Grund: {reason}",
        ),
        "nl": (
            "De samenvoeging van uw klantnummers is teruggedraaid",
            "de samenvoeging van klantnummer {s} met {t} is door ons serviceteam teruggedraaid. Reden: {reason}",
        ),
    },
}
_GREETING = {
    "en": "Dear customer,",
    "de": "Sehr geehrte Kundin, sehr geehrter Kunde,",
    "nl": "Geachte klant,",
}
_REFERENCE = {
    "en": "Merge reference: {id}",
    "de": "Referenz der Zusammenfassung: {id}",
    "nl": "Referentie van de samenvoeging: {id}",
}
_SIGNATURE = {"en": "Your customer service team", "de": "Ihr Kundenservice", "nl": "Uw klantenservice"}


def language_of(merge: model.Merge, role: str) -> str:
    """The language of the mails to one side of the merge ("target" or "source")."""
    snapshot = merge.target_snapshot if role == "target" else merge.source_snapshot
    return i18n.customer_language(merge.market, (snapshot or {}).get("language", ""))


def render(merge: model.Merge, event: str, role: str = "target") -> tuple[str, str]:
    """Subject and body of the mail of `event` to one side (`role`), in its language."""
    language = language_of(merge, role)
    subject, text = _EVENTS[event][language]
    reason = merge.rejection_reason if event == "rejected" else merge.reversal_reason
    values = {"s": merge.source_customer_number, "t": merge.target_customer_number, "reason": reason}
    body = "\n".join(
        [
            _GREETING[language],
            "",
            text.format(**values),
            "",
            _REFERENCE[language].format(id=merge.id),
            "",
            _SIGNATURE[language],
        ]
    )
    return subject, body


def subjects(event: str) -> frozenset[str]:
    """The subject of `event`'s mail in every language (to recognise such a mail)."""
    return frozenset(subject for subject, _text in _EVENTS[event].values())


def queue(uow: UnitOfWork, merge: model.Merge, event: str) -> None:
    """Mails both customers (target and source) about `event`, once per event and recipient."""
    for role, snapshot in (("target", merge.target_snapshot), ("source", merge.source_snapshot)):
        subject, body = render(merge, event, role)
        recipient = (snapshot or {}).get("email", "")
        uow.merges.queue_mail(
            dedup_key=f"{merge.id}:{event}:{role}", recipient=recipient, subject=subject, body=body
        )


# --- a merge proven with a package password: the absorbed side is told, in its language ----

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
    uow: UnitOfWork,
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
        language = language_of(merge, role)
        uow.merges.queue_mail(
            dedup_key=f"{merge.id}:{event}:{role}",
            recipient=(snapshot or {}).get("email", ""),
            subject=_AGREEMENT_SUBJECTS[event][language].format(**values),
            body=_AGREEMENT_BODIES[event][language].format(**values),
        )
