"""The sandbox's demo app: one page that says which release serves it, from which host, and
what it reached: PostgreSQL through pgbouncer, memcached and redis. Python's standard library
only; PostgreSQL through Debian's psql.

`python3 app.py` serves on $PORT; `python3 app.py migrate` makes its table.
"""

import html
import os
import pathlib
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RELEASE = pathlib.Path("RELEASE").read_text().strip()


def psql(sql):
    """One statement through pgbouncer ($DATABASE_URL); its output, or raises with psql's words."""
    done = subprocess.run(
        ["psql", os.environ["DATABASE_URL"], "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True, timeout=10,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout.strip()


def talk(address, request):
    """Sends `request` to host:port `address` and returns the first line of the answer."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(request)
        return connection.makefile("rb").readline().decode().strip()


def memcached_hits():
    key = b"knit-demo-hits"
    address = os.environ["MEMCACHED_SERVERS"].split(",")[0]
    answer = talk(address, b"incr " + key + b" 1\r\n")
    if answer == "NOT_FOUND":
        talk(address, b"add " + key + b" 0 0 1\r\n1\r\n")
        return "1"
    return answer


def redis_hits():
    return talk(os.environ["REDIS_URL"].removeprefix("redis://"), b"INCR knit-demo-hits\r\n").lstrip(":")


def reached(name, probe):
    try:
        return f"{name}: {probe()}"
    except Exception as error:  # the page says what failed instead of failing
        return f"{name}: unreachable ({error})"


def live_release():
    commit, ref = pathlib.Path(".knit-release").read_text().split("\n")[:2]
    return pathlib.Path.cwd().name, commit, ref


class Page(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/health":
            return self.answer(f"ok {RELEASE}\n", "text/plain")
        release, commit, ref = live_release()
        host = os.environ.get("KNIT_HOST", "?")
        lines = [
            f"knit demo {RELEASE}",
            f"release {release}, commit {commit}, ref {ref}",
            f"served by {host}",
            reached("PostgreSQL through pgbouncer", lambda: psql(
                f"insert into visits (host, release) values ('{host}', '{RELEASE}'); "
                "select 'visit ' || count(*) || ', ' || split_part(version(), ' ', 2) from visits")),
            reached("memcached hits", memcached_hits),
            reached("redis hits", redis_hits),
        ]
        body = "".join(f"<p>{html.escape(line)}</p>\n" for line in lines[1:])
        page = (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                f"<title>{lines[0]}</title></head>\n<body>\n<h1>{lines[0]}</h1>\n{body}</body></html>\n")
        self.answer(page, "text/html; charset=utf-8")

    def answer(self, text, content_type):
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


if __name__ == "__main__":
    if sys.argv[1:] == ["migrate"]:
        psql("create table if not exists visits (id serial primary key, host text, "
             "release text, at timestamptz default now())")
        print("table visits ready")
    else:
        ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Page).serve_forever()
