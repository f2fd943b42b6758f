"""The customer's language on the pages (gateway_app/web/i18n.py) and the merge window's data
correction (gateway_app/web/merge.py), in a real chromium against the five real processes."""

from __future__ import annotations


def test_after_login_the_pages_follow_the_language_the_customer_chose_until_the_visitor_picks_one(
    suite, open_browser
):
    customer = suite.create_customer("de")
    token = suite.login_customer(customer.number, customer.password)
    suite.api("PATCH", "/api/v1/customer", token=token, json={"language": "nl"}, expect=200)

    b = open_browser("en-GB")
    page = b.login_customer(customer.number, customer.password)
    assert page.get_attribute("html", "lang") == "nl"
    assert page.locator("nav.menu h2").text_content().strip() == "Je contract"
    b.shot("dutch-after-login")

    b.go("/customer?lang=en")  # the visitor's own choice wins, and sticks
    page = b.go("/customer")
    assert page.get_attribute("html", "lang") == "en"

    page = b.go("/customer/data")
    select = page.locator("#f-language")
    assert select.input_value() == "nl"
    assert [o.strip() for o in select.locator("option").all_inner_texts()] == [
        "English",
        "Deutsch",
        "Nederlands",
    ]
    select.select_option("de")
    page.click("main form button.primary")
    page.wait_for_url("**notice=saved")
    assert page.get_attribute("html", "lang") == "de"  # the choice just saved is the latest
    assert suite.api("GET", "/api/v1/customer", token=token, expect=200).json()["language"] == "de"
    b.shot("german-after-saving")


def test_a_customer_without_a_language_of_its_own_keeps_the_browsers_language_after_login(
    suite, open_browser
):
    customer = suite.create_customer("de")
    page = open_browser("en-GB").login_customer(customer.number, customer.password)
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("nav.menu h2").text_content().strip() == "Change Contract"


def test_the_kept_number_corrects_its_contact_data_in_the_merge_window_and_the_comparison_shows_it(
    suite, open_browser
):
    target = suite.create_customer("de")
    source = suite.create_customer("de", street="Gartenweg 5", zip="20095", city="Hamburg")
    suite.create_package(source.number)

    b = open_browser()
    page = b.login_customer(target.number, target.password)
    page = b.go("/customer/merge")
    page.fill("#f-source_customer_number", source.number)
    page.fill("#f-source_password", source.password)
    page.click("#merge-next")
    page.wait_for_url("**/customer/merge/*")
    differs = {row.get_attribute("data-field") for row in page.locator("#comparison tr.differs").all()}
    assert {"street", "zip", "city", "email"} <= differs
    b.shot("before-correction")

    # The address and the e-mail address of the kept number, changed in place; a new e-mail
    # address needs the customer password (the rule of PATCH /api/v1/customer).
    page.click("#correct-data summary")
    page.fill("#correct-data #f-street", "Gartenweg 5")
    page.fill("#correct-data #f-zip", "20095")
    page.fill("#correct-data #f-city", "Hamburg")
    page.fill("#correct-data #f-email", source.fields["email"])
    page.click("#save-data")
    assert page.locator("#correct-data #e-current_password").is_visible()
    assert page.locator('#comparison tr[data-field="street"]').get_attribute("class") == "differs"
    assert page.locator("#correct-data #f-street").input_value() == "Gartenweg 5"  # typed values kept

    page.fill("#correct-data #f-current_password", target.password)
    page.click("#save-data")
    page.wait_for_url("**notice=data_corrected")
    for field in ("street", "zip", "city", "email"):
        row = page.locator(f'#comparison tr[data-field="{field}"]')
        assert row.get_attribute("class") == "equal", field
    assert "Gartenweg 5" in page.locator('#comparison tr[data-field="street"] td').first.inner_text()
    assert page.locator("#submit").is_visible()  # nothing differs: "Next" without "Update Data"
    b.shot("after-correction")

    token = suite.login_customer(target.number, target.password)
    record = suite.api("GET", "/api/v1/customer", token=token, expect=200).json()
    assert (record["street"], record["city"], record["email"]) == (
        "Gartenweg 5",
        "Hamburg",
        source.fields["email"],
    )
