"""Browser tests of the model card on a version's detail (issue 21) and the monitor report on an
endpoint's page (issues 22 and 23).

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension; a scikit-learn model
registered with a sample of 3000 rows (so a reference profile is stored), deployed with payload
collection on; drifted traffic sent to the endpoint over HTTP as any client's would (two of six
features shifted); Debian's Chromium. The tests wait for the host's own counts (every request
committed), never for time. Screenshots in tests/artifacts/screenshots/ (light and dark).
"""

from __future__ import annotations

import pytest
import requests

from helpers.monitoring import CLF, FEATURES, TRAIN, draw
from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot, use_theme
from helpers.servers import wait_until

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
PROMPT = "unknown (edit this section and save the card: %card NAME:VERSION --edit FILE)"
INTENDED = "Scores churn risk for the growth team's weekly outreach list."

lab = lab_fixture("--DeploymentManager.collect_roll_seconds=0.5")


def send_drifted_traffic(lab: LabServer, endpoint: str, requests_: int = 20) -> None:
    """``requests_`` requests of 50 drifted rows each to the endpoint, then wait until its host
    committed every one of them."""
    client = lab.client()
    info = client.endpoint(endpoint)
    headers = {"Authorization": f"Bearer {info.key}"}
    for _ in range(requests_):
        rows = draw(50, shift=True)
        answer = requests.post(info["url"] + "/score", json={"data": rows.to_numpy().tolist()}, headers=headers)
        assert answer.status_code == 200, answer.text

    def committed():
        now = client.endpoint(endpoint)["collect"]
        return now["sampled"] >= requests_ and now["committed"] == now["sampled"]

    wait_until(committed, 60, f"{endpoint}'s host to commit {requests_} records")


def test_model_card_shown_downloaded_and_edited(lab: LabServer) -> None:
    from playwright.sync_api import expect

    lab.client().register("churn", CLF, sample=TRAIN)

    with chromium_page(width=1440, height=1000) as (page, errors):
        panel = open_panel(page, lab)
        model = panel.locator('.jp-ModelHub-model[data-model="churn"]')
        model.locator(".jp-ModelHub-modelButton").click()
        model.get_by_role("button", name="Details of churn:1", exact=True).click()
        detail = page.locator('.jp-ModelHub-versionDetail[data-ref="churn:1"]')
        card = detail.get_by_role("region", name="Model card")
        body = card.get_by_role("article", name="Model card of churn:1")

        # The card as the server renders it: the model's name and its signature's inputs.
        expect(body.locator("h1")).to_contain_text("churn")
        expect(body).to_contain_text("f0")
        expect(body).to_contain_text("f5")
        expect(body).to_contain_text(PROMPT.split(" (")[0])

        # The download is the card's Markdown.
        link = card.get_by_role("link", name="Download the model card of churn:1 (.md)")
        href = link.get_attribute("href")
        markdown = requests.get(href, headers={"Authorization": f"token {lab.token}"}, timeout=30)
        assert markdown.status_code == 200, markdown.text
        assert "### Intended use" in markdown.text and "churn" in markdown.text

        # Edit: a refusal stays in the dialog with the text typed; a good card saves and shows.
        card.get_by_role("button", name="Edit the written sections of the card of churn:1").click()
        dialog = page.locator(".jp-Dialog")
        editor = dialog.get_by_label("Model card (Markdown)")
        expect(editor).to_have_value(markdown.text)
        editor.fill("no sections here")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.get_by_role("alert")).to_contain_text("none of the sections people write")
        expect(editor).to_have_value("no sections here")
        edited = markdown.text.replace(f"### Intended use\n\n{PROMPT}", f"### Intended use\n\n{INTENDED}", 1)
        assert edited != markdown.text
        editor.fill(edited)
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_have_count(0)
        expect(body).to_contain_text(INTENDED)
        assert lab.get("models/churn/versions/1/card").json()["sections"]["intended_use"] == INTENDED
        body.get_by_role("heading", name="Intended use").scroll_into_view_if_needed()
        screenshot(page, "model-card-light")
        use_theme(page, "JupyterLab Dark")
        expect(body).to_contain_text(INTENDED)
        body.get_by_role("heading", name="Intended use").scroll_into_view_if_needed()
        screenshot(page, "model-card-dark")
        assert not errors, errors


def test_endpoint_page_monitoring_marks_drifted_features(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("churn", CLF, sample=TRAIN)
    client.deploy("churn-ep", "churn:1", collect=["requests", "responses"])

    with chromium_page(width=1440, height=1000) as (page, errors):
        panel = open_panel(page, lab)
        endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="churn-ep"]')
        expect(endpoint.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
        endpoint.get_by_role("button", name="Page of endpoint churn-ep").click()
        page_ = page.locator('.jp-ModelHub-endpointPage[data-endpoint="churn-ep"]')
        monitoring = page_.get_by_role("region", name="Monitoring over time")

        # Nothing collected yet: the server's reason, not a failure.
        expect(monitoring.locator(".jp-ModelHub-monitorEmpty")).to_contain_text("Nothing to monitor")

        send_drifted_traffic(lab, "churn-ep")
        monitoring.get_by_role("button", name="Refresh the monitoring of churn-ep").click()

        # One row per feature, in the signature's order; exactly the shifted ones drifted.
        features = monitoring.get_by_role("table", name="Drift per feature").locator("tbody tr")
        expect(features).to_have_count(6, timeout=LIVE)
        for i, name in enumerate(FEATURES):
            row = features.nth(i)
            expect(row).to_have_attribute("data-feature", name)
            drifted = name in ("f2", "f4")
            expect(row).to_have_attribute("data-drifted", "true" if drifted else "false")
            expect(row.locator(".jp-ModelHub-driftBadge")).to_have_text("drifted" if drifted else "stable")
            expect(row.get_by_role("img", name=f"Shares per bin of {name}: reference and current")).to_be_visible()
        expect(monitoring.locator(".jp-ModelHub-monitorVerdict")).to_have_text("Drifted: f2, f4.")
        expect(monitoring.locator(".jp-ModelHub-monitorSummary")).to_contain_text("1000 rows from 20 answered requests")
        expect(monitoring.get_by_role("table", name="Drift of the predictions")).to_be_visible()

        # The window picker asks again: the last hour holds the same traffic.
        monitoring.get_by_label("Window").select_option("1h")
        expect(monitoring.locator(".jp-ModelHub-monitorVerdict")).to_have_text("Drifted: f2, f4.", timeout=LIVE)

        monitoring.scroll_into_view_if_needed()
        screenshot(page, "endpoint-monitoring-light")
        use_theme(page, "JupyterLab Dark")
        monitoring.scroll_into_view_if_needed()
        screenshot(page, "endpoint-monitoring-dark")
        assert not errors, errors
