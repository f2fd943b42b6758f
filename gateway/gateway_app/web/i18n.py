"""Languages of the pages: English, German and Dutch (Flask-Babel).

The language comes from `?lang=` (which also sets the `cc_lang` cookie, so every page has a
switch that sticks: the visitor's explicit choice), else that cookie, else - while signed in -
the language the customer chose for itself (`cc_pref_lang`, set at login from contract-service's
record and when the customer data page changes it, dropped at logout), else Accept-Language,
else English. The catalogues are kept as .po files in the repository
(gateway_app/translations/<lang>/LC_MESSAGES) and compiled to .mo once per process at start-up,
into a private directory: no compiled file is committed, so nothing can go stale.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, request
from flask_babel import Babel, format_currency, format_date, get_locale

from gateway_app.web import bp
from gateway_app.web.session import PREFERENCE_COOKIE, SESSION_COOKIE, R, cookie_flags

LANGUAGES = ("en", "de", "nl")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "nl": "Nederlands"}
LANG_COOKIE = "cc_lang"
SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"

_lock = threading.Lock()
_compiled: dict[tuple[tuple[str, float], ...], Path] = {}


def compile_catalogues(source: Path = SOURCE_DIR) -> Path:
    """The .po files under `source`, compiled to .mo in a directory of this process."""
    po_files = sorted(source.glob("*/LC_MESSAGES/*.po"))
    key = tuple((str(p), p.stat().st_mtime) for p in po_files)
    with _lock:
        if key in _compiled:
            return _compiled[key]
        target = Path(tempfile.mkdtemp(prefix="cc-translations-"))
        atexit.register(shutil.rmtree, target, True)
        for po in po_files:
            out = target / po.relative_to(source).with_suffix(".mo")
            out.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name)
            with out.open("wb") as fh:
                write_mo(fh, catalog)
        _compiled[key] = target
        return target


def select_locale() -> str:
    """The visitor's explicit choice, else the signed-in customer's own, else the browser's."""
    chosen = (
        request.args.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.cookies.get(PREFERENCE_COOKIE) if request.cookies.get(SESSION_COOKIE) else None,
    )
    found = next((c for c in chosen if c in LANGUAGES), None)
    return found or request.accept_languages.best_match(LANGUAGES) or "en"


def current_language() -> str:
    return str(get_locale() or "en")


def language_links() -> list[dict[str, str | bool]]:
    """The language switch: this page (GET) in each language."""
    args = {k: v for k, v in request.args.items() if k not in ("lang", "notice")}
    return [
        {"code": code, "name": name, "url": f"{request.path}?{urlencode({**args, 'lang': code})}",
         "current": code == current_language()}
        for code, name in LANGUAGE_NAMES.items()
    ]  # fmt: skip


def remember_preference(response: R, language: str, *, chosen_now: bool = False) -> R:
    """The language the signed-in customer chose: the pages follow it until the visitor picks
    a language explicitly or signs out. `chosen_now` (the customer data page saved it): this
    is the visitor's latest choice, so an earlier one of the language switch gives way."""
    if language in LANGUAGES:
        response.set_cookie(PREFERENCE_COOKIE, language, **cookie_flags())
        if chosen_now and request.cookies.get(LANG_COOKIE):
            response.delete_cookie(LANG_COOKIE, **cookie_flags(httponly=False))
    return response


@bp.after_request
def remember_language(response: Response) -> Response:
    asked = request.args.get("lang", "")
    if asked in LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(LANG_COOKIE, asked, max_age=365 * 24 * 3600, **cookie_flags(httponly=False))
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(compile_catalogues()))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(
        language_links=language_links,
        current_language=current_language,
        format_currency=format_currency,
        format_date=format_date,
    )
