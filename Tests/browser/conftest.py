"""Browser tests for `rulebook serve`'s HTML pages: headless Chromium through Selenium.

Fixtures:
  server   (session) a running `rulebook serve` on a fresh register; see RulebookServer.
  browser  a factory: browser() opens a desktop-sized headless Chromium,
           browser(phone=True) a phone-sized one; call it twice for two users at once.
           Every browser opened is quit when the test ends.

Helpers (import them: `from conftest import sign_in, screenshot, check_accessibility`):
  sign_in(driver, base_url, name, password)
  screenshot(driver, name) -> Path
  check_accessibility(driver, page_name) -> dict   (fails on serious/critical violations)

Environment:
  RULEBOOK             the binary (default .build/debug/rulebook, from the repository root)
  RULEBOOK_SCREENSHOTS where screenshots go (default Tests/browser/out); e.g. docs/screenshots
  RULEBOOK_BROWSER_OUT where axe results and the server log go (default Tests/browser/out)
  AXE_SCRIPT           an axe.min.js to inject (default: see axe_script())
  CHROMIUM, CHROMEDRIVER  the browser and its driver (default /usr/bin/chromium, /usr/bin/chromedriver)
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parents[2]
OUT_DEFAULT = REPO / "Tests" / "browser" / "out"

DESKTOP = (1280, 900)
PHONE = (390, 844)

# axe-core tags: WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = {"serious", "critical"}

PORT_LINE = re.compile(r"on http://127\.0\.0\.1:(\d+)$")


def _dir_from_env(var: str) -> Path:
    value = os.environ.get(var)
    path = Path(value) if value else OUT_DEFAULT
    if not path.is_absolute():
        path = REPO / path
    path.mkdir(parents=True, exist_ok=True)
    return path


def output_dir() -> Path:
    """Where axe results and server logs go (RULEBOOK_BROWSER_OUT, default Tests/browser/out)."""
    return _dir_from_env("RULEBOOK_BROWSER_OUT")


def screenshot_dir() -> Path:
    """Where screenshots go (RULEBOOK_SCREENSHOTS, default Tests/browser/out)."""
    return _dir_from_env("RULEBOOK_SCREENSHOTS")


def rulebook_binary() -> Path:
    value = os.environ.get("RULEBOOK") or ".build/debug/rulebook"
    path = Path(value)
    return path if path.is_absolute() else REPO / path


# ---------------------------------------------------------------------------- server


@dataclass
class RulebookServer:
    """A register in a temporary folder and, once start() has run, a server on it.

    add_user(name, school, roles, password) adds a user with the CLI; `school` is a school
    name or a list of them, or None for --all-schools; `roles` a role id or a list of them.
    cli(*args, input=None) runs any other rulebook command on the register (it adds
    --register itself), e.g. server.cli("import", "Policies/examples/x.yaml", "--school", "x").
    Users and imports can be added while the server runs: it reads the register anew.
    """

    binary: Path
    tmp: Path
    policies: Path = REPO / "Policies"
    extra_serve_args: Sequence[str] = ()
    register: Path = field(init=False)
    log: Path = field(init=False)
    base_url: str = field(init=False, default="")
    port: int = field(init=False, default=0)
    process: subprocess.Popen | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.register = self.tmp / "r.sqlite"
        self.log = self.tmp / "serve.log"

    def cli(self, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.binary), *args, "--register", str(self.register)]
        result = subprocess.run(command, input=input, capture_output=True, text=True, cwd=REPO, timeout=60)
        if check and result.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def add_user(self, name: str, school: str | Iterable[str] | None, roles: str | Iterable[str],
                 password: str, *, email: str | None = None) -> None:
        assert len(password) >= 12, "rulebook wants passwords of at least 12 characters"
        args = ["user", "add", name, "--policies", str(self.policies)]
        if school is None:
            args.append("--all-schools")
        else:
            for s in [school] if isinstance(school, str) else school:
                args += ["--school", s]
        for r in [roles] if isinstance(roles, str) else roles:
            args += ["--role", r]
        if email:
            args += ["--email", email]
        args.append("--password-stdin")
        self.cli(*args, input=password + "\n")

    def start(self, timeout: float = 20.0) -> None:
        command = [str(self.binary), "serve", "--listen", "127.0.0.1:0", "--register", str(self.register),
                   "--policies", str(self.policies), "--log-level", "error", *self.extra_serve_args]
        with open(self.log, "wb") as log:
            # Its own process group, so teardown's SIGKILL reaches nothing else.
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=log, cwd=REPO, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log.read_text(errors="replace").splitlines():
                m = PORT_LINE.search(line.rstrip())
                if m:
                    self.port = int(m.group(1))
                    self.base_url = f"http://127.0.0.1:{self.port}"
                    return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        log_text = self.log.read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"rulebook serve did not start ({' '.join(command)}):\n{log_text}")

    def stop(self) -> None:
        # SIGKILL: SIGTERM may be blocked in some runners.
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
        self.process = None

    def url(self, path: str = "/") -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def server():
    """A running `rulebook serve` on a fresh register, shared by the session's tests.

    Add users with server.add_user(...) (each test its own names, as the register is shared).
    """
    binary = rulebook_binary()
    if not binary.exists():
        pytest.fail(f"no rulebook binary at {binary}: build it (swift build) or set RULEBOOK")
    tmp = Path(tempfile.mkdtemp(prefix="rulebook-browser-"))
    s = RulebookServer(binary=binary, tmp=tmp)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        if s.log.exists():
            shutil.copy(s.log, output_dir() / "serve.log")
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------- browser


def new_browser(phone: bool = False, size: tuple[int, int] | None = None) -> webdriver.Chrome:
    """A headless Chromium whose viewport is desktop-sized (1280x900) or phone-sized (390x844).

    Phone size is Chromium's mobile emulation (touch, and a page's <meta name=viewport> is
    honoured); a plain window cannot be narrower than 500 pixels in headless Chromium."""
    width, height = size or (PHONE if phone else DESKTOP)
    options = Options()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--lang=en-GB",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    if phone:
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0, "touch": True}})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(options=options, service=service)
    if not phone:
        # --window-size is the outer window, and headless Chromium takes some of it for
        # simulated browser chrome: grow the window until the viewport is width x height.
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        if inner != [width, height]:
            outer = driver.get_window_size()
            driver.set_window_size(outer["width"] + width - inner[0], outer["height"] + height - inner[1])
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(60)  # axe runs as an async script
    return driver


@pytest.fixture
def browser() -> Callable[..., webdriver.Chrome]:
    """browser(phone=False, size=None): a new headless Chromium with its own cookies."""
    opened: list[webdriver.Chrome] = []

    def open_browser(phone: bool = False, size: tuple[int, int] | None = None) -> webdriver.Chrome:
        driver = new_browser(phone=phone, size=size)
        opened.append(driver)
        return driver

    yield open_browser
    for driver in opened:
        try:
            driver.quit()
        except Exception:
            pass


# ---------------------------------------------------------------------------- helpers


def sign_in(driver, base_url: str, name: str, password: str, timeout: float = 10.0) -> None:
    """Sign in through GET /sign-in's form; returns once the browser has left /sign-in."""
    driver.get(base_url.rstrip("/") + "/sign-in")
    field_name = driver.find_element(By.ID, "name")
    field_name.clear()
    field_name.send_keys(name)
    field_password = driver.find_element(By.ID, "password")
    field_password.clear()
    field_password.send_keys(password)
    field_password.find_element(By.XPATH, "ancestor::form//button[@type='submit']").click()
    try:
        WebDriverWait(driver, timeout).until(lambda d: "/sign-in" not in d.current_url.split("?")[0])
    except Exception as e:
        raise AssertionError(f"still on {driver.current_url} after signing in as {name}") from e


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"


def screenshot(driver, name: str, full: bool = True) -> Path:
    """A PNG as NAME.png in the screenshot folder: the whole page, or (full=False) what
    the window shows."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width = max(1, int(size["width"]))
    height = max(1, int(size["height"]))
    top = 0
    if not full:
        viewport = metrics.get("cssLayoutViewport") or metrics["layoutViewport"]
        top = int(viewport.get("pageY", 0))
        height = min(height - top, int(viewport["clientHeight"]))
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "fromSurface": True,
        "clip": {"x": 0, "y": top, "width": width, "height": height, "scale": 1}})
    path = screenshot_dir() / f"{_safe(name)}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def axe_script() -> Path:
    """The axe-core to inject: AXE_SCRIPT, else the axe.min.js (axe-core 4.x) that the
    axe-core-python package (PyPI) carries."""
    override = os.environ.get("AXE_SCRIPT")
    if override:
        return Path(override)
    import axe_core_python
    return Path(axe_core_python.__file__).parent / "axe.min.js"


# axe.run's promise, settled either way (a dropped rejection would leave the test hanging
# until the script timeout); only the tags this axe-core knows are asked
# for, as it rejects a run naming a tag it has no rule for.
_AXE_RUN = """
var done = arguments[arguments.length - 1], context = arguments[0], wanted = arguments[1];
try {
  var known = {};
  axe.getRules().forEach(function (r) { (r.tags || []).forEach(function (t) { known[t] = true; }); });
  var tags = wanted.filter(function (t) { return known[t]; });
  var options = {runOnly: {type: "tag", values: tags}};
  var run = context === null ? axe.run(document, options) : axe.run(context, options);
  run.then(function (results) {
    results.rulebookHarness = {axeVersion: axe.version, tagsRun: tags,
                               tagsUnknown: wanted.filter(function (t) { return !known[t]; })};
    done(results);
  }, function (e) { done({rulebookHarnessError: String(e && e.stack || e)}); });
} catch (e) { done({rulebookHarnessError: String(e && e.stack || e)}); }
"""


def check_accessibility(driver, page_name: str, context=None, max_targets: int = 3) -> dict:
    """Runs axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now.

    context: None for the whole document, or a CSS selector / axe context object.
    Writes the full results to axe-PAGE_NAME.json in the output folder, and fails (assert)
    on any violation of impact serious or critical. Returns the results.
    """
    driver.execute_script(axe_script().read_text())
    results = driver.execute_async_script(_AXE_RUN, context, WCAG_TAGS)
    if "rulebookHarnessError" in results:
        raise RuntimeError(f"axe-core failed on {page_name} ({driver.current_url}): {results['rulebookHarnessError']}")
    path = output_dir() / f"axe-{_safe(page_name)}.json"
    path.write_text(json.dumps(results, indent=2))
    bad = [v for v in results.get("violations", []) if v.get("impact") in FAILING_IMPACTS]
    if bad:
        lines = [f"{page_name} ({driver.current_url}): {len(bad)} serious or critical accessibility "
                 f"violation(s); full results in {path}"]
        for v in bad:
            targets = [" ".join(t) if isinstance(t, list) else str(t)
                       for n in v.get("nodes", []) for t in [n.get("target", [])]]
            more = f" (+{len(targets) - max_targets} more)" if len(targets) > max_targets else ""
            lines.append(f"  [{v['impact']}] {v['id']}: {v.get('help', '')} -> "
                         f"{'; '.join(targets[:max_targets])}{more}")
        raise AssertionError("\n".join(lines))
    return results
