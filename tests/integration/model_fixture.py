#!/usr/bin/env python3
"""model_fixture.py -- rows with known costs for test_model.sh and
test_compare.sh, as SQL for a schema-3 results database (made empty by
`lumos serve --results`). Only the standard library.

  model_fixture.py line [shift]   fibonacci@native, warm, closed loop of 1, at
                                  payloads group:xs, 1, 2, 3 (n = 1000, 10^4,
                                  10^5, 10^6), 20 requests each: compute_ns =
                                  (5000 + 3 n) r with r = 18/20 .. 22/20 in turn,
                                  deser 1000, io 0, ser 2000, platform 45000,
                                  client 50000 ns; with shift, group:1's compute
                                  is 5/4 of that
  model_fixture.py compare SCALE OTHER
                                  three cells of 30 requests with seeded noise:
                                  A fibonacci@native (every duration times
                                  SCALE), B fibonacci@wasm-aot (as is), and C
                                  noop@native, or with OTHER = 1 D noop@wasm-aot
                                  instead of C
"""
import random
import sys

NS = {"xs": 1000, "1": 10000, "2": 100000, "3": 1000000}
out = []
rid = 0


def service(sid, function, runtime):
    out.append("INSERT INTO services VALUES(%d, '%s@%s', '%s', '%s', '{}', 1000, 'local');"
               % (sid, function, runtime, function, runtime))


def cell(cid, name, function, runtime, payload, sid):
    out.append("INSERT INTO cells VALUES(%d, '%s', '%s', '%s', '%s', 'warm', 'closed', 1,"
               " NULL, 1, %d, 20, 'done', 100, 200, NULL, NULL, NULL);"
               % (cid, name, function, runtime, payload, sid))


def request(cid, sid, deser, io, compute, ser, scale=1):
    global rid
    rid += 1
    t = 10**9 + rid * 10**8
    s = lambda v: int(round(v * scale))
    ingress = t + s(30000)
    dispatch = ingress + s(20000)
    result = dispatch + s(deser) + s(io) + s(compute) + s(ser) + s(5000)
    response = result + s(20000)
    receive = response + s(20000)
    out.append(
        "INSERT INTO requests(id, service_id, instance_id, status_http, cold, intended_send_ns,"
        " send_ns, ingress_ns, queued_ns, acquired_ns, dispatch_ns, result_ns, response_ns,"
        " receive_ns, deser_ns, io_ns, compute_ns, ser_ns, func_total_ns, io_read_bytes,"
        " io_write_bytes, io_calls, cell_id) VALUES(%d, %d, 'i%d', 200, 0, %d, %d, %d, %d, %d,"
        " %d, %d, %d, %d, %d, %d, %d, %d, %d, 0, 0, 0, %d);"
        % (rid, sid, sid, t, t + 1000, ingress, ingress, ingress, dispatch, result, response,
           receive, s(deser), s(io), s(compute), s(ser), s(deser) + s(io) + s(compute) + s(ser),
           cid))


def line(shift):
    service(1, "fibonacci", "native")
    for cid, g in enumerate(["xs", "1", "2", "3"], 1):
        cell(cid, "fibonacci@native/group:%s/warm/closed:1x20/rep1" % g, "fibonacci", "native",
             "group:" + g, 1)
        for k in range(20):
            compute = (5000 + 3 * NS[g]) * (18 + k % 5) // 20
            if shift and g == "1":
                compute = compute * 5 // 4
            request(cid, 1, 1000, 0, compute, 2000)


def compare(scale, other):
    rnd = random.Random(11)
    service(1, "fibonacci", "native")
    service(2, "fibonacci", "wasm-aot")
    service(3, "noop", "wasm-aot" if other else "native")
    cells = [(1, "fibonacci", "native", 1, scale), (2, "fibonacci", "wasm-aot", 2, 1),
             (3, "noop", "wasm-aot" if other else "native", 3, 1)]
    for cid, f, rt, sid, sc in cells:
        cell(cid, "%s@%s/group:1/warm/closed:1x30/rep1" % (f, rt), f, rt, "group:1", sid)
        for _ in range(30):
            request(cid, sid, 1000, 0, rnd.randint(200000, 400000), 2000, sc)


if sys.argv[1] == "line":
    line(len(sys.argv) > 2)
elif sys.argv[1] == "compare":
    compare(float(sys.argv[2]), sys.argv[3] == "1")
else:
    sys.exit("model_fixture.py line [shift] | compare SCALE OTHER")
print("BEGIN;\n" + "\n".join(out) + "\nCOMMIT;")
