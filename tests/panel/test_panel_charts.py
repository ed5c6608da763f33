"""Browser test of "Traffic over time" on an endpoint's page (issue 23): the server's history of
the endpoint's traffic drawn per deployment (requests and errors per second, p50/p95/p99
latency), with a range picker, in light and dark themes and in a main area about 300 px wide.

A real ``jupyter lab`` (tests/helpers/panel.py) whose server reads its endpoints' counters every
0.5 s, a real scikit-learn model deployed as a notebook would (the project's client), real HTTP
traffic to the endpoint (good requests and 400s), Debian's Chromium. Screenshots in
tests/artifacts/screenshots/endpoint-charts-{light,dark,300}.png.
"""

from __future__ import annotations

import re

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot, sidebar_width, use_theme

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: the page reads the history every 10 s
# ms: a line needs points in two of the hour's 30 s steps, so up to a minute of recorded traffic
LINE = 75_000
X, y = make_classification(60, 4, random_state=0)

lab = lab_fixture("--DeploymentManager.metrics_interval=0.5")


def test_endpoint_page_charts_traffic_over_time(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("charted", LogisticRegression().fit(X, y), sample=X[:3])
    endpoint = client.deploy("charts", "charted:1")
    key = lab.get("endpoints/charts/keys").json()["primary"]

    def send(body: object, count: int, status: int) -> None:
        for _ in range(count):
            answer = requests.post(
                endpoint["url"] + "/score", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            assert answer.status_code == status, answer.text

    with chromium_page(width=1440, height=1000) as (page, errors):
        panel = open_panel(page, lab)
        item = panel.locator('.jp-ModelHub-endpoint[data-endpoint="charts"]')
        expect(item.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
        item.get_by_role("button", name="Page of endpoint charts").click()
        charts = page.locator('.jp-ModelHub-endpointPage[data-endpoint="charts"]').get_by_role(
            "region", name="Traffic over time"
        )
        expect(charts.get_by_label("Range")).to_have_value("1h")
        expect(charts.locator(".jp-ModelHub-chartsEmptyTitle")).to_have_text("No traffic recorded yet", timeout=LIVE)

        # Traffic, some of it refused (400): blue's requests line, its errors, its latency.
        send({"data": X[:2].tolist()}, 20, 200)
        send({"not data": 1}, 5, 400)
        blue = charts.locator('.jp-ModelHub-chartGroup[data-deployment="blue"]')
        expect(blue.locator("h3")).to_have_text("blue", timeout=LIVE)
        traffic = blue.locator('[data-chart="requests"]')
        expect(traffic.get_by_role("img")).to_have_accessible_name("Requests of blue, last hour")
        expect(traffic.locator(".jp-ModelHub-chartKey")).to_have_text(["requests/s", "errors/s"])
        expect(blue.locator('[data-chart="latency"] .jp-ModelHub-chartKey')).to_have_text(["p50", "p95", "p99"])
        # the requests drawn once the server has counted them: a dot for one step, then a line
        expect(
            traffic.locator('[data-series="requests"] circle, [data-series="requests"] path[d^="M"]')
        ).not_to_have_count(0, timeout=LIVE)
        send({"data": X[:1].tolist()}, 5, 200)
        line = traffic.locator('[data-series="requests"] path.jp-ModelHub-chartLine')
        expect(line).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+L"), timeout=LINE)
        expect(traffic.locator('[data-series="errors"] path, [data-series="errors"] circle')).not_to_have_count(0)
        # the y axis is labelled in requests per second, the x axis in times of day
        expect(traffic.locator(".jp-ModelHub-chartUnit")).to_have_text("per s")
        expect(traffic.locator(".jp-ModelHub-chartTime").first).to_have_text(re.compile(r"^\d\d:\d\d$"))
        expect(charts).to_contain_text("one point per 30 s")
        charts.scroll_into_view_if_needed()
        screenshot(page, "endpoint-charts-light")

        # The range picker: the server answers the 6 hours in 3 min steps; blue is still drawn.
        charts.get_by_label("Range").select_option("6h")
        expect(charts).to_contain_text("one point per 3 min", timeout=LIVE)
        expect(traffic.get_by_role("img")).to_have_accessible_name("Requests of blue, last 6 hours")
        expect(
            traffic.locator('[data-series="requests"] circle, [data-series="requests"] path[d^="M"]')
        ).not_to_have_count(0)
        charts.get_by_label("Range").select_option("1h")
        expect(charts).to_contain_text("one point per 30 s", timeout=LIVE)
        expect(line).to_have_attribute("d", re.compile(r"^M[\d.]+,[\d.]+L"), timeout=LIVE)

        use_theme(page, "JupyterLab Dark")
        charts.scroll_into_view_if_needed()
        screenshot(page, "endpoint-charts-dark")

        # About 300 px of main area: the charts stack and scale down.
        page.set_viewport_size({"width": 680, "height": 1000})
        sidebar_width(page, 330)
        width = charts.bounding_box()["width"]
        assert width <= 320, width
        charts.scroll_into_view_if_needed()
        screenshot(page, "endpoint-charts-300")
        assert errors == []
