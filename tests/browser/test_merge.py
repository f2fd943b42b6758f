"""The merge wizard of each market (docs/architecture.md) in a real chromium, in each language,
a merge blocked by differing names (legal proof), and the service team's review: approve,
reject, reverse."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.browser.conftest import PDF

# The wording of the pages: the market of each language, its button labels and confirmation.
WIZARD = {
    "en": {
        "market": "uk",
        "locale": "en-GB",
        "menu": "Change Contract",
        "forms": "Forms",
        "merge": "Merge Customer Numbers",
        "next": "Next",
        "update": "Update Data",
        "send": "Send Order",
        "confirmation": "Our service team now checks the merge",
    },
    "de": {
        "market": "de",
        "locale": "de-DE",
        "menu": "Kundenbetreuung",
        "forms": "Formulare",
        "merge": "Kundennummern zusammenfassen",
        "next": "Weiter",
        "update": "Daten übernehmen",
        "send": "Auftrag abschicken",
        "confirmation": "Unser Serviceteam prüft nun die Zusammenfassung",
    },
    "nl": {
        "market": "nl",
        "locale": "nl-NL",
        "menu": "Je contract",
        "forms": "Formulieren",
        "merge": "Klantnummers samenvoegen",
        "next": "Verder",
        "update": "Gegevens overnemen",
        "send": "Opdracht versturen",
        "confirmation": "Ons serviceteam controleert nu het samenvoegen",
    },
}


def open_wizard(b, words):
    page = b.page
    assert (
        page.locator("nav.menu h2").text_content().strip() == words["menu"]
    )  # the menu's name in this language
    page.click(f"nav.menu >> text={words['forms']}")
    page.click("#form-link_customer_numbers")
    assert page.locator("h1").inner_text() == words["merge"]
    return page


def staff_session(open_browser, suite):
    b = open_browser()
    page = b.go("/staff/login")
    page.fill("#f-username", suite.staff_username)
    page.fill("#f-password", suite.staff_password)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/staff/merges")
    return b


def wait_for_status(page, wanted: set[str], timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = page.get_attribute("#merge-status", "class") or ""
        found = next((s for s in wanted if f"status-{s}" in status.split()), None)
        if found or time.monotonic() > deadline:
            assert found, f"status {status!r}, wanted one of {wanted}"
            return found
        time.sleep(0.3)
        page.reload()


@pytest.mark.parametrize("lang", ["en", "de", "nl"])
def test_the_whole_merge_wizard_in_each_language(suite, open_browser, lang):
    words = WIZARD[lang]
    target = suite.create_customer(words["market"])
    source = suite.create_customer(words["market"], phone=None, mobile=None)  # phone and e-mail differ
    source_domain = f"alt-{uuid.uuid4().hex[:8]}.example"
    suite.create_package(source.number, domains=[source_domain], package_password="Alt-Package-Pw1")

    b = open_browser(words["locale"])
    b.login_customer(target.number, target.password, lang=lang)
    page = open_wizard(b, words)
    page.fill("#f-source_customer_number", source.number)
    if lang == "en":  # the proof by a domain of the package and its package password
        page.check("input[name=proof][value=domain]")
        page.fill("#f-domain", source_domain)
        page.fill("#f-domain_password", "Alt-Package-Pw1")
    else:
        page.fill("#f-source_password", source.password)
    b.shot("start")
    next_button = page.locator("#merge-next")
    assert next_button.inner_text() == words["next"]
    next_button.click()

    page.wait_for_url("**/customer/merge/*")
    highlighted = {row.get_attribute("data-field") for row in page.locator("#comparison tr.differs").all()}
    assert {"email", "phone"} <= highlighted
    assert page.locator("#comparison tr.blocking").count() == 0
    assert page.locator("#submit").count() == 0  # "Send Order" only after "Update Data"
    b.shot("comparison")
    update = page.locator("#take-over")
    assert update.inner_text() == words["update"]
    update.click()

    page.wait_for_url("**notice=taken_over")
    send = page.locator("#submit")
    assert send.inner_text() == words["send"]
    send.click()
    page.wait_for_selector("#confirmation")
    assert words["confirmation"] in page.inner_text("#confirmation")
    assert "status-submitted" in page.get_attribute("#merge-status", "class")
    b.shot("confirmation")

    # The state of each merge afterwards: on the wizard's first page.
    open_wizard(b, words)
    assert source.number in page.inner_text("#merges")


def test_a_merge_with_different_names_is_blocked_until_the_signed_form_is_uploaded_and_staff_approve_it(
    suite, open_browser
):
    target = suite.create_customer("de", last_name="Mustermann")
    source = suite.create_customer("de", last_name="Musterfrau")
    suite.create_package(source.number)

    b = open_browser()
    page = b.login_customer(target.number, target.password)
    open_wizard(b, WIZARD["en"])
    page.fill("#f-source_customer_number", source.number)
    page.fill("#f-source_password", source.password)
    page.click("#merge-next")
    page.wait_for_url("**/customer/merge/*")
    blocking = page.locator("#comparison tr.blocking")
    assert [row.get_attribute("data-field") for row in blocking.all()] == ["last_name"]
    assert "legal proof needed" in blocking.inner_text()
    assert "To prevent misuse, we require legal proof" in page.inner_text("#blocked")
    assert page.locator("#contract-transfer-form").count() == 1
    assert page.locator("#submit").count() == 0
    b.shot("blocked")

    with page.expect_download() as form_download:
        page.click("#contract-transfer-form")
    assert open(form_download.value.path(), "rb").read(5) == b"%PDF-"
    page.set_input_files(
        "#f-file", files=[{"name": "signed.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.click("#blocked button[type=submit]")
    page.wait_for_url("**notice=proof_uploaded")
    assert page.locator("#proof-uploaded").count() == 1
    page.click("#take-over")  # the e-mail addresses differ too
    page.wait_for_url("**notice=taken_over")
    page.click("#submit")
    page.wait_for_selector("#confirmation")
    merge_url = page.url

    staff = staff_session(open_browser, suite)
    queue = staff.page
    row = queue.locator("#queue tbody tr", has_text=source.number)
    assert "uploaded" in row.inner_text()
    staff.shot("queue")
    row.locator("text=Review").click()
    assert queue.locator("#comparison tr.blocking").count() == 1
    with queue.expect_download() as proof_download:
        queue.click("#legal-proof")
    assert open(proof_download.value.path(), "rb").read() == PDF
    staff.shot("review")
    queue.click("#approve")
    queue.wait_for_url("**notice=approved")
    assert wait_for_status(queue, {"completed"}) == "completed"
    assert queue.inner_text("#moved dt[data-kind=packages]") == "Packages"
    staff.shot("audit")

    page.goto(merge_url)
    assert "status-completed" in page.get_attribute("#merge-status", "class")
    assert suite.mails.wait_for(target.fields["email"]) and suite.mails.wait_for(source.fields["email"])

    # Reversal by the service team, with a reason.
    queue.click("#reverse")
    assert queue.inner_text("#e-reason") == "Please give a reason."
    queue.fill("#f-reason", "Customer asked to undo the merge")
    queue.click("#reverse")
    queue.wait_for_url("**notice=reversed")
    assert wait_for_status(queue, {"reversed"}) == "reversed"
    assert suite.login_customer(source.number, source.password)  # the absorbed number is back


def test_the_service_team_rejects_a_merge_with_a_reason_the_customer_then_sees(suite, open_browser):
    target = suite.create_customer("nl")
    source = suite.create_customer("nl")
    b = open_browser("nl-NL")
    page = b.login_customer(target.number, target.password, lang="nl")
    open_wizard(b, WIZARD["nl"])
    page.fill("#f-source_customer_number", source.number)
    page.fill("#f-source_password", source.password)
    page.click("#merge-next")
    page.wait_for_url("**/customer/merge/*")
    page.click("#take-over")
    page.wait_for_url("**notice=taken_over")
    page.click("#submit")
    page.wait_for_selector("#confirmation")
    merge_url = page.url

    staff = staff_session(open_browser, suite)
    queue = staff.page
    queue.locator("#queue tbody tr", has_text=source.number).locator("text=Review").click()
    queue.click("#reject")
    assert queue.inner_text("#e-reason") == "Please give a reason."
    queue.fill("#f-reason", "The two contracts belong to different companies")
    queue.click("#reject")
    queue.wait_for_url("**notice=rejected")
    assert "status-rejected" in queue.get_attribute("#merge-status", "class")

    page.goto(merge_url)
    assert "The two contracts belong to different companies" in page.inner_text("#rejected")
    assert "afgewezen" in page.inner_text("#rejected")
    b.shot("rejected")


def test_a_wrong_proof_of_ownership_is_refused_on_the_page(suite, open_browser):
    target = suite.create_customer("de")
    source = suite.create_customer("de")
    b = open_browser("de-DE")
    page = b.login_customer(target.number, target.password)
    open_wizard(b, WIZARD["de"])
    page.fill("#f-source_customer_number", source.number)
    page.fill("#f-source_password", "falsches-Passwort")
    page.click("#merge-next")
    assert "Die eingegebenen Daten sind nicht korrekt." in page.inner_text("#form-error")
    assert page.input_value("#f-source_customer_number") == source.number
    page.fill("#f-source_customer_number", target.number)
    page.fill("#f-source_password", target.password)
    page.click("#merge-next")
    assert "Mit dieser Kundennummer sind Sie eingeloggt" in page.inner_text("#e-source_customer_number")
    b.shot("own-number")


# --- a merge proven with a package password: the absorbed holder's say ------------------------


def _package_password_merge(suite, market="de"):
    from tests.e2e.test_merge_agreement import start_with_package_password, third_party_and_victim

    third, victim, domain = third_party_and_victim(suite, market)
    token = suite.login_customer(third.number, third.password)
    return third, victim, token, start_with_package_password(suite, token, victim, domain)


def test_the_absorbed_holder_objects_through_the_mailed_link(suite, open_browser):
    from tests.browser.conftest import mail_text
    from tests.e2e.test_merge_agreement import token_from

    third, victim, token, merge = _package_password_merge(suite)
    (notice,) = suite.mails.wait_for(victim.fields["email"])
    link_token = token_from(mail_text(notice.data))
    b = open_browser("de-DE")
    page = b.go(f"/merge-objection?token={link_token}")
    assert page.locator("#object").count() == 1
    # The page alone changes nothing (mail scanners follow links).
    assert (
        suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()["status"] == "ready"
    )
    b.shot("objection-question")
    page.click("#object")
    assert "widersprochen" in page.inner_text("#objection-done")
    assert (
        suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()["status"]
        == "cancelled"
    )
    page.goto(suite.url(f"/merge-objection?token={link_token}"))
    page.click("#object")
    assert page.locator("#form-error").count() == 1  # the link works once


def test_the_absorbed_customer_signed_in_sees_the_merge_and_confirms_it(suite, open_browser):
    third, victim, token, merge = _package_password_merge(suite)
    b = open_browser("de-DE")
    page = b.login_customer(victim.number, victim.password)
    page.goto(suite.url("/customer/merge"))
    assert third.number in page.inner_text("#absorbing")
    page.click("#absorbing >> text=Anzeigen")
    assert third.number in page.inner_text("#absorbed")
    assert page.locator("#take-over, #submit").count() == 0  # the kept side's buttons are not here
    b.shot("absorbed-side")
    page.click("#confirm")
    page.wait_for_url("**notice=merge_confirmed")
    assert page.locator("#confirmed").count() == 1
    assert suite.api("GET", f"/api/v1/merges/{merge['id']}", token=token, expect=200).json()[
        "confirmed_by_source"
    ]
