"""Helpers for the browser tests of the Model Hub panel (tests/panel/).

A real JupyterLab server in a subprocess, isolated from the user's Jupyter config and data, with
this checkout's server extension enabled and its built labextension linked in; a few REST calls
to register models the way a script would; and a package index that keeps an environment build
running until the test is done with it.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import requests

from helpers.components import require
from helpers.paths import LABEXTENSION_BUILT as LABEXTENSION_DIR
from helpers.paths import REPO, SCREENSHOTS
from helpers.servers import free_port

CHROMIUM = os.environ.get("MODELHUB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def missing_prerequisites() -> list[str]:
    """What the browser test needs and this machine lacks, as readable reasons."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the Python package playwright is not installed")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    if not (LABEXTENSION_DIR / "package.json").is_file() or not (LABEXTENSION_DIR / "static" / "style.js").is_file():
        missing.append(
            f"the labextension is not built in {LABEXTENSION_DIR.relative_to(REPO)} "
            "(cd labextension && jlpm install && jlpm build:prod)"
        )
    return missing


def require_prerequisites() -> None:
    """Skip with the reasons when Chromium, Playwright or the built labextension is missing; fail under CI."""
    missing = missing_prerequisites()
    require(not missing, "browser test of the Model Hub panel cannot run: " + "; ".join(missing))


def lab_fixture(*args: str, env: dict | None = None, config: dict | None = None):
    """A pytest fixture: a JupyterLab server started with ``args`` (and ``env``, ``config``: see
    ``start_lab``) for one test, stopped after it."""

    @pytest.fixture
    def lab(tmp_path_factory) -> LabServer:
        require_prerequisites()
        server = start_lab(tmp_path_factory.mktemp("lab"), args=args, env=env, config=config)
        try:
            yield server
        finally:
            server.stop()

    return lab


@dataclass
class LabServer:
    """A JupyterLab server started by ``start_lab``; ``stop()`` ends it."""

    process: subprocess.Popen
    port: int
    token: str
    root: Path
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api(self) -> str:
        return f"{self.url}modelhub/api/"

    @property
    def lab_url(self) -> str:
        return f"{self.url}lab?token={self.token}"

    def as_user(self, token: str) -> "LabServer":
        """The same server, its REST helpers authenticated with another user's token (from
        ``helpers.identities.team``); stop the original, not this."""
        return replace(self, token=token, session=requests.Session())

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        self.session.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout)

    # -- REST, as a script would use it -------------------------------------------------------

    def _headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"token {self.token}", **extra}

    def upload(self, files: dict[str, bytes]) -> str:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = int(time.time())
                tar.addfile(info, io.BytesIO(data))
        response = self.session.post(
            self.api + "uploads",
            data=buffer.getvalue(),
            headers=self._headers(**{"Content-Type": "application/x-tar"}),
            timeout=30,
        )
        assert response.status_code == 201, (response.status_code, response.text)
        return response.json()["upload_id"]

    def register(
        self,
        name: str,
        *,
        tags: dict[str, str] | None = None,
        flavor: str = "custom",
        description: str = "",
    ) -> dict:
        upload_id = self.upload({"model.txt": f"{name} {secrets.token_hex(8)}\n".encode()})
        response = self.session.post(
            self.api + f"models/{name}/versions",
            data=json.dumps(
                {
                    "upload_id": upload_id,
                    "flavor": flavor,
                    "description": description,
                    "tags": tags or {},
                }
            ),
            headers=self._headers(**{"Content-Type": "application/json"}),
            timeout=30,
        )
        assert response.status_code == 201, (response.status_code, response.text)
        return response.json()

    def set_alias(self, name: str, alias: str, version: int) -> dict:
        response = self.session.put(
            self.api + f"models/{name}/aliases/{alias}",
            data=json.dumps({"version": version}),
            headers=self._headers(**{"Content-Type": "application/json"}),
            timeout=30,
        )
        assert response.status_code in (200, 201), (response.status_code, response.text)
        return response.json()

    def client(self):
        """The project's Python client, talking to this server."""
        from jupyter_modelhub.client import ModelHubClient

        return ModelHubClient(self.url, self.token)

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.api + path, params=params, headers=self._headers(), timeout=30)

    def wait_ended(self, path: str, timeout: float = 180) -> dict:
        """GET ``path`` (an operation or a job) until it is no longer active; its last state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.get(path).json()
            if not state["active"]:
                return state
            try:  # a pause between asks that ends early if the server exits
                self.process.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        raise AssertionError(f"{path} was still active after {timeout} s")

    def post(self, path: str, body: dict | None = None) -> requests.Response:
        return self.session.post(
            self.api + path,
            data=json.dumps(body or {}),
            headers=self._headers(**{"Content-Type": "application/json"}),
            timeout=30,
        )


def screenshot(page, name: str) -> Path:
    """Save what the page shows as tests/artifacts/screenshots/NAME.png (the README shows them)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@contextmanager
def chromium_page(timeout_ms: int = 30_000, width: int = 1280, height: int = 800):
    """Debian's Chromium driven by Playwright: (page, uncaught page errors), closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": width, "height": height}).new_page()
            page.set_default_timeout(timeout_ms)
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            yield page, errors
        finally:
            browser.close()


@contextmanager
def chromium_browser():
    """Debian's Chromium driven by Playwright, for several users' pages (``user_page``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def user_page(browser, lab: "LabServer", token: str, timeout_ms: int = 30_000, width: int = 1280, height: int = 800):
    """A page of its own (cookies, storage) whose every request to ``lab`` carries ``token``, a user's
    of ``helpers.identities.team``: JupyterLab would otherwise send the server's own token, set in
    its page config. Returns (page, uncaught page errors); ``open_panel(page, lab.as_user(token))``."""
    context = browser.new_context(viewport={"width": width, "height": height})

    def as_user(route):
        headers = {**route.request.headers, "authorization": f"token {token}"}
        route.continue_(headers=headers)

    context.route(f"{lab.url}**", as_user)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def open_panel(page, lab: "LabServer", workspace: str | None = None):
    """Open JupyterLab and the Model Hub panel; returns the panel's locator. A ``workspace`` of its
    own keeps one user's layout from being restored in another's page."""
    from playwright.sync_api import expect

    page.goto(lab.lab_url if workspace is None else f"{lab.url}lab/workspaces/{workspace}?token={lab.token}")
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[title="Model Hub"]')
    expect(tab).to_be_visible(timeout=60_000)
    tab.click()
    panel = page.locator(".jp-ModelHub-panel")
    expect(panel).to_be_visible()
    return panel


def use_theme(page, theme: str) -> None:
    """Switch JupyterLab's theme from its Settings menu, as a user does ("JupyterLab Dark")."""
    import re

    from playwright.sync_api import expect

    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(theme)}$")).click()
    dark = "Dark" in theme
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false" if dark else "true")
    # the theme loads behind a splash screen: a screenshot waits until it has gone
    expect(page.locator("#jupyterlab-splash")).to_have_count(0)


class PortTaken(RuntimeError):
    """The free port was taken (by another process's connection) before JupyterLab bound it."""


def start_lab(
    tmp: Path,
    *,
    startup_timeout: float = 90,
    args: tuple[str, ...] = (),
    env: dict | None = None,
    config: dict | None = None,
) -> LabServer:
    """Start ``jupyter lab`` on a free port, isolated in ``tmp``; wait until it answers. ``env`` adds
    to its environment (a ``PYTHONPATH`` there comes first), ``config`` to its
    jupyter_server_config.json (``{"ModelHubApp": {"promotion_rules": ...}}``). A port taken
    between choosing it and binding it is chosen again (three tries)."""
    for attempt in range(3):
        try:
            return _start_lab_once(tmp, startup_timeout=startup_timeout, args=args, env=env, config=config)
        except PortTaken:
            if attempt == 2:
                raise


def _start_lab_once(
    tmp: Path, *, startup_timeout: float, args: tuple[str, ...], env: dict | None, config: dict | None
) -> LabServer:
    root = tmp / "root"
    config_dir = tmp / "config"
    data_dir = tmp / "data"
    runtime_dir = tmp / "runtime"
    for folder in (root, config_dir / "labconfig", data_dir / "labextensions", runtime_dir):
        folder.mkdir(parents=True, exist_ok=True)

    # Enable this checkout's server extension whether or not the package's config is installed.
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"jupyter_modelhub": True}}, **(config or {})})
    )
    # No "news?" toast over the sidebar in a fresh profile.
    (config_dir / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Serve the labextension built in this checkout (see JUPYTER_PREFER_ENV_PATH below).
    link = data_dir / "labextensions" / "jupyter-modelhub"
    if not link.exists():  # a second try finds the first one's
        try:
            link.symlink_to(LABEXTENSION_DIR, target_is_directory=True)
        except OSError:
            shutil.copytree(LABEXTENSION_DIR, link)

    token = secrets.token_hex(16)
    port = free_port()
    extra = dict(env or {})
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_DATA_DIR": str(data_dir),
        "JUPYTER_RUNTIME_DIR": str(runtime_dir),
        # User paths (the temp dirs above) before the environment's, so the labextension built
        # in this checkout wins over a copy installed in the venv by an earlier `pip install`.
        "JUPYTER_PREFER_ENV_PATH": "0",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [extra.pop("PYTHONPATH", None), str(REPO), os.environ.get("PYTHONPATH")])
        ),
        **extra,
    }
    env.pop("JUPYTER_TOKEN", None)
    log_path = tmp / "jupyter-lab.log"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        "--allow-root",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        f"--ModelHubApp.root_dir={tmp / 'hub'}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabServerApp.workspaces_dir=" + str(tmp / "workspaces"),
        *args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = LabServer(process=process, port=port, token=token, root=tmp, log_path=log_path)

    deadline = time.monotonic() + startup_timeout
    last_error = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            taken = f"port {port} is not available" in tail
            raise (PortTaken if taken else RuntimeError)(
                f"jupyter lab exited with code {process.returncode} before answering:\n" + tail
            )
        try:
            status = server.session.get(server.url + "api/status", headers=server._headers(), timeout=2)
            if status.status_code == 200:
                info = server.get("info")
                if info.status_code != 200:
                    server.stop()
                    raise RuntimeError(
                        f"the Model Hub API is not served (GET info -> {info.status_code}):\n" + server.log_tail()
                    )
                return server
            last_error = f"HTTP {status.status_code}"
        except requests.RequestException as exc:
            last_error = repr(exc)
        try:  # pause between polls; returns early if the server exits
            process.wait(timeout=0.25)
        except subprocess.TimeoutExpired:
            pass
    server.stop()
    raise RuntimeError(f"jupyter lab did not answer within {startup_timeout}s ({last_error}):\n" + server.log_tail())


def sidebar_width(page, width: int) -> None:
    """Drag the handle between the left sidebar and the main area until the sidebar is ``width`` px wide."""
    from playwright.sync_api import expect

    stack = page.locator("#jp-left-stack")
    expect(stack).to_be_visible()
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box, grip = stack.bounding_box(), handle.bounding_box()
    y = grip["y"] + grip["height"] / 2
    page.mouse.move(grip["x"] + grip["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(box["x"] + width, y, steps=5)
    page.mouse.up()
    # the split panel lays out on the next animation frame
    page.wait_for_function(
        "w => Math.abs(document.querySelector('#jp-left-stack').getBoundingClientRect().width - w) <= 4", arg=width
    )
