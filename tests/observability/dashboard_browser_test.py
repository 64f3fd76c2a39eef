#!/usr/bin/python3
"""The dashboard in a real headless Chromium (Selenium), against a running node: the counts it shows match
/api/status, the action buttons appear only once a token is entered, pressing "reprocess" on a job whose
forward failed sends it through again (the PACS is up by then) and the job ends `done`; the page fits a phone's
width and logs no console error.

Usage: dashboard_browser_test.py --node build/src/app/creni-node [--screenshot FILE]
"""
import argparse
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_fixture import TOKEN, NodeFixture, wait_until  # noqa: E402

PHONE = (390, 844)  # CSS pixels of a common phone


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     f"--window-size={PHONE[0]},{PHONE[1]}", "--disable-background-networking"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def shown_count(driver, gateway, state):
    cell = driver.find_element(By.CSS_SELECTOR, f'td[data-gateway="{gateway}"][data-state="{state}"]')
    return int(cell.text)


def counts_match_status(driver, node):
    status = node.get("/api/status")
    try:
        return all(shown_count(driver, c["gateway"], c["state"]) == c["count"] for c in status["counts"])
    except Exception:  # the table is being redrawn: ask again
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--node", required=True)
    parser.add_argument("--screenshot", help="also save a phone-sized screenshot here")
    args = parser.parse_args()

    with NodeFixture(args.node) as node:
        node.send_by_scp(3)
        node.drop_into_folder(2, broken=1)
        wait_until(lambda: node.count("1", "forward_failed") == 3, 60, "3 forward_failed jobs of gateway 1")
        wait_until(lambda: node.count("2", "written") == 2 and node.count("2", "rejected") == 1, 60,
                   "gateway 2: 2 written, 1 rejected")

        driver = browser()
        try:
            driver.get(node.url("/"))
            wait_until(lambda: driver.execute_script("return document.body.dataset.loaded === 'true'"), 20,
                       "the dashboard's first refresh")
            wait_until(lambda: counts_match_status(driver, node), 20, "the dashboard's counts to match /api/status")
            assert shown_count(driver, "1", "forward_failed") == 3
            assert shown_count(driver, "2", "rejected") == 1

            failed = node.get("/api/jobs?state=forward_failed&gateway=1")["jobs"][0]["id"]
            rejected = node.get("/api/jobs?state=rejected")["jobs"][0]["id"]
            row = f'tr[data-job="{failed}"]'
            wait_until(lambda: driver.find_elements(By.CSS_SELECTOR, row), 20, f"job {failed} in the action list")
            assert driver.find_elements(By.CSS_SELECTOR, f'tr[data-job="{rejected}"]'), "the rejected job is listed"
            button = f'{row} button[data-action="reprocess"]'
            assert not driver.find_element(By.CSS_SELECTOR, button).is_displayed(), "actions hidden without a token"

            driver.find_element(By.ID, "token").send_keys(TOKEN)
            driver.find_element(By.ID, "token-use").click()
            wait_until(lambda: driver.find_element(By.CSS_SELECTOR, button).is_displayed(), 10,
                       "the reprocess button once the token is entered")
            if args.screenshot:
                driver.execute_script("window.scrollTo(0, 0)")
                driver.save_screenshot(args.screenshot)
                driver.execute_script("document.getElementById('actionable').scrollIntoView()")
                driver.save_screenshot(args.screenshot.replace(".png", "-actions.png"))

            node.start_pacs()
            driver.find_element(By.CSS_SELECTOR, button).click()
            wait_until(lambda: "1 changed" in driver.find_element(By.ID, "action-result").text, 10,
                       "the page to report the change")
            wait_until(lambda: node.get(f"/api/jobs/{failed}")["job"]["state"] == "done", 60,
                       f"job {failed} to be processed and forwarded again")
            # The page follows by itself: the job leaves the action list and gateway 1 shows one job done.
            wait_until(lambda: not driver.find_elements(By.CSS_SELECTOR, row), 20, "the job to leave the action list")
            wait_until(lambda: counts_match_status(driver, node), 20, "the counts after the reprocess")
            assert shown_count(driver, "1", "done") == 1
            assert shown_count(driver, "1", "forward_failed") == 2

            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the page is {overflow} px wider than a phone's screen"
            errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert not errors, f"console errors: {errors}"
        finally:
            driver.quit()
    print("dashboard browser test passed")


if __name__ == "__main__":
    main()
