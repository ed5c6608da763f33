"""Browser test of the Model Hub sidebar panel against a real JupyterLab server.

Starts ``jupyter lab`` with this checkout's server extension and built labextension, registers
models through the REST API like a script would, and drives headless Chromium with Playwright
to check what a user sees in the panel: models with their tags and alias chips, the tag filter,
the server's message for a malformed filter, live updates from the event poll, a model's
versions, the Endpoints section (empty, then a real scikit-learn model deployed as an endpoint),
and converting that model to ONNX from its version row; and the Activity section: conversions
started through the REST API shown live with their progress bar, place in the queue, log tail and
result link, one cancelled from the panel while it waits; an environment build cancelled from
the panel while uv runs; and a deploy that builds an isolated environment, linked to its endpoint.
Leaves screenshots in tests/artifacts/screenshots/ (panel.png, activity-running.png, activity.png).

Needs Chromium (/usr/bin/chromium, or MODELHUB_TEST_CHROMIUM) and the built labextension
(``cd labextension && jlpm install && jlpm build:prod``); without them the test is skipped,
except under CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import re

import pytest

from helpers.operations import StallingIndex
from helpers.panel import LabServer, chromium_page, lab_fixture, screenshot

pytestmark = pytest.mark.timeout(240)

# Playwright's auto-waiting limits (ms).
UI_TIMEOUT = 30_000  # first load of JupyterLab on a 2-core machine
LIVE_TIMEOUT = 20_000  # a registration shows up through the 2 s event poll
CONVERT_TIMEOUT = 30_000  # converting to ONNX checks equivalence and times both models
DEPLOY_TIMEOUT = 120_000  # building an isolated environment with uv, then starting the endpoint


lab = lab_fixture()


@pytest.fixture
def browser_page(lab):
    with chromium_page(UI_TIMEOUT) as (page, errors):
        yield page, errors


def test_model_hub_panel(lab: LabServer, browser_page) -> None:
    from playwright.sync_api import expect

    page, page_errors = browser_page

    # Two models through the REST API: churn (2 versions, alias production -> v1), fraud.
    lab.register("churn", tags={"team": "growth"}, flavor="custom", description="first churn")
    lab.register("churn", tags={"team": "growth", "stage": "dev"}, flavor="custom")
    lab.set_alias("churn", "production", 1)
    lab.register("fraud", tags={"team": "risk"}, flavor="custom")

    # What the server says about a malformed filter, to compare with what the panel shows.
    bad = lab.get("models", filter="team=")
    assert bad.status_code == 400, bad.text
    bad_message = bad.json()["message"]
    assert bad_message

    page.goto(lab.lab_url)
    tab = page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[title="Model Hub"]')
    expect(tab).to_be_visible()
    tab.click()

    panel = page.locator(".jp-ModelHub-panel")
    expect(panel).to_be_visible()
    models = panel.locator(".jp-ModelHub-model")
    churn = models.filter(has=page.locator(".jp-ModelHub-modelName", has_text=re.compile("^churn$")))
    fraud = models.filter(has=page.locator(".jp-ModelHub-modelName", has_text=re.compile("^fraud$")))

    # Both models, newest first, with the latest version's tags and the alias chip.
    expect(models).to_have_count(2)
    expect(models.locator(".jp-ModelHub-modelName")).to_have_text(["fraud", "churn"])
    expect(churn.locator(".jp-ModelHub-latest")).to_have_text("v2")
    expect(churn.locator(".jp-ModelHub-versionCount")).to_have_text("2 versions")
    expect(churn.locator(".jp-ModelHub-flavorBadge")).to_have_text("custom")
    expect(churn.locator(".jp-ModelHub-tag")).to_have_text(["stage=dev", "team=growth"])
    expect(churn.locator(".jp-ModelHub-alias")).to_have_text(["production \u2192 v1"])
    expect(fraud.locator(".jp-ModelHub-tag")).to_have_text(["team=risk"])
    expect(fraud.locator(".jp-ModelHub-alias")).to_have_count(0)

    # No endpoints yet: the section says how to make one.
    endpoints_section = panel.locator(".jp-ModelHub-endpoints")
    expect(endpoints_section.locator(".jp-ModelHub-empty")).to_have_text(
        "No endpoints. Deploy one from a notebook: %deploy NAME MODEL"
    )

    # The tag filter is applied by the server.
    filter_box = panel.get_by_role("textbox", name="Filter by tags")
    expect(filter_box).to_have_class(re.compile(r"\bjp-ModelHub-filter\b"))
    filter_box.fill("team=growth")
    expect(models).to_have_count(1)
    expect(models.locator(".jp-ModelHub-modelName")).to_have_text(["churn"])

    # A malformed filter: the server's own message, under the box.
    filter_box.fill("team=")
    error = panel.locator(".jp-ModelHub-query .jp-ModelHub-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(bad_message)
    expect(filter_box).to_have_attribute("aria-invalid", "true")
    expect(models).to_have_count(0)

    # Back to everything; the name search narrows by substring.
    filter_box.fill("")
    expect(error).to_have_count(0)
    expect(models).to_have_count(2)
    search_box = panel.get_by_role("searchbox", name="Search model names")
    search_box.fill("frau")
    expect(models.locator(".jp-ModelHub-modelName")).to_have_text(["fraud"])
    search_box.fill("")
    expect(models).to_have_count(2)

    # A model registered elsewhere appears without touching the refresh button.
    lab.register("forecast", tags={"team": "growth"}, flavor="custom")
    forecast = models.filter(has=page.locator(".jp-ModelHub-modelName", has_text=re.compile("^forecast$")))
    expect(forecast).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(models).to_have_count(3)
    expect(forecast.locator(".jp-ModelHub-tag")).to_have_text(["team=growth"])

    # Expanding a model lists its versions, newest first, with tags and aliases.
    toggle = churn.locator(".jp-ModelHub-modelButton")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    versions = churn.locator(".jp-ModelHub-version")
    expect(versions).to_have_count(2)
    expect(versions.locator(".jp-ModelHub-versionNumber")).to_have_text(["v2", "v1"])
    expect(versions.nth(0).locator(".jp-ModelHub-tag")).to_have_text(["stage=dev", "team=growth"])
    expect(versions.nth(1).locator(".jp-ModelHub-alias")).to_have_text(["production"])
    expect(versions.nth(1).locator(".jp-ModelHub-time")).to_have_text(re.compile(r"just now|second|minute"))

    # A new version of an expanded model shows up in its version list too.
    lab.register("churn", tags={"team": "growth"}, flavor="custom")
    expect(versions).to_have_count(3, timeout=LIVE_TIMEOUT)
    expect(churn.locator(".jp-ModelHub-latest")).to_have_text("v3")

    toggle.click()  # collapse churn again, to leave room for what follows
    expect(versions).to_have_count(0)

    # A real scikit-learn model, registered and deployed the way a notebook would.
    scorer = _fit_scorer()
    client = lab.client()
    client.register("scorer", scorer["model"], sample=scorer["X"][:5])
    client.deploy("scoring", "scorer:1", auth="none")
    try:
        _check_endpoint_and_convert(page, panel, models)
        screenshot(page, "panel")
    finally:
        client.undeploy("scoring")

    assert page_errors == [], page_errors


def _fit_scorer() -> dict:
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(200, 20, random_state=0)
    return {"model": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), "X": X}


def _check_endpoint_and_convert(page, panel, models) -> None:
    from playwright.sync_api import expect

    # The endpoint, healthy, with its URL and its one deployment taking all the traffic.
    endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="scoring"]')
    expect(endpoint).to_be_visible(timeout=LIVE_TIMEOUT)
    expect(panel.locator(".jp-ModelHub-endpoints .jp-ModelHub-empty")).to_have_count(0)
    expect(endpoint.locator(".jp-ModelHub-endpointName")).to_have_text("scoring")
    expect(endpoint.locator(".jp-ModelHub-endpointState")).to_have_text("healthy")
    expect(endpoint.locator(".jp-ModelHub-url")).to_have_text(re.compile(r"^http://[^ ]+:\d+$"))
    deployment = endpoint.locator(".jp-ModelHub-deployment")
    expect(deployment).to_have_count(1)
    expect(deployment.locator(".jp-ModelHub-deploymentName")).to_have_text("blue")
    expect(deployment.locator(".jp-ModelHub-deploymentRef")).to_have_text("scorer:1")
    expect(deployment.locator(".jp-ModelHub-deploymentState")).to_have_text("healthy")
    expect(deployment.locator(".jp-ModelHub-traffic")).to_have_text("100%")
    expect(deployment.locator(".jp-ModelHub-restarts")).to_have_count(0)
    expect(deployment.locator(".jp-ModelHub-reason")).to_have_count(0)
    copy = endpoint.get_by_role("button", name="Copy the URL of scoring")
    copy.click()
    expect(copy).to_have_text("Copied")

    # The section folds away and back.
    section_toggle = panel.locator(".jp-ModelHub-endpoints .jp-ModelHub-sectionToggle")
    expect(section_toggle.locator(".jp-ModelHub-sectionTitle")).to_have_text("Endpoints")
    expect(section_toggle.locator(".jp-ModelHub-sectionBadge")).to_have_text("(1)")
    expect(section_toggle).to_have_attribute("aria-expanded", "true")
    section_toggle.click()
    expect(section_toggle).to_have_attribute("aria-expanded", "false")
    expect(endpoint).to_have_count(0)
    section_toggle.click()
    expect(endpoint).to_be_visible()

    # Convert the scikit-learn version to ONNX from its row.
    scorer = models.filter(has=page.locator(".jp-ModelHub-modelName", has_text=re.compile("^scorer$")))
    expect(scorer.locator(".jp-ModelHub-flavorBadge")).to_have_text("sklearn")
    scorer.locator(".jp-ModelHub-modelButton").click()
    versions = scorer.locator(".jp-ModelHub-version")
    expect(versions).to_have_count(1)
    convert = scorer.get_by_role("button", name="Convert scorer:1 to ONNX")
    expect(convert).to_be_enabled()
    convert.click()
    # The convert form: the rows to check on, tolerance and opset, with the server's bounds.
    form = page.locator(".jp-ModelHub-convertForm")
    expect(form.get_by_label("Check equivalence on")).to_have_value("")
    expect(form).to_contain_text("Always on the input example stored with scorer:1")
    expect(form.get_by_label("Opset")).to_have_attribute("min", "7")
    form.get_by_label("Opset").fill("3")
    expect(form.locator(".jp-ModelHub-fieldError")).to_have_text("Opset must be at least 7.")
    form.get_by_label("Opset").fill("")
    form.get_by_label("Tolerance").fill("0.0001")
    screenshot(page, "convert-form")
    form.locator(".jp-ModelHub-submit").click()
    expect(form).to_have_count(0)
    expect(convert).to_be_disabled()
    expect(convert).to_have_attribute("aria-busy", "true")
    # The button follows the conversion's operation, with its progress under it.
    expect(scorer.get_by_role("progressbar", name="Progress of the conversion of scorer:1")).to_be_visible()
    result = scorer.locator(".jp-ModelHub-actionResult")
    expect(result).to_have_text(
        re.compile(r"scorer:2 \(onnx\): equivalent on \d+ rows, [\d.]+x (faster|slower) per row"),
        timeout=CONVERT_TIMEOUT,
    )
    expect(result).to_have_class(re.compile(r"\bjp-ModelHub-success\b"))
    expect(scorer.get_by_role("progressbar")).to_have_count(0)

    # The new ONNX version, derived from the original, is in the list; only sklearn can be converted.
    expect(versions).to_have_count(2, timeout=LIVE_TIMEOUT)
    expect(versions.locator(".jp-ModelHub-versionNumber")).to_have_text(["v2", "v1"])
    expect(versions.nth(0).locator(".jp-ModelHub-flavorBadge")).to_have_text("onnx")
    expect(versions.nth(0).locator(".jp-ModelHub-versionMeta")).to_contain_text("from scorer:1")
    expect(versions.nth(0).get_by_role("button", name=re.compile("to ONNX"))).to_have_count(0)
    # The original is not offered again: the server says it was converted, and the button says so.
    expect(convert).to_be_disabled(timeout=LIVE_TIMEOUT)
    expect(convert).to_have_attribute("data-reason", "already converted: scorer:2")
    expect(convert).to_have_attribute("title", "Not possible: already converted: scorer:2")
    expect(scorer.locator(".jp-ModelHub-latest")).to_have_text("v2")


def test_activity_section(lab: LabServer, browser_page) -> None:
    """Operations started elsewhere show up live; one is cancelled from the panel; links lead to results."""
    from playwright.sync_api import expect

    page, page_errors = browser_page

    scorer = _fit_scorer()
    client = lab.client()
    client.register("scorer", scorer["model"], sample=scorer["X"][:5])
    client.register("ranker", _fit_ranker(scorer["X"]), sample=scorer["X"][:5])

    page.goto(lab.lab_url)
    page.locator('.jp-SideBar.jp-mod-left .lm-TabBar-tab[title="Model Hub"]').click()
    panel = page.locator(".jp-ModelHub-panel")
    activity = panel.get_by_role("region", name="Activity")
    expect(activity.locator(".jp-ModelHub-empty")).to_have_text(
        "Nothing running. Conversions and environment builds show here with their progress."
    )
    expect(panel.locator(".jp-ModelHub-model")).to_have_count(2)

    # Two conversions through the REST API, as a notebook elsewhere would start them: one runs,
    # the other waits for it (one conversion at a time by default).
    first = _start(lab, "models/scorer/versions/1/convert")
    second = _start(lab, "models/ranker/versions/1/convert")
    running = activity.locator(f'.jp-ModelHub-operation[data-operation="{first}"]')
    queued = activity.locator(f'.jp-ModelHub-operation[data-operation="{second}"]')

    # Both appear without a reload, newest first.
    expect(activity.locator(".jp-ModelHub-operation")).to_have_count(2, timeout=LIVE_TIMEOUT)
    expect(activity.locator(".jp-ModelHub-operationSubject")).to_have_text(["ranker:1", "scorer:1"])
    expect(running.locator(".jp-ModelHub-operationKind")).to_have_text("convert")
    expect(activity.locator(".jp-ModelHub-sectionBadge")).to_have_text("2 active")

    # The running one: a progress bar over its 5 steps, with what it is doing.
    bar = running.get_by_role("progressbar", name=f"Progress of operation {first}")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("aria-valuemax", "5", timeout=CONVERT_TIMEOUT)
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^[0-5]$"))
    expect(running.locator(".jp-ModelHub-progressText")).to_have_text(re.compile(r"\w.* of 5 steps"))

    # The waiting one: its place in the queue and an indeterminate bar.
    expect(queued.locator(".jp-ModelHub-operationStatus")).to_have_text("queued")
    expect(queued.locator(".jp-ModelHub-queue")).to_have_text("1st in line")
    expect(queued.get_by_role("progressbar")).to_have_class(re.compile(r"\bjp-mod-indeterminate\b"))
    screenshot(page, "activity-running")

    # Cancel the waiting one from the panel: the server says cancelled, and it never runs.
    cancel = queued.get_by_role("button", name=f"Cancel operation {second}")
    cancel.click()
    expect(queued.locator(".jp-ModelHub-operationStatus")).to_have_text("cancelled", timeout=LIVE_TIMEOUT)
    expect(cancel).to_have_count(0)
    expect(queued.get_by_role("progressbar")).to_have_count(0)
    assert lab.get(f"operations/{second}").json()["status"] == "cancelled"

    # The first succeeds: no bar, no Cancel, a link to the new version.
    expect(running.locator(".jp-ModelHub-operationStatus")).to_have_text("succeeded", timeout=CONVERT_TIMEOUT)
    expect(bar).to_have_count(0)
    expect(running.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
    link = running.get_by_role("button", name="scorer:2")
    expect(link).to_be_visible()
    expect(activity.locator(".jp-ModelHub-sectionBadge")).to_have_count(0)

    # Its log tail is the server's.
    server_log = lab.get(f"operations/{first}/log", tail=20).text.strip().splitlines()
    assert server_log, "the conversion wrote no log"
    running.get_by_role("button", name=f"Show the log of operation {first}").click()
    log = running.locator(".jp-ModelHub-logText")
    expect(log).to_contain_text(server_log[-1].strip())
    expect(log).to_contain_text(server_log[0].strip())

    # The link opens the model in the list and selects the version.
    link.click()
    scorer_item = panel.locator('.jp-ModelHub-model[data-model="scorer"]')
    version = scorer_item.locator('.jp-ModelHub-version[data-version="2"]')
    expect(version).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    expect(version).to_have_attribute("aria-current", "true")
    expect(version.locator(".jp-ModelHub-flavorBadge")).to_have_text("onnx")
    expect(version).to_be_in_viewport()

    # An environment build cancelled from the panel while uv runs (it waits on a held index).
    with StallingIndex() as index:
        building = _start(
            lab,
            "endpoints/held-ep/deployments",
            {
                "model": "scorer:1",
                "auth": "none",
                "requirements": index.requirements("six==1.16.0"),
            },
        )
        assert index.asked.wait(60), "uv never asked the index: the build did not start"
        build = activity.locator(f'.jp-ModelHub-operation[data-operation="{building}"]')
        expect(build.locator(".jp-ModelHub-operationKind")).to_have_text("deploy", timeout=LIVE_TIMEOUT)
        expect(build.locator(".jp-ModelHub-operationSubject")).to_have_text("held-ep")
        expect(build.locator(".jp-ModelHub-operationStatus")).to_have_text("running")
        expect(build.get_by_role("progressbar", name=f"Progress of operation {building}")).to_be_visible()
        build.get_by_role("button", name=f"Cancel operation {building}").click()
        expect(build.locator(".jp-ModelHub-operationStatus")).to_have_text("cancelled", timeout=LIVE_TIMEOUT)
        expect(build.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
        expect(build.locator(".jp-ModelHub-operationError")).not_to_be_empty()
    assert lab.get(f"operations/{building}").json()["status"] == "cancelled"
    assert lab.get("endpoints/held-ep").status_code == 404, "a cancelled deploy makes no endpoint"

    # A deploy that builds an isolated environment is an operation too; its link is the endpoint.
    import sklearn

    deploy = lab.post(
        "endpoints/iso-ep/deployments",
        {
            "model": "scorer:1",
            "auth": "none",
            "requirements": f"scikit-learn=={sklearn.__version__}\nsix\n",
        },
    )
    assert deploy.status_code == 202, (deploy.status_code, deploy.text)
    deploying = activity.locator(f'.jp-ModelHub-operation[data-operation="{deploy.json()["id"]}"]')
    try:
        expect(deploying.locator(".jp-ModelHub-operationKind")).to_have_text("deploy", timeout=LIVE_TIMEOUT)
        expect(deploying.locator(".jp-ModelHub-operationSubject")).to_have_text("iso-ep")
        expect(deploying.locator(".jp-ModelHub-operationStatus")).to_have_text("succeeded", timeout=DEPLOY_TIMEOUT)
        deploying.get_by_role("button", name="iso-ep").click()
        endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="iso-ep"]')
        expect(endpoint).to_have_class(re.compile(r"\bjp-mod-selected\b"))
        expect(endpoint).to_be_in_viewport()
        screenshot(page, "activity")
    finally:
        client.undeploy("iso-ep")

    assert page_errors == [], page_errors


def _start(lab: LabServer, path: str, body: dict | None = None) -> int:
    """POST a route that starts long work; the operation's id from its 202 answer."""
    response = lab.post(path, body)
    assert response.status_code == 202, (response.status_code, response.text)
    operation = response.json()
    assert response.headers["Location"].endswith(f"operations/{operation['id']}")
    return operation["id"]


def _fit_ranker(X):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
