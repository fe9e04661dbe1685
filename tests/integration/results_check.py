#!/usr/bin/env python3
"""results_check.py -- test_results_cli.sh's independent side: the fixture
rows it writes into a results database, and the statistics of
`lumos results summary` computed again from the database alone with
Python's sqlite3 and statistics modules, as docs/stats.md defines them,
including the bootstrap (splitmix64 written out here again). Only the
standard library.

  results_check.py fixture         SQL for a schema-3 file's rows, on stdout
  results_check.py summary DB JSON [cell|service] [baseline]
                                   compares `lumos results summary --json`
  results_check.py export DB TABLE CSV JSON
                                   compares an export with the table's rows
"""
import csv
import io
import json
import math
import random
import sqlite3
import statistics
import sys
from fractions import Fraction
from math import comb

# t(0.975, df) from mpmath (30 digits): findroot of
# betainc(df/2, 1/2, 0, df/(df+t^2), regularized=True)/2 - 0.025.
T975 = {4: 2.7764451051977944, 7: 2.3646242515927853, 11: 2.2009851600916399,
        27: 2.0518305164802856, 29: 2.0452296421327043, 30: 2.0422724563012383,
        37: 2.0261924630291098}


def fixture():
    rnd = random.Random(7)
    out = []
    services = [(1, "fibonacci", "native"), (2, "fibonacci", "wasm-aot"),
                (3, "fibonacci", "wasm-interp")]
    for sid, f, rt in services:
        out.append("INSERT INTO services VALUES(%d, '%s@%s', '%s', '%s', '{}', 1000, 'local');"
                   % (sid, f, rt, f, rt))
    # id, runtime, service, start, repetition, status, n ok, client times, ms scale
    cells = [(1, "native", 1, "warm", 1, "done", 30, True, 1.0),
             (2, "wasm-aot", 2, "warm", 1, "done", 30, True, 1.3),
             (3, "wasm-interp", 3, "warm", 1, "done", 12, False, 40.0),
             (4, "native", 1, "cold", 1, "done", 5, True, 9.0),
             (5, "wasm-aot", 2, "cold", 1, "done", 5, True, 7.0),
             (6, "wasm-aot", 2, "warm", 2, "done", 8, True, 1.3),
             (7, "native", 1, "warm", 2, "running", 0, True, 1.0)]
    for cid, rt, sid, start, rep, status, _, _, _ in cells:
        name = "fibonacci@%s/group:1/%s/closed/%d" % (rt, start, rep)
        out.append("INSERT INTO cells VALUES(%d, '%s', 'fibonacci', '%s', 'group:1', '%s',"
                   " 'closed', 1, NULL, %d, %d, 30, '%s', 100, 200, NULL, NULL, NULL);"
                   % (cid, name, rt, start, rep, sid, status))
    rid = 0
    t = 10**9

    def request(cid, sid, cold, lat_ns, client, status=200, error="NULL", excluded="NULL"):
        nonlocal rid, t
        rid += 1
        t += 10**7
        intended, send = t, t + rnd.randint(1000, 5000)
        ingress = send + 50000
        dispatch = ingress + 20000
        result = dispatch + lat_ns - 90000
        response = ingress + lat_ns
        receive = response + 30000
        c = lambda v: str(v) if client else "NULL"
        out.append(
            "INSERT INTO requests(id, service_id, status_http, cold, intended_send_ns, send_ns,"
            " ingress_ns, dispatch_ns, result_ns, response_ns, receive_ns, deser_ns, io_ns,"
            " compute_ns, ser_ns, cpu_ns, mem_peak_bytes, error, cell_id, excluded)"
            " VALUES(%d, %d, %d, %d, %s, %s, %d, %d, %d, %d, %s, %d, %d, %d, %d, %d, %d,"
            " %s, %s, %s);"
            % (rid, sid, status, cold, c(intended), c(send), ingress, dispatch, result, response,
               c(receive), rnd.randint(1000, 9000), rnd.randint(0, 5000),
               lat_ns // 2 + rnd.randint(0, 1000), rnd.randint(1000, 9000),
               lat_ns // 3, rnd.randint(1, 64) << 20, error,
               "NULL" if cid is None else str(cid), excluded))

    for cid, rt, sid, start, rep, status, n, client, scale in cells:
        cold = 1 if start == "cold" else 0
        for _ in range(n):
            request(cid, sid, cold, int(rnd.lognormvariate(0, 0.25) * scale * 1e6), client)
    # Cell 1: two rows of the other start type (excluded) and one failure.
    request(1, 1, 1, 8000000, True, excluded="'start: cold, not warm'")
    request(1, 1, 1, 9000000, True, excluded="'start: cold, not warm'")
    request(1, 1, 0, 500000, True, status=500, error="'crash'")
    # A request of no cell, and one the gateway could not route.
    request(None, 1, 0, 1000000, True)
    out.append("INSERT INTO requests(id, status_http, error) VALUES(%d, 404, 'no such function');"
               % (rid + 1))
    # Text that CSV must quote and JSON escape, an empty text, a NULL, and
    # bytes that are not UTF-8.
    out.append("INSERT INTO events VALUES(5, 'scale', 1, NULL, 'a,\"b\"' || char(10) || 'c é');")
    out.append("INSERT INTO events VALUES(6, 'note', NULL, '', NULL);")
    out.append("INSERT INTO events VALUES(7, 'raw', NULL, NULL, CAST(X'41C3' AS TEXT));")
    out.append("INSERT INTO artifacts VALUES('fibonacci', 'native', 'executable', '/x/fib', 81234);")
    out.append("INSERT INTO samples VALUES(NULL, 5, 1, 2, 3, 4);")
    out.append("INSERT INTO instances(id, service_id, runtime, placement_ms, cold_start_ms)"
               " VALUES('fibonacci@native#1', 1, 'native', 0.25, 3.0);")
    print("BEGIN;\n" + "\n".join(out) + "\nCOMMIT;")


# ---- the statistics, as docs/stats.md defines them --------------------------

def q7(s, p):
    h = (len(s) - 1) * p
    lo = math.floor(h)
    if lo + 1 >= len(s):
        return s[-1]
    return s[lo] + (h - lo) * (s[lo + 1] - s[lo])


def median_ranks(n):
    best = None
    for j in range(1, n // 2 + 1):
        cov = 1 - Fraction(2 * sum(comb(n, i) for i in range(j)), 2 ** n)
        if cov >= Fraction(95, 100):
            best = (j, n + 1 - j, float(cov))
    return best


M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, n):
        limit = M64 - M64 % n
        while True:
            v = self.next()
            if v < limit:
                return v % n


def boot_ratio(a, b, B, seed):
    sa, sb = sorted(a), sorted(b)
    rng = SplitMix64(seed)
    rs = []
    for _ in range(B):
        ra = sorted(sa[rng.below(len(sa))] for _ in range(len(sa)))
        rb = sorted(sb[rng.below(len(sb))] for _ in range(len(sb)))
        rs.append(q7(ra, 0.5) / q7(rb, 0.5))
    rs.sort()
    return q7(sa, 0.5) / q7(sb, 0.5), q7(rs, (1 - 0.95) / 2), q7(rs, 1 - (1 - 0.95) / 2)


def groups_of(db, by):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.row_factory = sqlite3.Row
    reqs = con.execute("SELECT q.*, s.function, s.runtime FROM requests q"
                       " LEFT JOIN services s ON s.id = q.service_id ORDER BY q.id").fetchall()
    groups = []
    if by == "cell":
        for c in con.execute("SELECT * FROM cells ORDER BY id"):
            groups.append({"key": c["id"], "name": c["name"], "runtime": c["runtime"],
                           "twin": (c["function"], c["payload"], c["start"], c["load"],
                                    c["concurrency"], c["rate_rps"], c["repetition"]),
                           "rows": [q for q in reqs if q["cell_id"] == c["id"]]})
    else:
        keys = sorted({(q["service_id"], "cold" if q["cold"] == 1 else "warm")
                       for q in reqs if q["service_id"] is not None})
        for sid, start in keys:
            rows = [q for q in reqs if q["service_id"] == sid and
                    ("cold" if q["cold"] == 1 else "warm") == start]
            groups.append({"key": (sid, start), "name": "%s@%s" % (rows[0]["function"],
                                                                  rows[0]["runtime"]),
                           "runtime": rows[0]["runtime"], "twin": (rows[0]["function"], start),
                           "rows": rows})
    return groups


def e2e(q):
    pairs = [("client", "intended_send_ns", "receive_ns"), ("gateway", "ingress_ns", "response_ns"),
             ("instance", "dispatch_ns", "result_ns")]
    return [(n, None if q[a] is None or q[b] is None else (q[b] - q[a]) / 1e6)
            for n, a, b in pairs]


def close(a, b, what, rel=1e-9):
    if a is None or b is None:
        if a is not b:
            sys.exit("%s: %r against %r" % (what, a, b))
        return
    if abs(a - b) > rel * max(1.0, abs(b)):
        sys.exit("%s: lumos says %r, recomputed %r" % (what, a, b))


def summary(db, js, by="cell", baseline="native"):
    got = json.load(open(js))
    groups = groups_of(db, by)
    if len(got["groups"]) != len(groups):
        sys.exit("groups: %d against %d" % (len(got["groups"]), len(groups)))
    vals = []
    for g, o in zip(groups, got["groups"]):
        name = g["name"]
        counted = [q for q in g["rows"] if q["excluded"] is None]
        ok = [q for q in counted if 200 <= (q["status_http"] or 0) <= 299 and q["error"] is None]
        want = {"count": len(counted), "excluded": len(g["rows"]) - len(counted),
                "errors": len(counted) - len(ok)}
        source = None
        for k in range(3):
            if ok and all(e2e(q)[k][1] is not None for q in ok):
                source = k
                break
        if source is None:  # the first any row has, if any
            source = next((k for k in range(3) if any(e2e(q)[k][1] is not None for q in ok)), 0)
        x = sorted(e2e(q)[source][1] for q in ok if e2e(q)[source][1] is not None)
        want["n"] = len(x)
        want["source"] = ["client", "gateway", "instance"][source] if x else None
        for key, v in want.items():
            if o[key] != v:
                sys.exit("%s %s: lumos says %r, recomputed %r" % (name, key, o[key], v))
        vals.append(x)
        n = len(x)
        stats = {}
        if n:
            stats = {"mean_ms": statistics.mean(x), "median_ms": statistics.median(x),
                     "p90_ms": q7(x, 0.9), "p99_ms": q7(x, 0.99), "p999_ms": q7(x, 0.999),
                     "min_ms": x[0], "max_ms": x[-1]}
        if n >= 2:
            sd = statistics.stdev(x)
            half = T975[n - 1] * sd / math.sqrt(n)
            stats.update({"sd_ms": sd, "cv": sd / statistics.mean(x),
                          "ci95_mean_lo_ms": statistics.mean(x) - half,
                          "ci95_mean_hi_ms": statistics.mean(x) + half})
        r = median_ranks(n)
        if r:
            stats.update({"ci95_median_lo_ms": x[r[0] - 1], "ci95_median_hi_ms": x[r[1] - 1],
                          "ci95_median_rank_lo": r[0], "ci95_median_rank_hi": r[1],
                          "ci95_median_coverage": r[2]})
        for key in ["mean_ms", "median_ms", "p90_ms", "p99_ms", "p999_ms", "min_ms", "max_ms",
                    "sd_ms", "cv", "ci95_mean_lo_ms", "ci95_mean_hi_ms", "ci95_median_lo_ms",
                    "ci95_median_hi_ms", "ci95_median_rank_lo", "ci95_median_rank_hi",
                    "ci95_median_coverage"]:
            close(o[key], stats.get(key), "%s %s" % (name, key))
    # Ratios: every group but the baseline's with a twin on the baseline.
    B, seed = got["ratios"]["resamples"], got["ratios"]["seed"]
    want = []
    for i, g in enumerate(groups):
        if g["runtime"] == baseline:
            continue
        for j, b in enumerate(groups):
            if b["runtime"] == baseline and b["twin"] == g["twin"]:
                want.append((i, j))
                break
    rows = got["ratios"]["rows"]
    if len(rows) != len(want):
        sys.exit("ratios: %d against %d" % (len(rows), len(want)))
    label = "cell" if by == "cell" else "service"
    for (i, j), o in zip(want, rows):
        if o[label] != groups[i]["name"] or o["baseline_" + label] != groups[j]["name"]:
            sys.exit("ratio %s: against %s" % (o, groups[i]["name"]))
        if not vals[i] or not vals[j]:
            close(o["median_ratio"], None, "%s ratio" % groups[i]["name"])
            continue
        r, lo, hi = boot_ratio(vals[i], vals[j], B, seed)
        close(o["median_ratio"], r, "%s ratio" % groups[i]["name"], 1e-12)
        close(o["median_ratio_ci95_lo"], lo, "%s ratio lo" % groups[i]["name"], 1e-12)
        close(o["median_ratio_ci95_hi"], hi, "%s ratio hi" % groups[i]["name"], 1e-12)
    print("ok: %d groups, %d ratios" % (len(groups), len(rows)))


def export(db, table, csv_path, json_path):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.text_factory = lambda b: b.decode("utf-8", "replace")
    cur = con.execute("SELECT * FROM %s ORDER BY rowid" % table)
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    with open(csv_path, newline="", encoding="utf-8", errors="replace") as f:
        rec = list(csv.reader(f))
    if rec[0] != names or len(rec) - 1 != len(rows):
        sys.exit("%s CSV: %d records for %d rows, header %s" % (table, len(rec) - 1, len(rows),
                                                              rec[0]))
    got = json.load(open(json_path))
    if len(got) != len(rows):
        sys.exit("%s JSON: %d objects for %d rows" % (table, len(got), len(rows)))
    for row, line, obj in zip(rows, rec[1:], got):
        if list(obj.keys()) != names:
            sys.exit("%s JSON keys %s" % (table, list(obj.keys())))
        for name, v, text, jv in zip(names, row, line, obj.values()):
            if v is None:
                ok = text == "" and jv is None
            elif isinstance(v, float):
                ok = float(text) == v and isinstance(jv, float) and jv == v
            elif isinstance(v, int):
                ok = text == str(v) and isinstance(jv, int) and jv == v
            else:
                ok = text == v and jv == v
            if not ok:
                sys.exit("%s.%s: %r read back as CSV %r, JSON %r" % (table, name, v, text, jv))
    print("ok: %s %d rows" % (table, len(rows)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "fixture":
        fixture()
    elif cmd == "summary":
        summary(*sys.argv[2:])
    elif cmd == "export":
        export(*sys.argv[2:])
    else:
        sys.exit("unknown command " + cmd)
