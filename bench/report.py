#!/usr/bin/env python3
"""The python half of bench/run.sh (standard library only): small JSON look-ups for the
script, parsing wrk's --latency output, the tables, the checks, the results files and
the README's section between its two marker lines.

bench/run.sh leaves in its temp dir (DIR):
  runs.tsv     one line a size x backend: size, backend, start_ms, rss_idle_kib
  targets.tsv  one line a target of a run: size, backend, id, kind (200 or 304), path,
               ours_status, nginx_status, ours_bytes, nginx_bytes, ours_header_bytes,
               nginx_header_bytes, rss_max_kib (our server's, during its wrk run),
               etag_changed (1 if the ETag a 304 target sent went stale during the run)
  wrk/SIZE-BACKEND-ID-{ours,nginx}.txt   wrk's output
  hdr/SIZE-BACKEND-ID-{ours,nginx}.txt   the response's headers (curl -D)

Commands:
  report.py busiest-city < /api/v1/cities JSON      the slug with most upcoming events
  report.py first-event  < /api/v1/events JSON      the first event's id
  report.py month-range MONTHS                      "YYYY-MM-01 YYYY-MM-LAST", MONTHS on
  report.py table DIR SIZE BACKEND                  print one run's table
  report.py final DIR --seconds S --warmup W [--smoke] [--results PREFIX] [--readme FILE]
"""

import argparse
import calendar
import copy
import datetime
import json
import os
import re
import subprocess
import sys

README_START = "<!-- bench:run:start -->"
README_END = "<!-- bench:run:end -->"
SCALE_LIMIT = 1.5  # the goal: p99 at the largest size within 1.5x the smallest's
BACKENDS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

RUN_FIELDS = ["size", "backend", "start_ms", "rss_idle_kib"]
TARGET_FIELDS = ["size", "backend", "id", "kind", "path", "ours_status", "nginx_status",
                 "ours_bytes", "nginx_bytes", "ours_header_bytes", "nginx_header_bytes",
                 "rss_max_kib", "etag_changed"]


# --- wrk -------------------------------------------------------------------------------

# wrk prints times with the unit that keeps them short: 456.00us, 1.23ms, 1.20s, 2.00m.
_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
# ... and sizes in binary units: 1.23MB is 1.23 * 2**20 bytes.
_SIZE_UNITS = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}


def time_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"not a wrk time: {text!r}")
    return float(m.group(1)) * _TIME_UNITS_MS[m.group(2)]


def size_bytes(text):
    m = re.fullmatch(r"([\d.]+)([KMGT]?B)", text)
    return float(m.group(1)) * _SIZE_UNITS[m.group(2)] if m else None


def parse_wrk(text):
    """req/s, the latency percentiles (ms), the request count, the bytes read, the
    socket errors and the count of answers that were neither 2xx nor 3xx."""
    out = {"rps": None, "p50_ms": None, "p75_ms": None, "p90_ms": None, "p99_ms": None,
           "requests": None, "bytes_read": None, "socket_errors": None, "non_2xx_3xx": 0}
    in_distribution = False
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("Latency Distribution"):
            in_distribution = True
            continue
        m = re.fullmatch(r"(50|75|90|99)(?:\.0+)?%\s+(\S+)", s)
        if in_distribution and m:
            out[f"p{m.group(1)}_ms"] = time_ms(m.group(2))
            continue
        m = re.fullmatch(r"(\d+) requests in (\S+), (\S+) read", s)
        if m:
            out["requests"] = int(m.group(1))
            out["bytes_read"] = size_bytes(m.group(3))
            continue
        m = re.fullmatch(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", s)
        if m:
            out["socket_errors"] = dict(zip(["connect", "read", "write", "timeout"],
                                            map(int, m.groups())))
            continue
        m = re.fullmatch(r"Non-2xx or 3xx responses: (\d+)", s)
        if m:
            out["non_2xx_3xx"] = int(m.group(1))
            continue
        m = re.fullmatch(r"Requests/sec:\s+([\d.]+)", s)
        if m:
            out["rps"] = float(m.group(1))
    return out


# --- loading what run.sh left ----------------------------------------------------------

def read_tsv(path, fields):
    rows = []
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    rows.append(dict(zip(fields, line.rstrip("\n").split("\t"))))
    return rows


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def as_int(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def load(d):
    runs = []
    for r in read_tsv(os.path.join(d, "runs.tsv"), RUN_FIELDS):
        runs.append({"size": int(r["size"]), "backend": r["backend"],
                     "start_ms": as_int(r["start_ms"]), "rss_idle_kib": as_int(r["rss_idle_kib"]),
                     "targets": []})
    by_key = {(r["size"], r["backend"]): r for r in runs}
    for t in read_tsv(os.path.join(d, "targets.tsv"), TARGET_FIELDS):
        run = by_key.get((int(t["size"]), t["backend"]))
        if run is None:
            continue
        stem = f'{t["size"]}-{t["backend"]}-{t["id"]}'
        target = {"id": t["id"], "kind": int(t["kind"]), "path": t["path"],
                  "rss_max_kib": as_int(t["rss_max_kib"]), "etag_changed": t["etag_changed"] == "1"}
        for side in ("ours", "nginx"):
            raw = read_text(os.path.join(d, "wrk", f"{stem}-{side}.txt"))
            target[side] = {"status": as_int(t[f"{side}_status"]), "bytes": as_int(t[f"{side}_bytes"]),
                            "header_bytes": as_int(t[f"{side}_header_bytes"]),
                            "headers": read_text(os.path.join(d, "hdr", f"{stem}-{side}.txt")).replace("\r", ""),
                            "wrk_raw": raw, **parse_wrk(raw)}
        o, n = target["ours"]["rps"], target["nginx"]["rps"]
        target["ratio"] = o / n if o is not None and n else None
        run["targets"].append(target)
    for run in runs:
        seen = [t["rss_max_kib"] for t in run["targets"] if t["rss_max_kib"]]
        run["rss_max_kib"] = max(seen + [run["rss_idle_kib"] or 0]) if seen else None
    return runs


# --- formatting ------------------------------------------------------------------------

def fmt_ms(v):
    if v is None:
        return "-"
    if v >= 100:
        return f"{v:,.0f} ms"
    if v >= 10:
        return f"{v:.1f} ms"
    if v >= 1:
        return f"{v:.2f} ms"
    return f"{v:.3f} ms"


def fmt_rps(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def fmt_ratio(v):
    return "-" if v is None else f"{v:.2f}\u00d7"


def fmt_mib(kib):
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def target_label(t):
    return f'{t["id"]} {"304 " if t["kind"] == 304 else ""}{t["path"]}'


def run_title(run):
    return f'{run["size"]:,} events, {BACKENDS.get(run["backend"], run["backend"])}'


def run_facts(run):
    start = "-" if run["start_ms"] is None else f'{run["start_ms"]:,} ms'
    return (f'start to first answer of / {start}; our RSS idle {fmt_mib(run["rss_idle_kib"])}, '
            f'max under load {fmt_mib(run["rss_max_kib"])}')


COLUMNS = ["target", "bytes", "ours req/s", "ours p50", "ours p99",
           "nginx req/s", "nginx p50", "nginx p99", "ours/nginx"]


def table_rows(run):
    for t in run["targets"]:
        o, n = t["ours"], t["nginx"]
        yield [target_label(t), f'{o["bytes"]:,}' if o["bytes"] is not None else "-",
               fmt_rps(o["rps"]), fmt_ms(o["p50_ms"]), fmt_ms(o["p99_ms"]),
               fmt_rps(n["rps"]), fmt_ms(n["p50_ms"]), fmt_ms(n["p99_ms"]), fmt_ratio(t["ratio"])]


def text_table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(r):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "| " + " | ".join(["---"] + ["---:"] * (len(header) - 1)) + " |"]
    for r in rows:
        out.append("| " + " | ".join([f"`{r[0]}`"] + r[1:]) + " |")
    return "\n".join(out)


def run_text(run):
    return f"== {run_title(run)}\n{text_table(COLUMNS, list(table_rows(run)))}\n{run_facts(run)}"


# --- checks and the scale summary ------------------------------------------------------

def problems(run):
    """What makes a smoke run fail, and a full run warn."""
    out = []
    for t in run["targets"]:
        o, n, where = t["ours"], t["nginx"], f'{run_title(run)}, {target_label(t)}'
        if o["status"] != t["kind"]:
            out.append(f'{where}: ours answered {o["status"]}, not {t["kind"]}')
        if n["status"] != t["kind"]:
            out.append(f'{where}: nginx answered {n["status"]}, not {t["kind"]}')
        if o["bytes"] != n["bytes"]:
            out.append(f'{where}: body sizes differ, ours {o["bytes"]} bytes, nginx {n["bytes"]}')
        for side, name in ((o, "ours"), (n, "nginx")):
            if side["rps"] is None:
                out.append(f"{where}: no wrk figures for {name}")
            if side["non_2xx_3xx"]:
                out.append(f'{where}: wrk saw {side["non_2xx_3xx"]} non-2xx/3xx answers from {name}')
        if t["etag_changed"]:
            out.append(f"{where}: our ETag changed during the run (some answers were 200s, not 304s)")
    return out


def notes(run):
    """Worth knowing, but no failure: socket errors. wrk leaves timed-out requests (2 s by
    default) out of its latency figures, so its p99 then understates."""
    out = []
    for t in run["targets"]:
        for side in ("ours", "nginx"):
            errs = t[side]["socket_errors"]
            if errs and any(errs.values()):
                detail = ", ".join(f"{k} {v}" for k, v in errs.items() if v)
                out.append(f'{run_title(run)}, {target_label(t)}: {side}: socket errors {detail}'
                           + (" (timed-out requests are not in the latency figures)" if errs["timeout"] else ""))
    return out


def scale(runs):
    """For each backend measured at two sizes or more: our p99 at the largest size over
    our p99 at the smallest, target by target."""
    out = []
    for backend in BACKENDS:
        mine = sorted((r for r in runs if r["backend"] == backend), key=lambda r: r["size"])
        if len(mine) < 2:
            continue
        small, large = mine[0], mine[-1]
        small_by_id = {t["id"]: t for t in small["targets"]}
        rows = []
        for t in large["targets"]:
            s = small_by_id.get(t["id"])
            a = s["ours"]["p99_ms"] if s else None
            b = t["ours"]["p99_ms"]
            ratio = b / a if a and b is not None else None
            rows.append({"id": t["id"], "kind": t["kind"], "path_small": s["path"] if s else None,
                         "path_large": t["path"], "p99_small_ms": a, "p99_large_ms": b, "ratio": ratio,
                         "ok": ratio is not None and ratio <= SCALE_LIMIT})
        out.append({"backend": backend, "small": small["size"], "large": large["size"], "rows": rows})
    return out


def scale_header(s):
    return ["target", f'p99 at {s["small"]:,}', f'p99 at {s["large"]:,}', "ratio", f"<= {SCALE_LIMIT}"]


def scale_rows(s):
    for r in s["rows"]:
        label = f'{r["id"]} {"304 " if r["kind"] == 304 else ""}{r["path_large"]}'
        yield [label, fmt_ms(r["p99_small_ms"]), fmt_ms(r["p99_large_ms"]), fmt_ratio(r["ratio"]),
               "yes" if r["ok"] else "NO"]


def scale_title(s):
    return (f'Scale check, {BACKENDS[s["backend"]]}: our p99 at {s["large"]:,} events '
            f'over our p99 at {s["small"]:,}')


# --- the machine -----------------------------------------------------------------------

def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = None
    try:  # free -g's "Mem:" total, as the issue asks for
        for line in subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Mem:"):
                ram = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gib": ram}


def machine_text(m):
    return f'{m["nproc"]} cores ({m["cpu"]}), {m["ram_gib"]} GiB RAM (free -g)'


# --- commands --------------------------------------------------------------------------

def cmd_final(a):
    runs = load(a.dir)
    today = datetime.date.today().isoformat()
    m = machine()
    settings = (f"wrk -t2 -c32 -d{a.seconds}s --latency after a {a.warmup} s warm-up, ours then "
                f"nginx for each target; server with --workers 2, nginx with worker_processes 2, "
                f"both and wrk on the same machine, loopback only")
    scales = scale(runs)
    fails = [p for r in runs for p in problems(r)]
    remarks = [n for r in runs for n in notes(r)]

    summary = []
    for s in scales:
        summary.append(scale_title(s) + "\n" + text_table(scale_header(s), list(scale_rows(s))))
    if not scales:
        summary.append("Scale check: needs two sizes or more of one backend (see --sizes); none here.")
    checks = ([f"WARNING: {p}" for p in fails] + [f"note: {n}" for n in remarks]) or ["checks: all targets as expected"]

    # run.sh printed each run's table as it ended; with several, all of them again here.
    if len(runs) > 1:
        print("\n\n".join(run_text(r) for r in runs) + "\n")
    print("\n\n".join(summary))
    print("\n".join(checks))

    if a.smoke:
        if fails:
            print(f"SMOKE FAILED: {len(fails)} problem(s)", file=sys.stderr)
            return 1
        print("smoke: OK")
        return 0

    if a.results:
        head = [f"bench/run.sh, {today}", f"machine: {machine_text(m)}", f"settings: {settings}", ""]
        body = ["\n\n".join(run_text(r) for r in runs), "", "\n\n".join(summary), "", "\n".join(checks), ""]
        raw = []
        for r in runs:
            for t in r["targets"]:
                for side in ("ours", "nginx"):
                    raw.append(f"---- {run_title(r)}, {target_label(t)}, {side}: "
                               f'status {t[side]["status"]}, body {t[side]["bytes"]} bytes, '
                               f'headers {t[side]["header_bytes"]} bytes')
                    raw.append(t[side]["headers"].rstrip())
                    raw.append(t[side]["wrk_raw"].rstrip())
                    raw.append("")
        with open(a.results + ".txt", "w", encoding="utf-8") as f:
            f.write("\n".join(head + body + ["raw: headers and wrk output of every target", ""] + raw))
        doc = {"date": today, "machine": m, "settings": settings,
               "seconds": a.seconds, "warmup_seconds": a.warmup,
               "runs": copy.deepcopy(runs),
               "scale": scales, "problems": fails, "notes": remarks}
        for r in doc["runs"]:
            for t in r["targets"]:
                for side in ("ours", "nginx"):
                    del t[side]["wrk_raw"]  # it is in the .txt
        with open(a.results + ".json", "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
        print(f"wrote {a.results}.txt and {a.results}.json")

    if a.readme:
        rewrite_readme(a.readme, runs, scales, m, today, settings, os.path.basename(a.results or ""))
    return 0


def rewrite_readme(path, runs, scales, m, today, settings, results_name):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    starts = [i for i, l in enumerate(lines) if l.strip() == README_START]
    ends = [i for i, l in enumerate(lines) if l.strip() == README_END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        print(f"note: {path} has not exactly one {README_START} ... {README_END} pair; README left as it is")
        return
    part = [f"Measured on {today} with `bench/run.sh` on {machine_text(m)}: {settings}. "
            f"Bodies are the identity bytes (wrk sends no Accept-Encoding); nginx serves the "
            f"server's own bodies as static files."
            + (f" Raw figures: `bench/results/{results_name}.txt`." if results_name else ""), ""]
    for r in runs:
        part += [f"**{run_title(r)}** ({run_facts(r)})", "", md_table(COLUMNS, list(table_rows(r))), ""]
    for s in scales:
        part += [f"**{scale_title(s)}** (goal: {SCALE_LIMIT} or less)", "",
                 md_table(scale_header(s), list(scale_rows(s))), ""]
    new = lines[:starts[0] + 1] + part + lines[ends[0]:]
    tmp = path + ".bench-tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(new))
    os.replace(tmp, path)
    print(f"rewrote the section of {path} between its bench:run markers")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("busiest-city")
    sub.add_parser("first-event")
    mr = sub.add_parser("month-range")
    mr.add_argument("months", type=int)
    t = sub.add_parser("table")
    t.add_argument("dir")
    t.add_argument("size", type=int)
    t.add_argument("backend")
    f = sub.add_parser("final")
    f.add_argument("dir")
    f.add_argument("--seconds", type=int, required=True)
    f.add_argument("--warmup", type=int, required=True)
    f.add_argument("--smoke", action="store_true")
    f.add_argument("--results", help="write PREFIX.txt and PREFIX.json")
    f.add_argument("--readme", help="rewrite this file's section between the markers")
    a = p.parse_args()

    if a.cmd == "busiest-city":
        cities = json.load(sys.stdin).get("cities", [])
        # The API counts each city's upcoming events; the most of them, the first on a tie.
        counted = [c for c in cities if isinstance(c.get("upcoming_events"), int)]
        print(max(counted, key=lambda c: c["upcoming_events"])["slug"] if counted else "krakow")
    elif a.cmd == "first-event":
        print(json.load(sys.stdin)["events"][0]["id"])
    elif a.cmd == "month-range":
        today = datetime.date.today()
        y, mo = divmod(today.month - 1 + a.months, 12)
        y, mo = today.year + y, mo + 1
        print(f"{y:04d}-{mo:02d}-01 {y:04d}-{mo:02d}-{calendar.monthrange(y, mo)[1]:02d}")
    elif a.cmd == "table":
        for r in load(a.dir):
            if r["size"] == a.size and r["backend"] == a.backend:
                print(run_text(r))
                for n in problems(r):
                    print(f"WARNING: {n}")
                for n in notes(r):
                    print(f"note: {n}")
    elif a.cmd == "final":
        return cmd_final(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
