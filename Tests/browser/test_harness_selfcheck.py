"""Checks the browser harness itself, without rulebook's pages: that Chromium starts,
that screenshots are written, that axe flags a page it should and passes one it should,
and that the server plumbing finds the port and kills the server (against a stand-in)."""

import os
import stat
import struct
import sys
import textwrap
import time
import urllib.request

import pytest
from selenium.webdriver.common.by import By

from conftest import (RulebookServer, check_accessibility, output_dir, screenshot, sign_in)

GOOD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Good page</title>
<style>body{font:16px/1.5 sans-serif;color:#1a1a1a;background:#fff;margin:2rem}
main{min-height:1400px}</style></head>
<body><main><h1>Good page</h1>
<p>Readable text on a plain background.</p>
<form method="post" action="/sign-in">
<label for="name">Name</label> <input id="name" name="name" autocomplete="username">
<label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button></form>
<p id="bottom">The bottom of a page taller than the window.</p></main></body></html>
"""

BAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Bad page</title></head>
<body><main><h1>Bad page</h1>
<p id="faint" style="color:#d8d8d8;background:#ffffff">Very faint grey text on white.</p>
</main></body></html>
"""


def test_good_page_passes_and_screenshots(browser, tmp_path):
    page = tmp_path / "good.html"
    page.write_text(GOOD)
    driver = browser()
    driver.get(page.as_uri())
    results = check_accessibility(driver, "selfcheck-good")
    assert not [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    assert (output_dir() / "axe-selfcheck-good.json").exists()
    shot = screenshot(driver, "selfcheck-good")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1280 and height > 900, "the screenshot should be the whole page, taller than the window"


def test_low_contrast_is_flagged(browser, tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(BAD)
    driver = browser()
    driver.get(page.as_uri())
    with pytest.raises(AssertionError) as failure:
        check_accessibility(driver, "selfcheck-bad")
    message = str(failure.value)
    assert "color-contrast" in message and "#faint" in message, message


def test_two_browsers_and_phone_size(browser):
    desktop = browser()
    phone = browser(phone=True)
    # A phone lays a page out 390 wide only if the page asks for it (so should rulebook's).
    page = "data:text/html,<meta name=viewport content='width=device-width,initial-scale=1'><title>x</title><p>x</p>"
    for d in (desktop, phone):
        d.get(page)
    size = "return [window.innerWidth, window.innerHeight]"
    assert desktop.execute_script(size) == [1280, 900]
    assert phone.execute_script(size) == [390, 844]
    assert phone.execute_script("return matchMedia('(pointer: coarse)').matches")
    assert desktop.session_id != phone.session_id


# A stand-in for `rulebook`: `user add` records its arguments and password, `serve` listens on
# a free port, logs the line the harness looks for, and answers GET /sign-in with a form whose
# POST redirects to /; SIGTERM is ignored, as some runners block it.
STUB = textwrap.dedent("""\
    #!{python}
    import http.server, json, signal, sys
    args = sys.argv[1:]
    register = args[args.index("--register") + 1]
    if args[:2] == ["user", "add"]:
        with open(register + ".users", "a") as f:
            f.write(json.dumps({{"args": args, "password": sys.stdin.readline().rstrip("\\n")}}) + "\\n")
        print("added user", args[2])
    elif args[0] == "serve":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        form = (b'<!doctype html><html lang="en"><title>Sign in</title><main><form method="post" action="/sign-in">'
                b'<label for="name">Name</label><input id="name" name="name">'
                b'<label for="password">Password</label><input id="password" name="password" type="password">'
                b'<button type="submit">Sign in</button></form></main></html>')
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self):
                self.send_response(200); self.send_header("Content-Type", "text/html"); self.end_headers()
                self.wfile.write(form if self.path == "/sign-in" else b'<!doctype html><title>Home</title><p>home</p>')
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(303); self.send_header("Location", "/"); self.end_headers()
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        sys.stderr.write("rulebook: serving %s with 0 policies () on http://127.0.0.1:%d\\n" % (register, s.server_port))
        sys.stderr.flush()
        s.serve_forever()
    """)


def test_server_plumbing_with_a_stand_in(browser, tmp_path):
    stub = tmp_path / "rulebook"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    s = RulebookServer(binary=stub, tmp=tmp_path)
    s.add_user("alice", "leverton", ["staff", "dpo"], "correct horse battery")
    s.add_user("olga", None, "dpo", "another long password")
    users = (tmp_path / "r.sqlite.users").read_text().splitlines()
    assert '"--school", "leverton", "--role", "staff", "--role", "dpo", "--password-stdin"' in users[0]
    assert '"--all-schools"' in users[1] and '"password": "another long password"' in users[1]
    s.start()
    try:
        assert s.port > 0 and s.base_url == f"http://127.0.0.1:{s.port}"
        assert urllib.request.urlopen(s.url("/")).status == 200
        driver = browser()
        sign_in(driver, s.base_url, "alice", "correct horse battery")
        assert driver.current_url == s.url("/")
        assert driver.find_element(By.TAG_NAME, "p").text == "home"
        pid = s.process.pid
    finally:
        s.stop()
    time.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
