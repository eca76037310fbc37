#!/usr/bin/python3
"""The dashboard in headless Chromium, driven by Selenium: what the
browser shows, one line per fact, for tests/browser/test_browser.c to
assert.  Chromium resolves *.apps.test to 127.0.0.1 and keeps its profile
in the sandbox; it is quit on every way out.

  browser.py PROFILE apps LOGIN_URL
      logs in with the link, prints the page's title and the app table's
      rows ("row: app | release | change | by")
  browser.py PROFILE rollback LOGIN_URL APP VERSION...
      logs in; for each VERSION in turn, in the same browser: opens APP's
      Activity from the app list, presses "Roll back to here" on vVERSION,
      prints the preview's lines ("preview: ..."), confirms, and prints
      the heading and the outcome its page shows once the rollback is done
  browser.py PROFILE attack DASHBOARD EVIL PATH (FORM LOGIN_URL)...
      for each attack (a form the evil page submits, a fetch with
      credentials; each without the token and with the session's token
      handed to the attacker) posts the next FORM (urlencoded fields
      besides the token) after logging in with the next link (still logged
      in, the link is left unused and the session goes on), opens the evil
      page aimed at DASHBOARD+PATH, then says what the form's answer
      showed and whether the session is still logged in
  browser.py PROFILE build LOGIN_URL PATH
      logs in, opens the running build's page PATH and prints its output
      and note once its stream is open ("page: ...", "note: ..."); then,
      once the note says how the build ended, the output as text and as
      markup ("output: ...", "markup: ..."), how many elements other than
      spans it has, and the note
"""
import sys
from urllib.parse import urlencode

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 30  # generous: CI runs this on 2 busy cores


def chromium(profile):
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update",
                 "--host-resolver-rules=MAP *.apps.test 127.0.0.1",
                 "--user-data-dir=" + profile, "--window-size=1000,700"):
        o.add_argument(flag)
    # its log beside the profile: the test's clean-up finds the driver by that path
    driver = Service("/usr/bin/chromedriver", service_args=["--log-path=%s.log" % profile])
    d = webdriver.Chrome(service=driver, options=o)
    d.set_page_load_timeout(WAIT)
    return d


def script(d, js, *args):
    """js's value in the page, or None while the page is being replaced."""
    try:
        return d.execute_script(js, *args)
    except WebDriverException:
        return None


def log_in(d, link):
    """The link's page posts its token; already logged in, it goes to the apps."""
    d.get("about:blank")  # from /login, the link would be a same-page #fragment jump
    d.get(link)
    WebDriverWait(d, WAIT).until(lambda d: d.title.startswith("Apps"))


def apps(d, link):
    log_in(d, link)
    print("title:", d.title)
    for tr in d.find_elements(By.CSS_SELECTOR, "tbody tr"):
        print("row:", " | ".join(td.text for td in tr.find_elements(By.TAG_NAME, "td")[:4]))


def attack(d, dashboard, evil, path, rounds):
    n = 0
    for mode in ("form", "fetch"):
        for leaked in (False, True):
            form, link = rounds[2 * n], rounds[2 * n + 1]
            log_in(d, link)
            n += 1
            token = d.find_element(By.NAME, "csrf").get_attribute("value")
            name = mode + (" with the token" if leaked else "")
            query = urlencode({"mode": mode, "to": dashboard + path, "form": form})
            d.get("%s/?%s%s" % (evil, query, "#" + token if leaked else ""))
            if mode == "form":
                shown = WebDriverWait(d, WAIT).until(
                    lambda d: d.current_url.startswith(dashboard) and
                    script(d, "var h = document.querySelector('h1'),"
                           " p = document.querySelector('h1 + p');"
                           " return document.readyState == 'complete' && h ?"
                           " (h.textContent == 'Refused' ? h.textContent + ': ' + p.textContent"
                           " : h.textContent) : null;"))
            else:
                WebDriverWait(d, WAIT).until(lambda d: d.title.startswith("sent"))
                shown = d.title
            d.get(dashboard + "/")
            WebDriverWait(d, WAIT).until(lambda d: d.title.startswith(("Apps", "Log in")))
            session = "kept" if d.title.startswith("Apps") else "ended"
            print("%s: shown %s, session %s" % (name, shown, session))


def rollback(d, app, version):
    d.find_element(By.LINK_TEXT, "Apps").click()
    WebDriverWait(d, WAIT).until(lambda d: d.title.startswith("Apps"))
    row = d.find_element(By.XPATH, "//tr[td[1][normalize-space()='%s']]" % app)
    row.find_element(By.LINK_TEXT, "Activity").click()
    WebDriverWait(d, WAIT).until(lambda d: "Activity" in d.title)
    row = d.find_element(By.XPATH, "//tr[td[normalize-space()='v%s']]" % version)
    row.find_element(By.XPATH, ".//button[normalize-space()='Roll back to here']").click()
    WebDriverWait(d, WAIT).until(lambda d: d.title.startswith("Roll back to v" + version))
    print("preview:", d.find_element(By.CSS_SELECTOR, "pre.diff").text.replace("\n", "\npreview: "))
    d.find_element(By.XPATH, "//button[normalize-space()='Roll back to v%s']" % version).click()
    # the answer comes first; its page looks again each second until the rollback is done
    shown = WebDriverWait(d, 2 * WAIT).until(
        lambda d: script(d, "var h = document.querySelector('h1'),"
                         " p = document.querySelector('h1 + p');"
                         " return document.readyState == 'complete' && h && p &&"
                         " h.textContent != 'Roll back ' + arguments[0] + ' to v' + arguments[1] &&"
                         " p.className != 'pending' ? h.textContent + '\\n' + p.textContent : null;",
                         app, version))
    print("shown:", shown.replace("\n", "\nshown: "))


def build(d, link, path):
    log_in(d, link)
    d.get(link.split("/login", 1)[0] + path)
    note = "return document.getElementById('live').textContent;"
    WebDriverWait(d, WAIT).until(lambda d: (script(d, note) or "").startswith("The build is running"))
    pre = d.find_element(By.ID, "output")
    print("page:", pre.text.replace("\n", "\npage: "))
    print("note:", script(d, note), flush=True)
    WebDriverWait(d, 2 * WAIT).until(lambda d: "Reload" in (script(d, note) or ""))
    print("output:", pre.text.replace("\n", "\noutput: "))
    print("markup:", pre.get_attribute("innerHTML").replace("\n", "\nmarkup: "))
    print("elements:", len(pre.find_elements(By.CSS_SELECTOR, ":not(span)")))
    print("note:", script(d, note))


def main(argv):
    d = chromium(argv[1])
    try:
        if argv[2] == "apps":
            apps(d, argv[3])
        elif argv[2] == "rollback":
            log_in(d, argv[3])
            for version in argv[5:]:
                rollback(d, argv[4], version)
        elif argv[2] == "attack":
            attack(d, argv[3], argv[4], argv[5], argv[6:])
        elif argv[2] == "build":
            build(d, argv[3], argv[4])
        else:
            raise SystemExit("usage: browser.py PROFILE apps|rollback|attack|build ...")
    finally:
        d.quit()


if __name__ == "__main__":
    main(sys.argv)
