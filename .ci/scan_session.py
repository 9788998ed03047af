#!/usr/bin/env python3
"""Sessions, fixtures and form bodies for .ci/scan.sh (Python 3 standard library only).

  scan_session.py setup BASE BIN DB STATE.json
      Signs up three organisers through /signup (for sqlmap, Wapiti, sec_headers), signs in
      the admin that scan.sh made with the CLI, and creates what the forms need through
      the site itself: events of the sqlmap organiser (single, series, one for the status
      forms, one waiting for review), a source, a token, a pre-sign-in CSRF pair. Writes
      everything to STATE.json and prints it as shell assignments (for eval).
  scan_session.py form STATE.json ROLE PAGE ACTION [NAME=VALUE | -NAME]...
      Fetches PAGE as ROLE (anon, org, wapiti, admin), takes the <form> whose action is
      ACTION, and prints the urlencoded body a browser would post (hidden fields, the
      csrf_token, selected options, checked boxes), with the overrides applied.
  scan_session.py check STATE.json ROLE PATH...
      Exits 1 unless each PATH answers 200 to ROLE (the session is still alive).
  scan_session.py multipart STATE.json ROLE PAGE ACTION [NAME=VALUE]...
      As form, for the upload form: a multipart/form-data body with a small .ics file.
  scan_session.py reset STATE.json WHAT
      Puts a fixture back (see reset()); also sqlmap's --eval hook, with fresh_account().
"""
import html.parser
import http.client
import json
import shlex
import subprocess
import sys
import urllib.parse

PASSWORD = "scan password 0123456789"
BOUNDARY = "scanboundary7MA4YWxkTrZu0gW"


class Browser:
    """One visitor: cookies kept by name, redirects not followed."""

    def __init__(self, base, forwarded_for=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}
        self.forwarded_for = forwarded_for

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.forwarded_for:
            h["X-Forwarded-For"] = self.forwarded_for
        if isinstance(body, (list, dict)):
            body = urllib.parse.urlencode(body, doseq=True)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in v.lower():
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def get(self, path):
        return self.request("GET", path)

    def form(self, page, action, overrides=()):
        status, _, text = self.get(page)
        if status != 200:
            raise SystemExit(f"scan_session: GET {page} answered {status}")
        fields = form_fields(text, action)
        return apply(fields, overrides)

    def submit(self, page, action, overrides=(), expect=303):
        fields = self.form(page, action, overrides)
        status, headers, text = self.request("POST", action, fields)
        if expect is not None and status != expect:
            raise SystemExit(f"scan_session: POST {action} answered {status}, not {expect}:\n{text[:2000]}")
        return headers.get("location", "")


class FormParser(html.parser.HTMLParser):
    """The fields of every <form>, in document order, as a browser would post them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []  # (action, [(name, value)])
        self.cur = None
        self.select = None  # [name, first, chosen]
        self.option = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.cur = (a.get("action", ""), [])
            self.forms.append(self.cur)
        if self.cur is None:
            return
        fields = self.cur[1]
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((a["name"], a.get("value", "on")))
                elif kind == "radio" and not any(n == a["name"] for n, _ in fields):
                    # remembered so that an unchecked group still posts its first value
                    fields.append((a["name"] + "\0radio", a.get("value", "on")))
                return
            fields.append((a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None, None]
        elif tag == "option" and self.select is not None:
            self.option = a.get("value")
            if self.select[1] is None:
                self.select[1] = self.option
            if "selected" in a:
                self.select[2] = self.option
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
        if self.select is not None and self.option is None:
            pass

    def handle_endtag(self, tag):
        if self.cur is None:
            return
        if tag == "select" and self.select is not None:
            name, first, chosen = self.select
            self.cur[1].append((name, chosen if chosen is not None else (first or "")))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            value = self.textarea[1]
            if value.startswith("\n"):
                value = value[1:]
            self.cur[1].append(tuple(self.textarea))
            self.cur[1][-1] = (self.textarea[0], value)
            self.textarea = None
        elif tag == "form":
            self.cur = None


def form_fields(text, action):
    p = FormParser()
    p.feed(text)
    for act, fields in p.forms:
        if act == action:
            out, radios = [], {}
            names = {n for n, _ in fields}
            for n, v in fields:
                if n.endswith("\0radio"):
                    n = n[:-6]
                    if n not in names and n not in radios:
                        radios[n] = v
                        out.append((n, v))
                else:
                    out.append((n, v))
            return out
    raise SystemExit(f"scan_session: no form with action {action!r} (forms: {[a for a, _ in p.forms]})")


def apply(fields, overrides):
    fields = list(fields)
    for o in overrides:
        if o.startswith("-"):
            fields = [(n, v) for n, v in fields if n != o[1:]]
            continue
        n, _, v = o.partition("=")
        if any(fn == n for fn, _ in fields):
            first = True
            new = []
            for fn, fv in fields:
                if fn == n:
                    if first:
                        new.append((n, v))
                        first = False
                else:
                    new.append((fn, fv))
            fields = new
        else:
            fields.append((n, v))
    return fields


def path_of(location):
    return urllib.parse.urlsplit(location).path


def event_fields(title, **extra):
    f = {
        "city": "krakow", "kind": "workshop", "field": "", "title": title,
        "description": "Made by .ci/scan.sh.", "venue": "Scan Hall", "address": "1 Test Street",
        "url": "https://example.org/scan", "price": "Free", "start_date": "2027-03-10",
        "start_time": "19:00", "end_date": "", "end_time": "21:00", "repeat": "none",
    }
    f.update(extra)
    return [f"{k}={v}" for k, v in f.items()]


def signup(base, email, name, xff):
    b = Browser(base, forwarded_for=xff)
    b.submit("/signup", "/signup", [f"email={email}", f"name={name}", "organisation=Scan Office",
                                    f"password={PASSWORD}"])
    if "cc_session" not in b.cookies:
        raise SystemExit(f"scan_session: signing up {email} gave no session")
    return b


def setup(base, binary, db, state_path):
    st = {}
    org = signup(base, "scan-sqlmap@example.org", "Scan Sqlmap", "10.77.0.1")
    wap = signup(base, "scan-wapiti@example.org", "Scan Wapiti", "10.77.0.2")
    # Only signed in by sec_headers (Wapiti's attacks on its password form count as failed
    # sign-ins of its own account, which then answers 429 for 15 minutes, as it should).
    signup(base, "scan-headers@example.org", "Scan Headers", "10.77.0.4")
    adm = Browser(base, forwarded_for="10.77.0.3")
    adm.submit("/login", "/login", ["email=scan-admin@example.org", f"password={PASSWORD}"])
    if "cc_session" not in adm.cookies:
        raise SystemExit("scan_session: the admin could not sign in")

    # The sqlmap organiser's fixtures, made through the forms.
    ids = {}
    for key, title, extra in (
        ("EV_EDIT", "Scan edit target", {}),
        ("EV_STATUS", "Scan status target", {}),
        ("EV_REJECT", "Scan reject target", {}),
        ("EV_DELETE", "Scan delete target", {}),
        ("EV_APPROVE", "Scan approve target", {}),
        ("EV_UNPUBLISH", "Scan unpublish target", {}),
        ("EV_SERIES", "Scan series target", {"repeat": "weekly", "repeat_weekdays": "we",
                                             "repeat_interval": "1", "repeat_count": "8"}),
    ):
        loc = org.submit("/events/new", "/events/new", event_fields(title, **extra))
        ids[key] = path_of(loc).rstrip("/").split("/")[2]
    st.update(ids)
    # Published by the admin: the status forms and unpublish need a published event.
    for key in ("EV_STATUS", "EV_UNPUBLISH"):
        if _post_form(adm, "/moderation", f"/moderation/events/{ids[key]}/approve") != 303:
            raise SystemExit(f"scan_session: could not approve {key}")
    # The first date of the series, for its occurrence form.
    _, _, text = org.get(f"/api/v1/events/{ids['EV_SERIES']}/occurrences")
    st["SERIES_DATE"] = "2027-03-10"
    # A published event (demo data) and a published event of the admin, for the delete form
    # (refused: a published event cannot be deleted, so every attempt reaches the workflow).
    _, _, text = org.get("/api/v1/events?limit=2")
    j = json.loads(text)
    st["EV_PUB"] = str(j["events"][0]["id"])
    st["CURSOR"] = j["meta"].get("next_cursor") or ""
    st["CITY"] = j["events"][0].get("city", {}).get("slug", "krakow") if isinstance(j["events"][0].get("city"), dict) else "krakow"
    loc = adm.submit("/events/new", "/events/new", event_fields("Scan admin published"))
    st["EV_ADMIN"] = path_of(loc).rstrip("/").split("/")[2]
    # A source: its URL is a loopback address that the SSRF guard refuses, so no fetch
    # leaves the box (the server runs without --import-allow-private-addresses).
    loc = org.submit("/my/sources", "/my/sources", ["url=http://127.0.0.1:9/scan.ics", "city=krakow",
                                                    "kind=workshop"])
    st["SRC_ID"] = path_of(loc).rstrip("/").split("/")[3]
    loc = org.submit("/my/sources", "/my/sources", ["url=http://127.0.0.1:9/scan-delete.ics", "city=krakow",
                                                    "kind=workshop"])
    st["SRC_DEL"] = path_of(loc).rstrip("/").split("/")[3]
    # A token, for its revoke form.
    org.submit("/account/tokens", "/account/tokens", ["name=scan token"], expect=None)
    _, _, text = org.get("/account/tokens")
    p = FormParser()
    p.feed(text)
    revoke = [a for a, _ in p.forms if a.startswith("/account/tokens/") and a.endswith("/revoke")]
    st["TOKEN_ID"] = revoke[0].split("/")[3] if revoke else ""
    # The Wapiti organiser gets an event and a source of its own, so that its crawl reaches
    # the edit, status and source pages.
    loc = wap.submit("/events/new", "/events/new", event_fields("Wapiti own event"))
    st["WAPITI_EV"] = path_of(loc).rstrip("/").split("/")[2]
    # Published, so that its page offers the edit, cancel and postpone forms for good (a
    # never-published event offers deletion, and the crawl would delete it).
    if _post_form(adm, "/moderation", f"/moderation/events/{st['WAPITI_EV']}/approve") != 303:
        raise SystemExit("scan_session: could not approve the Wapiti organiser's event")
    loc = wap.submit("/my/sources", "/my/sources", ["url=http://127.0.0.1:9/wapiti.ics", "city=krakow",
                                                    "kind=talk"])
    st["WAPITI_SRC"] = path_of(loc).rstrip("/").split("/")[3]
    # The account id of the sqlmap organiser, for the admin's user page.
    _, _, text = adm.get("/admin/users?q=scan-sqlmap")
    import re
    m = re.search(r'href="/admin/users/(\d+)"', text)
    st["USER_ID"] = m.group(1) if m else ""
    # A pre-sign-in CSRF pair (cookie and form field) for /login and /signup.
    anon = Browser(base)
    fields = anon.form("/login", "/login")
    st["PRE_CSRF"] = dict(fields)["csrf_token"]
    st["PRE_COOKIE"] = f"cc_csrf={anon.cookies['cc_csrf']}"
    st["COOKIE_ORG"] = f"cc_session={org.cookies['cc_session']}"
    st["COOKIE_WAPITI"] = f"cc_session={wap.cookies['cc_session']}"
    st["COOKIE_ADMIN"] = f"cc_session={adm.cookies['cc_session']}"
    st["BASE"] = base
    with open(state_path, "w") as f:
        json.dump(st, f, indent=1)
    for k, v in st.items():
        print(f"{k}={shlex.quote(v)}")


def browser_for(state, role):
    b = Browser(state["BASE"])
    cookie = {"anon": state["PRE_COOKIE"], "org": state["COOKIE_ORG"], "wapiti": state["COOKIE_WAPITI"],
              "admin": state["COOKIE_ADMIN"]}[role]
    n, _, v = cookie.partition("=")
    b.cookies[n] = v
    return b


_STATES = {}


def _post_form(b, page, action, overrides=()):
    """Posts the form ACTION of PAGE as browser b; the status, or None when the page has no
    such form (the event is already in the state wanted)."""
    status, _, text = b.get(page)
    if status != 200:
        return None
    try:
        fields = apply(form_fields(text, action), overrides)
    except SystemExit:
        return None
    return b.request("POST", action, fields)[0]


def reset(state_path, what):
    """Puts a fixture back in the state a one-shot form needs, through the site's own forms;
    called by sqlmap's --eval before every request, so that every payload reaches the
    workflow instead of a 409 ("already cancelled").
      scheduled:ID  the event is scheduled again (reinstated)
      cancelled:ID  the event is cancelled
      pending:ID    the event waits for review (its organiser not trusted, the event
                    unpublished by the admin if published, then edited by its organiser,
                    which sends it back for review)
      published:ID  the event is published (edited by its organiser, then approved)
      untrusted:ID  the account is not trusted
      resumed:ID    the source is not paused"""
    st = _STATES.get(state_path)
    if st is None:
        st = _STATES[state_path] = json.load(open(state_path))
    kind, _, ident = what.partition(":")
    org, adm = browser_for(st, "org"), browser_for(st, "admin")
    if kind == "scheduled":
        _post_form(org, f"/events/{ident}/reinstate", f"/events/{ident}/reinstate")
    elif kind == "cancelled":
        _post_form(org, f"/events/{ident}/cancel", f"/events/{ident}/cancel")
    elif kind == "pending":
        _post_form(adm, f"/admin/users/{st['USER_ID']}", f"/admin/users/{st['USER_ID']}/distrust",
                   ["reason=Scan reset"])
        _post_form(adm, f"/moderation/events/{ident}/unpublish", f"/moderation/events/{ident}/unpublish",
                   ["reason=Scan reset"])
        _post_form(org, f"/events/{ident}/edit", f"/events/{ident}/edit")
    elif kind == "published":
        if adm.get(f"/moderation/events/{ident}/unpublish")[0] == 200:
            return
        _post_form(org, f"/events/{ident}/edit", f"/events/{ident}/edit")
        _post_form(adm, "/moderation", f"/moderation/events/{ident}/approve")
    elif kind == "untrusted":
        _post_form(adm, f"/admin/users/{ident}", f"/admin/users/{ident}/distrust", ["reason=Scan reset"])
    elif kind == "resumed":
        _post_form(org, f"/my/sources/{ident}", f"/my/sources/{ident}/resume")
    else:
        raise SystemExit(f"scan_session: unknown reset {what!r}")


_FRESH = {"n": 0}


def fresh_account(state_path, d, login_email=None):
    """sqlmap --eval hook (d is the request's variables: its parameters and `cookie`).
    Without login_email: signs up a new organiser and makes this request theirs (its cookie
    and csrf_token), for the password form, whose every success changes the password and
    whose every wrong current password counts against the account.
    With login_email: when the email field still holds login_email (another field is being
    tested), signs up a new organiser and puts their email there, so that no account
    collects the 5 failed sign-ins after which the site answers 429 to every try."""
    st = _STATES.get(state_path)
    if st is None:
        st = _STATES[state_path] = json.load(open(state_path))
    if login_email is not None and d.get("email") != login_email:
        return
    _FRESH["n"] += 1
    n = _FRESH["n"]
    import os
    email = f"scan-fresh-{os.getpid()}-{n}@example.org"
    # Its own address too: one address may make only 10 accounts an hour.
    b = signup(st["BASE"], email, "Scan Fresh", f"10.{100 + os.getpid() % 150}.{n // 250 % 250}.{n % 250 + 1}")
    if login_email is not None:
        d["email"] = email
        return
    d["cookie"] = f"cc_session={b.cookies['cc_session']}"
    d["csrf_token"] = dict(b.form("/account", "/account/password"))["csrf_token"]


def main(argv):
    if len(argv) >= 5 and argv[0] == "setup":
        setup(*argv[1:5])
    elif len(argv) >= 4 and argv[0] == "form":
        state = json.load(open(argv[1]))
        b = browser_for(state, argv[2])
        fields = b.form(argv[3], argv[4], argv[5:])
        print(urllib.parse.urlencode(fields))
    elif len(argv) >= 5 and argv[0] == "multipart":
        # multipart STATE ROLE PAGE ACTION [overrides]: the upload form's body, with a small
        # .ics file in its `file` field; the boundary is BOUNDARY below.
        state = json.load(open(argv[1]))
        b = browser_for(state, argv[2])
        fields = b.form(argv[3], argv[4], argv[5:])
        ics = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//scan//EN\r\nBEGIN:VEVENT\r\n"
               "UID:scan-upload-1@example.org\r\nDTSTAMP:20261201T120000Z\r\n"
               "DTSTART:20270310T180000Z\r\nDTEND:20270310T200000Z\r\nSUMMARY:Scan upload\r\n"
               "LOCATION:Scan Hall\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
        out = []
        for n, v in fields:
            out.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{n}"\r\n\r\n{v}\r\n')
        out.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="scan.ics"\r\n'
                   f'Content-Type: text/calendar\r\n\r\n{ics}\r\n')
        out.append(f"--{BOUNDARY}--\r\n")
        sys.stdout.write("".join(out))
    elif len(argv) == 3 and argv[0] == "reset":
        reset(argv[1], argv[2])
    elif len(argv) >= 3 and argv[0] == "check":
        state = json.load(open(argv[1]))
        b = browser_for(state, argv[2])
        bad = 0
        for p in argv[3:]:
            status, _, _ = b.get(p)
            if status != 200:
                print(f"session check: GET {p} as {argv[2]} answered {status}")
                bad = 1
        sys.exit(bad)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
