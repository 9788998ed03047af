#!/usr/bin/env python3
"""The crash test (issue 15, "Durability and crashes"); run by .ci/check-crash.sh.

For each backend (SQLite, then a private PostgreSQL cluster), on a fresh database with an
admin, organisers signed up through /signup, their API tokens and two organisers' .ics
sources served from 127.0.0.1:

  three kill rounds: 200 client threads submit events through the form and the API, edit
  their own events (form and PATCH), an admin approves organisers' events, and two
  organisers press "Fetch now" on their sources; at a different moment of each round the
  server gets `kill -9`; the database as the crash left it is checked (SQLite: a copy of
  the file and its WAL, `PRAGMA integrity_check` on it) against every write that had its
  success answer; the server is started again on the same database (it must answer
  /healthz, a page and a feed at once) while the clients keep going; at the end of the
  round the live database and the API (/api/v1/my/events with each owner's token) are
  checked against every acknowledged write so far.

  PostgreSQL only, a fourth round: the cluster is stopped (`-m immediate`) for ~3 s under
  load and started again; the app must keep its process, answer 503 (HTML, or JSON under
  /api/) or succeed while it is away, never a 500, never hang past the client timeout (20
  s), answer 200 by itself within seconds once it is back, and keep every acknowledged
  write.

Content rules: every write carries a fixed-width token (W00001234) in its title; an
acknowledged edit supersedes the event's earlier content; a write that got no answer (in
flight at the crash) may or may not be stored, but if stored it must be exactly what was
sent; a write refused with a 4xx must not be stored. Standard library only.
"""

import argparse
import http.client
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PASSWORD = "crash test password 1234"
ADMIN_EMAIL = "admin@crash.example"
ORGANISERS = 40
CLIENTS = 200
APPROVERS = 2
CITY = "krakow"  # Europe/Warsaw
FEED_EVENTS = 5
SOURCES = 2
TIMEOUT = 20.0  # seconds, every client request
PG_BIN = "/usr/lib/postgresql/15/bin"
RUN = "%04X" % random.randrange(0x10000)
TOKEN_RE = re.compile(r"W(\d{8})")
T0 = time.monotonic()


def now():
    return time.monotonic()


def log(msg):
    print(f"[{now() - T0:7.1f}s] {msg}", flush=True)


# ------------------------------------------------------------------------------------------
# Processes, cleaned up on any exit.

PROCS = []  # every subprocess.Popen we start that may outlive a step
PIDFILE = None


def note_pid(p):
    PROCS.append(p)
    if PIDFILE:
        with open(PIDFILE, "a") as f:
            f.write(f"{p.pid}\n")


def kill_all():
    for p in PROCS:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ------------------------------------------------------------------------------------------
# The fixture feeds: every GET of /feed-N.ics is a new generation of its five events.

class Feeds:
    def __init__(self):
        self.lock = threading.Lock()
        self.served = {n: 0 for n in range(SOURCES)}

    @staticmethod
    def expected(n, i, gen):
        """What event i of source n is stored as, for generation gen."""
        day = 1 + (gen + i) % 27
        hour = 10 + gen % 8
        return {
            "title": f"CTFEED{RUN} s{n} e{i} gen {gen:06d}",
            "description": f"Imported event {i} of source {n}, generation {gen}",
            "start_date": f"2027-02-{day:02d}",
            "start_time": f"{hour:02d}:{i * 5:02d}",
        }

    def body(self, n, gen):
        lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//creative-calendar crash test//EN"]
        for i in range(FEED_EVENTS):
            e = self.expected(n, i, gen)
            d = e["start_date"].replace("-", "")
            t = e["start_time"].replace(":", "")
            end = f"{int(t[:2]) + 1:02d}{t[2:]}"
            lines += [
                "BEGIN:VEVENT",
                f"UID:crash-{RUN}-{n}-{i}@fixture.example",
                "DTSTAMP:20261201T000000Z",
                f"DTSTART;TZID=Europe/Warsaw:{d}T{t}00",
                f"DTEND;TZID=Europe/Warsaw:{d}T{end}00",
                f"SUMMARY:{e['title']}",
                f"DESCRIPTION:{e['description']}",
                "LOCATION:Teatr Bagatela",
                "END:VEVENT",
            ]
        lines.append("END:VCALENDAR")
        return ("\r\n".join(lines) + "\r\n").encode()

    def serve(self):
        feeds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                m = re.fullmatch(r"/feed-(\d+)\.ics", self.path)
                if not m or int(m.group(1)) not in feeds.served:
                    self.send_error(404)
                    return
                n = int(m.group(1))
                with feeds.lock:
                    feeds.served[n] += 1
                    gen = feeds.served[n]
                body = feeds.body(n, gen)
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.httpd = httpd
        return httpd.server_address[1]

    def current(self, n):
        with self.lock:
            return self.served[n]


# ------------------------------------------------------------------------------------------
# HTTP with a record of every request.

class ConnError(Exception):
    pass


class Timeline:
    """What happened when: the windows in which errors or 503s are expected."""

    def __init__(self):
        self.lock = threading.Lock()
        self.epoch = 0  # +1 at every kill: a connection from an older epoch may be dead
        self.dead = []  # [kill_t, ready_t] per kill (ready_t None while dead)
        self.db_down = []  # [stop_t, recovered_t] per PostgreSQL outage

    def kill(self):
        with self.lock:
            self.epoch += 1
            self.dead.append([now(), None])

    def ready(self):
        with self.lock:
            self.dead[-1][1] = now()

    def in_dead(self, t0, t1):
        for a, b in self.dead:
            if t1 >= a and (b is None or t0 <= b):
                return True
        return False

    def in_db_down(self, t0, t1):
        for a, b in self.db_down:
            if t1 >= a and (b is None or t0 <= b):
                return True
        return False


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests = 0
        self.statuses = {}
        self.conn_errors_expected = 0
        self.failures = []  # strings
        self.fivexx_allowed = 0  # 503s inside a PostgreSQL outage
        self.fivexx = 0  # all 5xx answers
        self.outage_latency_max = 0.0

    def fail(self, msg):
        with self.lock:
            if len(self.failures) < 2000:
                self.failures.append(msg)


class Client:
    """One keep-alive connection with a cookie jar, owned by one thread."""

    def __init__(self, port, timeline, stats, xff):
        self.port, self.timeline, self.stats, self.xff = port, timeline, stats, xff
        self.conn, self.conn_epoch, self.cookies = None, 0, {}
        self.last_t1, self.last_text = None, ""  # when the last answer arrived, and its body

    def close(self):
        if self.conn:
            self.conn.close()
        self.conn = None

    def request(self, method, path, body=None, ctype=None, headers=None):
        hdrs = {"X-Forwarded-For": self.xff, "User-Agent": "cc-crash-test"}
        if headers:
            hdrs.update(headers)
        if ctype:
            hdrs["Content-Type"] = ctype
        if self.cookies:
            hdrs["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, str):
            body = body.encode()
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
            self.conn_epoch = self.timeline.epoch
        epoch = self.conn_epoch
        t0 = now()
        try:
            self.conn.request(method, path, body=body, headers=hdrs)
            r = self.conn.getresponse()
            data = r.read()
        except (socket.timeout, TimeoutError) as e:
            self.close()
            t1 = now()
            self.stats.fail(f"TIMEOUT {method} {path} after {t1 - t0:.1f}s ({e!r})")
            raise ConnError("timeout")
        except (OSError, http.client.HTTPException) as e:
            self.close()
            t1 = now()
            stale = epoch < self.timeline.epoch
            if stale or self.timeline.in_dead(t0, t1):
                with self.stats.lock:
                    self.stats.conn_errors_expected += 1
            else:
                self.stats.fail(f"connection error outside a dead server: {method} {path}: {e!r}"
                                f" at {t0 - T0:.2f}s..{t1 - T0:.2f}s")
            raise ConnError(repr(e))
        t1 = self.last_t1 = now()
        st = r.status
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.statuses[st] = self.stats.statuses.get(st, 0) + 1
        for sc in r.headers.get_all("Set-Cookie") or []:
            k, _, rest = sc.partition("=")
            v = rest.split(";", 1)[0]
            if v == "" or "max-age=0" in sc.lower():
                self.cookies.pop(k.strip(), None)
            else:
                self.cookies[k.strip()] = v
        if (r.getheader("Connection") or "").lower() == "close":
            self.close()
        text = self.last_text = data.decode("utf-8", "replace")
        if st >= 500:
            with self.stats.lock:
                self.stats.fivexx += 1
            ct = (r.getheader("Content-Type") or "").lower()
            # Pages answer HTML, the API JSON, feeds (.ics) plain text.
            want = ("application/json" if path.startswith("/api/")
                    else "text/plain" if path.split("?")[0].endswith(".ics") else "text/html")
            if st == 503 and self.timeline.in_db_down(t0, t1) and want in ct:
                with self.stats.lock:
                    self.stats.fivexx_allowed += 1
                    self.stats.outage_latency_max = max(self.stats.outage_latency_max, t1 - t0)
            else:
                self.stats.fail(f"HTTP {st} ({ct}) {method} {path} at {t0 - T0:.2f}s..{t1 - T0:.2f}s:"
                                f" {text[:200]!r}")
        elif self.timeline.in_db_down(t0, t1):
            with self.stats.lock:
                self.stats.outage_latency_max = max(self.stats.outage_latency_max, t1 - t0)
        return st, r.headers, text


def hidden(html, name="csrf_token"):
    m = re.search(r'<input type="hidden" name="%s" value="([^"]*)"' % re.escape(name), html)
    return m.group(1) if m else None


# ------------------------------------------------------------------------------------------
# What was written, and what was acknowledged.

class Version:
    __slots__ = ("seq", "title", "description", "start_date", "start_time", "sent_t",
                 "outcome", "ack_t", "via", "answer")

    def __init__(self, seq, title, description, start_date, start_time, via):
        self.seq, self.title, self.description = seq, title, description
        self.start_date, self.start_time, self.via = start_date, start_time, via
        self.sent_t, self.outcome, self.ack_t, self.answer = now(), "unanswered", None, None

    def content(self):
        return (self.title, self.description, self.start_date, self.start_time)


class Ledger:
    def __init__(self):
        self.lock = threading.Lock()
        self.seq = 0
        self.versions = {}  # seq -> Version
        self.events = {}  # id -> {"owner": email, "history": [Version], "approved_t": t}
        self.orphans = {}  # seq -> (owner, Version): creates with no answer
        self.pending = []  # ids of acknowledged organiser events that need approval
        self.sync_acks = {n: [] for n in range(SOURCES)}  # (ack_t, min_gen)
        self.round_counts = {}

    def new_version(self, via):
        with self.lock:
            self.seq += 1
            seq = self.seq
        tok = f"W{seq:08d}"
        day = 1 + seq % 28
        month = 1 + (seq // 28) % 12
        hour = 9 + seq % 4
        minute = (seq * 7) % 60
        v = Version(
            seq,
            f"Crash {RUN} {tok} – Nuit des lumières",
            f"Crash test write {tok} via {via}. Café, Kraków ✓ «quoted» & <b>not bold</b>",
            f"2027-{month:02d}-{day:02d}",
            f"{hour:02d}:{minute:02d}",
            via,
        )
        with self.lock:
            self.versions[seq] = v
        return v

    def count(self, what):
        with self.lock:
            self.round_counts[what] = self.round_counts.get(what, 0) + 1

    def created(self, owner, v, event_id, needs_approval):
        with self.lock:
            if event_id in self.events:
                raise AssertionError(f"two creates answered with event {event_id}")
            self.events[event_id] = {"owner": owner, "history": [v], "approved_t": None}
            if needs_approval:
                self.pending.append(event_id)

    def orphan(self, owner, v):
        with self.lock:
            self.orphans[v.seq] = (owner, v)

    def edit_sent(self, event_id, v):
        with self.lock:
            self.events[event_id]["history"].append(v)

    def allowed(self, event_id, t):
        """The versions event_id may be stored as at time t: the last acknowledged one,
        and every later one that got no answer."""
        with self.lock:
            hist = list(self.events[event_id]["history"])
        last = None
        for i, v in enumerate(hist):
            if v.outcome == "acked" and v.ack_t <= t:
                last = i
        if last is None:
            return None, []
        maybe = [v for v in hist[last + 1:] if v.sent_t <= t and v.outcome != "refused"]
        return hist[last], maybe


# ------------------------------------------------------------------------------------------
# The clients.

def event_fields(v, csrf):
    return [
        ("csrf_token", csrf), ("city", CITY), ("kind", "festival"), ("field", ""),
        ("title", v.title), ("description", v.description), ("venue", "Teatr Słowackiego"),
        ("address", "plac Świętego Ducha 1"), ("url", ""), ("price", ""),
        ("start_date", v.start_date), ("end_date", ""), ("start_time", v.start_time),
        ("end_time", "20:00"), ("repeat", "none"),
    ]


class Organiser:
    """One client thread's lasting state: its account and its own events."""

    def __init__(self, idx, email, session, token, is_admin):
        self.idx, self.email, self.session, self.token = idx, email, session, token
        self.is_admin = is_admin
        self.own = []  # ids this thread created (acknowledged); only it edits them
        self.csrf = None
        self.rng = random.Random(idx * 7919 + 1)


def check_echo(ev, v):
    got = (ev.get("title"), ev.get("description"), ev.get("start", "")[:10], ev.get("start", "")[11:16])
    return got == v.content()


def organiser_loop(o, ctx):
    c = Client(ctx.port, ctx.timeline, ctx.stats, f"10.2.{o.idx // 250}.{o.idx % 250 + 1}")
    c.cookies["cc_session"] = o.session
    rng = o.rng
    auth = {"Authorization": f"Bearer {o.token}"}
    while not ctx.stop.is_set():
        r = rng.random()
        try:
            if r < 0.28:
                form_create(o, c, ctx)
            elif r < 0.56:
                api_create(o, c, ctx, auth)
            elif r < 0.73 and o.own:
                form_edit(o, c, ctx, rng.choice(o.own))
            elif r < 0.90 and o.own:
                api_patch(o, c, ctx, auth, rng.choice(o.own))
            else:
                path = rng.choice(["/", f"/cities/{CITY}", f"/cities/{CITY}/calendar.ics",
                                   f"/api/v1/events?city={CITY}", "/my/events"]
                                  + ([f"/events/{rng.choice(o.own)}"] if o.own else []))
                c.request("GET", path)
        except ConnError:
            time.sleep(0.05)


def csrf_for(o, c):
    if o.csrf is None:
        st, _, body = c.request("GET", "/events/new")
        if st != 200:
            if st < 500:  # a 5xx has been judged by the client already
                c.stats.fail(f"GET /events/new -> {st}")
            raise ConnError(f"GET /events/new -> {st}")
        o.csrf = hidden(body)
    return o.csrf


def answered(c, v, ok, st):
    """Records the outcome of a write that got an answer (at c.last_t1)."""
    if ok:
        v.outcome, v.ack_t = "acked", c.last_t1
    elif 400 <= st < 500:
        v.outcome = "refused"
    else:
        v.outcome = "failed"  # a 5xx: may or may not have been written
        v.answer = f"{st} {c.last_text[:160]!r}"


def form_create(o, c, ctx):
    csrf = csrf_for(o, c)
    v = ctx.ledger.new_version("form")
    try:
        st, h, body = c.request("POST", "/events/new", urllib.parse.urlencode(event_fields(v, csrf)),
                                "application/x-www-form-urlencoded")
    except ConnError:
        ctx.ledger.orphan(o.email, v)
        raise
    m = re.fullmatch(r"/events/(\d+)", h.get("Location") or "")
    if st == 303 and m:
        answered(c, v, True, st)
        eid = int(m.group(1))
        ctx.ledger.created(o.email, v, eid, not o.is_admin)
        o.own.append(eid)
        ctx.ledger.count("form creates")
    else:
        answered(c, v, False, st)
        ctx.ledger.orphan(o.email, v)
        if st == 403:
            o.csrf = None
        if st < 500:
            ctx.stats.fail(f"form create answered {st} {h.get('Location')!r}: {body[:300]!r}")


def api_create(o, c, ctx, auth):
    v = ctx.ledger.new_version("api")
    doc = {"city": CITY, "kind": "exhibition", "title": v.title, "description": v.description,
           "venue": "Galeria Starmach", "address": "Węgierska 5", "start_date": v.start_date,
           "start_time": v.start_time, "end_time": "20:00"}
    try:
        st, h, body = c.request("POST", "/api/v1/events", json.dumps(doc), "application/json", auth)
    except ConnError:
        ctx.ledger.orphan(o.email, v)
        raise
    ev = None
    if st == 201:
        try:
            ev = json.loads(body)["event"]
        except Exception:
            ev = None
    if ev is not None and isinstance(ev.get("id"), int):
        answered(c, v, True, st)
        ctx.ledger.created(o.email, v, ev["id"], not o.is_admin)
        o.own.append(ev["id"])
        ctx.ledger.count("api creates")
        if not check_echo(ev, v):
            ctx.stats.fail(f"POST /api/v1/events echoed other content than sent: {ev} vs {v.content()}")
    else:
        answered(c, v, False, st)
        ctx.ledger.orphan(o.email, v)
        if st < 500:
            ctx.stats.fail(f"API create answered {st}: {body[:300]!r}")


def form_edit(o, c, ctx, eid):
    st, _, page = c.request("GET", f"/events/{eid}/edit")
    if st != 200:
        if st < 500:
            ctx.stats.fail(f"GET /events/{eid}/edit -> {st}: {page[:200]!r}")
        return
    csrf = hidden(page)
    v = ctx.ledger.new_version("form edit")
    ctx.ledger.edit_sent(eid, v)
    st, h, body = c.request("POST", f"/events/{eid}/edit", urllib.parse.urlencode(event_fields(v, csrf)),
                            "application/x-www-form-urlencoded")
    ok = st == 303 and (h.get("Location") or "") == f"/events/{eid}"
    answered(c, v, ok, st)
    if ok:
        ctx.ledger.count("form edits")
    elif st < 500:
        ctx.stats.fail(f"form edit of {eid} answered {st} {h.get('Location')!r}: {body[:300]!r}")


def api_patch(o, c, ctx, auth, eid):
    v = ctx.ledger.new_version("api patch")
    doc = {"title": v.title, "description": v.description, "start_date": v.start_date,
           "start_time": v.start_time, "end_date": v.start_date, "end_time": "20:00"}
    ctx.ledger.edit_sent(eid, v)
    st, _, body = c.request("PATCH", f"/api/v1/events/{eid}", json.dumps(doc), "application/json", auth)
    ev = None
    if st == 200:
        try:
            ev = json.loads(body)["event"]
        except Exception:
            ev = None
    ok = ev is not None and ev.get("id") == eid
    answered(c, v, ok, st)
    if ok:
        ctx.ledger.count("api edits")
        if not check_echo(ev, v):
            ctx.stats.fail(f"PATCH /api/v1/events/{eid} echoed other content than sent: {ev} vs {v.content()}")
    elif st < 500:
        ctx.stats.fail(f"API patch of {eid} answered {st}: {body[:300]!r}")


def approver_loop(k, admin, ctx):
    c = Client(ctx.port, ctx.timeline, ctx.stats, f"10.3.0.{k + 1}")
    c.cookies["cc_session"] = admin.session
    csrf = None
    while not ctx.stop.is_set():
        eid = None
        with ctx.ledger.lock:
            mine = [i for i in ctx.ledger.pending if i % APPROVERS == k]
            if mine:
                eid = mine[0]
                ctx.ledger.pending.remove(eid)
        if eid is None:
            time.sleep(0.05)
            continue
        try:
            if csrf is None:
                st, _, body = c.request("GET", "/events/new")
                if st != 200:
                    ctx.stats.fail(f"approver: GET /events/new -> {st}") if st < 500 else None
                    with ctx.ledger.lock:
                        ctx.ledger.pending.append(eid)
                    continue
                csrf = hidden(body)
            fields = urllib.parse.urlencode([("csrf_token", csrf), ("reason", ""), ("back", "/moderation")])
            st, h, body = c.request("POST", f"/moderation/events/{eid}/approve", fields,
                                    "application/x-www-form-urlencoded")
            if st == 303:
                with ctx.ledger.lock:
                    ctx.ledger.events[eid]["approved_t"] = c.last_t1
                ctx.ledger.count("approvals")
            elif st == 409:
                pass  # already decided (an approval that got no answer before a crash)
            elif st >= 500:
                with ctx.ledger.lock:
                    ctx.ledger.pending.append(eid)
            else:
                ctx.stats.fail(f"approve {eid} answered {st}: {body[:300]!r}")
        except ConnError:
            with ctx.ledger.lock:
                ctx.ledger.pending.append(eid)
            time.sleep(0.05)


def fetcher_loop(n, owner, ctx):
    """ "Fetch now" on source n, again and again, as its owner."""
    c = Client(ctx.port, ctx.timeline, ctx.stats, f"10.4.0.{n + 1}")
    c.cookies["cc_session"] = owner.session
    sid = ctx.source_ids[n]
    while not ctx.stop.is_set():
        try:
            st, _, page = c.request("GET", f"/my/sources/{sid}")
            if st != 200:
                if st < 500:
                    ctx.stats.fail(f"GET /my/sources/{sid} -> {st}")
                time.sleep(0.2)
                continue
            before = ctx.feeds.current(n)
            fields = urllib.parse.urlencode([("csrf_token", hidden(page))])
            st, h, body = c.request("POST", f"/my/sources/{sid}/sync", fields, "application/x-www-form-urlencoded")
            loc = h.get("Location") or ""
            if st == 303 and loc == f"/my/sources/{sid}?synced=1":
                with ctx.ledger.lock:
                    ctx.ledger.sync_acks[n].append((c.last_t1, before + 1))
                ctx.ledger.count("syncs")
            elif st == 303 and loc == f"/my/sources/{sid}?busy=1":
                ctx.ledger.count("syncs busy")
            elif st < 500:
                ctx.stats.fail(f"Fetch now on source {sid} answered {st} {loc!r}: {body[:300]!r}")
            time.sleep(0.2)
        except ConnError:
            time.sleep(0.05)


# ------------------------------------------------------------------------------------------
# The backends.

class Backend:
    def __init__(self, name, tmp, binary):
        self.name, self.tmp, self.bin = name, tmp, binary
        self.proc = None
        self.logs = []

    def cli(self, *args, env=None, check=True):
        e = dict(os.environ)
        e.pop("CREATIVE_CALENDAR_DATABASE", None)
        if env:
            e.update(env)
        r = subprocess.run([self.bin, *args, "--database", self.url], capture_output=True, text=True,
                           env=e, timeout=120)
        if check and r.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({r.returncode}): {r.stderr[-2000:]}")
        return r.stdout.strip()

    def start(self, port):
        logf = os.path.join(self.tmp, f"server-{len(self.logs) + 1}.log")
        self.logs.append(logf)
        out = open(logf, "w")
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--bind", f"127.0.0.1:{port}", "--database", self.url,
             "--trust-forwarded-for", "--import-allow-private-addresses",
             "--api-writes-per-hour", "10000000"],
            stdout=out, stderr=subprocess.STDOUT, env=self.server_env())
        out.close()
        note_pid(self.proc)
        return self.proc

    def server_env(self):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("CREATIVE_CALENDAR_"):
                del e[k]
        e["RUST_LOG"] = "info"
        return e

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Sqlite(Backend):
    def __init__(self, tmp, binary):
        super().__init__("SQLite", tmp, binary)
        self.path = os.path.join(tmp, "crash.db")
        self.url = self.path

    def snapshot(self, tag):
        """A copy of the database as the crash left it (the file and its WAL; the index in
        -shm is rebuilt from the WAL by whoever opens it)."""
        dst = os.path.join(self.tmp, f"snapshot-{tag}")
        os.mkdir(dst)
        for suffix in ("", "-wal"):
            if os.path.exists(self.path + suffix):
                shutil.copyfile(self.path + suffix, os.path.join(dst, "crash.db" + suffix))
        return os.path.join(dst, "crash.db")

    def integrity(self, path=None, readonly=False):
        uri = f"file:{path or self.path}" + ("?mode=ro" if readonly else "")
        con = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            res = [r[0] for r in con.execute("PRAGMA integrity_check")]
            fk = con.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            con.close()
        return res, fk

    def rows(self, snap=None, readonly=False):
        uri = f"file:{snap or self.path}" + ("?mode=ro" if readonly else "")
        con = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            cur = con.execute(
                "SELECT e.id, e.title, e.description, e.start_date, e.start_time, e.moderation,"
                " a.email FROM events e LEFT JOIN accounts a ON a.id = e.organiser_id")
            return [row_dict(r) for r in cur]
        finally:
            con.close()

    def count(self, snap=None):
        con = sqlite3.connect(f"file:{snap or self.path}?mode=ro", uri=True, timeout=30)
        try:
            return con.execute("SELECT count(*) FROM events").fetchone()[0]
        finally:
            con.close()


class Postgres(Backend):
    def __init__(self, tmp, binary):
        super().__init__("PostgreSQL", tmp, binary)
        self.pgdir = tempfile.mkdtemp(prefix="cc-crash-pg-", dir="/tmp")
        if PIDFILE:
            with open(os.path.join(os.path.dirname(PIDFILE), "pgdir"), "w") as f:
                f.write(self.pgdir)
        shutil.chown(self.pgdir, "postgres", "postgres")
        os.chmod(self.pgdir, 0o700)
        self.data = os.path.join(self.pgdir, "data")
        self.pgport = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.pgport}/cc_crash"
        self.running = False

    def pg(self, *args, timeout=120):
        r = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {r.stdout[-1000:]}{r.stderr[-1000:]}")
        return r.stdout

    def init(self):
        self.pg(f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                "--locale=C.UTF-8")
        self.pg_start()
        self.pg(f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(self.pgport), "-U", "postgres", "-E",
                "UTF8", "-T", "template0", "--lc-collate=C.UTF-8", "--lc-ctype=C.UTF-8", "cc_crash")

    def pg_start(self):
        self.pg(f"{PG_BIN}/pg_ctl", "-D", self.data, "-l", os.path.join(self.pgdir, "pg.log"), "-o",
                f"-p {self.pgport} -k {self.pgdir} -c listen_addresses=127.0.0.1", "-w", "start")
        self.running = True

    def pg_stop(self, mode):
        self.pg(f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")
        self.running = False

    def psql(self, sql):
        r = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr[-1000:]}")
        return r.stdout

    def rows(self, snap=None, readonly=False):
        out = self.psql(
            "SELECT coalesce(json_agg(json_build_array(e.id, e.title, e.description, e.start_date::text,"
            " e.start_time::text, e.moderation, a.email)), '[]') FROM events e"
            " LEFT JOIN accounts a ON a.id = e.organiser_id")
        return [row_dict(r) for r in json.loads(out)]

    def count(self, snap=None):
        return int(self.psql("SELECT count(*) FROM events").strip())

    def cleanup(self):
        if self.running:
            try:
                self.pg_stop("immediate")
            except Exception as e:
                log(f"stopping the private PostgreSQL: {e}")
        shutil.rmtree(self.pgdir, ignore_errors=True)


def row_dict(r):
    return {"id": r[0], "title": r[1], "description": r[2], "start_date": str(r[3])[:10],
            "start_time": (str(r[4])[:5] if r[4] is not None else None), "moderation": r[5],
            "owner": r[6]}


# ------------------------------------------------------------------------------------------
# Checks.

def check_rows(rows, ledger, t, where, source_gen=True):
    """Every acknowledged write (as of time t) is in rows with its content; nothing else
    carrying one of our tokens is there unless it was sent without an answer. Returns
    (failures, verified events, unanswered writes found stored)."""
    fails = []
    by_id = {r["id"]: r for r in rows}
    with ledger.lock:
        ids = [i for i, e in ledger.events.items() if e["history"][0].ack_t <= t]
        events = {i: ledger.events[i] for i in ids}
        orphans = dict(ledger.orphans)
        versions = dict(ledger.versions)
    verified = 0
    maybe_found = 0
    fivexx_stored = []  # writes answered 5xx ("nothing was saved") that are stored
    for eid in ids:
        e = events[eid]
        last, maybe = ledger.allowed(eid, t)
        r = by_id.get(eid)
        if r is None:
            fails.append(f"{where}: LOST acknowledged event {eid} ({last.via} {last.title!r})")
            continue
        m = TOKEN_RE.search(r["title"] or "")
        stored = versions.get(int(m.group(1))) if m else None
        ok_versions = {last.seq: last, **{v.seq: v for v in maybe}}
        if stored is None or stored.seq not in ok_versions:
            older = stored is not None and any(v.seq == stored.seq for v in e["history"])
            fails.append(f"{where}: event {eid} holds {r['title']!r}"
                         f"{' (an older, superseded version)' if older else ''}; acknowledged last:"
                         f" {last.title!r} ({last.via}), unanswered after it: {[v.title for v in maybe]}")
            continue
        got = (r["title"], r["description"], r["start_date"], r["start_time"])
        if got != stored.content():
            fails.append(f"{where}: event {eid} content differs from what was sent: stored {got},"
                         f" sent {stored.content()}")
            continue
        if r["owner"] != e["owner"]:
            fails.append(f"{where}: event {eid} belongs to {r['owner']}, not {e['owner']}")
            continue
        if e["approved_t"] is not None and e["approved_t"] <= t and r["moderation"] != "published":
            fails.append(f"{where}: event {eid} was approved (acknowledged) but is {r['moderation']}")
            continue
        if stored.seq != last.seq:
            maybe_found += 1
            if stored.outcome == "failed":
                fivexx_stored.append(f"event {eid}: {stored.via} {stored.title!r}, answered {stored.answer}")
        verified += 1
    known = set(ids)
    for r in rows:
        if r["id"] in known or not (r["title"] or "").startswith(f"Crash {RUN} "):
            continue
        m = TOKEN_RE.search(r["title"])
        seq = int(m.group(1)) if m else None
        if seq in orphans:
            owner, v = orphans[seq]
            got = (r["title"], r["description"], r["start_date"], r["start_time"])
            if v.outcome == "refused":
                fails.append(f"{where}: event {r['id']} is stored, but its create was refused with a 4xx")
            elif got != v.content() or r["owner"] != owner:
                fails.append(f"{where}: event {r['id']} (a create without an answer) differs from what was"
                             f" sent: {got} vs {v.content()}")
            else:
                maybe_found += 1
                if v.outcome == "failed":
                    fivexx_stored.append(f"event {r['id']}: {v.via} {v.title!r}, answered {v.answer}")
        elif r["id"] in ledger.events and ledger.events[r["id"]]["history"][0].ack_t > t:
            pass  # acknowledged after t (the live checks run with t = now)
        else:
            fails.append(f"{where}: event {r['id']} {r['title']!r} was never sent as a create")
    # The sources: five events each, from one generation (a sync is one transaction), no
    # older than the last acknowledged "Fetch now" asked for.
    if source_gen:
        for n in range(SOURCES):
            mine = [r for r in rows if (r["title"] or "").startswith(f"CTFEED{RUN} s{n} ")]
            gens = set()
            for r in mine:
                mm = re.fullmatch(rf"CTFEED{RUN} s{n} e(\d+) gen (\d+)", r["title"])
                if not mm:
                    fails.append(f"{where}: imported event {r['id']} has title {r['title']!r}")
                    continue
                i, gen = int(mm.group(1)), int(mm.group(2))
                gens.add(gen)
                exp = Feeds.expected(n, i, gen)
                got = {k: r[k] for k in exp}
                if got != exp:
                    fails.append(f"{where}: imported event {r['id']} is {got}, its feed said {exp}")
            with ledger.lock:
                acks = [g for (at, g) in ledger.sync_acks[n] if at <= t]
            if len(mine) != FEED_EVENTS and (mine or acks):
                fails.append(f"{where}: source {n} has {len(mine)} imported events, not {FEED_EVENTS}")
            if len(gens) > 1:
                fails.append(f"{where}: source {n} holds events of several generations {sorted(gens)}:"
                             " a sync was applied in part")
            if acks and gens and min(gens) < max(acks):
                fails.append(f"{where}: source {n} holds generation {min(gens)}, but a \"Fetch now\" that"
                             f" fetched generation >= {max(acks)} was acknowledged")
    return fails, verified, maybe_found, fivexx_stored


def api_rows(port, organisers, admin):
    """Every event of each account, read through /api/v1/my/events with its token."""
    rows = []
    accounts = {o.email: o.token for o in organisers}
    accounts[admin.email] = admin.token
    for email, token in accounts.items():
        c = Client(port, Timeline(), Stats(), "10.5.0.1")
        cursor = None
        while True:
            path = "/api/v1/my/events?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            st, _, body = c.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            if st != 200:
                raise RuntimeError(f"GET {path} as {email} -> {st}: {body[:300]}")
            doc = json.loads(body)
            for ev in doc["events"]:
                rows.append({"id": ev["id"], "title": ev["title"], "description": ev["description"],
                             "start_date": ev["start"][:10], "start_time": ev["start"][11:16] or None,
                             "moderation": ev.get("moderation"), "owner": email})
            cursor = doc["meta"].get("next_cursor")
            if not cursor:
                break
        c.close()
    return rows


def wait_ready(port, limit):
    """Seconds until /healthz answers 200, or None."""
    t0 = now()
    while now() - t0 < limit:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            conn.close()
            if r.status == 200:
                return now() - t0
        except OSError:
            pass
        time.sleep(0.02)
    return None


def get_status(port, path, timeout=TIMEOUT):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        return r.status, len(body)
    finally:
        conn.close()


def panics(logs):
    found = []
    for f in logs:
        with open(f, errors="replace") as fh:
            for line in fh:
                if "panicked" in line or "panic" in line.lower() and "RUST_BACKTRACE" in line:
                    found.append(f"{os.path.basename(f)}: {line.strip()[:300]}")
    return found


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def internal_errors(logs, seen):
    """The server's "internal error" lines (the cause of a 500) not reported yet."""
    out = []
    for f in logs:
        with open(f, errors="replace") as fh:
            for no, line in enumerate(fh):
                if "internal error" in line and (f, no) not in seen:
                    seen.add((f, no))
                    out.append(f"{os.path.basename(f)}: {ANSI.sub('', line).strip()[:300]}")
    return out


def grep_count(logs, needle):
    n = 0
    for f in logs:
        with open(f, errors="replace") as fh:
            n += sum(1 for line in fh if needle in line)
    return n


# ------------------------------------------------------------------------------------------
# A backend's run.

class Ctx:
    pass


def setup(backend, feeds_port, ctx):
    """Accounts, tokens and sources; returns (admin, organisers)."""
    admin_env = {"CREATIVE_CALENDAR_ADMIN_PASSWORD": PASSWORD}
    backend.cli("admin", "create", "--email", ADMIN_EMAIL, "--name", "Crash Admin", env=admin_env)
    port = ctx.port
    proc = backend.start(port)
    if wait_ready(port, 60) is None:
        raise RuntimeError(f"the server did not start: {open(backend.logs[-1]).read()[-2000:]}")
    # Organisers sign up through the form, each from its own address, 8 at a time.
    sessions = {}
    errors = []

    def signup(i):
        c = Client(port, ctx.timeline, ctx.stats, f"10.1.{i // 250}.{i % 250 + 1}")
        st, _, page = c.request("GET", "/signup")
        csrf = hidden(page)
        email = f"organiser{i}@crash.example"
        body = urllib.parse.urlencode([("csrf_token", csrf), ("email", email), ("name", f"Organiser {i}"),
                                       ("organisation", f"Festival {i}"), ("password", PASSWORD),
                                       ("next", "")])
        st, h, text = c.request("POST", "/signup", body, "application/x-www-form-urlencoded")
        if st != 303 or "cc_session" not in c.cookies:
            errors.append(f"signup {email}: {st} {text[:300]!r}")
        else:
            sessions[email] = c.cookies["cc_session"]
        c.close()

    idx = list(range(ORGANISERS))
    while idx:
        batch, idx = idx[:8], idx[8:]
        ts = [threading.Thread(target=signup, args=(i,)) for i in batch]
        [t.start() for t in ts]
        [t.join() for t in ts]
    if errors:
        raise RuntimeError("; ".join(errors[:5]))
    # The admin signs in through /login.
    c = Client(port, ctx.timeline, ctx.stats, "10.1.9.1")
    st, _, page = c.request("GET", "/login")
    body = urllib.parse.urlencode([("csrf_token", hidden(page)), ("email", ADMIN_EMAIL), ("password", PASSWORD),
                                   ("next", "")])
    st, _, text = c.request("POST", "/login", body, "application/x-www-form-urlencoded")
    if st != 303 or "cc_session" not in c.cookies:
        raise RuntimeError(f"admin sign-in: {st} {text[:300]!r}")
    admin_session = c.cookies["cc_session"]
    c.close()
    # Tokens from the command line (the server is running: it must cope), sources too.
    organisers = []
    for i in range(ORGANISERS):
        email = f"organiser{i}@crash.example"
        tok = backend.cli("tokens", "create", "--email", email, "--name", "crash")
        organisers.append((email, sessions[email], tok))
    admin_token = backend.cli("tokens", "create", "--email", ADMIN_EMAIL, "--name", "crash")
    ctx.source_ids = []
    for n in range(SOURCES):
        out = backend.cli("sources", "add", "--url", f"http://127.0.0.1:{feeds_port}/feed-{n}.ics", "--city", CITY,
                          "--email", f"organiser{n}@crash.example", "--name", f"Crash feed {n}")
        ctx.source_ids.append(int(re.search(r"\d+", out).group(0)))
    return (admin_session, admin_token), organisers, proc


def run_backend(backend, args, feeds, results):
    ctx = Ctx()
    ctx.timeline, ctx.stats, ctx.ledger, ctx.feeds = Timeline(), Stats(), Ledger(), feeds
    ctx.port = free_port()
    ctx.seen_errors = set()
    t_backend = now()
    log(f"{backend.name}: setting up (database {backend.url})")
    (admin_session, admin_token), accounts, proc = setup(backend, feeds.port, ctx)
    # The server syncs due sources at its start; the first start was before the sources were
    # added, so a restart now does it (and proves a clean restart first).
    backend.stop()
    backend.start(ctx.port)
    if wait_ready(ctx.port, 30) is None:
        raise RuntimeError("the server did not start again after setup")
    admin = Organiser(ORGANISERS, ADMIN_EMAIL, admin_session, admin_token, True)
    organisers = [Organiser(i, e, s, t, False) for i, (e, s, t) in enumerate(accounts)]
    # Each client thread acts for an account; several threads share one. An admin's thread
    # publishes at once; organisers' events wait for the approvers.
    owners = organisers + [admin]
    n_org_threads = CLIENTS - APPROVERS - SOURCES
    clients = []
    for k in range(n_org_threads):
        acct = owners[k % len(owners)]
        o = Organiser(k, acct.email, acct.session, acct.token, acct.is_admin)
        clients.append(o)
    log(f"{backend.name}: {ORGANISERS} organisers and an admin, {len(clients)} organiser threads,"
        f" {APPROVERS} approvers, {SOURCES} sources; set up in {now() - t_backend:.1f}s")
    failed = False
    seconds = args.seconds
    kill_at = [seconds * f for f in (0.25, 0.5, 0.75)]
    rounds = [("kill", k) for k in kill_at]
    if isinstance(backend, Postgres):
        rounds.append(("pg-restart", min(1.5, seconds / 4)))
    for rno, (kind, at) in enumerate(rounds, 1):
        ctx.stats.reset()
        with ctx.ledger.lock:
            ctx.ledger.round_counts = {}
        ctx.stop = threading.Event()
        threads = [threading.Thread(target=organiser_loop, args=(o, ctx), daemon=True) for o in clients]
        threads += [threading.Thread(target=approver_loop, args=(k, admin, ctx), daemon=True)
                    for k in range(APPROVERS)]
        threads += [threading.Thread(target=fetcher_loop, args=(n, organisers[n], ctx), daemon=True)
                    for n in range(SOURCES)]
        for o in clients:
            o.csrf = None
        t_load = now()
        for t in threads:
            t.start()
        round_fail = []
        info = {}
        time.sleep(max(0, at - (now() - t_load)))
        pid_before = backend.proc.pid
        if kind == "kill":
            ctx.timeline.kill()
            t_kill = now()
            backend.kill9()
            snap = backend.snapshot(f"round{rno}") if isinstance(backend, Sqlite) else None
            pre_rows = backend.rows() if isinstance(backend, Postgres) else None
            backend.start(ctx.port)
            ready = wait_ready(ctx.port, 10)
            ctx.timeline.ready()
            info["dead"] = now() - t_kill
            if ready is None:
                round_fail.append("the server did not answer /healthz within 10 s of its restart")
                info["ready"] = None
            else:
                info["ready"] = ready
                if ready > 2.0:
                    round_fail.append(f"the server took {ready:.2f}s to answer /healthz after its restart")
                for path in ("/", f"/cities/{CITY}", "/calendar.ics"):
                    try:
                        st, n = get_status(ctx.port, path)
                    except OSError as e:
                        st, n = repr(e), 0
                    if st != 200:
                        round_fail.append(f"after the restart GET {path} -> {st}")
                info["page_feed_ok"] = not any("after the restart GET" in f for f in round_fail)
            # The database as the crash left it, against what was acknowledged before it.
            if snap:
                res, fk = backend.integrity(snap)
                info["integrity"] = res[0] if len(res) == 1 else res[:5]
                if res != ["ok"]:
                    round_fail.append(f"PRAGMA integrity_check on the crashed database: {res[:10]}")
                if fk:
                    round_fail.append(f"PRAGMA foreign_key_check on the crashed database: {fk[:10]}")
                pre_rows = backend.rows(snap)
            fails, verified, maybe, _ = check_rows(pre_rows, ctx.ledger, t_kill, f"round {rno}, as the crash left it")
            round_fail += fails
            info["verified_at_crash"] = verified
            info["unanswered_stored"] = maybe
        else:
            # PostgreSQL goes away under load; the app must keep its process and recover.
            mon = {"statuses": [], "stop": False}

            def probe():
                t0 = now()
                try:
                    st, _ = get_status(ctx.port, "/healthz")
                except OSError as e:
                    st = repr(e)
                mon["statuses"].append((t0, now(), st))

            def monitor():  # a /healthz probe every 0.25 s, each on its own connection
                probes = []
                while not mon["stop"]:
                    p = threading.Thread(target=probe, daemon=True)
                    p.start()
                    probes.append(p)
                    time.sleep(0.25)
                for p in probes:
                    p.join(TIMEOUT + 1)
            mt = threading.Thread(target=monitor, daemon=True)
            mt.start()
            ctx.timeline.db_down.append([now(), None])
            t_stop = now()
            backend.pg_stop("immediate")
            info["pg_stop_took"] = now() - t_stop
            time.sleep(3)
            t_start = now()
            backend.pg_start()
            t_up = now()
            info["pg_start_took"] = t_up - t_start
            recovered = None
            while now() - t_up < 30:
                try:
                    st, _ = get_status(ctx.port, "/healthz", timeout=TIMEOUT)
                except OSError:
                    st = None
                if st == 200:
                    recovered = now()
                    break
                time.sleep(0.05)
            ctx.timeline.db_down[-1][1] = recovered or now()
            info["pg_down"] = t_up - t_stop
            info["recovered"] = (recovered - t_up) if recovered else None
            if recovered is None:
                round_fail.append("the app did not answer /healthz 200 within 30 s of PostgreSQL's return")
            # r2d2 retries a failed connection after a delay that doubles up to half the
            # pool's 10 s timeout: up to 5 s may pass before it tries again.
            elif recovered - t_up > 7:
                round_fail.append(f"the app took {recovered - t_up:.1f}s after PostgreSQL's return to answer 200")
            time.sleep(0.5)
            mon["stop"] = True
            mt.join(TIMEOUT + 2)
            down = [s for (a, b, s) in mon["statuses"] if t_stop + 0.5 < a < t_up]
            info["healthz_during_outage"] = {str(k): down.count(k) for k in sorted(set(down), key=str)}
            if any(s not in (503, 200) for s in down):
                round_fail.append(f"/healthz during the outage answered {sorted({str(s) for s in down})}")
            if backend.proc.poll() is not None or backend.proc.pid != pid_before:
                round_fail.append(f"the app process exited during the PostgreSQL restart"
                                  f" (code {backend.proc.poll()})")
        # Let the clients go on to the end of the round (after PostgreSQL's return, 2 s at
        # least), then stop them.
        end = seconds if kind == "kill" else max(seconds, now() - t_load + 2)
        time.sleep(max(0, end - (now() - t_load)))
        ctx.stop.set()
        deadline = now() + TIMEOUT + 5
        for t in threads:
            t.join(max(0.1, deadline - now()))
        hung = sum(1 for t in threads if t.is_alive())
        if hung:
            round_fail.append(f"{hung} client threads still waiting {TIMEOUT + 5:.0f}s after the end")
        t_end = now()
        if kind == "pg-restart" and backend.proc.poll() is not None:
            round_fail.append("the app process is gone")
        # Everything acknowledged so far, in the live database and through the API.
        rows = backend.rows(readonly=True)
        fails, verified, _, fivexx_stored = check_rows(rows, ctx.ledger, t_end, f"round {rno}, database after the round")
        round_fail += fails
        try:
            arows = api_rows(ctx.port, organisers, admin)
            afails, averified, _, _ = check_rows(arows, ctx.ledger, t_end, f"round {rno}, through the API",
                                              source_gen=True)
            round_fail += afails
            # The listing must hold every event of its account once: the database's rows
            # are the reference.
            api_ids = [r["id"] for r in arows]
            dups = sorted({i for i in api_ids if api_ids.count(i) > 1}) if len(set(api_ids)) != len(api_ids) else []
            missing = sorted({r["id"] for r in rows if r["owner"]} - set(api_ids))
            if dups or missing:
                by_id = {r["id"]: r for r in rows}
                round_fail.append(
                    f"round {rno}: /api/v1/my/events (paged by cursor, limit=100) listed {len(api_ids)} events,"
                    f" the database holds {sum(1 for r in rows if r['owner'])}; missing {missing[:10]}"
                    f" ({[(by_id[i]['owner'], by_id[i]['title']) for i in missing[:3]]}), listed twice {dups[:10]}")
        except (RuntimeError, ConnError, OSError) as e:
            round_fail.append(f"round {rno}: reading back through the API: {e}")
            averified = 0
        round_fail += ctx.stats.failures
        if ctx.stats.fivexx > ctx.stats.fivexx_allowed:
            round_fail += [f"server log: {e}" for e in internal_errors(backend.logs, ctx.seen_errors)[:5]]
        with ctx.ledger.lock:
            counts = dict(ctx.ledger.round_counts)
            total_events = len(ctx.ledger.events)
        acked = sum(v for k, v in counts.items() if k != "syncs busy")
        name = f"{backend.name} round {rno} ({'kill -9 at %.1fs' % at if kind == 'kill' else 'PostgreSQL stopped at %.1fs for 3s' % at})"
        log(f"{name}: {'PASS' if not round_fail else 'FAIL'}")
        print(f"    writes acknowledged this round: {acked} ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})")
        print(f"    acknowledged events so far: {total_events}; verified in the database {verified},"
              f" through the API {averified}; rows: {len(rows)}")
        print(f"    requests answered: {ctx.stats.requests}; 5xx: {ctx.stats.fivexx}"
              f" (503 allowed during the outage: {ctx.stats.fivexx_allowed}); connection errors"
              f" while the server was dead: {ctx.stats.conn_errors_expected}")
        if kind == "kill":
            r = info.get("ready")
            print(f"    kill -9 at {at:.1f}s; as the crash left it: integrity {info.get('integrity', 'n/a (WAL of PostgreSQL)')},"
                  f" {info.get('verified_at_crash')} acknowledged events verified, {info.get('unanswered_stored')}"
                  f" writes without an answer found stored")
            print(f"    serving again (/healthz 200) {('%.2fs' % r) if r is not None else 'NEVER'} after the restart;"
                  f" dead for {info['dead']:.2f}s; a page and a feed: {'200' if info.get('page_feed_ok') else 'FAILED'}")
        else:
            rec = info.get("recovered")
            print(f"    PostgreSQL away {info['pg_down']:.1f}s (stop -m immediate {info['pg_stop_took']:.1f}s,"
                  f" 3 s, start with crash recovery {info['pg_start_took']:.1f}s); the app (pid {pid_before}, still"
                  f" {'alive' if backend.proc.poll() is None else 'DEAD'}) answered 200 again"
                  f" {('%.2fs' % rec) if rec is not None else 'NEVER'} after it was back;"
                  f" /healthz while away: {info['healthz_during_outage']}; slowest answer while away:"
                  f" {ctx.stats.outage_latency_max:.1f}s")
        if fivexx_stored:
            print(f"    note: {len(fivexx_stored)} writes answered 5xx (\"nothing you sent was saved\") are stored"
                  f" all the same: {fivexx_stored[:3]}")
        for f in round_fail[:25]:
            print(f"    FAIL: {f}")
        if len(round_fail) > 25:
            print(f"    ... and {len(round_fail) - 25} more")
        results.append((name, not round_fail))
        failed |= bool(round_fail)
    # The end: a clean stop, the file's integrity, the logs.
    backend.stop()
    if backend.proc.returncode not in (0, -signal.SIGTERM):
        print(f"    note: the server exited with {backend.proc.returncode} on SIGTERM")
    end_fail = []
    if isinstance(backend, Sqlite):
        res, fk = backend.integrity()
        if res != ["ok"] or fk:
            end_fail.append(f"PRAGMA integrity_check at the end: {res[:10]}, foreign keys: {fk[:10]}")
        print(f"    {backend.name} at the end: integrity_check {res[0] if len(res) == 1 else res[:3]},"
              f" {backend.count()} events")
    else:
        n = backend.count()
        sane = backend.psql("SELECT (SELECT count(*) FROM events) = (SELECT count(DISTINCT id) FROM events)"
                            " AND (SELECT count(*) FROM events WHERE organiser_id IS NOT NULL AND organiser_id"
                            " NOT IN (SELECT id FROM accounts)) = 0").strip()
        if sane != "t":
            end_fail.append("PostgreSQL sanity: duplicate ids or events of unknown accounts")
        print(f"    {backend.name} at the end: SELECT count(*) FROM events = {n}; sanity {sane}")
    p = panics(backend.logs)
    if p:
        end_fail.append(f"panics in the server log: {p[:5]}")
    locked = grep_count(backend.logs, "database is locked")
    print(f"    server logs: {len(p)} panics, {locked} 'database is locked' lines ({len(backend.logs)} starts)")
    if locked:
        end_fail.append(f"{locked} 'database is locked' lines in the server log")
    for f in end_fail:
        print(f"    FAIL: {f}")
    results.append((f"{backend.name} at the end", not end_fail))
    log(f"{backend.name}: done in {now() - t_backend:.1f}s")
    return not (failed or end_fail)


def main():
    global PIDFILE
    ap = argparse.ArgumentParser(description="kill -9 the server under load and check every acknowledged write")
    ap.add_argument("--sqlite-only", action="store_true")
    ap.add_argument("--postgres-only", action="store_true")
    ap.add_argument("--seconds", type=float, default=6.0, help="load per round (kills at 1/4, 1/2, 3/4)")
    ap.add_argument("--workdir", help="scratch directory (made if missing; removed at the end unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory (databases, logs)")
    args = ap.parse_args()
    if args.sqlite_only and args.postgres_only:
        ap.error("--sqlite-only and --postgres-only exclude each other")
    binary = os.environ.get("CC_BIN") or "target/release/creative-calendar"
    binary = os.path.abspath(binary)
    if not os.access(binary, os.X_OK):
        print(f"crash test: FAIL (no server binary at {binary})")
        return 2
    backends = []
    if not args.postgres_only:
        backends.append(Sqlite)
    if not args.sqlite_only:
        if not os.path.exists(f"{PG_BIN}/pg_ctl"):
            print(f"crash test: FAIL ({PG_BIN} is missing: install postgresql-15, or run with --sqlite-only)")
            return 2
        backends.append(Postgres)
    work = args.workdir or tempfile.mkdtemp(prefix="cc-crash-")
    os.makedirs(work, exist_ok=True)
    PIDFILE = os.path.join(work, "pids")
    # A copy of the binary: the one under target/ may be rebuilt while we run.
    binary_copy = os.path.join(work, "creative-calendar")
    shutil.copy2(binary, binary_copy)

    def on_signal(sig, _):
        print(f"crash test: FAIL (interrupted by signal {sig}; cleaning up)", flush=True)
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    results = []
    ok = True
    pgs = []
    feeds = Feeds()
    feeds.port = feeds.serve()
    try:
        log(f"crash test {RUN}: {CLIENTS} clients, {args.seconds:g}s a round, binary {binary}")
        for cls in backends:
            d = os.path.join(work, cls.__name__.lower())
            os.mkdir(d)
            b = cls(d, binary_copy)
            if isinstance(b, Postgres):
                pgs.append(b)
                b.init()
            try:
                ok &= run_backend(b, args, feeds, results)
            except Exception as e:
                ok = False
                import traceback
                traceback.print_exc()
                print(f"    FAIL: {b.name}: {e}")
                results.append((f"{b.name} (did not run to the end)", False))
            finally:
                kill_all()
    finally:
        kill_all()
        for b in pgs:
            b.cleanup()
        feeds.httpd.shutdown()
        if all(p.poll() is not None for p in PROCS) and os.path.exists(PIDFILE):
            os.remove(PIDFILE)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")
    print("summary:")
    for name, passed in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {name}")
    print(f"crash test: {'PASS' if ok and results else 'FAIL'} ({now() - T0:.0f}s)")
    return 0 if ok and results else 1


if __name__ == "__main__":
    sys.exit(main())
