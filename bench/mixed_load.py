#!/usr/bin/env python3
"""Mixed load on the release server: 90 % reads (pages, feeds, the API), 10 % writes
(form submissions and edits, moderation approvals, API creates, changes and
cancellations) from many keep-alive clients at once, then a check that every
acknowledged write is stored. Run through bench/mixed-load.sh (it finds the binary).

  mixed_load.py --bin PATH [--seconds 60] [--clients 64] [--backend sqlite|postgres]
                [--postgres URL] [--smoke] [--seed N] [--no-results]

  --backend postgres   a scratch database cc_mixed_<pid> on $MIXED_PG_SERVER
                       (default postgres://postgres@127.0.0.1:5432), dropped afterwards
  --postgres URL       an existing, empty PostgreSQL database (kept afterwards)
  --smoke              for CI: 10 s, 16 clients, SQLite only, no results file

Fails (exit 1) on any 5xx, client timeout (20 s), connection error, an unexpected
status, "locked" or "panicked" in the server's log, or an acknowledged write that is
not stored as acknowledged. Exit 2: it could not run (setup failed).
Standard library only.
"""
import argparse
import collections
import ctypes
import datetime
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

PASSWORD = "mixed load password 1"
ADMIN_EMAIL = "admin@mixed.example"
CLIENT_TIMEOUT = 20.0
FIELDS = ["crafts-and-folk-art", "design", "film", "gastronomy", "literature",
          "media-arts", "music", "architecture"]
KINDS = ["festival", "exhibition", "workshop", "performance", "screening", "talk", "market"]

# Categories of requests. Reads first: every category below READS is a read.
CATS = ["page", "feed", "api read", "form submit", "form edit", "approve",
        "api create", "api patch", "api cancel"]
PAGE, FEED, API_READ, FORM_NEW, FORM_EDIT, APPROVE, API_NEW, API_PATCH, API_CANCEL = range(9)
READS = 3
# Status codes that stand for a request that got no answer.
TIMEOUT, CONN_ERROR = -1, -2
# What each write must answer to be acknowledged.
ACK = {FORM_NEW: 303, FORM_EDIT: 303, APPROVE: 303, API_NEW: 201, API_PATCH: 200, API_CANCEL: 200}


class SetupError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    # The server dies with this script even if it is killed with SIGKILL.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


# ---------------------------------------------------------------- setup helpers

def call(conn, method, path, body=None, headers=None):
    """One request on `conn` (setup and checks only): (status, headers, body bytes)."""
    conn.request(method, path, body=body, headers=headers or {})
    res = conn.getresponse()
    data = res.read()
    return res.status, res.msg, data


def cookies_of(msg):
    out = {}
    for value in msg.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0]
        if "=" in pair:
            k, v = pair.split("=", 1)
            out[k.strip()] = v.strip()
    return out


CSRF_RE = re.compile(rb'name="csrf_token" value="([^"]*)"')


def csrf_of(body):
    m = CSRF_RE.search(body)
    if not m:
        raise SetupError("no csrf_token in the page")
    return m.group(1).decode()


def form_body(fields):
    return urllib.parse.urlencode(fields)


FORM_CT = "application/x-www-form-urlencoded"


class Db:
    """Where the data lives: a SQLite file, or a PostgreSQL database (maybe scratch)."""

    def __init__(self, args, tmp):
        self.kind = "sqlite"
        self.scratch = None
        self.admin_url = None
        if args.postgres:
            self.kind = "postgres"
            self.url = args.postgres
        elif args.backend == "postgres":
            self.kind = "postgres"
            server = os.environ.get("MIXED_PG_SERVER", "postgres://postgres@127.0.0.1:5432").rstrip("/")
            self.scratch = f"cc_mixed_{os.getpid()}"
            self.admin_url = server + "/postgres"
            self.url = f"{server}/{self.scratch}"
            self.psql(f"CREATE DATABASE {self.scratch} ENCODING 'UTF8' TEMPLATE template0 "
                      "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'")
        else:
            self.url = os.path.join(tmp, "mixed.db")
        self.name = urllib.parse.urlsplit(self.url).path.lstrip("/") if self.kind == "postgres" else None

    def psql(self, sql):
        r = subprocess.run(["psql", self.admin_url, "-qAtc", sql], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise SetupError(f"psql failed: {r.stderr.strip()}")
        return r.stdout

    def drop(self):
        if self.scratch:
            try:
                self.psql(f"DROP DATABASE IF EXISTS {self.scratch} WITH (FORCE)")
            except Exception as e:  # noqa: BLE001 - cleanup reports and goes on
                log(f"warning: could not drop {self.scratch}: {e}")


class Server:
    def __init__(self, binary, db_url, tmp, port):
        self.port = port
        self.log_path = os.path.join(tmp, "server.log")
        self.log_file = open(self.log_path, "wb")
        env = dict(os.environ, RUST_LOG="info")
        # --demo is a no-op here: `demo --seed` filled the table first (the same ~1,500
        # events, but the same ones on every run and backend).
        cmd = [binary, "serve", "--bind", f"127.0.0.1:{port}", "--database", db_url, "--demo",
               "--trust-forwarded-for", "--api-writes-per-hour", "10000000", "--log-format", "json"]
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.log_file, env=env,
                                     preexec_fn=_die_with_parent)

    def wait_ready(self, seconds=300):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"the server exited ({self.proc.returncode}); log: {self.log_path}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                status, _, _ = call(conn, "GET", "/healthz")
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SetupError("the server did not answer /healthz")

    def cpu_seconds(self):
        return proc_cpu(self.proc.pid)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_backends_cpu(dbname):
    """CPU seconds of the PostgreSQL backends serving `dbname` (those alive now)."""
    total = 0.0
    needle = f" {dbname} ".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.startswith(b"postgres: ") and needle in cmd:
            total += proc_cpu(pid)
    return total


def machine_busy():
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def run_cli(args, env_extra=None):
    env = dict(os.environ, RUST_LOG="error", RUST_BACKTRACE="0", **(env_extra or {}))
    r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if r.returncode != 0:
        raise SetupError(f"{' '.join(args[:3])} failed: {r.stderr.strip()[-700:]}")
    return r.stdout


def sign_up(port, i, runid):
    """Signs up organiser `i` through the form; returns (email, session, csrf)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    xff = {"X-Forwarded-For": f"10.1.{i // 200}.{i % 200 + 1}"}
    status, msg, body = call(conn, "GET", "/signup", headers=xff)
    if status != 200:
        raise SetupError(f"GET /signup: {status}")
    jar = cookies_of(msg)
    email = f"org{i}-{runid}@mixed.example"
    fields = {"csrf_token": csrf_of(body), "email": email, "name": f"Organiser {i}",
              "organisation": f"Mixed Festival {i}", "password": PASSWORD}
    headers = dict(xff, Cookie="; ".join(f"{k}={v}" for k, v in jar.items()), **{"Content-Type": FORM_CT})
    status, msg, body = call(conn, "POST", "/signup", form_body(fields), headers)
    if status != 303:
        raise SetupError(f"sign-up {email}: {status} {body[:300]!r}")
    session = cookies_of(msg).get("cc_session")
    if not session:
        raise SetupError(f"sign-up {email}: no session cookie")
    csrf = session_csrf(conn, session, "/events/new")
    conn.close()
    return email, session, csrf


def session_csrf(conn, session, page):
    status, _, body = call(conn, "GET", page, headers={"Cookie": f"cc_session={session}"})
    if status != 200:
        raise SetupError(f"GET {page} signed in: {status}")
    return csrf_of(body)


def sign_in_admin(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    xff = {"X-Forwarded-For": "10.2.0.1"}
    status, msg, body = call(conn, "GET", "/login", headers=xff)
    jar = cookies_of(msg)
    fields = {"csrf_token": csrf_of(body), "email": ADMIN_EMAIL, "password": PASSWORD}
    headers = dict(xff, Cookie="; ".join(f"{k}={v}" for k, v in jar.items()), **{"Content-Type": FORM_CT})
    status, msg, body = call(conn, "POST", "/login", form_body(fields), headers)
    if status != 303:
        raise SetupError(f"admin sign-in: {status} {body[:300]!r}")
    session = cookies_of(msg)["cc_session"]
    csrf = session_csrf(conn, session, "/moderation")
    conn.close()
    return session, csrf


def parallel(fn, items, workers=4):
    """fn(item) for each item on a few threads; the results in order; the first error raised."""
    results = [None] * len(items)
    errors = []
    todo = collections.deque(enumerate(items))

    def work():
        while True:
            try:
                i, item = todo.popleft()
            except IndexError:
                return
            try:
                results[i] = fn(item)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def gather(port):
    """Published event ids, cities with events, countries and search words."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    ids, titles, cursor = [], [], None
    for _ in range(200):
        path = "/api/v1/events?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, _, body = call(conn, "GET", path)
        if status != 200:
            raise SetupError(f"GET {path}: {status}")
        page = json.loads(body)
        for e in page["events"]:
            ids.append(e["id"])
            titles.append(e["title"])
        cursor = page["meta"].get("next_cursor")
        if not cursor:
            break
    status, _, body = call(conn, "GET", "/api/v1/cities")
    cities = json.loads(body)["cities"]
    conn.close()
    if len(ids) < 100:
        raise SetupError(f"only {len(ids)} published events: did --demo run?")
    busy = [c for c in cities if c.get("upcoming_events", 0) > 0]
    words = collections.Counter(w.lower() for t in titles for w in re.findall(r"[^\W\d_]{4,}", t))
    common = [w for w, _ in words.most_common(40)]
    rare = [w for w, n in words.items() if n <= 2][:40]
    return {
        "ids": ids,
        "all_slugs": [c["slug"] for c in cities],
        "slugs": [c["slug"] for c in busy] or [c["slug"] for c in cities],
        "countries": sorted({c["country_code"] for c in busy}),
        "words": common + rare or ["festival"],
    }


def build_reads(data, rng, count):
    """`count` read requests, (category, path, conditional), drawn with the mix's weights."""
    today = datetime.date.today()
    ids, slugs, countries, words = data["ids"], data["slugs"], data["countries"], data["words"]
    q = urllib.parse.quote

    def span():
        a = today + datetime.timedelta(days=rng.randrange(0, 200))
        return a, a + datetime.timedelta(days=rng.choice([1, 7, 30, 90]))

    def events_filters():
        choice = rng.randrange(8)
        if choice == 0:
            return f"city={rng.choice(slugs)}"
        if choice == 1:
            return f"field={rng.choice(FIELDS)}&kind={rng.choice(KINDS)}"
        if choice == 2:
            return f"country={rng.choice(countries)}"
        if choice == 3:
            a, b = span()
            return f"from={a}&to={b}"
        if choice == 4:
            return f"kind={rng.choice(KINDS)}&page={rng.randint(1, 3)}"
        if choice == 5:
            return "open=today"
        if choice == 6:
            return f"field={rng.choice(FIELDS)}&city={rng.choice(slugs)}"
        return f"past=1&field={rng.choice(FIELDS)}"

    makers = [
        # (weight in % of reads, category, maker returning (path, conditional))
        (8, PAGE, lambda: ("/", False)),
        (12, PAGE, lambda: ("/events?" + events_filters(), False)),
        (10, PAGE, lambda: (f"/cities/{rng.choice(slugs)}", False)),
        (5, PAGE, lambda: (f"/fields/{rng.choice(FIELDS)}", False)),
        (10, PAGE, lambda: (f"/events/{rng.choice(ids)}", False)),
        (5, PAGE, lambda: (f"/events?q={q(rng.choice(words))}", False)),
        (3, FEED, lambda: ("/calendar.ics", rng.random() < 0.6)),
        (9, FEED, lambda: (f"/cities/{rng.choice(slugs)}/calendar.ics", rng.random() < 0.5)),
        (3, FEED, lambda: (f"/fields/{rng.choice(FIELDS)}/calendar.ics", rng.random() < 0.5)),
        (5, FEED, lambda: ("/events.ics?" + rng.choice([
            f"city={rng.choice(slugs)}&kind={rng.choice(KINDS)}",
            f"q={q(rng.choice(words))}",
            "field={}&from={}&to={}".format(rng.choice(FIELDS), *span()),
        ]), rng.random() < 0.5)),
        (12, API_READ, lambda: ("/api/v1/events?" + rng.choice([
            f"city={rng.choice(slugs)}", f"field={rng.choice(FIELDS)}&kind={rng.choice(KINDS)}",
            f"q={q(rng.choice(words))}", "from={}&to={}".format(*span()), "limit=50",
            f"country={rng.choice(countries)}&limit=100", "updated_since=2026-01-01T00:00:00Z",
        ]), False)),
        (12, API_READ, lambda: (f"/api/v1/events/{rng.choice(ids)}", False)),
        (6, API_READ, lambda: (rng.choice(["/api/v1/cities", f"/api/v1/cities?country={rng.choice(countries)}",
                                           f"/api/v1/cities?field={rng.choice(FIELDS)}",
                                           f"/api/v1/cities/{rng.choice(slugs)}"]), False)),
    ]
    weights = [m[0] for m in makers]
    out = []
    for maker in rng.choices(makers, weights=weights, k=count):
        path, cond = maker[2]()
        out.append((maker[1], path, cond))
    return out


# ---------------------------------------------------------------- the load

WRITE_KINDS = [FORM_NEW, FORM_EDIT, APPROVE, API_NEW, API_PATCH, API_CANCEL]
WRITE_WEIGHTS = [25, 20, 15, 20, 15, 5]


class Shared:
    def __init__(self, admin_session, admin_csrf, all_slugs, runid):
        self.pending = collections.deque()  # ids acknowledged as submitted, to approve
        self.approved = set()  # ids whose approval was acknowledged
        self.etags = {}  # feed path -> the ETag of its last 200
        self.admin_cookie = f"cc_session={admin_session}"
        self.admin_csrf = admin_csrf
        self.all_slugs = all_slugs
        self.runid = runid
        self.stop_at = 0.0
        self.start = threading.Event()


class Client(threading.Thread):
    def __init__(self, index, port, organiser, reads, shared, seed):
        super().__init__(daemon=True)
        self.index = index
        self.port = port
        self.email, session, self.csrf, self.token = organiser
        self.cookie = f"cc_session={session}"
        self.reads = reads
        self.shared = shared
        self.rng = random.Random(seed)
        self.records = []  # (category, status, seconds)
        # The ETags seen, shared: the clients stand for calendar apps that poll the same
        # feeds, and a poll sends the ETag of the last answer (If-None-Match).
        self.etags = shared.etags
        self.events = {}  # id -> {"fields": {...}, "title": str, "cancelled": bool, "unknown": bool}
        self.order = []  # own ids, in creation order
        self.n = 0
        self.unexpected = []  # (category, status, path, body excerpt)
        self.conn = None

    def connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)

    def send(self, cat, method, path, body, headers):
        """One timed request; returns (status, response or None, body)."""
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            res = self.conn.getresponse()
            data = res.read()
            status = res.status
        except socket.timeout:
            self.records.append((cat, TIMEOUT, time.perf_counter() - t0))
            self.unexpected.append((cat, "timeout", method + " " + path, ""))
            self.connect()
            return TIMEOUT, None, b""
        except (OSError, http.client.HTTPException) as e:
            self.records.append((cat, CONN_ERROR, time.perf_counter() - t0))
            self.unexpected.append((cat, "connection error", method + " " + path, repr(e)))
            self.connect()
            return CONN_ERROR, None, b""
        self.records.append((cat, status, time.perf_counter() - t0))
        if res.will_close:
            self.connect()
        return status, res, data

    def run(self):
        self.connect()
        reads = self.reads
        nreads = len(reads)
        pos = self.rng.randrange(nreads)
        rng = self.rng
        gzip = {"Accept-Encoding": "gzip"}
        self.shared.start.wait()
        stop_at = self.shared.stop_at
        # Exactly one request in ten is a write: the tenth of each client's requests,
        # from a phase of its own, so that the clients' writes are spread out.
        op = rng.randrange(10)
        while time.monotonic() < stop_at:
            op += 1
            if op % 10 == 0:
                self.write(rng.choices(WRITE_KINDS, weights=WRITE_WEIGHTS)[0])
                continue
            cat, path, cond = reads[pos]
            pos = (pos + 1) % nreads
            headers = gzip
            if cond:
                tag = self.etags.get(path)
                if tag:
                    headers = {"Accept-Encoding": "gzip", "If-None-Match": tag}
            status, res, body = self.send(cat, "GET", path, None, headers)
            if status == 200 or status == 304:
                if cat == FEED and status == 200:
                    tag = res.getheader("ETag")
                    if tag:
                        self.etags[path] = tag
            elif status > 0:
                self.unexpected.append((cat, status, path, body[:200]))

    # -- writes

    def new_fields(self, title):
        rng = self.rng
        start = datetime.date.today() + datetime.timedelta(days=rng.randrange(20, 700))
        return {
            "city": rng.choice(self.shared.all_slugs), "kind": rng.choice(KINDS), "field": "",
            "title": title, "description": f"Submitted by the mixed load, client {self.index}.",
            "venue": "Mixed Hall", "address": "1 Load Street", "url": "", "price": "",
            "start_date": start.isoformat(), "end_date": "", "start_time": rng.choice(["10:00", "18:30", "19:00"]),
            "end_time": "21:00", "repeat": "none",
        }

    def next_title(self, what):
        self.n += 1
        return f"Mixed {self.shared.runid} c{self.index} {what} {self.n}"

    def editable(self):
        ids = [i for i in self.order if not self.events[i]["cancelled"] and not self.events[i]["unknown"]]
        return self.rng.choice(ids) if ids else None

    def check(self, cat, status, method, path, body):
        if status == ACK[cat]:
            return True
        if status > 0:
            self.unexpected.append((cat, status, method + " " + path, body[:300]))
        return False

    def write(self, kind):
        if kind == FORM_EDIT or kind == API_PATCH:
            target = self.editable()
            if target is None:
                kind = FORM_NEW if kind == FORM_EDIT else API_NEW
        if kind == API_CANCEL:
            ids = [i for i in self.order if i in self.shared.approved and not self.events[i]["cancelled"]
                   and not self.events[i]["unknown"]]
            if not ids:
                kind = API_NEW
        if kind == APPROVE:
            try:
                target = self.shared.pending.popleft()
            except IndexError:
                kind = FORM_NEW
        form_headers = {"Content-Type": FORM_CT, "Cookie": self.cookie}
        api_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        if kind == FORM_NEW:
            fields = self.new_fields(self.next_title("form"))
            body = form_body(dict(fields, csrf_token=self.csrf))
            status, res, data = self.send(FORM_NEW, "POST", "/events/new", body, form_headers)
            if self.check(FORM_NEW, status, "POST", "/events/new", data):
                new_id = int(res.getheader("Location").rstrip("/").rsplit("/", 1)[1])
                self.created(new_id, fields)
        elif kind == API_NEW:
            fields = self.new_fields(self.next_title("api"))
            body = json.dumps({k: v for k, v in fields.items() if v and k != "repeat"})
            status, res, data = self.send(API_NEW, "POST", "/api/v1/events", body, api_headers)
            if self.check(API_NEW, status, "POST", "/api/v1/events", data):
                self.created(json.loads(data)["event"]["id"], fields)
        elif kind == FORM_EDIT:
            ev = self.events[target]
            fields = dict(ev["fields"], title=self.next_title("edit"),
                          start_time=self.rng.choice(["10:00", "18:30", "19:00", "20:15"]))
            path = f"/events/{target}/edit"
            status, res, data = self.send(FORM_EDIT, "POST", path, form_body(dict(fields, csrf_token=self.csrf)),
                                          form_headers)
            self.settle(ev, FORM_EDIT, status, "POST", path, data, fields)
        elif kind == API_PATCH:
            ev = self.events[target]
            title = self.next_title("patch")
            path = f"/api/v1/events/{target}"
            status, res, data = self.send(API_PATCH, "PATCH", path, json.dumps({"title": title}), api_headers)
            self.settle(ev, API_PATCH, status, "PATCH", path, data, dict(ev["fields"], title=title))
        elif kind == API_CANCEL:
            target = self.rng.choice(ids)
            ev = self.events[target]
            path = f"/api/v1/events/{target}/cancel"
            status, res, data = self.send(API_CANCEL, "POST", path, json.dumps({"note": "Mixed load cancels it."}),
                                          api_headers)
            if self.check(API_CANCEL, status, "POST", path, data):
                ev["cancelled"] = True
            elif status < 0:
                ev["unknown"] = True
        elif kind == APPROVE:
            path = f"/moderation/events/{target}/approve"
            body = form_body({"csrf_token": self.shared.admin_csrf, "reason": "", "back": "/moderation"})
            status, res, data = self.send(APPROVE, "POST", path, body,
                                          {"Content-Type": FORM_CT, "Cookie": self.shared.admin_cookie})
            if self.check(APPROVE, status, "POST", path, data):
                self.shared.approved.add(target)

    def created(self, new_id, fields):
        self.events[new_id] = {"fields": fields, "title": fields["title"], "cancelled": False, "unknown": False}
        self.order.append(new_id)
        # Most go to the moderators' queue; the others stay waiting for review.
        if self.rng.random() < 0.7:
            self.shared.pending.append(new_id)

    def settle(self, ev, cat, status, method, path, data, fields):
        if self.check(cat, status, method, path, data):
            ev["fields"] = fields
            ev["title"] = fields["title"]
        elif status < 0:
            ev["unknown"] = True  # the edit may or may not have been stored


# ---------------------------------------------------------------- results

def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def row(label, lats, seconds):
    lats = sorted(lats)
    ms = [percentile(lats, p) * 1000 for p in (50, 90, 99)]
    mx = lats[-1] * 1000 if lats else float("nan")
    return (f"| {label} | {len(lats)} | {len(lats) / seconds:.1f} | {ms[0]:.1f} | {ms[1]:.1f} | "
            f"{ms[2]:.1f} | {mx:.1f} |")


def server_side(log_path, start_offset, end_offset):
    """Latencies the server logged for the requests of the measured window, read and write."""
    reads, writes, fivexx = [], [], 0
    with open(log_path, "rb") as f:
        f.seek(start_offset)
        chunk = f.read(end_offset - start_offset)
    for line in chunk.splitlines():
        if b'"latency_ms"' not in line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        fields = rec.get("fields", rec)
        lat = fields.get("latency_ms")
        if lat is None:
            continue
        if int(fields.get("status", 0)) >= 500:
            fivexx += 1
        (reads if fields.get("method") in ("GET", "HEAD") else writes).append(float(lat) / 1000.0)
    return reads, writes, fivexx


def verify(port, clients, shared):
    """Every acknowledged write is stored as acknowledged: read back through the API."""
    problems = []
    checked = 0
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for c in clients:
        stored, cursor = {}, None
        for _ in range(1000):
            path = "/api/v1/my/events?limit=100" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
            status, _, body = call(conn, "GET", path, headers={"Authorization": f"Bearer {c.token}"})
            if status != 200:
                problems.append(f"client {c.index}: GET {path}: {status}")
                break
            page = json.loads(body)
            for e in page["events"]:
                stored[e["id"]] = e
            cursor = page["meta"].get("next_cursor")
            if not cursor:
                break
        for eid, ev in c.events.items():
            checked += 1
            got = stored.get(eid)
            if got is None:
                problems.append(f"event {eid} of client {c.index} ({ev['title']!r}) is missing")
                continue
            if ev["unknown"]:
                continue
            if got["title"] != ev["title"]:
                problems.append(f"event {eid}: title {got['title']!r}, acknowledged {ev['title']!r}")
            want_status = "cancelled" if ev["cancelled"] else "scheduled"
            if got["status"] != want_status:
                problems.append(f"event {eid}: status {got['status']}, acknowledged {want_status}")
            want_mod = "published" if eid in shared.approved else "pending"
            if got.get("moderation") != want_mod:
                problems.append(f"event {eid}: moderation {got.get('moderation')}, acknowledged {want_mod}")
        extra = set(stored) - set(c.events)
        if extra and not any(r[1] < 0 for r in c.records):
            problems.append(f"client {c.index}: {len(extra)} stored events it was never told of: {sorted(extra)[:5]}")
    # The approved ones are public, with their acknowledged titles.
    public = 0
    for c in clients:
        for eid, ev in c.events.items():
            if eid in shared.approved and not ev["unknown"]:
                status, _, body = call(conn, "GET", f"/api/v1/events/{eid}")
                public += 1
                if status != 200 or json.loads(body)["event"]["title"] != ev["title"]:
                    problems.append(f"approved event {eid}: public API answers {status}")
    conn.close()
    return checked, public, problems


# ---------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--clients", type=int, default=None)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--postgres", help="an existing, empty PostgreSQL database")
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-results", action="store_true", help="print only, write no results file")
    p.add_argument("--results-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "results"))
    args = p.parse_args()
    if args.smoke:
        if args.postgres or args.backend == "postgres":
            log("note: --smoke runs on SQLite only")
        args.postgres, args.backend = None, "sqlite"
        args.seconds = args.seconds or 10
        args.clients = args.clients or 16
        args.no_results = True
    args.seconds = args.seconds or 60
    args.clients = args.clients or 64
    if args.postgres:
        args.backend = "postgres"
    if args.clients < 1 or args.clients > 2000 or args.seconds <= 0:
        p.error("--clients must be 1..2000 and --seconds positive")

    tmp = tempfile.mkdtemp(prefix="cc-mixed-")
    server = db = None
    stopping = {"sig": None}

    def on_signal(signum, _frame):
        stopping["sig"] = signum
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        db = Db(args, tmp)
        return run(args, tmp, db)
    except SetupError as e:
        log(f"mixed load could not run: {e}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if db is not None:
            db.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp, db):
    t_setup = time.monotonic()
    runid = f"{os.getpid():x}{random.Random().randrange(16**4):04x}"
    port = free_port()
    log(f"== {db.kind}: admin account, the demo data (demo --seed {args.seed}), the server on 127.0.0.1:{port}")
    run_cli([args.bin, "admin", "create", "--database", db.url, "--email", ADMIN_EMAIL, "--name", "Mixed Admin",
             "--organisation", "Mixed Network"], {"CREATIVE_CALENDAR_ADMIN_PASSWORD": PASSWORD})
    run_cli([args.bin, "demo", "--seed", str(args.seed), "--database", db.url])
    server = Server(args.bin, db.url, tmp, port)
    try:
        server.wait_ready()
        return load(args, tmp, db, server, port, runid, t_setup)
    finally:
        server.stop()
        # Kept for a look at failures: copy the log out of the temp dir if asked.
        keep = os.environ.get("MIXED_KEEP_LOG")
        if keep:
            shutil.copy(server.log_path, keep)


def load(args, tmp, db, server, port, runid, t_setup):
    log(f"== {args.clients} organisers sign up through the form (own X-Forwarded-For each), tokens, admin sign-in")
    organisers = parallel(lambda i: sign_up(port, i, runid), list(range(args.clients)))
    tokens = parallel(lambda o: run_cli([args.bin, "tokens", "create", "--database", db.url, "--email", o[0],
                                         "--name", "Mixed load"]).strip(), organisers)
    admin_session, admin_csrf = sign_in_admin(port)
    data = gather(port)
    rng = random.Random(args.seed)
    reads = build_reads(data, rng, 20000)
    shared = Shared(admin_session, admin_csrf, data["all_slugs"], runid)
    clients = [Client(i, port, organisers[i] + (tokens[i],), reads, shared, args.seed * 1000 + i)
               for i in range(args.clients)]
    for c in clients:
        c.start()
    setup_seconds = time.monotonic() - t_setup
    log(f"== setup took {setup_seconds:.1f} s ({len(data['ids'])} published events); "
        f"{args.seconds:g} s of load from {args.clients} clients")

    log_start = os.path.getsize(server.log_path)
    cpu0 = os.times()
    srv0 = server.cpu_seconds()
    pg0 = postgres_backends_cpu(db.name) if db.name else 0.0
    busy0, total0 = machine_busy()
    t0 = time.monotonic()
    shared.stop_at = t0 + args.seconds
    shared.start.set()
    for c in clients:
        c.join(args.seconds + CLIENT_TIMEOUT * 3 + 30)
    wall = time.monotonic() - t0
    cpu1 = os.times()
    srv1 = server.cpu_seconds()
    pg1 = postgres_backends_cpu(db.name) if db.name else 0.0
    busy1, total1 = machine_busy()
    log_end = os.path.getsize(server.log_path)
    hung = [c.index for c in clients if c.is_alive()]

    log("== checking that every acknowledged write is stored")
    checked, public, problems = verify(port, clients, shared)

    # -- the numbers
    by_cat = collections.defaultdict(list)
    statuses = collections.Counter()
    for c in clients:
        for cat, status, sec in c.records:
            by_cat[cat].append(sec)
            statuses[(cat < READS, status)] += 1
    read_lats = [s for cat in range(READS) for s in by_cat[cat]]
    write_lats = [s for cat in range(READS, len(CATS)) for s in by_cat[cat]]
    n_total = len(read_lats) + len(write_lats)
    five = sum(n for (_, st), n in statuses.items() if st >= 500)
    timeouts = sum(n for (_, st), n in statuses.items() if st == TIMEOUT)
    conn_errors = sum(n for (_, st), n in statuses.items() if st == CONN_ERROR)
    unexpected = [u for c in clients for u in c.unexpected]

    with open(server.log_path, "rb") as f:
        whole_log = f.read()
    log_lines = whole_log.splitlines()
    locked = [l for l in log_lines if b"locked" in l.lower()]
    panicked = [l for l in log_lines if b"panicked" in l]
    errors_logged = [l for l in log_lines if b'"level":"ERROR"' in l or b" ERROR " in l]
    srv_reads, srv_writes, srv_5xx = server_side(server.log_path, log_start, log_end)

    client_cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    server_cpu = srv1 - srv0
    pg_cpu = pg1 - pg0
    machine = (busy1 - busy0) / max(1, total1 - total0) * os.cpu_count()

    def fmt_status(is_read):
        items = sorted((st, n) for (r, st), n in statuses.items() if r == is_read)
        names = {TIMEOUT: "timeout", CONN_ERROR: "conn-error"}
        return ", ".join(f"{names.get(st, st)}: {n}" for st, n in items) or "none"

    today = datetime.date.today().isoformat()
    lines = [
        f"# {today} mixed load, {db.kind}, {args.clients} clients, {args.seconds:g} s, "
        f"demo data (`demo --seed {args.seed}`, as --demo: {len(data['ids'])} upcoming events listed), release binary, {os.cpu_count()}-core machine",
        "",
        "| requests | count | req/s | p50 ms | p90 ms | p99 ms | max ms |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        row("**reads**", read_lats, wall),
        row("**writes**", write_lats, wall),
        row("all", read_lats + write_lats, wall),
    ]
    for cat in range(len(CATS)):
        if by_cat[cat]:
            lines.append(row(CATS[cat], by_cat[cat], wall))
    lines += [
        "",
        f"- statuses, reads: {fmt_status(True)}; writes: {fmt_status(False)}",
        f"- writes: {100.0 * len(write_lats) / max(1, n_total):.1f} % of {n_total} requests; "
        f"acknowledged writes checked afterwards: {checked} events through /api/v1/my/events "
        f"(+ {public} approved ones through /api/v1/events/ID), {len(problems)} problems",
        f"- 5xx: {five}, timeouts (20 s): {timeouts}, connection errors: {conn_errors}, other unexpected "
        f"statuses: {len(unexpected) - timeouts - conn_errors}; server log: {len(locked)} 'locked', "
        f"{len(panicked)} 'panicked', {len(errors_logged)} ERROR lines, {srv_5xx} logged 5xx",
        f"- server-side latency (its log, handler time): reads p50 "
        f"{percentile(sorted(srv_reads), 50) * 1000:.1f} ms / p99 {percentile(sorted(srv_reads), 99) * 1000:.1f} ms, "
        f"writes p50 {percentile(sorted(srv_writes), 50) * 1000:.1f} ms / p99 "
        f"{percentile(sorted(srv_writes), 99) * 1000:.1f} ms ({len(srv_reads) + len(srv_writes)} logged)",
        f"- CPU over the {wall:.1f} s: load client (Python, one process) {client_cpu / wall:.2f} cores, "
        f"server {server_cpu / wall:.2f} cores"
        + (f", PostgreSQL backends {pg_cpu / wall:.2f} cores" if db.name else "")
        + f"; whole machine busy {machine:.2f} of {os.cpu_count()} cores (others' work included)",
    ]
    verdict = []
    srv_p50 = percentile(sorted(srv_reads), 50)
    cli_p50 = percentile(sorted(read_lats), 50)
    if cli_p50 > 0:
        lines.append(f"- the server's own handler time is {100.0 * srv_p50 / cli_p50:.0f} % of the client's read p50 "
                     f"({srv_p50 * 1000:.1f} of {cli_p50 * 1000:.1f} ms): the rest is the client and the loopback")
    if client_cpu / wall > 0.85:
        verdict.append("the Python client used most of a core (the GIL's limit): its numbers are partly the client's")
    if machine > 0.9 * os.cpu_count():
        verdict.append("the machine's cores were saturated: server and client share them, so throughput is "
                       "CPU-bound on the machine, not a server limit")
    if verdict:
        lines.append("- note: " + "; ".join(verdict))
    table = "\n".join(lines)
    print(table, flush=True)

    failures = []
    if five:
        failures.append(f"{five} 5xx answers")
    if timeouts:
        failures.append(f"{timeouts} timeouts")
    if conn_errors:
        failures.append(f"{conn_errors} connection errors")
    if len(unexpected) - timeouts - conn_errors:
        failures.append(f"{len(unexpected) - timeouts - conn_errors} unexpected statuses")
    if locked:
        failures.append(f"{len(locked)} 'locked' lines in the server log")
    if panicked:
        failures.append(f"{len(panicked)} 'panicked' lines in the server log")
    if problems:
        failures.append(f"{len(problems)} acknowledged writes not stored as acknowledged")
    if hung:
        failures.append(f"clients {hung[:10]} still running after the deadline")
    if not read_lats or not write_lats:
        failures.append("no reads or no writes were made")
    for u in unexpected[:15]:
        log(f"  unexpected: {CATS[u[0]]} {u[2]} -> {u[1]} {u[3]!r}")
    for l in (locked + panicked + errors_logged)[:15]:
        log(f"  log: {l[:400].decode(errors='replace')}")
    for pr in problems[:15]:
        log(f"  lost: {pr}")

    if not args.no_results:
        os.makedirs(args.results_dir, exist_ok=True)
        path = os.path.join(args.results_dir, f"{today}-mixed-{db.kind}.txt")
        with open(path, "w") as f:
            f.write(table + "\n")
            f.write(f"\n{'FAIL: ' + '; '.join(failures) if failures else 'PASS'}\n")
        log(f"== written to {path}")
    if failures:
        print(f"\nmixed load summary: FAIL: {'; '.join(failures)}")
        return 1
    print(f"\nmixed load summary: {n_total} requests, zero 5xx, zero 'database is locked', "
          f"every acknowledged write stored -> PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
