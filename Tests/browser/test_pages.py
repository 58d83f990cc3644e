"""The web pages in headless Chromium, as the people who handle an incident use them.

One story, in order: a member of staff signs in and reports an incident through the
policy's form; they record their report and see the duty go from due to done; the school's
data protection lead, signed in at the same time in another browser, records their own
duty, and is refused when a decision lacks the reason the policy requires; a member of
another school cannot see the incident. Every page is checked with axe-core (WCAG 2.1 A
and AA: no serious or critical violation), by keyboard, at phone size, and saved as a
screenshot (RULEBOOK_SCREENSHOTS; `make screenshots` writes docs/screenshots).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from conftest import check_accessibility, screenshot, sign_in

PASSWORD = "correct horse battery staple"
LONDON = ZoneInfo("Europe/London")


def badge(driver, duty: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f"#duty-{duty} .duty-line .badge").text


def follow(driver, by: str, selector: str, within=None) -> None:
    """Clicks the link or submit button found by (by, selector), and waits for the page it
    leads to. Found again if the page it was found on was still being replaced (Chromium
    can answer a find from a document it is about to drop)."""
    for attempt in range(5):
        element = (within or driver).find_element(by, selector)
        try:
            element.click()
            break
        except (StaleElementReferenceException, WebDriverException) as e:
            if attempt == 4 or not (isinstance(e, StaleElementReferenceException) or "does not belong to the document" in str(e)):
                raise
            time.sleep(0.2)
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(element))
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")


def record(driver, duty: str, action: str, fields: dict[str, str] | None = None) -> None:
    """From the incident's page: the duty's button to the action's form, filled in as a
    person would, and sent."""
    follow(driver, By.CSS_SELECTOR, f"#duty-{duty} a[href*='action={action}']")
    form = driver.find_element(By.CSS_SELECTOR, "form.record")
    for name, value in (fields or {}).items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)
    follow(driver, By.CSS_SELECTOR, "form.record button[type=submit]")


def no_sideways_scroll(driver) -> bool:
    """Nothing is wider than the phone's screen (a phone widens the layout to fit what is
    too wide, and then shrinks everything: the page itself would not scroll)."""
    return driver.execute_script("return document.documentElement.scrollWidth <= screen.width")


@pytest.fixture(scope="module")
def people(server):
    # An incident of the shipped examples (overdue by now) beside the ones the tests open.
    server.cli("import", "Policies/examples/madras-foi-disclosure.yaml", "--school", "madras")
    server.add_user("bea", "madras", "staff", PASSWORD)
    server.add_user("dana", "madras", ["dp_lead", "headteacher"], PASSWORD)
    server.add_user("leo", "leverton", "staff", PASSWORD)
    return server


def test_an_incident_from_report_to_refusal(people, browser):
    server = people
    staff = browser()

    # Signing in, by keyboard: the first Tab reaches the skip link, which is visibly focused.
    staff.get(server.url("/incidents"))
    assert "/sign-in" in staff.current_url
    check_accessibility(staff, "sign-in")
    screenshot(staff, "sign-in", full=False)
    staff.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    focused = staff.switch_to.active_element
    assert focused.get_attribute("class") == "skip"
    assert staff.execute_script("return getComputedStyle(document.activeElement).outlineStyle") != "none"
    sign_in(staff, server.base_url, "bea", PASSWORD)
    assert staff.current_url.endswith("/incidents")

    # Where a policy lets a reporter stay anonymous, its form says what that means.
    staff.get(server.url("/incidents/new?policy=treetops"))
    anonymity = staff.find_element(By.ID, "field-fact.reporter_anonymous")
    assert "stay anonymous" in anonymity.text and "withheld" in anonymity.text
    staff.get(server.url("/incidents"))

    # Reporting: the policy's questions, in its words, open the incident.
    follow(staff, By.LINK_TEXT, "Report an incident")
    check_accessibility(staff, "report-choose-policy")
    staff.find_element(By.ID, "policy-madras").click()
    follow(staff, By.CSS_SELECTOR, "form[action='/incidents/new'] button[type=submit]")
    assert "Data Breach Policy and Procedure" in staff.page_source
    check_accessibility(staff, "report-form")
    screenshot(staff, "report-form", full=False)
    discovered = (datetime.now(LONDON) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")
    # A datetime-local field takes its value in the browser's own locale format when typed;
    # set it as the browser itself would submit it.
    staff.execute_script("document.getElementById('open-discovered_at').value = arguments[0]", discovered)
    staff.find_element(By.CSS_SELECTOR, "label[for='open-breach_type-lost_or_stolen_hardware']").click()
    follow(staff, By.CSS_SELECTOR, "form[action='/incidents/new'] button[type=submit]")
    WebDriverWait(staff, 10).until(lambda d: "flash=opened" in d.current_url)
    number = staff.current_url.split("/incidents/")[1].split("?")[0]
    assert staff.find_element(By.CSS_SELECTOR, ".flash").text.startswith("The incident is open")

    # The reporter's duty is due, with its clause and time left; recorded, it is done.
    assert badge(staff, "report") == "Due"
    duty = staff.find_element(By.ID, "duty-report")
    assert "[" in duty.find_element(By.CSS_SELECTOR, ".clause").text
    assert "left" in duty.find_element(By.CSS_SELECTOR, ".when").text
    assert "GMT" in duty.find_element(By.CSS_SELECTOR, ".when").text or "BST" in duty.find_element(By.CSS_SELECTOR, ".when").text
    record(staff, "report", "report", {"note": "Told the head and the data protection lead in person"})
    assert "flash=recorded" in staff.current_url
    assert badge(staff, "report") == "Done"
    assert "bea" in staff.find_element(By.ID, "trail").find_element(By.XPATH, "..").text

    # The data protection lead, signed in at the same time, sees it among their incidents.
    lead = browser()
    sign_in(lead, server.base_url, "dana", PASSWORD)
    assert number in lead.find_element(By.CSS_SELECTOR, "table.incidents").text
    check_accessibility(lead, "my-incidents")
    screenshot(lead, "my-incidents", full=False)
    follow(lead, By.LINK_TEXT, number)
    assert badge(lead, "report") == "Done"
    assert badge(lead, "report_to_dpo") in ("Due", "Overdue")
    record(lead, "report_to_dpo", "report_to_dpo")
    assert badge(lead, "report_to_dpo") == "Done"
    lead.get(server.url(f"/incidents/{number}"))
    screenshot(lead, "incident", full=False)
    check_accessibility(lead, "incident")

    # A decision not to tell the people affected needs a documented reason: refused, the
    # policy's reason beside the field, what was typed kept.
    record(lead, "subjects_decision", "decide_not_to_notify_subjects", {"note": "Discussed with the DPO"})
    error = lead.find_element(By.ID, "record-reason-error")
    assert "documented reason" in error.text
    assert lead.find_element(By.ID, "record-note").get_attribute("value") == "Discussed with the DPO"
    assert lead.find_element(By.TAG_NAME, "h1").text == "Decide not to notify the data subjects"
    check_accessibility(lead, "record-refused")
    lead.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    screenshot(lead, "record-refused", full=False)

    # The audit an auditor signs: the hash chains checked first, then the verdict.
    lead.get(server.url(f"/incidents/{number}/audit"))
    assert "The records check out" in lead.find_element(By.CSS_SELECTOR, ".verdict").text
    check_accessibility(lead, "audit")
    screenshot(lead, "audit", full=False)

    # A member of another school: not in their list, and not found by its number.
    other = browser()
    sign_in(other, server.base_url, "leo", PASSWORD)
    assert number not in other.page_source
    other.get(server.url(f"/incidents/{number}"))
    assert other.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert "Your duties" not in other.page_source
    check_accessibility(other, "not-found")


def test_a_policy_page_and_a_phone(people, browser):
    server = people
    desk = browser()
    sign_in(desk, server.base_url, "dana", PASSWORD)
    desk.get(server.url("/policies"))
    check_accessibility(desk, "policies")
    follow(desk, By.PARTIAL_LINK_TEXT, "Data Breach Policy and Procedure")
    assert desk.find_element(By.ID, "assumptions")
    assert desk.find_element(By.ID, "coverage")
    image = desk.find_element(By.CSS_SELECTOR, "img[src$='diagram.svg']")
    assert desk.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image)
    check_accessibility(desk, "policy")
    screenshot(desk, "policy", full=False)

    phone = browser(phone=True)
    sign_in(phone, server.base_url, "dana", PASSWORD)
    assert no_sideways_scroll(phone), "the incident list scrolls sideways on a phone"
    check_accessibility(phone, "my-incidents-phone")
    screenshot(phone, "my-incidents-phone", full=False)
    first = phone.find_elements(By.CSS_SELECTOR, "table.incidents tbody a")
    if first:
        follow(phone, By.CSS_SELECTOR, "table.incidents tbody a")
        assert no_sideways_scroll(phone), "an incident's page scrolls sideways on a phone"
        check_accessibility(phone, "incident-phone")
        screenshot(phone, "incident-phone", full=False)
