"""Security notices to a customer's contact address: what changed, never the new value.

A notice tells the holder of a customer number that something was changed with its login, so
that a change made with a stolen session does not go unnoticed: the contact e-mail address (to
the old address, with a link that puts it back), the customer password, the payment data. Two
processes send them, each through the outbox of the change's own transaction (see
docs/notices.md): contract-service for the data it owns (e-mail, payment data),
identity-service for passwords and the second factor. The texts and the masking live here, once.

A notice never holds a new value in full: a new e-mail address is masked like
`m***@example.org`, an IBAN like the API's `iban_masked` (the caller masks it), a card by its
last four digits only. Mails are written in the customer's language: its preference, else
its market's (`cc_common.i18n.customer_language`).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from cc_common.i18n import customer_language, moment

EMAIL_CHANGED = "email_changed"
PASSWORD_CHANGED = "password_changed"
PASSWORD_RESET_DONE = "password_reset_done"
PAYMENT_CHANGED = "payment_changed"
NEW_DEVICE = "new_device"
SECOND_FACTOR_ON = "second_factor_on"
SECOND_FACTOR_OFF = "second_factor_off"

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
EMAIL_RESTORE_PATH = "/email-restore"
EMAIL_RESTORE_DAYS = 7


def mask_email(address: str) -> str:
    """The first character of the local part and the domain: "max@example.org" ->
    "m***@example.org". Enough for the owner to recognise, not enough to write to."""
    address = (address or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return "***"
    return f"{local[0]}***@{domain}"


def check_base_url(base_url: str, default: str = DEFAULT_BASE_URL) -> str:
    """The configured PUBLIC_BASE_URL (empty: `default`), without a trailing slash. Only ever
    configuration: the base of a mailed link never comes from a request (its Host header)."""
    url = (base_url or "").strip() or default
    parts = urlsplit(url)
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(c.isspace() for c in url)
        or "?" in url
    ):
        raise ValueError(f"PUBLIC_BASE_URL is not an http(s) URL: {url!r}")
    return url.rstrip("/")


def email_restore_link(base_url: str, token: str) -> str:
    return f"{base_url}{EMAIL_RESTORE_PATH}?token={token}"


# Subject and body per notice and language. Placeholders: {customer_number}, {new_email}
# (masked), {link}, {days}, {payment} (masked), {time}, {address}, {device}.
_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    EMAIL_CHANGED: {
        "en": (
            "Your contact e-mail address was changed",
            "the contact e-mail address of customer number {customer_number} was changed to {new_email}.\n"
            "From now on our mails go to the new address; this is the last one to this address.\n\n"
            "If you did not make this change, somebody else may be using your login. Open this link\n"
            "within {days} days to put this address back; it also signs out every session of your\n"
            'customer number. Then set a new customer password with "Forgot password":\n\n'
            "{link}\n\n"
            "If you made the change yourself, there is nothing to do.",
        ),
        "de": (
            "Ihre Kontakt-E-Mail-Adresse wurde geändert",
            "die Kontakt-E-Mail-Adresse der Kundennummer {customer_number} wurde in {new_email} geändert.\n"
            "Unsere E-Mails gehen ab jetzt an die neue Adresse; dies ist die letzte an diese Adresse.\n\n"
            "Falls Sie diese Änderung nicht vorgenommen haben, nutzt womöglich jemand anderes Ihren Zugang.\n"
            "Öffnen Sie innerhalb von {days} Tagen diesen Link, um diese Adresse wiederherzustellen; dabei\n"
            'werden alle Sitzungen Ihrer Kundennummer beendet. Vergeben Sie danach mit "Passwort vergessen"\n'
            "ein neues Kundenpasswort:\n\n"
            "{link}\n\n"
            "Wenn Sie die Änderung selbst vorgenommen haben, ist nichts zu tun.",
        ),
        "nl": (
            "Uw contact-e-mailadres is gewijzigd",
            "het contact-e-mailadres van klantnummer {customer_number} is gewijzigd in {new_email}.\n"
            "Onze e-mails gaan voortaan naar het nieuwe adres; dit is de laatste naar dit adres.\n\n"
            "Heeft u deze wijziging niet zelf gedaan, dan gebruikt misschien iemand anders uw login.\n"
            "Open binnen {days} dagen deze link om dit adres terug te zetten; daarbij worden alle sessies\n"
            'van uw klantnummer beëindigd. Stel daarna met "Wachtwoord vergeten" een nieuw\n'
            "klantwachtwoord in:\n\n"
            "{link}\n\n"
            "Heeft u de wijziging zelf gedaan, dan hoeft u niets te doen.",
        ),
    },
    PASSWORD_CHANGED: {
        "en": (
            "Your customer password was changed",
            "the customer password of customer number {customer_number} was changed while signed in.\n"
            "Every other session of your customer number was signed out.\n\n"
            'If you did not make this change, set a new password at once with "Forgot password" and\n'
            "contact our customer service.",
        ),
        "de": (
            "Ihr Kundenpasswort wurde geändert",
            "das Kundenpasswort der Kundennummer {customer_number} wurde in einer angemeldeten Sitzung\n"
            "geändert. Alle anderen Sitzungen Ihrer Kundennummer wurden beendet.\n\n"
            'Falls Sie das nicht waren, vergeben Sie sofort mit "Passwort vergessen" ein neues Passwort\n'
            "und wenden Sie sich an unseren Kundenservice.",
        ),
        "nl": (
            "Uw klantwachtwoord is gewijzigd",
            "het klantwachtwoord van klantnummer {customer_number} is gewijzigd in een ingelogde sessie.\n"
            "Alle andere sessies van uw klantnummer zijn beëindigd.\n\n"
            'Was u dit niet, stel dan meteen met "Wachtwoord vergeten" een nieuw wachtwoord in en\n'
            "neem contact op met onze klantenservice.",
        ),
    },
    PASSWORD_RESET_DONE: {
        "en": (
            "A new customer password was set",
            "a new customer password was set for customer number {customer_number} with the link from\n"
            'a "Forgot password" mail. Every session of your customer number was signed out.\n\n'
            "If you did not do this, contact our customer service at once.",
        ),
        "de": (
            "Ein neues Kundenpasswort wurde vergeben",
            'für die Kundennummer {customer_number} wurde mit dem Link aus einer "Passwort vergessen"-E-Mail\n'
            "ein neues Kundenpasswort vergeben. Alle Sitzungen Ihrer Kundennummer wurden beendet.\n\n"
            "Falls Sie das nicht waren, wenden Sie sich bitte sofort an unseren Kundenservice.",
        ),
        "nl": (
            "Er is een nieuw klantwachtwoord ingesteld",
            'voor klantnummer {customer_number} is met de link uit een "Wachtwoord vergeten"-e-mail een\n'
            "nieuw klantwachtwoord ingesteld. Alle sessies van uw klantnummer zijn beëindigd.\n\n"
            "Was u dit niet, neem dan meteen contact op met onze klantenservice.",
        ),
    },
    PAYMENT_CHANGED: {
        "en": (
            "Your payment data was changed",
            "the payment data of customer number {customer_number} was changed. From now on we use:\n"
            "{payment}\n\n"
            'If you did not make this change, set a new customer password with "Forgot password" and\n'
            "contact our customer service.",
        ),
        "de": (
            "Ihre Zahlungsdaten wurden geändert",
            "die Zahlungsdaten der Kundennummer {customer_number} wurden geändert. Ab jetzt verwenden wir:\n"
            "{payment}\n\n"
            'Falls Sie das nicht waren, vergeben Sie mit "Passwort vergessen" ein neues Kundenpasswort\n'
            "und wenden Sie sich an unseren Kundenservice.",
        ),
        "nl": (
            "Uw betaalgegevens zijn gewijzigd",
            "de betaalgegevens van klantnummer {customer_number} zijn gewijzigd. Voortaan gebruiken wij:\n"
            "{payment}\n\n"
            'Was u dit niet, stel dan met "Wachtwoord vergeten" een nieuw klantwachtwoord in en neem\n'
            "contact op met onze klantenservice.",
        ),
    },
    SECOND_FACTOR_ON: {
        "en": (
            "Two-factor authentication was turned on",
            "two-factor authentication was turned on for customer number {customer_number}. From now on\n"
            "every sign-in needs a code from your authenticator app (or one of your recovery codes)\n"
            "after the password.\n\n"
            'If you did not make this change, set a new password at once with "Forgot password" and\n'
            "contact our customer service.",
        ),
        "de": (
            "Die Zwei-Faktor-Authentifizierung wurde eingeschaltet",
            "für die Kundennummer {customer_number} wurde die Zwei-Faktor-Authentifizierung eingeschaltet.\n"
            "Ab jetzt braucht jede Anmeldung nach dem Passwort einen Code aus Ihrer Authenticator-App\n"
            "(oder einen Ihrer Wiederherstellungscodes).\n\n"
            'Falls Sie das nicht waren, vergeben Sie sofort mit "Passwort vergessen" ein neues Passwort\n'
            "und wenden Sie sich an unseren Kundenservice.",
        ),
        "nl": (
            "Tweestapsverificatie is ingeschakeld",
            "voor klantnummer {customer_number} is tweestapsverificatie ingeschakeld. Voortaan vraagt\n"
            "elke aanmelding na het wachtwoord een code uit uw authenticator-app (of een van uw\n"
            "herstelcodes).\n\n"
            'Was u dit niet, stel dan meteen met "Wachtwoord vergeten" een nieuw wachtwoord in en\n'
            "neem contact op met onze klantenservice.",
        ),
    },
    SECOND_FACTOR_OFF: {
        "en": (
            "Two-factor authentication was turned off",
            "two-factor authentication was turned off for customer number {customer_number}. From now on\n"
            "the password alone signs in.\n\n"
            'If you did not make this change, set a new password at once with "Forgot password",\n'
            "turn two-factor authentication on again and contact our customer service.",
        ),
        "de": (
            "Die Zwei-Faktor-Authentifizierung wurde ausgeschaltet",
            "für die Kundennummer {customer_number} wurde die Zwei-Faktor-Authentifizierung ausgeschaltet.\n"
            "Ab jetzt genügt das Passwort für die Anmeldung.\n\n"
            'Falls Sie das nicht waren, vergeben Sie sofort mit "Passwort vergessen" ein neues Passwort,\n'
            "schalten Sie die Zwei-Faktor-Authentifizierung wieder ein und wenden Sie sich an unseren\n"
            "Kundenservice.",
        ),
        "nl": (
            "Tweestapsverificatie is uitgeschakeld",
            "voor klantnummer {customer_number} is tweestapsverificatie uitgeschakeld. Voortaan is het\n"
            "wachtwoord genoeg om aan te melden.\n\n"
            'Was u dit niet, stel dan meteen met "Wachtwoord vergeten" een nieuw wachtwoord in, schakel\n'
            "tweestapsverificatie weer in en neem contact op met onze klantenservice.",
        ),
    },
}

_TEXTS[NEW_DEVICE] = {
    "en": (
        "New sign-in to your customer account",
        "customer number {customer_number} was signed in to from a device it had not used before:\n\n"
        "Time: {time}\n"
        "Address: {address}\n"
        "Device: {device}\n\n"
        "If this was you, there is nothing to do. If it was not, change your customer password at\n"
        'once (or set a new one with "Forgot password"); that signs out every other session. You can\n'
        'also sign out single sessions on the "Security" page of the customer area.',
    ),
    "de": (
        "Neue Anmeldung bei Ihrem Kundenkonto",
        "bei der Kundennummer {customer_number} hat sich jemand von einem Gerät angemeldet, das bisher\n"
        "nicht verwendet wurde:\n\n"
        "Zeit: {time}\n"
        "Adresse: {address}\n"
        "Gerät: {device}\n\n"
        "Wenn Sie das waren, ist nichts zu tun. Falls nicht, ändern Sie sofort Ihr Kundenpasswort\n"
        '(oder vergeben Sie mit "Passwort vergessen" ein neues); dabei werden alle anderen Sitzungen\n'
        'beendet. Einzelne Sitzungen können Sie auch auf der Seite "Sicherheit" im Kundenbereich beenden.',
    ),
    "nl": (
        "Nieuwe aanmelding bij uw klantaccount",
        "op klantnummer {customer_number} is aangemeld vanaf een apparaat dat nog niet eerder werd\n"
        "gebruikt:\n\n"
        "Tijd: {time}\n"
        "Adres: {address}\n"
        "Apparaat: {device}\n\n"
        "Was u dit, dan hoeft u niets te doen. Zo niet, wijzig dan meteen uw klantwachtwoord (of stel\n"
        'met "Wachtwoord vergeten" een nieuw in); daarbij worden alle andere sessies beëindigd. U kunt\n'
        'losse sessies ook afmelden op de pagina "Beveiliging" in de klantenzone.',
    ),
}

_GREETING = {"en": "Dear customer,", "de": "Sehr geehrte Kundin, sehr geehrter Kunde,", "nl": "Beste klant,"}
_SIGNATURE = {
    "en": "Your customer service team",
    "de": "Ihr Kundenservice-Team",
    "nl": "Uw klantenserviceteam",
}
_PAYMENT = {
    "en": ("Bank account {iban}", "Card ending in {last4}"),
    "de": ("Bankkonto {iban}", "Karte mit den Endziffern {last4}"),
    "nl": ("Bankrekening {iban}", "Kaart eindigend op {last4}"),
}


def payment_line(market: str, *, preference: str = "", iban_masked: str = "", card_last4: str = "") -> str:
    """The new payment method as the notice shows it: the masked IBAN or the card's last four."""
    bank, card = _PAYMENT[customer_language(market, preference)]
    return bank.format(iban=iban_masked) if iban_masked else card.format(last4=card_last4 or "****")


def letter(language: str, text: str) -> str:
    """A mail's body: the greeting, the text and the signature of the customer service team."""
    return "\n".join([_GREETING[language], "", text, "", _SIGNATURE[language]])


def render(kind: str, market: str, *, preference: str = "", **values: object) -> tuple[str, str]:
    """Subject and body of a notice in the customer's language (`preference`, else the market's)."""
    language = customer_language(market, preference)
    subject, text = _TEXTS[kind][language]
    return subject, letter(language, text.format(**values))


def new_device(
    market: str, *, preference: str = "", customer_number: str, at: datetime, address: str, device: str
) -> tuple[str, str]:
    """The "new device" notice, in the customer's language (`preference`, else the market's):
    when (in UTC, in the language's form), from which address and with which user agent a login
    came that this customer had not signed in with before."""
    language = customer_language(market, preference)
    unknown = {"en": "unknown", "de": "unbekannt", "nl": "onbekend"}[language]
    return render(
        NEW_DEVICE,
        market,
        preference=preference,
        customer_number=customer_number,
        time=moment(at, language),
        address=address or unknown,
        device=(device or unknown)[:200],
    )
