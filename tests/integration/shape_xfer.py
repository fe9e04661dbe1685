"""shape_xfer.py -- a bulk transfer for the shape tests: `sink HOST PORT N`
accepts one connection, reads N bytes and answers one byte; `send HOST PORT N`
sends N bytes and prints the seconds until that answer."""
import socket
import sys
import time

mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if mode == "sink":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, port))
    ls.listen(1)
    ls.settimeout(30)
    print("ready", flush=True)
    c, _ = ls.accept()
    c.settimeout(30)
    got = 0
    while got < n:
        b = c.recv(1 << 16)
        if not b:
            break
        got += len(b)
    c.sendall(b"k")
    c.close()
else:
    buf = b"x" * (1 << 16)
    s = socket.create_connection((host, port), timeout=30)
    t = time.monotonic()
    left = n
    while left > 0:
        m = s.send(buf[: min(left, len(buf))])
        left -= m
    if s.recv(1) != b"k":
        sys.exit("no answer from the sink")
    print("%.6f" % (time.monotonic() - t))
