"""The mail a customer gets when a termination has taken effect, in its language."""

from __future__ import annotations

from cc_common import i18n

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
}  # fmt: skip
_GREETING = {"en": "Dear customer,", "de": "Sehr geehrte Kundin, sehr geehrter Kunde,", "nl": "Beste klant,"}
_SIGNATURE = {
    "en": "Your customer service team",
    "de": "Ihr Kundenservice-Team",
    "nl": "Uw klantenserviceteam",
}


def render(*, market: str, package_id: str, domain: str, day: object) -> tuple[str, str]:
    """Subject and body of the notice that a package (domain "") or a domain has ended."""
    language = i18n.language_for(market)
    subject, text = _TEXTS["domain" if domain else "package"][language]
    when = i18n.day(day, language)  # type: ignore[arg-type]
    body = "\n".join(
        [
            _GREETING[language],
            "",
            text.format(package=package_id, domain=domain, day=when),
            "",
            _SIGNATURE[language],
        ]
    )
    return subject, body
