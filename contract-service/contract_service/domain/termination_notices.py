"""The mail a customer gets when a termination has taken effect, in its language."""

from __future__ import annotations

from datetime import date

from cc_common import i18n, notices

_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "package": {
        "en": ("Your package has ended", "as you terminated it, your package {package} has ended on {day}. Its "
               "contract is closed and its logins no longer work."),
        "de": ("Ihr Paket ist beendet", "wie von Ihnen gekündigt, ist Ihr Paket {package} am {day} beendet worden. "
               "Der Vertrag ist abgeschlossen, und die Zugänge des Pakets funktionieren nicht mehr."),
        "nl": ("Uw pakket is beëindigd", "zoals door u opgezegd, is uw pakket {package} op {day} beëindigd. Het "
               "contract is afgesloten en de logins van het pakket werken niet meer."),
    },
    "domain": {
        "en": ("Your domain has been terminated", "as you terminated it, the domain {domain} of your package "
               "{package} has ended on {day}."),
        "de": ("Ihre Domain ist gekündigt", "wie von Ihnen gekündigt, ist die Domain {domain} Ihres Pakets "
               "{package} am {day} beendet worden."),
        "nl": ("Uw domein is opgezegd", "zoals door u opgezegd, is het domein {domain} van uw pakket {package} op "
               "{day} beëindigd."),
    },
    "addon": {
        "en": ("Your additional service has ended", "as you terminated it, the additional service {addon} of "
               "your package {package} has ended on {day}."),
        "de": ("Ihre Zusatzleistung ist beendet", "wie von Ihnen gekündigt, ist die Zusatzleistung {addon} "
               "Ihres Pakets {package} am {day} beendet worden."),
        "nl": ("Uw extra dienst is beëindigd", "zoals door u opgezegd, is de extra dienst {addon} van uw "
               "pakket {package} op {day} beëindigd."),
    },
}  # fmt: skip


def render(
    *, market: str, preference: str = "", package_id: str, domain: str, day: date, addon: str = ""
) -> tuple[str, str]:
    """Subject and body of the notice that a package (domain "", no add-on), a domain or an
    add-on has ended, in the customer's language (`preference`, else the market's)."""
    language = i18n.customer_language(market, preference)
    subject, text = _TEXTS["addon" if addon else "domain" if domain else "package"][language]
    body = text.format(package=package_id, domain=domain, addon=addon, day=i18n.day(day, language))
    return subject, notices.letter(language, body)
