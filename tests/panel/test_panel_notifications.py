"""Browser test of the panel's notifications (issue 23): a conversion started from the panel ends
in a JupyterLab notification, whose link opens what it made; a failed one says why and stays.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, a real
scikit-learn model registered as a notebook would, Debian's Chromium. Screenshots in
tests/artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot

pytestmark = pytest.mark.timeout(300)

CONVERT = 60_000  # ms: a conversion checks equivalence and times both models
X, y = make_classification(120, 4, random_state=0)

lab = lab_fixture("--ModelConverter.timing_budget=0.1")


def test_a_conversion_started_from_the_panel_notifies_when_it_ends(lab: LabServer) -> None:
    from playwright.sync_api import expect

    lab.client().register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    with chromium_page(width=1440, height=900) as (page, errors):
        panel = open_panel(page, lab)
        scorer = panel.locator('.jp-ModelHub-model[data-model="scorer"]')
        scorer.locator(".jp-ModelHub-modelButton").click()
        scorer.get_by_role("button", name="Convert scorer:1 to ONNX").click()
        form = page.locator(".jp-ModelHub-convertForm")
        form.locator(".jp-ModelHub-submit").click()
        expect(form).to_have_count(0)

        # The notification: what finished, what it made, a link to it.
        toast = page.locator(".jp-Notification-Toast-success", has_text="Conversion of scorer:1 finished: scorer:2.")
        expect(toast).to_be_visible(timeout=CONVERT)
        # one notification per operation, however many rounds of the poll saw it ended
        expect(page.locator(".jp-Notification-Toast-success")).to_have_count(1)
        # it slides in: the screenshot waits until it has arrived
        page.wait_for_function(
            "() => { const t = document.querySelector('.jp-Notification-Toast-success');"
            " return t && !/enter/.test(t.className) && t.getBoundingClientRect().right <= innerWidth; }"
        )
        screenshot(page, "notification-conversion")
        toast.get_by_role("button", name="Open scorer:2").click()
        detail = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:2"]')
        expect(detail.locator(".jp-ModelHub-flavorBadge")).to_have_text("onnx")
        assert errors == []
