"""Browser tests of the Model Hub panel as a console: the version detail view with the server's
actions, compare, filter marks, the version context menu, "Register as model" from the file
browser, the deployment detail view (masked key, traffic editing refused by the server, a following
log, the monitoring strip, try it), and the Images and Environments sections; in the light and the
dark theme.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, real scikit-learn
models registered, converted and deployed through REST as a notebook would, and Debian's Chromium
driven by Playwright. Each test leaves screenshots in tests/artifacts/screenshots/.

Needs Chromium and the built labextension; without them the tests skip, except under CI (``CI`` set),
where they fail. The image build needs a Docker engine with the local base image (.ci/docker).
"""

from __future__ import annotations

import re

import joblib
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.docker import BASE_IMAGE
from helpers.panel import (
    LabServer,
    chromium_page,
    lab_fixture,
    open_panel,
    require_prerequisites,
    screenshot,
    start_lab,
    use_theme,
)

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
CONVERT = 60_000  # ms: a conversion checks equivalence and times both models
X, y = make_classification(120, 4, random_state=0)


lab = lab_fixture("--ModelConverter.timing_budget=0.1")


def test_version_detail_actions_compare_and_context_menu(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("scorer", LogisticRegression().fit(X, y), sample=X[:3], tags={"team": "growth"})
    started = lab.post("models/scorer/versions/1/convert")
    assert started.status_code == 202, started.text
    assert lab.wait_ended(f"operations/{started.json()['id']}")["status"] == "succeeded"  # scorer:2, onnx
    lab.set_alias("scorer", "production", 2)
    refused = lab.session.delete(lab.api + "models/scorer/versions/2", headers=lab._headers())
    assert refused.status_code == 409  # what the panel must say before anyone clicks

    with chromium_page() as (page, errors):
        panel = open_panel(page, lab)
        scorer = panel.locator('.jp-ModelHub-model[data-model="scorer"]')
        scorer.locator(".jp-ModelHub-modelButton").click()
        versions = scorer.locator(".jp-ModelHub-version")
        expect(versions).to_have_count(2)

        # A filter marks the versions that matched it (the server's answer), not the whole model.
        panel.get_by_role("textbox", name="Filter by tags").fill("equivalence=passed")
        expect(scorer.locator('.jp-ModelHub-version[data-version="2"]')).to_have_class(
            re.compile(r"\bjp-mod-matched\b")
        )
        expect(scorer.locator('.jp-ModelHub-version[data-version="1"]')).to_have_class(
            re.compile(r"\bjp-mod-unmatched\b")
        )
        expect(scorer.locator(".jp-ModelHub-note").first).to_have_text("1 version matches the filter (marked).")
        screenshot(page, "filter-marks")
        panel.get_by_role("textbox", name="Filter by tags").fill("")
        expect(scorer.locator(".jp-ModelHub-version.jp-mod-matched")).to_have_count(0)

        # The converted original: Convert is not offered, with the server's reason.
        convert = scorer.get_by_role("button", name="Convert scorer:1 to ONNX")
        expect(convert).to_be_disabled()
        expect(convert).to_have_attribute("data-reason", "already converted: scorer:2")

        # Its context menu: every action, enabled as the server says.
        scorer.locator('.jp-ModelHub-version[data-version="1"] .jp-ModelHub-versionHeader').click(button="right")
        menu = page.locator(".lm-Menu")
        expect(menu.get_by_role("menuitem", name="Convert to ONNX")).to_have_class(re.compile(r"\blm-mod-disabled\b"))
        expect(menu.get_by_role("menuitem", name="Delete…")).not_to_have_class(re.compile(r"\blm-mod-disabled\b"))
        for label in ("Deploy…", "Package", "Alias…", "Archive"):
            expect(menu.get_by_role("menuitem", name=label)).to_be_visible()
        page.keyboard.press("Escape")

        # The detail view of scorer:2: lineage, the equivalence report, and Delete refused with who uses it.
        scorer.get_by_role("button", name="Details of scorer:1").click()
        detail1 = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:1"]')
        expect(detail1.locator(".jp-ModelHub-detailTitle")).to_have_text("scorer:1")
        expect(detail1.get_by_role("button", name="Convert scorer:1 to ONNX")).to_be_disabled()
        expect(detail1.get_by_role("table", name="Signature of scorer:1")).to_contain_text("float64")
        expect(detail1.locator(".jp-ModelHub-example")).not_to_be_empty()
        detail1.get_by_role("button", name="Details of scorer:2").click()
        detail2 = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:2"]')
        expect(detail2.get_by_role("table", name="equivalence report of scorer:2")).to_contain_text("yes")
        expect(detail2.get_by_role("table", name="speed report of scorer:2")).to_be_visible()
        delete = detail2.get_by_role("button", name="Delete scorer:2")
        expect(delete).to_be_disabled()
        expect(delete).to_have_attribute("data-reason", re.compile(r"used by alias scorer@production"))
        expect(detail2.get_by_role("button", name="Convert scorer:2 to ONNX")).to_have_attribute(
            "data-reason", "already an ONNX model (converted from scorer:1)"
        )
        expect(detail2.locator(".jp-ModelHub-usedBy")).to_have_text(re.compile("alias scorer@production"))
        expect(detail2.get_by_role("link", name="Download model.onnx")).to_have_attribute(
            "href", re.compile(r"/modelhub/api/models/scorer/versions/2/files/model\.onnx$")
        )
        screenshot(page, "version-detail")

        # An allowed action from the detail view, through the dialog: an alias on scorer:1.
        detail1_tab = page.locator(".lm-TabBar-tab", has_text="scorer:1")
        detail1_tab.click()
        detail1.get_by_role("button", name="Set an alias on scorer:1").click()
        dialog = page.locator(".jp-ModelHub-aliasForm")
        dialog.get_by_label("Alias").fill("staging")
        dialog.get_by_role("button", name="Move alias").click()
        expect(detail1.locator(".jp-ModelHub-actionResult")).to_have_text(re.compile(r"scorer@staging \u2192 scorer:1"))
        assert lab.get("models/scorer/versions/@staging").json()["version"] == 1

        # Deploy from the detail view: asks the endpoint's name, then the Endpoints section and the
        # version's lineage show the deployment, and the version can no longer be deleted.
        page.locator(".lm-TabBar-tab", has_text="scorer:2").click()
        detail2.get_by_role("button", name="Deploy scorer:2").click()
        form = page.locator(".jp-ModelHub-deployForm")
        expect(form.get_by_label("New endpoint name")).to_have_value("scorer-ep")
        form.locator(".jp-ModelHub-submit").click()
        try:
            expect(detail2.locator(".jp-ModelHub-actionText")).to_have_text(
                "scorer:2 deployed to scorer-ep (blue).", timeout=60_000
            )
            deployed = panel.locator('.jp-ModelHub-endpoint[data-endpoint="scorer-ep"]')
            expect(deployed.locator(".jp-ModelHub-deploymentRef")).to_have_text("scorer:2", timeout=LIVE)
            expect(detail2.get_by_role("button", name="Deployment blue of scorer-ep")).to_be_visible(timeout=LIVE)
            expect(detail2.locator(".jp-ModelHub-usedBy")).to_contain_text("endpoint scorer-ep (deployment blue)")
        finally:
            client.undeploy("scorer-ep")

        # Compare the two versions: side by side, the rows that differ marked.
        scorer.get_by_role("checkbox", name="Pick scorer:1 to compare").check()
        scorer.get_by_role("checkbox", name="Pick scorer:2 to compare").check()
        scorer.get_by_role("button", name="Compare the picked versions of scorer").click()
        table = page.get_by_role("table", name="Compare versions of scorer")
        expect(table.locator('tr[data-key="flavor"]')).to_have_class(re.compile(r"\bjp-mod-differs\b"))
        expect(table.locator('tr[data-key="flavor"] td')).to_have_text(["sklearn", "onnx"])
        # the conversion records its own tags, not the original's
        expect(table.locator('tr[data-group="Tags"][data-key="team"] td')).to_have_text(["growth", ""])
        expect(table.locator('tr[data-group="Tags"][data-key="equivalence"] td')).to_have_text(["", "passed"])
        expect(table.locator('tr[data-group="Properties"][data-key="equivalence"] td')).to_have_text(
            ["", re.compile(r"^passed on \d+ rows$")]
        )
        screenshot(page, "compare")

        # The keyboard works: a model folds and opens with Enter, a version's details open with Enter.
        toggle = scorer.locator(".jp-ModelHub-modelButton")
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        scorer.get_by_role("button", name="Details of scorer:2").focus()
        page.keyboard.press("Enter")
        expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text="scorer:2")).to_be_visible()
        # Every control of the panel and the detail views has a name a screen reader can say.
        unnamed = page.evaluate("""() => Array.from(document.querySelectorAll(
            '.jp-ModelHub-panel :is(button, input, select, textarea, a), '
            + '.jp-ModelHub-detail :is(button, input, select, textarea, a)'))
          .filter(el => !(el.getAttribute('aria-label') || el.textContent.trim() || (el.labels && el.labels.length)))
          .map(el => el.outerHTML.slice(0, 160))""")
        assert unnamed == [], unnamed

        # The same in the dark theme: the panel follows JupyterLab's theme variables.
        use_theme(page, "JupyterLab Dark")
        background = panel.evaluate("node => getComputedStyle(node).backgroundColor")
        assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), background
        screenshot(page, "compare-dark")
        assert errors == [], errors


def test_deployment_detail_try_it_traffic_and_register_from_the_file_browser(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    client.deploy("scoring", "scorer:1")  # auth by key
    # What the server says about traffic that does not add up, to compare with what the panel shows.
    bad = lab.session.put(lab.api + "endpoints/scoring/traffic", json={"traffic": {"blue": 90}}, headers=lab._headers())
    assert bad.status_code == 400, bad.text
    joblib.dump(LogisticRegression().fit(X, y), lab.root / "root" / "churn.joblib")
    try:
        with chromium_page() as (page, errors):
            panel = open_panel(page, lab)
            endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="scoring"]')
            expect(endpoint.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
            endpoint.get_by_role("button", name="Details of deployment blue of scoring").click()
            detail = page.locator('.jp-ModelHub-deploymentDetail[data-deployment="blue"]')
            expect(detail.locator(".jp-ModelHub-detailTitle")).to_have_text("scoring / blue")
            expect(detail.locator(".jp-ModelHub-restartCount")).to_have_text("0")
            expect(detail.locator(".jp-ModelHub-lastCrash")).to_have_text("never")
            key = lab.get("endpoints/scoring/keys").json()["primary"]
            expect(detail.locator(".jp-ModelHub-key")).to_have_text("••••••••••••")
            assert key not in page.content(), "the key is never put in the page"

            # Try it: prefilled from the input example, answered through the server with its latency.
            body = detail.get_by_role("textbox", name="Request body for scoring")
            expect(body).to_have_value(re.compile(r'^\{\s*"data": \[\s*\['))
            detail.get_by_role("button", name="Send the request to scoring").click()
            answer = detail.get_by_role("status", name="Answer")
            expect(answer.locator(".jp-ModelHub-httpStatus")).to_have_text("HTTP 200")
            expect(answer.locator(".jp-ModelHub-latency")).to_have_text(re.compile(r"^\d+\.\d ms$"))
            expect(answer).to_contain_text("served by blue")
            expect(answer.locator(".jp-ModelHub-tryAnswer")).to_contain_text("predictions")
            # A body the model refuses: the endpoint's own answer, shown as is.
            body.fill('{"data": "not rows"}')
            detail.get_by_role("button", name="Send the request to scoring").click()
            expect(answer.locator(".jp-ModelHub-httpStatus")).to_have_text("HTTP 400")

            # The monitoring strip counts those two requests; the log follows.
            expect(detail.locator('[data-figure="requests"] dd')).to_have_text(re.compile(r"^[12]$"), timeout=LIVE)
            expect(detail.locator('[data-figure="errors"] dd')).to_have_text(re.compile(r"^[01]$"))
            expect(detail.locator('[data-figure="p50"] dd')).to_have_text(re.compile(r"ms|s|\u2013"))
            expect(detail.get_by_role("region", name="Log").locator("pre")).not_to_have_text(
                "Nothing logged yet.", timeout=LIVE
            )

            # Traffic that does not add up: a live total says so as it is typed, Save waits, nothing changes.
            share = detail.get_by_role("spinbutton", name="Live traffic to blue (percent)")
            expect(share).to_have_attribute("max", "100")
            share.fill("90")
            expect(detail.locator(".jp-ModelHub-trafficTotal td")).to_have_text("90%")
            expect(detail.locator(".jp-ModelHub-trafficProblem")).to_have_text("The shares add up to 90%, not 100%.")
            expect(detail.get_by_role("button", name="Save the traffic of scoring")).to_be_disabled()
            assert "add up to 100" in bad.json()["message"]  # the server says the same when asked
            assert lab.get("endpoints/scoring").json()["traffic"] == {"blue": 100}
            screenshot(page, "deployment-detail")
            use_theme(page, "JupyterLab Dark")
            screenshot(page, "deployment-detail-dark")
            use_theme(page, "JupyterLab Light")

            # "Register as model" on a .joblib file in the file browser: asks the name, shows the version.
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[title^='File Browser']").click()
            item = page.locator('.jp-DirListing-item[title^="Name: churn.joblib"]')
            expect(item).to_be_visible()
            item.click(button="right")
            page.get_by_role("menuitem", name="Register as Model…").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog.locator("input")).to_have_value("churn")
            dialog.get_by_role("button", name="OK").click()
            new = page.locator('.jp-ModelHub-versionDetail[data-ref="churn:1"]')
            expect(new.locator(".jp-ModelHub-flavorBadge").first).to_have_text("sklearn", timeout=LIVE)
            expect(new.get_by_role("table", name="Files of churn:1")).to_contain_text("churn.joblib")
            selected = panel.locator('.jp-ModelHub-model[data-model="churn"] .jp-ModelHub-version[data-version="1"]')
            expect(selected).to_have_class(re.compile(r"\bjp-mod-selected\b"))
            assert lab.get("models/churn/versions/1").json()["flavor"] == "sklearn"
            screenshot(page, "register-from-file-browser")

            # A folder registers too, keeping its name; a notebook is not offered.
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[title^='File Browser']").click()
            (lab.root / "root" / "notes.ipynb").write_text(
                '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
            )
            bundle = lab.root / "root" / "bundle"
            bundle.mkdir()
            joblib.dump(LogisticRegression().fit(X, y), bundle / "model.joblib")
            (bundle / "README.txt").write_text("a model and its notes\n")
            page.get_by_role("button", name=re.compile("Refresh the file browser", re.I)).first.click()
            page.locator('.jp-DirListing-item[title^="Name: bundle"]').click(button="right")
            page.get_by_role("menuitem", name="Register as Model…").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog.locator("input")).to_have_value("bundle")
            dialog.get_by_role("button", name="OK").click()
            folder = page.locator('.jp-ModelHub-versionDetail[data-ref="bundle:1"]')
            expect(folder.get_by_role("table", name="Files of bundle:1")).to_contain_text(
                "bundle/model.joblib", timeout=LIVE
            )
            expect(folder.get_by_role("table", name="Files of bundle:1")).to_contain_text("bundle/README.txt")
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[title^='File Browser']").click()
            notebook = page.locator('.jp-DirListing-item[title^="Name: notes.ipynb"]')
            notebook.click(button="right")
            expect(page.get_by_role("menuitem", name="Register as Model…")).to_have_count(0)
            page.keyboard.press("Escape")
            assert errors == [], errors
    finally:
        client.undeploy("scoring")


def test_the_last_deployment_is_removed_with_its_endpoint(lab: LabServer) -> None:
    """The server keeps an endpoint's last deployment unless the endpoint goes too (409 otherwise):
    the detail view of a lone deployment offers "Delete endpoint", says what goes, and does it."""
    from playwright.sync_api import expect

    client = lab.client()
    client.register("lone", LogisticRegression().fit(X, y), sample=X[:3])
    client.deploy("lone-ep", "lone:1")
    try:
        with chromium_page() as (page, errors):
            panel = open_panel(page, lab)
            endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="lone-ep"]')
            expect(endpoint.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
            endpoint.get_by_role("button", name="Details of deployment blue of lone-ep").click()
            detail = page.locator('.jp-ModelHub-deploymentDetail[data-deployment="blue"][data-endpoint="lone-ep"]')
            expect(detail.get_by_role("button", name="Remove deployment blue from lone-ep")).to_have_count(0)
            detail.get_by_role("button", name="Delete endpoint lone-ep").click()
            dialog = page.locator(".jp-Dialog")
            expect(dialog).to_contain_text("blue is the last deployment of lone-ep")
            dialog.get_by_role("button", name="Delete endpoint").click()
            expect(endpoint).to_have_count(0, timeout=LIVE)
            assert lab.get("endpoints/lone-ep").status_code == 404
            assert errors == [], errors
    finally:
        if lab.get("endpoints/lone-ep").status_code == 200:
            client.undeploy("lone-ep")


def test_images_and_environments_sections_with_a_real_build(lab_with_docker: LabServer, oci_registry) -> None:
    from playwright.sync_api import expect

    lab = lab_with_docker
    client = lab.client()
    client.register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    started = lab.post("models/scorer/versions/1/convert")
    assert lab.wait_ended(f"operations/{started.json()['id']}")["status"] == "succeeded"
    with chromium_page() as (page, errors):
        panel = open_panel(page, lab)
        images = panel.get_by_role("region", name="Images")
        images.locator(".jp-ModelHub-sectionToggle").click()
        expect(images.locator(".jp-ModelHub-empty")).to_contain_text("No images")
        environments = panel.get_by_role("region", name="Environments")
        environments.locator(".jp-ModelHub-sectionToggle").click()

        # Package from the version's context menu: the build runs as an operation, then the image shows.
        panel.locator('.jp-ModelHub-model[data-model="scorer"] .jp-ModelHub-modelButton').click()
        version = panel.locator('.jp-ModelHub-version[data-version="2"]')
        version.locator(".jp-ModelHub-versionHeader").click(button="right")
        page.get_by_role("menuitem", name="Package").click()
        image = images.locator('.jp-ModelHub-image[data-tag="modelhub/scorer:2"]')
        expect(image).to_be_visible(timeout=240_000)
        expect(image.locator(".jp-ModelHub-imageSize")).to_have_text(re.compile(r"\d+(\.\d)? (MB|GB)"))
        expect(image.get_by_role("button", name="Details of scorer:2")).to_be_visible()
        image.get_by_role("button", name="Show the build report of modelhub/scorer:2").click()
        report = image.get_by_role("table", name="Build report of modelhub/scorer:2")
        expect(report.locator("tbody tr").first).to_be_visible()
        expect(report).to_contain_text(re.compile("reused|rebuilt"))
        expect(environments.locator(".jp-ModelHub-environment").first).to_be_visible(timeout=LIVE)

        # Push from the image's detail: a bad reference is the server's one line; a good one lists
        # the pushed reference and its digest-pinned form.
        expect(image.locator(".jp-ModelHub-imagePushes")).to_contain_text("Not pushed")
        field = image.get_by_role("textbox", name="Push modelhub/scorer:2 to")
        field.fill("scorer")
        image.get_by_role("button", name="Push modelhub/scorer:2").click()
        expect(image.get_by_role("alert")).to_contain_text("name the registry first", timeout=LIVE)
        field.fill(f"{oci_registry.host}/panel/scorer")
        image.get_by_role("button", name="Push modelhub/scorer:2").click()
        pushed = image.locator(f'.jp-ModelHub-push[data-reference="{oci_registry.host}/panel/scorer:2"]')
        expect(pushed).to_be_visible(timeout=240_000)
        expect(pushed.locator(".jp-ModelHub-pushPinned")).to_contain_text(f"{oci_registry.host}/panel/scorer@sha256:")
        expect(image.locator(".jp-ModelHub-imagePushed")).to_be_visible()
        assert oci_registry.tags("panel/scorer") == ["2"]
        screenshot(page, "images-environments")
        assert errors == [], errors


@pytest.fixture
def lab_with_docker(tmp_path_factory, docker_client) -> LabServer:
    require_prerequisites()
    server = start_lab(
        tmp_path_factory.mktemp("lab"),
        args=(f"--Packager.base_image={BASE_IMAGE}", "--ModelConverter.timing_budget=0.1"),
    )
    try:
        yield server
    finally:
        server.stop()
