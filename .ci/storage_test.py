#!/usr/bin/env python3
"""Storage failures: a full disk and a read-only database file, on a running server.

For each: writes through the API and through the forms answer 503 with a message that
names the cause (JSON under /api/, the HTML page elsewhere) and Retry-After, never a 500
and never a hang; reads (pages, feeds, the API, a signed-in page) keep answering 200;
`PRAGMA integrity_check` stays `ok`; and once the cause is gone the same server process
takes writes again, and every write it acknowledged is there.

The full disk is a tmpfs of a few megabytes filled with a file of zeros; the read-only
file is the database chmod 444 under a server run as `nobody` (root ignores the mode).
Both need root. Usage: storage_test.py BINARY
"""

import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

PASSWORD = "a long storage test password"
SECRET = "storage-test-secret-key-0123456789abcdef"
FAILURES = []


def check(ok, what):
    print(("  ok   " if ok else "  FAIL ") + what, flush=True)
    if not ok:
        FAILURES.append(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One visitor: keeps cookies, reads CSRF fields."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        conn.request(method, path, body=body, headers=headers)
        res = conn.getresponse()
        data = res.read()
        elapsed = time.monotonic() - started
        for name, value in res.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                k, _, v = pair.partition("=")
                if v:
                    self.cookies[k.strip()] = v.strip()
                else:
                    self.cookies.pop(k.strip(), None)
        conn.close()
        return res.status, dict((k.lower(), v) for k, v in res.getheaders()), data.decode("utf-8", "replace"), elapsed

    def get(self, path):
        return self.request("GET", path)

    def csrf(self, path):
        status, _, body, _ = self.get(path)
        m = re.search(r'name="csrf_token" value="([^"]+)"', body)
        if not m:
            raise RuntimeError(f"no csrf_token on {path} ({status})")
        return m.group(1)

    def post_form(self, page, action, fields):
        token = self.csrf(page)
        body = urllib.parse.urlencode(list(fields.items()) + [("csrf_token", token)])
        return self.request("POST", action, body=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path, token, payload):
        return self.request("POST", path, body=json.dumps(payload),
                            headers={"Content-Type": "application/json",
                                     "Authorization": f"Bearer {token}"})


def run(binary, *args, user=None, env_extra=None):
    env = dict(os.environ, RUST_LOG="warn", CREATIVE_CALENDAR_ADMIN_PASSWORD=PASSWORD)
    env.pop("CREATIVE_CALENDAR_DATABASE", None)
    env.update(env_extra or {})
    cmd = ([ "runuser", "-u", user, "--"] if user else []) + [binary, *args]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {out.stderr}")
    return out.stdout.strip()


class Server:
    def __init__(self, binary, database, log_path, user=None):
        self.port = free_port()
        self.log = open(log_path, "w")
        cmd = ([ "runuser", "-u", user, "--"] if user else []) + [
            binary, "serve", "--bind", f"127.0.0.1:{self.port}", "--database", database,
            "--secret-key", SECRET, "--api-writes-per-hour", "100000"]
        env = dict(os.environ, RUST_LOG="info")
        env.pop("CREATIVE_CALENDAR_DATABASE", None)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log, env=env)
        self.log_path = log_path
        deadline = time.monotonic() + 30
        while True:
            try:
                if Client(self.port).get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + open(log_path).read())
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()
        text = open(self.log_path).read()
        check("panicked" not in text, "no panic in the server's log")
        return text


def event(title, day):
    return {"city": "braga", "kind": "festival", "title": title,
            "description": "Storage test.", "venue": "Theatro Circo", "start_date": day,
            "start_time": "19:00", "end_time": "21:00"}


def form_event(title, day):
    fields = {"field": "", "address": "", "url": "", "price": "",
              "end_date": "", "repeat": "none"}
    fields.update({k: v for k, v in event(title, day).items()})
    return fields


def integrity(database):
    # Read-only and through the URI, so that this check writes nothing itself.
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def reads_work(client, event_id, what):
    for path in ["/", "/events", "/cities/braga", f"/events/{event_id}", "/calendar.ics",
                 "/cities/braga/calendar.ics", "/api/v1/events?city=braga",
                 f"/api/v1/events/{event_id}"]:
        status, _, _, elapsed = client.get(path)
        check(status == 200 and elapsed < 5, f"{what}: GET {path} -> {status} in {elapsed:.2f}s")


def refused(answer, cause, fmt, what):
    status, headers, body, elapsed = answer
    ok = status == 503 and headers.get("retry-after") and elapsed < 15 and cause in body
    if fmt == "json":
        try:
            ok = ok and cause in json.loads(body)["errors"][0]["detail"]
        except (ValueError, KeyError, IndexError):
            ok = False
    else:
        ok = ok and headers.get("content-type", "").startswith("text/html")
    check(bool(ok), f"{what} -> {status} ({elapsed:.2f}s) naming “{cause}”")


def prepare(binary, folder):
    database = os.path.join(folder, "calendar.db")
    run(binary, "admin", "create", "--database", database,
        "--email", "office@example.org", "--name", "Festival Office")
    token = run(binary, "tokens", "create", "--database", database,
                "--email", "office@example.org", "--name", "storage")
    run(binary, "demo", "--events", "300", "--seed", "7", "--database", database)
    # Every command closed its connections, so the WAL was checkpointed and removed: a
    # server on a copy starts with an empty WAL, and its first write must grow a file.
    return database, token


def day_ahead(n):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400 * (30 + n)))


def full_disk(binary, prepared, token, work):
    print("== a full disk", flush=True)
    mount = os.path.join(work, "small-disk")
    os.makedirs(mount)
    size = os.path.getsize(prepared) + 3 * 1024 * 1024
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", mount], check=True)
    server = None
    try:
        database = os.path.join(mount, "calendar.db")
        shutil.copy(prepared, database)
        server = Server(binary, database, os.path.join(work, "full.log"))
        client = Client(server.port)
        status = client.post_form("/login", "/login", {"email": "office@example.org", "password": PASSWORD})[0]
        check(status == 303, f"signed in before the disk fills -> {status}")
        acknowledged = []
        status, _, body, _ = client.post_json("/api/v1/events", token, event("Before the disk filled", day_ahead(0)))
        check(status == 201, f"a write with room to spare -> {status}")
        if status == 201:
            acknowledged.append(json.loads(body)["event"]["id"])

        filler = os.path.join(mount, "filler")
        # Unbuffered, so that the write that fills the disk is the one that fails.
        with open(filler, "wb", buffering=0) as f:
            for chunk in (65536, 1):
                # Down to the last byte: small writes can fit in a block's tail.
                try:
                    while True:
                        f.write(b"\0" * chunk)
                except OSError:
                    pass
        print(f"  the disk is full ({shutil.disk_usage(mount).free} bytes free)", flush=True)

        for n in range(10):
            refused(client.post_json("/api/v1/events", token, event(f"Refused {n}", day_ahead(1))),
                    "disk is full", "json", f"API write {n} on a full disk")
        refused(client.post_form("/events/new", "/events/new", form_event("Refused by form", day_ahead(2))),
                "disk is full", "html", "form submission on a full disk")
        refused(client.post_form(f"/events/{acknowledged[0]}/cancel", f"/events/{acknowledged[0]}/cancel", {"note": ""}),
                "disk is full", "html", "form cancel on a full disk")
        reads_work(client, acknowledged[0], "full disk")
        status = client.get("/my/events")[0]
        check(status == 200, f"full disk: a signed-in page -> {status}")
        check(integrity(database) == "ok", "full disk: integrity_check is ok")

        os.remove(filler)
        status, _, body, _ = client.post_json("/api/v1/events", token, event("After the disk was freed", day_ahead(3)))
        check(status == 201, f"disk freed: an API write -> {status}")
        if status == 201:
            acknowledged.append(json.loads(body)["event"]["id"])
        status, headers, _, _ = client.post_form("/events/new", "/events/new", form_event("Freed, by form", day_ahead(4)))
        check(status == 303, f"disk freed: a form submission -> {status}")
        if status == 303:
            acknowledged.append(int(headers["location"].rsplit("/", 1)[1]))
        for event_id in acknowledged:
            status = client.get(f"/api/v1/events/{event_id}")[0]
            check(status == 200, f"acknowledged event {event_id} is there -> {status}")
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        refused_titles = conn.execute(
            "SELECT count(*) FROM events WHERE title LIKE 'Refused%'").fetchone()[0]
        conn.close()
        check(refused_titles == 0, f"nothing refused was half-written ({refused_titles} rows)")
        check(integrity(database) == "ok", "disk freed: integrity_check is ok")
    finally:
        if server:
            server.stop()
        subprocess.run(["umount", mount])


def read_only(binary, prepared, token, work):
    print("== a read-only database file", flush=True)
    folder = os.path.join(work, "read-only")
    os.makedirs(folder)
    database = os.path.join(folder, "calendar.db")
    shutil.copy(prepared, database)
    shutil.chown(folder, "nobody")
    shutil.chown(database, "nobody")
    os.chmod(database, 0o444)
    server = Server(binary, database, os.path.join(work, "read-only.log"), user="nobody")
    try:
        client = Client(server.port)
        log = open(server.log_path).read()
        check("read-only" in log, "the start logs that the file is read-only")
        listing = json.loads(client.get("/api/v1/events?limit=1")[2])
        event_id = listing["events"][0]["id"]
        reads_work(client, event_id, "read-only")
        refused(client.post_json("/api/v1/events", token, event("Refused read-only", day_ahead(1))),
                "read-only", "json", "API write on a read-only file")
        refused(client.post_form("/login", "/login", {"email": "office@example.org", "password": PASSWORD}),
                "read-only", "html", "signing in (a write) on a read-only file")
        check(integrity(database) == "ok", "read-only: integrity_check is ok")

        # The cause gone: the file and the -wal and -shm files SQLite made with its mode.
        for suffix in ["", "-wal", "-shm"]:
            if os.path.exists(database + suffix):
                os.chmod(database + suffix, 0o644)
        status, _, body, _ = client.post_json("/api/v1/events", token, event("Writable again", day_ahead(2)))
        check(status == 201, f"file writable again: an API write -> {status} {body[:200]}")
        status = client.post_form("/login", "/login", {"email": "office@example.org", "password": PASSWORD})[0]
        check(status == 303, f"file writable again: signing in -> {status}")
        if status != 303:
            return
        status, headers, _, _ = client.post_form("/events/new", "/events/new", form_event("Writable, by form", day_ahead(3)))
        check(status == 303, f"file writable again: a form submission -> {status}")
        check(integrity(database) == "ok", "writable again: integrity_check is ok")
    finally:
        server.stop()


def main():
    binary = os.path.abspath(sys.argv[1])
    if os.geteuid() != 0:
        print("storage test: needs root (mount, runuser)")
        return 2
    work = tempfile.mkdtemp(prefix="cc-storage-")
    os.chmod(work, 0o755)
    try:
        prepared_dir = os.path.join(work, "prepared")
        os.makedirs(prepared_dir)
        prepared, token = prepare(binary, prepared_dir)
        full_disk(binary, prepared, token, work)
        read_only(binary, prepared, token, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"storage test: {'PASS' if not FAILURES else 'FAIL'} ({len(FAILURES)} failed)")
    for f in FAILURES:
        print("  failed: " + f)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
