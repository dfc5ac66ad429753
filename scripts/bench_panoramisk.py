"""Reference figure: panoramisk (the common Python AMI library) parsing the
same recording the Rust benchmark uses, the way its protocol does it (decode,
split on blank lines, Message.from_line). Prints one JSON object.

Usage: python3 scripts/bench_panoramisk.py tests/fixtures/lab-queues.cap
"""
import json
import sys
import time

from panoramisk.message import Message


def records(path):
    data = open(path, "rb").read()
    magic = b"switchboard-ami-capture 1\n"
    if not data.startswith(magic):
        return [data]
    pos = data.index(b"\n", len(magic)) + 1
    out = []
    while pos < len(data):
        nl = data.index(b"\n", pos)
        _, length = data[pos:nl].split(b" ")
        start = nl + 1
        out.append(data[start:start + int(length)])
        pos = start + int(length) + 1
    return out


def main():
    chunks = records(sys.argv[1])
    rounds = 20
    events = 0
    names_kept = 0
    started = time.perf_counter()
    for _ in range(rounds):
        queue = ""
        for chunk in chunks:
            data = queue + chunk.decode("ascii", "ignore")
            lines = data.split("\r\n\r\n")
            queue = lines.pop(-1)
            for line in lines:
                message = Message.from_line(line.strip())
                if message is not None and "Event" in message:
                    events += 1
                    if "Núñez" in str(message.get("CallerIDName", "")):
                        names_kept += 1
    seconds = time.perf_counter() - started
    print(json.dumps({
        "library": "panoramisk",
        "events": events // rounds,
        "events_per_second": events / seconds,
        "non_ascii_names_kept": names_kept // rounds,
    }))


main()
