#!/usr/bin/env python3
"""End-to-end test in a real browser: an organiser signs up, submits an event with an end
before its start, sees the error with everything typed kept, fixes it and lands on the
pending event page.

Speaks the W3C WebDriver protocol to a running chromedriver with the standard library
only (urllib + json). Run by .ci/e2e-browser.sh, which starts the app and chromedriver:
    browser_test.py --base http://127.0.0.1:PORT --webdriver http://127.0.0.1:PORT2 --out DIR
"""

import argparse
import base64
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C web element key
REQUEST_TIMEOUT = 30  # seconds, for one WebDriver command
WAIT_TIMEOUT = 15  # seconds, for one condition on a page


class WebDriverError(Exception):
    pass


class Failure(Exception):
    pass


class Browser:
    """A W3C WebDriver session."""

    def __init__(self, webdriver_url):
        self.url = webdriver_url.rstrip("/")
        self.session = None

    def _call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT) as resp:
                payload = json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            try:
                value = json.loads(e.read()).get("value", {})
                first_line = (value.get("message") or "").split("\n")[0]
                msg = f"{value.get('error')}: {first_line}"
            except (ValueError, AttributeError):
                msg = str(e)
            raise WebDriverError(f"{method} {path}: {msg}") from None
        return payload.get("value")

    def _s(self, method, path, body=None):
        return self._call(method, f"/session/{self.session}{path}", body)

    def start(self):
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": "/usr/bin/chromium",
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--window-size=1280,1000",
                            "--lang=en-US",
                        ],
                    },
                }
            }
        }
        value = self._call("POST", "/session", caps)
        self.session = value["sessionId"]
        self._s("POST", "/timeouts", {"implicit": 0, "pageLoad": 20000, "script": 10000})
        return value["capabilities"].get("browserVersion", "?")

    def quit(self):
        if self.session:
            try:
                self._call("DELETE", f"/session/{self.session}")
            finally:
                self.session = None

    # Pages
    def go(self, url):
        self._s("POST", "/url", {"url": url})

    def current_url(self):
        return self._s("GET", "/url")

    def title(self):
        return self._s("GET", "/title")

    def script(self, source, *args):
        return self._s("POST", "/execute/sync", {"script": source, "args": list(args)})

    def screenshot(self, path, full_page=True):
        """A PNG of the page; with full_page, the window is made as tall as the page first."""
        rect = self._s("GET", "/window/rect")
        if full_page:
            height = self.script("return document.documentElement.scrollHeight;")
            if isinstance(height, int) and height > rect["height"]:
                self._s("POST", "/window/rect", {"width": rect["width"], "height": min(height + 150, 6000)})
        try:
            png = base64.b64decode(self._s("GET", "/screenshot"))
        finally:
            if full_page:
                self._s("POST", "/window/rect", {"width": rect["width"], "height": rect["height"]})
        with open(path, "wb") as f:
            f.write(png)
        return len(png)

    # Elements
    def find_all(self, css):
        return [Element(self, e[ELEMENT]) for e in self._s("POST", "/elements", {"using": "css selector", "value": css})]

    def find(self, css, timeout=WAIT_TIMEOUT):
        """The first element matching css, waiting for it up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.find_all(css)
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise Failure(f"no element matches {css!r} after {timeout} s")
            time.sleep(0.1)

    def wait_for(self, what, condition, timeout=WAIT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except WebDriverError:
                pass  # a page in the middle of loading
            if time.monotonic() > deadline:
                raise Failure(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.1)

    def page_text(self, limit=700):
        """The text of the page's <main> (or <body>), its lines joined by " | "."""
        try:
            found = self.find_all("main") or self.find_all("body")
            text = found[0].text() if found else "(empty page)"
        except WebDriverError as e:
            return f"(no page text: {e})"
        text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
        return text[:limit] + (" …" if len(text) > limit else "")


class Element:
    def __init__(self, browser, element_id):
        self.b = browser
        self.id = element_id

    def _e(self, method, what, body=None):
        return self.b._s(method, f"/element/{self.id}{what}", body)

    def ref(self):
        return {ELEMENT: self.id}

    def find(self, css):
        return Element(self.b, self._e("POST", "/element", {"using": "css selector", "value": css})[ELEMENT])

    def click(self):
        self._e("POST", "/click", {})

    def clear(self):
        self._e("POST", "/clear", {})

    def send_keys(self, text):
        self._e("POST", "/value", {"text": text})

    def text(self):
        return self._e("GET", "/text")

    def attr(self, name):
        return self._e("GET", f"/attribute/{name}")

    def prop(self, name):
        return self._e("GET", f"/property/{name}")

    def value(self):
        return self.prop("value")


def type_into(b, css, text):
    el = b.find(css)
    el.clear()
    el.send_keys(text)
    got = el.value()
    if got != text:
        raise Failure(f"typed {text!r} into {css}, it holds {got!r}")


def choose(b, select_css, value):
    """Picks an option of a <select> by clicking it, as a person would."""
    b.find(f"{select_css} option[value={json.dumps(value)}]").click()
    got = b.find(select_css).value()
    if got != value:
        raise Failure(f"chose {value!r} in {select_css}, it holds {got!r}")


def set_value(b, css, value):
    """Sets an <input type=date|time>. Typing into those is locale dependent in Chrome: with
    --lang=en-US the keys "03122027" give 2027-03-12 but "2027-03-12" gives 70312-02-02,
    and another locale wants another order. So the value is set by a WebDriver-injected
    script, with the events a person's input would fire. The site's CSP (script-src 'none')
    binds the page's own scripts only; WebDriver's run regardless."""
    el = b.find(css)
    b.script(
        "const el = arguments[0]; el.value = arguments[1];"
        "el.dispatchEvent(new Event('input', {bubbles: true}));"
        "el.dispatchEvent(new Event('change', {bubbles: true}));",
        el.ref(),
        value,
    )
    got = el.value()
    if got != value:
        raise Failure(f"set {css} to {value!r}, it holds {got!r}")


def http_status(b):
    """The HTTP status of the page's own response (Navigation Timing), or None."""
    status = b.script("const n = performance.getEntriesByType('navigation')[0]; return n ? n.responseStatus : null;")
    return status if isinstance(status, int) and status > 0 else None


def on_path(b, pattern):
    path = re.sub(r"^https?://[^/]+", "", b.current_url())
    return re.fullmatch(pattern, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True, help="the app, such as http://127.0.0.1:8080")
    ap.add_argument("--webdriver", required=True, help="chromedriver, such as http://127.0.0.1:9515")
    ap.add_argument("--out", required=True, help="folder for the screenshots")
    args = ap.parse_args()
    base = args.base.rstrip("/")

    stamp = f"{int(time.time())}-{os.getpid()}"
    email = f"e2e-{stamp}@example.org"
    title = f"Braga Media Arts Night {stamp}"
    venue = "Theatro Circo"
    description = "Light installations and live audiovisual sets.\n\nFree entry; all ages."

    b = Browser(args.webdriver)
    failed = False
    step = "start the browser"
    try:
        print(f"browser: Chromium {b.start()}", flush=True)

        step = "1 sign up"
        b.go(f"{base}/signup")
        type_into(b, "#f-email", email)
        type_into(b, "#f-name", "Ana Costa")
        type_into(b, "#f-organisation", "Braga Media Arts Festival")
        type_into(b, "#f-password", "correct horse battery staple")
        b.find("form.signup button[type=submit]").click()
        b.wait_for("/my/events", lambda: on_path(b, "/my/events"))
        h1 = b.find("h1").text()
        if h1 != "My events":
            raise Failure(f"h1 is {h1!r}, expected 'My events'")
        print(f"PASS  1 sign up as {email}: on /my/events, h1 {h1!r}", flush=True)

        step = "2 submit an event ending before its start"
        b.go(f"{base}/events/new")
        choose(b, "select#f-city", "braga")
        choose(b, "select#f-kind", "festival")
        type_into(b, "#f-title", title)
        type_into(b, "#f-venue", venue)
        type_into(b, "#f-description", description)
        set_value(b, "#f-start_date", "2027-03-12")
        set_value(b, "#f-start_time", "19:00")
        set_value(b, "#f-end_date", "2027-03-11")
        set_value(b, "#f-end_time", "22:00")
        b.find("form.event-form button[type=submit]").click()
        print("PASS  2 filled in /events/new (end 2027-03-11 before start 2027-03-12) and submitted", flush=True)

        step = "3 the form again, with the error and everything typed kept"
        summary = b.find(".error-summary")
        if not on_path(b, "/events/new"):
            raise Failure("the error page is not at /events/new")
        error = b.find("#end_date-error")
        if "field-error" not in (error.attr("class") or "").split():
            raise Failure(f"#end_date-error has class {error.attr('class')!r}, expected field-error")
        error_text = " ".join(error.text().split())  # "Error: " is a visually hidden prefix
        if not re.search(r"end\b.*\bbefore\b.*\bstart", error_text, re.I):
            raise Failure(f"#end_date-error says {error_text!r}, expected the end is before the start")
        status = http_status(b)
        if status not in (422, None):
            raise Failure(f"the form came back with HTTP {status}, expected 422")
        if b.find("#f-end_date").attr("aria-invalid") != "true":
            raise Failure('#f-end_date has no aria-invalid="true"')
        kept = {
            "select#f-city": "braga",
            "select#f-kind": "festival",
            "#f-title": title,
            "#f-venue": venue,
            "#f-description": description,
            "#f-start_date": "2027-03-12",
            "#f-start_time": "19:00",
            "#f-end_date": "2027-03-11",
            "#f-end_time": "22:00",
        }
        lost = {css: b.find(css).value() for css, want in kept.items() if b.find(css).value() != want}
        if lost:
            raise Failure(f"not kept as typed: {lost}")
        shot = os.path.join(args.out, "form-error.png")
        size = b.screenshot(shot)
        summary_text = " / ".join(summary.text().splitlines())
        print(
            f"PASS  3 form shown again (HTTP {status or '?'}): summary {summary_text!r}, #end_date-error {error_text!r}, "
            f"aria-invalid on #f-end_date, all {len(kept)} fields kept; {shot} ({size} bytes)",
            flush=True,
        )

        step = "4 fix the end date and submit again"
        set_value(b, "#f-end_date", "2027-03-12")
        b.find("form.event-form button[type=submit]").click()
        b.wait_for("/events/{id}", lambda: on_path(b, r"/events/\d+"))
        event_path = re.sub(r"^https?://[^/]+", "", b.current_url())
        h1 = b.find("h1").text()
        if h1 != title:
            raise Failure(f"h1 is {h1!r}, expected {title!r}")
        status = http_status(b)
        if status not in (200, None):
            raise Failure(f"the event page came with HTTP {status}, expected 200")
        banner = b.find(".banner-pending").text()
        if "Waiting for review" not in banner:
            raise Failure(f".banner-pending says {banner!r}")
        shot = os.path.join(args.out, "pending.png")
        size = b.screenshot(shot)
        print(
            f"PASS  4 event page {event_path}: h1 is the title, .banner-pending "
            f"{banner.split('.')[0] + '.'!r}; {shot} ({size} bytes)",
            flush=True,
        )
    except (Failure, WebDriverError, OSError, KeyError, TypeError) as e:  # OSError: chromedriver gone
        failed = True
        print(f"FAIL  {step}: {e}", flush=True)
        if b.session:
            try:
                print(f"      url:  {b.current_url()}")
                print(f"      page: {b.page_text()}")
                shot = os.path.join(args.out, "failure.png")
                b.screenshot(shot)
                print(f"      screenshot: {shot}")
            except Exception as e2:  # noqa: BLE001 - best effort while reporting
                print(f"      (could not read the page: {e2})")
    finally:
        try:
            b.quit()
        except Exception as e:  # noqa: BLE001
            print(f"warning: could not end the WebDriver session: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
