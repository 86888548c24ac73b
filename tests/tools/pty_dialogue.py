#!/usr/bin/env python3
"""Drive a program through a pseudo-terminal, as a user at a console would.

usage: pty_dialogue.py STEPS TRANSCRIPT -- PROGRAM ARG...

STEPS holds one step per line, "EXPECTED<TAB>ANSWER": wait until the
program's output (since the previous step's match) contains EXPECTED, then
type ANSWER and Enter. A line without a tab only waits. After the last step
the rest of the output is read until the program exits. Everything the
terminal showed (echoed answers included) is written to TRANSCRIPT. Exits
with the program's exit status, or 99 when an expected text did not come.
"""
import os
import pty
import select
import sys
import time

TIMEOUT = 120


def main():
    sep = sys.argv.index("--")
    steps_file, transcript_file = sys.argv[1:sep]
    argv = sys.argv[sep + 1:]
    with open(steps_file) as f:
        steps = [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(argv[0], argv)
    out = b""
    seen = 0
    done = False

    def pump(timeout):
        nonlocal out, done
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            done = True
        out += data

    status = 99
    try:
        for step in steps:
            want = step[0].encode()
            deadline = time.time() + TIMEOUT
            while want not in out[seen:]:
                if done or time.time() > deadline:
                    sys.stderr.write("pty_dialogue: '%s' did not come\n" % step[0])
                    raise TimeoutError
                pump(0.5)
            seen = out.index(want, seen) + len(want)
            if len(step) > 1:
                time.sleep(0.05)
                os.write(fd, step[1].encode() + b"\r")
        deadline = time.time() + 600
        while not done and time.time() < deadline:
            pump(1)
        _, st = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(st)
    except TimeoutError:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    finally:
        with open(transcript_file, "wb") as f:
            f.write(out)
    sys.exit(status if status >= 0 else 128 - status)


if __name__ == "__main__":
    main()
