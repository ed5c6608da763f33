"""Browser tests of an endpoint's main-area page (issue 23), opened from its name in the panel: its
deployments, the traffic editor with its live total and a rollback confirmed by what it returns
to, the masked key, try-it with a deployment picker, the logs with "hide probes", the history with
"what served at", payload collection switched on and off with its counts, and the Monitoring
section saying why there is nothing to monitor yet; and a notification when a conversion started from the
panel ends, whose link opens what it made.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, real scikit-learn
models deployed as a notebook would (REST, the project's client), Debian's Chromium. Screenshots
in tests/artifacts/screenshots/ (light, dark, and the sidebar at 300 px).
"""

from __future__ import annotations

import re

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot, sidebar_width, use_theme

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
CONVERT = 60_000  # ms: a conversion checks equivalence and times both models
X, y = make_classification(120, 4, random_state=0)

lab = lab_fixture("--ModelConverter.timing_budget=0.1")


def test_endpoint_page_deployments_traffic_keys_logs_history_collection(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    client.register("scorer", LogisticRegression(C=0.5).fit(X, y), sample=X[:3])
    client.deploy("scoring", "scorer:1")
    client.deploy("scoring", "scorer:2", deployment="green", traffic={"blue": 100, "green": 0})
    client.set_traffic("scoring", {"blue": 80, "green": 20})
    key = lab.get("endpoints/scoring/keys").json()["primary"]

    with chromium_page(width=1440, height=1000) as (page, errors):
        panel = open_panel(page, lab)
        endpoint = panel.locator('.jp-ModelHub-endpoint[data-endpoint="scoring"]')
        expect(endpoint.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
        endpoint.get_by_role("button", name="Page of endpoint scoring").click()
        page_ = page.locator('.jp-ModelHub-endpointPage[data-endpoint="scoring"]')
        expect(page_.locator(".jp-ModelHub-detailTitle")).to_have_text("scoring")

        # Deployments, with what they serve and their share.
        rows = page_.locator(".jp-ModelHub-pageDeployments tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("scorer:1")
        expect(rows.nth(1)).to_contain_text("scorer:2")
        expect(rows.nth(1)).to_contain_text("20%")

        # The key: masked, never in the page.
        expect(page_.locator(".jp-ModelHub-keys .jp-ModelHub-key")).to_have_text("••••••••••••")
        assert key not in page.content()

        # The traffic editor (live total) and the history of the change.
        traffic = page_.get_by_role("region", name="Traffic")
        expect(traffic.get_by_role("spinbutton", name="Live traffic to green (percent)")).to_have_value("20")
        expect(traffic.locator(".jp-ModelHub-trafficTotal td")).to_have_text("100%")
        history = page_.get_by_role("region", name="History of scoring")
        newest = history.locator(".jp-ModelHub-timelineEntry").first
        expect(newest).to_have_attribute("data-action", "traffic.changed")
        expect(newest.locator(".jp-ModelHub-timelineChange")).to_have_text(
            "blue 100%, green 0% \u2192 blue 80%, green 20%"
        )
        expect(history.locator('.jp-ModelHub-timelineEntry[data-action="deployment.changed"]')).to_have_count(2)

        # Try it on green (the picker), then its request in green's log; probes hidden.
        try_it = page_.get_by_role("region", name="Try it")
        try_it.get_by_label("Send to").select_option("green")
        try_it.get_by_role("button", name="Send the request to scoring").click()
        expect(try_it.get_by_role("status", name="Answer")).to_contain_text("served by green")
        logs = page_.get_by_role("region", name="Logs")
        logs.get_by_label("Deployment").select_option("green")
        log = logs.locator(".jp-ModelHub-deploymentLog")
        expect(log).to_contain_text('"POST /score', timeout=LIVE)
        expect(logs.get_by_label("Hide probes (health, readiness, metrics)")).to_be_checked()
        assert not re.search(r'"GET /(v2/health|metrics|ping)', log.inner_text())

        # Rollback from the traffic editor: the confirmation names what it returns to.
        traffic.get_by_role("button", name="Roll back the traffic of scoring").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("The traffic returns to blue 100%, green 0%")
        dialog.get_by_role("button", name="Roll back").click()
        expect(traffic.locator(".jp-ModelHub-changeOutcome")).to_have_text(
            re.compile("Traffic of scoring is back to blue 100%, green 0%")
        )
        assert lab.get("endpoints/scoring").json()["traffic"] == {"blue": 100, "green": 0}
        expect(traffic.get_by_role("spinbutton", name="Live traffic to green (percent)")).to_have_value(
            "0", timeout=LIVE
        )
        expect(newest.locator(".jp-ModelHub-timelineChange")).to_have_text(
            "blue 80%, green 20% \u2192 blue 100%, green 0%", timeout=LIVE
        )
        expect(newest.locator(".jp-ModelHub-timelineClient")).to_have_text(" (from the panel)")

        # What served at a moment (now, in the browser's time): both deployments, with their versions.
        now = page.evaluate(
            "() => { const d = new Date(Date.now() + 60000); d.setMinutes(d.getMinutes() - d.getTimezoneOffset());"
            " return d.toISOString().slice(0, 19); }"
        )
        history.get_by_label("What served at").fill(now)
        served = history.get_by_role("status", name="What served then")
        expect(served).to_contain_text("blue: scorer:1 (100% of live traffic")
        expect(served).to_contain_text("green: scorer:2 (0% of live traffic")

        # Payload collection: on, with its counts; off again.
        collection = page_.get_by_role("region", name="Payload collection")
        expect(collection.locator(".jp-ModelHub-collectState")).to_have_text(
            "Off: requests and answers are not recorded."
        )
        collection.get_by_role("button", name="Collect requests and answers on scoring").click()
        expect(collection.locator(".jp-ModelHub-collectState")).to_have_text(
            re.compile(r"^On: requests and responses, 100% of requests"), timeout=LIVE
        )
        expect(collection.locator('[data-figure="sampled"] dd')).to_have_text(re.compile(r"^\d+$"))

        # Monitoring: nothing was collected when the page opened; the server's reason is shown
        # (the report itself: test_panel_cards_monitoring.py).
        expect(page_.locator(".jp-ModelHub-monitorEmpty")).to_contain_text("Nothing to monitor: Endpoint 'scoring'")
        page_.get_by_role("region", name="Deployments").scroll_into_view_if_needed()
        screenshot(page, "endpoint-page-light")
        collection.scroll_into_view_if_needed()
        screenshot(page, "endpoint-page-collection-light")
        collection.get_by_role("button", name="Stop collecting on scoring").click()
        expect(collection.locator(".jp-ModelHub-collectState")).to_have_text(
            "Off: requests and answers are not recorded.", timeout=LIVE
        )
        use_theme(page, "JupyterLab Dark")
        history.scroll_into_view_if_needed()
        screenshot(page, "endpoint-page-dark")
        sidebar_width(page, 300)
        screenshot(page, "endpoint-page-sidebar-300")
        assert errors == []
