#!/usr/bin/env python3
"""A loopback TCP proxy that cuts connections at chosen byte counts.

Forwards 127.0.0.1:<its port> to 127.0.0.1:--target. Bytes the client sends
are counted over all connections together; when the count reaches the next
of --cuts (sorted), the connection carrying it is closed at once in both
directions (RST, so neither side waits for a FIN), as a dropped link would.
--rate limits client-to-server bytes per second (0: none), so a test can
kill the sender mid-transfer. Writes its port to --port-file and one line per
cut ("cut N") to --log.
"""
import argparse
import socket
import struct
import threading
import time

p = argparse.ArgumentParser()
p.add_argument("--target", type=int, required=True)
p.add_argument("--cuts", default="")
p.add_argument("--rate", type=float, default=0)
p.add_argument("--port-file", required=True)
p.add_argument("--log", required=True)
a = p.parse_args()

cuts = sorted(int(x) for x in a.cuts.split(",") if x)
lock = threading.Lock()
total = 0
log = open(a.log, "a", buffering=1)


def hard_close(*socks):
    for s in socks:
        try:
            # SO_LINGER 0: close sends RST.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass


def pump(src, dst, upstream, pair, dead):
    global total
    start = time.monotonic()
    sent = 0
    try:
        while not dead.is_set():
            data = src.recv(65536)
            if not data:
                break
            if upstream:
                with lock:
                    limit = cuts[0] - total if cuts else None
                    if limit is not None and len(data) >= limit:
                        # Forward up to the cut point, then drop the link.
                        dst.sendall(data[:limit])
                        total += limit
                        log.write("cut %d\n" % cuts.pop(0))
                        dead.set()
                        hard_close(*pair)
                        return
                    total += len(data)
                if a.rate:
                    sent += len(data)
                    ahead = sent / a.rate - (time.monotonic() - start)
                    if ahead > 0:
                        time.sleep(ahead)
            dst.sendall(data)
    except OSError:
        pass
    if not dead.is_set():
        dead.set()
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client):
    try:
        server = socket.create_connection(("127.0.0.1", a.target))
    except OSError:
        client.close()
        return
    dead = threading.Event()
    pair = (client, server)
    up = threading.Thread(target=pump, args=(client, server, True, pair, dead), daemon=True)
    down = threading.Thread(target=pump, args=(server, client, False, pair, threading.Event()),
                            daemon=True)
    up.start()
    down.start()
    up.join()
    down.join()
    for s in pair:
        try:
            s.close()
        except OSError:
            pass


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
with open(a.port_file + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
import os
os.rename(a.port_file + ".tmp", a.port_file)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
