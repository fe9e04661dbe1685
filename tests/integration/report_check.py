#!/usr/bin/env python3
"""report_check.py -- the independent side of test_report_html.sh and
test_report_findings.sh: the report's numbers computed again from the raw
rows of the database (Python's sqlite3; type-7 quantiles written out here),
its figure files checked, and crafted databases with known differences.
Only the standard library.

  report_check.py figures DIR          every figure's CSV, script, PNG (signature,
                                       dimensions) and SVG (well-formed, svg root)
  report_check.py cells DB HTML        the cells table against the raw rows
  report_check.py rows DB DIR          every rows/cell-N.csv against the cell's rows
  report_check.py parts JSON           each pool's parts add up to its mean
  report_check.py crafted              SQL rows of a crafted file, on stdout
  report_check.py findings JSON        the crafted file's comparisons and findings
"""
import csv
import html.parser
import json
import math
import os
import random
import sqlite3
import struct
import sys
import xml.etree.ElementTree as ET


def fail(msg):
    print("report_check: " + msg, file=sys.stderr)
    sys.exit(1)


def q7(xs, p):
    """Hyndman & Fan type 7 over sorted xs."""
    n = len(xs)
    h = (n - 1) * p
    lo = math.floor(h)
    if lo + 1 >= n:
        return xs[n - 1]
    return xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo])


def figures(d):
    fig = os.path.join(d, "figures")
    ids = sorted(f[:-3] for f in os.listdir(fig) if f.endswith(".gp"))
    if not ids:
        fail("no figure in " + fig)
    for i in ids:
        for ext in ("csv", "svg", "png"):
            p = os.path.join(fig, i + "." + ext)
            if not os.path.isfile(p) or os.path.getsize(p) == 0:
                fail("figure %s: no %s" % (i, p))
        with open(os.path.join(fig, i + ".png"), "rb") as f:
            head = f.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            fail("figure %s: %s.png is not a PNG" % (i, i))
        w, h = struct.unpack(">II", head[16:24])
        if not (100 <= w <= 5000 and 100 <= h <= 5000):
            fail("figure %s: PNG of %dx%d" % (i, w, h))
        root = ET.parse(os.path.join(fig, i + ".svg")).getroot()
        if not root.tag.endswith("svg"):
            fail("figure %s: the SVG's root is %s" % (i, root.tag))
        with open(os.path.join(fig, i + ".csv")) as f:
            rows = list(csv.reader(f))
        if len(rows) < 2:
            fail("figure %s: its CSV has no data row" % i)
    print("\n".join(ids))


class Table(html.parser.HTMLParser):
    """The rows of the table with id cells-table: per row its data-cell and
    its cells' (data-v or text, href)."""

    def __init__(self):
        super().__init__()
        self.rows, self.inside, self.row, self.cell = [], False, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "cells-table":
            self.inside = True
        elif self.inside and tag == "tr" and "data-cell" in a:
            self.row = {"cell": a["data-cell"], "start": a.get("data-start"), "cells": []}
        elif self.row is not None and tag == "td":
            self.cell = {"v": a.get("data-v"), "text": "", "href": None, "colspan": a.get("colspan")}
        elif self.cell is not None and tag == "a":
            self.cell["href"] = a.get("href")

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif tag == "td" and self.cell is not None:
            self.row["cells"].append(self.cell)
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell["text"] += data


COLS = ["cell", "function", "runtime", "payload", "start", "load", "rows", "counted", "errors",
        "excluded", "e2e_n", "e2e_median", "ci_lo", "ci_hi", "e2e_mean", "e2e_p99", "source",
        "compute", "io", "deser", "ser", "cpu", "mem"]


def expected_cells(db):
    c = sqlite3.connect(db)
    out = {}
    for (cid,) in c.execute("SELECT id FROM cells ORDER BY id"):
        rows = c.execute("SELECT status_http, error, excluded, intended_send_ns, receive_ns,"
                         " ingress_ns, response_ns, dispatch_ns, result_ns, compute_ns, io_ns,"
                         " deser_ns, ser_ns, cpu_ns, mem_peak_bytes FROM requests"
                         " WHERE cell_id = ? ORDER BY id", (cid,)).fetchall()
        counted = [r for r in rows if r[2] is None]
        ok = [r for r in counted if r[0] is not None and 200 <= r[0] <= 299 and r[1] is None]
        e = {"rows": len(rows), "counted": len(counted), "errors": len(counted) - len(ok),
             "excluded": len(rows) - len(counted)}
        # End to end: the first source every answered row has.
        src = None
        for a, b in ((3, 4), (5, 6), (7, 8)):
            if ok and all(r[a] is not None and r[b] is not None for r in ok):
                src = (a, b)
                break
        e2e = sorted((r[src[1]] - r[src[0]]) / 1e6 for r in ok) if src else []
        e["e2e_n"] = len(e2e)
        if e2e:
            e["e2e_median"] = q7(e2e, 0.5)
            e["e2e_p99"] = q7(e2e, 0.99)
            e["e2e_mean"] = math.fsum(e2e) / len(e2e)
        for k, col, scale in (("compute", 9, 1e6), ("io", 10, 1e6), ("deser", 11, 1e6),
                              ("ser", 12, 1e6), ("cpu", 13, 1e6), ("mem", 14, 1)):
            v = sorted(r[col] / scale for r in ok if r[col] is not None)
            if v:
                e[k] = q7(v, 0.5)
        out[str(cid)] = e
    return out


def cells(db, page):
    t = Table()
    with open(page) as f:
        t.feed(f.read())
    want = expected_cells(db)
    if len(t.rows) != len(want):
        fail("the cells table has %d rows, the file %d cells" % (len(t.rows), len(want)))
    checked = 0
    for row in t.rows:
        e = want[row["cell"]]
        got = {}
        for name, cell in zip(COLS, row["cells"]):
            got[name] = cell
        for k in ("rows", "counted", "errors", "excluded", "e2e_n"):
            if int(float(got[k]["v"])) != e[k]:
                fail("cell %s: %s %s, the rows say %s" % (row["cell"], k, got[k]["v"], e[k]))
        if e["e2e_n"] == 0:
            if "no successful request" not in row["cells"][-1]["text"]:
                fail("cell %s: no values and no note" % row["cell"])
            continue
        for k in ("e2e_median", "e2e_mean", "e2e_p99", "compute", "io", "deser", "ser", "cpu",
                  "mem"):
            if k not in e:
                continue
            v = float(got[k]["v"])
            if abs(v - e[k]) > 1e-9 * max(1.0, abs(e[k])):
                fail("cell %s: %s %r, the rows say %r" % (row["cell"], k, v, e[k]))
            shown = got[k]["text"].strip()
            # The shown number is the value rounded for reading.
            if shown != "-" and abs(float(shown) - v) > 0.051 * max(abs(v), 1e-3) + 0.0011:
                fail("cell %s: %s shows %s for %r" % (row["cell"], k, shown, v))
            checked += 1
        for k in ("e2e_median", "rows"):
            if not got[k]["href"] or not got[k]["href"].startswith("rows/"):
                fail("cell %s: %s links to %r, not to its rows" % (row["cell"], k, got[k]["href"]))
    print("report_check: %d cells, %d numbers equal to the raw rows'" % (len(t.rows), checked))


def rows(db, d):
    c = sqlite3.connect(db)
    n = 0
    for (cid,) in c.execute("SELECT id FROM cells ORDER BY id"):
        ids = [r[0] for r in c.execute("SELECT id FROM requests WHERE cell_id = ? ORDER BY id",
                                       (cid,))]
        p = os.path.join(d, "rows", "cell-%d.csv" % cid)
        if not ids:
            continue
        with open(p) as f:
            got = list(csv.DictReader(f))
        if [int(r["id"]) for r in got] != ids:
            fail("%s: ids differ from the cell's rows" % p)
        for r in got:
            raw = c.execute("SELECT receive_ns, compute_ns, error FROM requests WHERE id = ?",
                            (int(r["id"]),)).fetchone()
            if str(raw[0] if raw[0] is not None else "") != r["receive_ns"] or \
                    str(raw[1] if raw[1] is not None else "") != r["compute_ns"]:
                fail("%s: row %s differs from the database's" % (p, r["id"]))
        n += len(got)
    print("report_check: %d rows in rows/, as in the database" % n)


def parts(path):
    with open(path) as f:
        j = json.load(f)
    n = 0
    for p in j["pools"]:
        if not p["base"] or not p["parts_n"]:
            continue
        total = math.fsum(v for v in p["parts_mean"].values())
        if p["parts_n"] == p["e2e_n"] and abs(total - p["e2e_mean_ms"]) > 1e-6 * p["e2e_mean_ms"]:
            fail("pool %s: parts add up to %r, its mean end to end is %r"
                 % (p["name"], total, p["e2e_mean_ms"]))
        n += 1
    if n == 0:
        fail("no pool with parts")
    print("report_check: %d pools' parts add up to their mean end to end" % n)


# A crafted file: fibonacci, group:xs, warm, closed loops of one client.
# native: 200 requests with e2e times from a gamma-like distribution; wasm-aot
# twice as slow (independent draws times 2); wasm-jit the same distribution
# (independent draws); wasm-interp the very same values as native;
# wasm-baseline only failures; prime-numbers ran on native and wasm-aot only.
def crafted():
    rnd = random.Random(11)
    out = []
    rts = [(1, "native"), (2, "wasm-aot"), (3, "wasm-jit"), (4, "wasm-interp"),
           (5, "wasm-baseline"), (6, "native"), (7, "wasm-aot")]
    fns = {1: "fibonacci", 2: "fibonacci", 3: "fibonacci", 4: "fibonacci", 5: "fibonacci",
           6: "prime-numbers", 7: "prime-numbers"}
    for sid, rt in rts:
        f = fns[sid]
        out.append("INSERT INTO services(id, name, function, runtime, config_json, created_ns)"
                   " VALUES(%d, '%s@%s', '%s', '%s', '{}', 1);" % (sid, f, rt, f, rt))
        out.append("INSERT INTO cells(id, name, function, runtime, payload, start, load,"
                   " concurrency, repetition, service_id, planned_requests, status)"
                   " VALUES(%d, '%s@%s/group:xs/warm/closed:1x200/rep1', '%s', '%s', 'group:xs',"
                   " 'warm', 'closed', 1, 1, %d, 200, 'done');" % (sid, f, rt, f, rt, sid))
        out.append("INSERT INTO instances(id, service_id, runtime, start_ns, spawn_ns, ready_ns,"
                   " placement_ms, cold_start_ms) VALUES('%s-%d', %d, '%s', 0, 1000000, 3000000,"
                   " 1.0, 2.0);" % (rt, sid, sid, rt))
    base = [rnd.gammavariate(4, 0.25) + 1 for _ in range(200)]
    draws = {1: base, 2: [2 * (rnd.gammavariate(4, 0.25) + 1) for _ in range(200)],
             3: [rnd.gammavariate(4, 0.25) + 1 for _ in range(200)], 4: list(base),
             5: base, 6: [3 * x for x in base], 7: [3.3 * x for x in base]}
    rid, t = 0, 10**9
    for sid, rt in rts:
        for i, ms in enumerate(draws[sid]):
            rid += 1
            t += 10**7
            d = int(ms * 1e6)
            status, error = (500, "'boom'") if sid == 5 else (200, "NULL")
            out.append("INSERT INTO requests(id, service_id, instance_id, status_http, cold,"
                       " intended_send_ns, send_ns, ingress_ns, dispatch_ns, result_ns,"
                       " response_ns, receive_ns, deser_ns, io_ns, compute_ns, ser_ns,"
                       " func_total_ns, cpu_ns, mem_peak_bytes, error, cell_id) VALUES(%d, %d,"
                       " '%s-%d', %d, 0, %d, %d, %d, %d, %d, %d, %d, 1000, 0, %d, 1000, %d, %d,"
                       " 1048576, %s, %d);"
                       % (rid, sid, rt, sid, status, t, t, t + 1000, t + 2000, t + 2000 + d,
                          t + 3000 + d, t + 4000 + d, d - 2000, d, d, error, sid))
    print("\n".join(out))


def findings(path):
    with open(path) as f:
        j = json.load(f)
    warm = {c["runtime"]: c for c in j["comparisons"]
            if c["topic"] == "warm" and c["cell"].startswith("fibonacci@")}
    aot = warm["wasm-aot"]
    lo, hi = aot["ratio_ci95"]["lo"], aot["ratio_ci95"]["hi"]
    if not (abs(aot["ratio"] - 2) < 0.2 and lo <= 2 <= hi and aot["significant"]):
        fail("wasm-aot, twice as slow: ratio %r [%r, %r], significant %r"
             % (aot["ratio"], lo, hi, aot["significant"]))
    jit = warm["wasm-jit"]
    if jit["significant"] or not (jit["ratio_ci95"]["lo"] <= 1 <= jit["ratio_ci95"]["hi"]):
        fail("wasm-jit, the same distribution: %r" % jit)
    same = warm["wasm-interp"]
    if same["ratio"] != 1 or same["significant"] or same["mann_whitney_p"] != 1:
        fail("wasm-interp, the same values: %r" % same)
    failed = warm["wasm-baseline"]
    if failed["ok"] or "no successful request" not in (failed["why"] or ""):
        fail("wasm-baseline, only failures: %r" % failed)
    by = {}
    for fd in j["findings"]:
        if fd["topic"] == "warm":
            by[fd["runtime"]] = fd
    a = by["wasm-aot"]
    clause = "fibonacci/group:xs %.2fx [%.2fx, %.2fx]" % (aot["ratio"], lo, hi)
    if not a["supported"] or clause not in a["text"] or not a["ratio_lo"] <= aot["ratio"] <= a["ratio_hi"]:
        fail("the wasm-aot finding lacks '%s': %r" % (clause, a))
    for rt in ("wasm-jit", "wasm-interp"):
        if by[rt]["supported"] or not by[rt]["text"].startswith("No significant difference"):
            fail("the %s finding: %r" % (rt, by[rt]))
    print("report_check: 2x found as %.3f [%.3f, %.3f]; identical: no finding" % (aot["ratio"], lo, hi))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "figures":
        figures(sys.argv[2])
    elif cmd == "cells":
        cells(sys.argv[2], sys.argv[3])
    elif cmd == "rows":
        rows(sys.argv[2], sys.argv[3])
    elif cmd == "parts":
        parts(sys.argv[2])
    elif cmd == "crafted":
        crafted()
    elif cmd == "findings":
        findings(sys.argv[2])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
