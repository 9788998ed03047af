#!/usr/bin/env python3
"""Slow and idle clients against the release server (run through .ci/check-slow-clients.sh).

Opens --idle keep-alive connections (each sends one complete request, reads the answer,
then stays idle), --loris slow-loris connections (each sends a request head one byte a
second and never finishes it) and --post-loris connections (a complete POST head with a
Content-Length, then the body one byte a second; answered 408 after the body deadline). While all of them are open, a visitor
fetches pages, a feed and API answers over and over, on a keep-alive connection and on
new ones: every answer must be a 200 within 1 s. Then it waits and measures when the
server closes the slow-loris connections (expected: after the request-head timeout, with
a 408 or a close) and the idle ones (after the keep-alive timeout).

The expected timeouts are the server's: src/config.rs, `ClientTimeouts::default()`
(request head 10 s, keep-alive 15 s), applied in src/startup.rs with
`client_request_timeout` and `keep_alive`. CC_EXPECT_HEAD_TIMEOUT and
CC_EXPECT_KEEP_ALIVE (seconds) override them, for a server configured otherwise.
Standard library only. Exit 0 pass, 1 fail, 2 could not run.
"""
import argparse
import ctypes
import errno
import http.client
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

# src/config.rs, ClientTimeouts::default(): request_head 10 s, keep_alive 15 s.
HEAD_TIMEOUT = float(os.environ.get("CC_EXPECT_HEAD_TIMEOUT", "10"))
KEEP_ALIVE = float(os.environ.get("CC_EXPECT_KEEP_ALIVE", "15"))
# src/web/mod.rs, BODY_DEADLINE: a form's or an API request's body must arrive within 30 s.
BODY_DEADLINE = float(os.environ.get("CC_EXPECT_BODY_DEADLINE", "30"))
EARLY_SLACK = 1.5  # a close this much before the expected time is still accepted
LATE_SLACK = 3.0  # ... and this much after it
VISITOR_LIMIT = 1.0  # every visitor request within this many seconds
VISITOR_PATHS = ["/", "/cities/krakow", "/cities/krakow/calendar.ics", "/api/v1/events?city=krakow",
                 "/events?field=music", "/api/v1/events?limit=50"]
IDLE_PATHS = ["/healthz", "/api/v1/fields", "/cities/krakow", "/"]


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Conn:
    """One slow or idle connection and what happened to it."""

    def __init__(self, kind, sock, payload=b"", opened=0.0):
        self.kind = kind  # "idle", "loris", "post"
        self.sock = sock
        self.payload = payload
        self.sent = 0
        self.opened = opened  # when its idle time (or its request) began
        self.next_send = 0.0
        self.closed = None  # seconds after `opened`
        self.answer = b""  # the first bytes the server sent after the idle point
        self.how = ""

    def close(self, now, how):
        if self.closed is None:
            self.closed = now - self.opened
            self.how = how
        try:
            self.sock.close()
        except OSError:
            pass


def open_idle(port, n, host):
    """n keep-alive connections that made one complete request each."""
    conns = []
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        path = IDLE_PATHS[i % len(IDLE_PATHS)]
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        r.read()
        if r.status != 200 or r.will_close:
            raise RuntimeError(f"idle connection {i}: GET {path} answered {r.status} (will_close={r.will_close})")
        sock = c.sock
        c.sock = None  # the socket is ours now
        sock.setblocking(False)
        conns.append(Conn("idle", sock, opened=time.monotonic()))
    return conns


def open_slow(port, kind, n, host, start):
    conns = []
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.setblocking(False)
        if kind == "loris":
            # A head that never ends: header after header, one byte a second.
            payload = (f"GET /events?loris={i} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: slow-loris\r\n".encode()
                       + b"".join(b"X-Loris-%d: %s\r\n" % (k, b"a" * 20) for k in range(20)))
            c = Conn("loris", sock, payload, opened=time.monotonic())
        else:
            # Two forms that read their whole body before they look at it (the API
            # answers 401 to a request without a token before reading any of it).
            path, ctype = ("/login" if i % 2 == 0 else "/signup"), "application/x-www-form-urlencoded"
            head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: 1000\r\n\r\n").encode()
            sock.sendall(head)
            c = Conn("post", sock, b"x" * 1000, opened=time.monotonic())
        # Spread the trickles over the second.
        c.next_send = start + (i % 10) / 10.0
        conns.append(c)
    return conns


def pump(sel, conns, until, stop_when_all_closed=False):
    """Trickles the slow clients' bytes and notes every close, until `until`."""
    while True:
        now = time.monotonic()
        if now >= until:
            return
        if stop_when_all_closed and all(c.closed is not None for c in conns):
            return
        for c in conns:
            if c.closed is None and c.payload and now >= c.next_send and c.sent < len(c.payload):
                try:
                    c.sock.send(c.payload[c.sent:c.sent + 1])
                    c.sent += 1
                except BlockingIOError:
                    pass
                except OSError as e:
                    sel.unregister(c.sock)
                    c.close(now, f"send failed ({errno.errorcode.get(e.errno, e.errno)})")
                c.next_send += 1.0
        for key, _ in sel.select(timeout=0.05):
            c = key.data
            now = time.monotonic()
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError as e:
                sel.unregister(c.sock)
                c.close(now, f"reset ({errno.errorcode.get(e.errno, e.errno)})")
                continue
            if data:
                if not c.answer:
                    c.answer = data[:200]
                    c.answered = now - c.opened
            else:
                sel.unregister(c.sock)
                c.close(now, "closed")


def visitor(port, host, until, min_rounds):
    """Fetches the visitor paths until `until`; returns [(path, new_connection, status, seconds)]."""
    results = []
    keep = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    rounds = 0
    while rounds < min_rounds or time.monotonic() < until:
        for n, path in enumerate(VISITOR_PATHS):
            fresh = (rounds + n) % 2 == 1
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10) if fresh else keep
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Host": host, "Accept-Encoding": "gzip"})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException) as e:
                status = f"error {e!r}"
                if not fresh:
                    keep.close()
                    keep = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            results.append((path, fresh, status, time.perf_counter() - t0))
            if fresh:
                conn.close()
        rounds += 1
    keep.close()
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", required=True)
    p.add_argument("--idle", type=int, default=500)
    p.add_argument("--loris", type=int, default=100)
    p.add_argument("--post-loris", type=int, default=20)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix="cc-slow-")
    server = None
    log_file = open(os.path.join(tmp, "server.log"), "wb")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    all_conns = []
    try:
        port = free_port()
        host = f"127.0.0.1:{port}"
        started = time.monotonic()
        server = subprocess.Popen(
            [args.bin, "serve", "--bind", host, "--database", os.path.join(tmp, "slow.db"), "--demo"],
            stdout=subprocess.DEVNULL, stderr=log_file, env=dict(os.environ, RUST_LOG="info"),
            preexec_fn=_die_with_parent)
        for _ in range(600):
            if server.poll() is not None:
                log(f"the server exited with {server.returncode}")
                return 2
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                time.sleep(0.1)
        else:
            log("the server did not answer /healthz")
            return 2
        # Warm the visitor's pages once, so that the first visit's cache miss is not counted.
        visitor(port, host, 0, 1)
        log(f"== server ready in {time.monotonic() - started:.1f} s; expecting a request-head timeout of "
            f"{HEAD_TIMEOUT:g} s and a keep-alive timeout of {KEEP_ALIVE:g} s (src/config.rs)")

        sel = selectors.DefaultSelector()
        t_open = time.monotonic()
        slow = open_slow(port, "loris", args.loris, host, t_open) + open_slow(port, "post", args.post_loris, host, t_open)
        idle = open_idle(port, args.idle, host)
        all_conns = slow + idle
        for c in all_conns:
            sel.register(c.sock, selectors.EVENT_READ, c)
        t_all = time.monotonic()
        log(f"== opened {args.loris} slow-loris heads, {args.post_loris} slow POST bodies and {args.idle} idle "
            f"keep-alive connections in {t_all - t_open:.1f} s")

        # The visitor, while every connection is open: until shortly before the first
        # timeout could close one, at least 3 rounds. The slow clients keep trickling in
        # between the visitor's requests (one round is well under a second).
        first_close = min([c.opened + HEAD_TIMEOUT for c in slow if c.kind == "loris"] +
                          [c.opened + KEEP_ALIVE for c in idle]) - EARLY_SLACK - 0.5
        results = []
        rounds = 0
        while rounds < 3 or time.monotonic() < first_close:
            pump(sel, all_conns, time.monotonic() + 0.2)
            results += visitor(port, host, 0, 1)
            rounds += 1
        pump(sel, all_conns, time.monotonic() + 0.05)
        t_visited = time.monotonic()
        open_then = {k: sum(1 for c in all_conns if c.kind == k and c.closed is None) for k in ("idle", "loris", "post")}
        log(f"== visitor: {len(results)} requests in {rounds} rounds over {t_visited - t_all:.1f} s; still open "
            f"at its end: idle {open_then['idle']}/{args.idle}, slow-loris {open_then['loris']}/{args.loris}, "
            f"slow POST {open_then['post']}/{args.post_loris}")

        # Then the timeouts: wait until every loris and idle connection is closed, or too late.
        deadline = max([c.opened + (HEAD_TIMEOUT if c.kind == "loris" else BODY_DEADLINE) for c in slow]
                       + [c.opened + KEEP_ALIVE for c in idle]) + LATE_SLACK + 1
        pump(sel, all_conns, deadline, stop_when_all_closed=True)
        t_end = time.monotonic()

        # -- report
        failures = []
        lats = sorted(r[3] for r in results)
        bad = [r for r in results if r[2] != 200 or r[3] > VISITOR_LIMIT]
        by_path = {}
        for path, fresh, status, sec in results:
            by_path.setdefault(path, []).append(sec)
        log("")
        log("| visitor request | count | max ms | p50 ms |")
        log("| --- | ---: | ---: | ---: |")
        for path in VISITOR_PATHS:
            s = sorted(by_path.get(path, [0]))
            log(f"| {path} | {len(s)} | {s[-1] * 1000:.1f} | {s[len(s) // 2] * 1000:.1f} |")
        log(f"| all ({sum(1 for r in results if r[1])} on new connections) | {len(lats)} | "
            f"{lats[-1] * 1000:.1f} | {lats[len(lats) // 2] * 1000:.1f} |")
        if bad:
            failures.append(f"{len(bad)} visitor requests not a 200 within {VISITOR_LIMIT:g} s, e.g. {bad[:3]}")
        for kind, n in (("idle", args.idle), ("loris", args.loris)):
            if open_then[kind] != n:
                failures.append(f"only {open_then[kind]} of the {n} {kind} connections were still open when the "
                                f"visitor finished (closed too early?)")

        def closes(kind, expected):
            cs = [c for c in all_conns if c.kind == kind]
            done = sorted(c.closed for c in cs if c.closed is not None)
            still = len(cs) - len(done)
            answers = {}
            for c in cs:
                first = c.answer.split(b"\r\n", 1)[0].decode(errors="replace") if c.answer else "(no answer)"
                answers[first] = answers.get(first, 0) + 1
            hows = {}
            for c in cs:
                hows[c.how or "open"] = hows.get(c.how or "open", 0) + 1
            if done:
                span = f"{done[0]:.1f}-{done[-1]:.1f} s (median {done[len(done) // 2]:.1f} s)"
            else:
                span = "none closed"
            log(f"| {kind} | {len(cs)} | {len(done)} | {span} | "
                f"{', '.join(f'{k}: {v}' for k, v in sorted(answers.items()))} | "
                f"{', '.join(f'{k}: {v}' for k, v in sorted(hows.items()))} | "
                f"{expected if expected else '-'} |")
            return done, still

        log("")
        log("| connections | count | closed | closed after | server sent | how | expected |")
        log("| --- | ---: | ---: | --- | --- | --- | --- |")
        def expect_closed(kind, what, timeout, label):
            done, still = closes(kind, label)
            if still:
                failures.append(f"{still} {what} still open {t_end - t_open:.0f} s after opening")
            out = [d for d in done if not timeout - EARLY_SLACK <= d <= timeout + LATE_SLACK]
            if out:
                failures.append(f"{len(out)} {what} closed outside {timeout - EARLY_SLACK:g}-"
                                f"{timeout + LATE_SLACK:g} s (e.g. {out[0]:.1f} s)")

        expect_closed("loris", "slow-loris connections", HEAD_TIMEOUT, f"{HEAD_TIMEOUT:g} s (head)")
        expect_closed("idle", "idle connections", KEEP_ALIVE, f"{KEEP_ALIVE:g} s (keep-alive)")
        expect_closed("post", "slow POST bodies", BODY_DEADLINE, f"{BODY_DEADLINE:g} s (body), 408")
        no_408 = [c for c in all_conns if c.kind == "post" and not c.answer.startswith(b"HTTP/1.1 408")]
        if no_408:
            failures.append(f"{len(no_408)} slow POST bodies were not answered 408")

        with open(log_file.name, "rb") as f:
            text = f.read()
        panics = [l for l in text.splitlines() if b"panicked" in l]
        if panics:
            failures.append(f"{len(panics)} 'panicked' lines in the server log: {panics[0][:300]!r}")
        if server.poll() is not None:
            failures.append(f"the server exited ({server.returncode})")
        total = time.monotonic() - started
        log("")
        if failures:
            for f_ in failures:
                log(f"FAIL: {f_}")
            log(f"slow clients summary: {len(failures)} failures in {total:.0f} s -> FAIL")
            return 1
        log(f"slow clients summary: {len(results)} visitor requests all 200, max {lats[-1] * 1000:.0f} ms, "
            f"while {args.idle + args.loris + args.post_loris} slow and idle connections were open; heads closed at "
            f"~{HEAD_TIMEOUT:g} s, idle at ~{KEEP_ALIVE:g} s, slow bodies with 408 at ~{BODY_DEADLINE:g} s; "
            f"{total:.0f} s -> PASS")
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except (RuntimeError, OSError) as e:
        log(f"slow clients could not run: {e!r}")
        return 2
    finally:
        for c in all_conns:
            try:
                c.sock.close()
            except OSError:
                pass
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log_file.close()
        if os.environ.get("CC_KEEP_LOG"):
            shutil.copy(log_file.name, os.environ["CC_KEEP_LOG"])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
