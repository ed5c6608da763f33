"""Browser tests of the panel's lists (issue 23, defects 6, 7 and 9): with many models each section
scrolls on its own (Endpoints and Activity stay in reach), models sort by name or by last update,
archived versions come back with "Show archived", and a version deleted while its tab is open says
so and stops asking the server for it.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, models registered
through REST, and Debian's Chromium driven by Playwright; screenshots in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import json

import pytest

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot

pytestmark = pytest.mark.timeout(240)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
MANY = 40

lab = lab_fixture()


def archive(lab: LabServer, name: str, version: int) -> None:
    response = lab.session.patch(
        lab.api + f"models/{name}/versions/{version}",
        data=json.dumps({"archived": True}),
        headers=lab._headers(**{"Content-Type": "application/json"}),
        timeout=30,
    )
    assert response.status_code == 200, response.text


def test_sections_scroll_sort_and_show_archived(lab: LabServer) -> None:
    from playwright.sync_api import expect

    for i in range(MANY):
        lab.register(f"model-{i:02d}", flavor="custom")
    lab.register("aaa-old", flavor="custom")
    archive(lab, "aaa-old", 1)  # its only version: the model is listed only with "Show archived"
    lab.register("model-05", flavor="custom")  # model-05 is now the most recently updated
    with chromium_page(height=900) as (page, errors):
        panel = open_panel(page, lab)
        models = panel.get_by_role("region", name="Models")
        expect(models.locator(".jp-ModelHub-model")).to_have_count(MANY, timeout=LIVE)

        # The models scroll inside their section; the Endpoints and Activity headings stay on screen.
        body = models.locator(".jp-ModelHub-sectionBody")
        assert body.evaluate("b => b.scrollHeight > b.clientHeight + 100")
        for name in ("Endpoints", "Activity"):
            expect(panel.get_by_role("region", name=name).locator(".jp-ModelHub-sectionToggle")).to_be_in_viewport()
        screenshot(page, "many-models")

        # Most recently updated first (the server's order), or by name.
        expect(models.locator(".jp-ModelHub-model").first).to_have_attribute("data-model", "model-05")
        models.get_by_label("Sort models").select_option("name")
        expect(models.locator(".jp-ModelHub-model").first).to_have_attribute("data-model", "model-00")
        expect(models.locator(".jp-ModelHub-model").nth(5)).to_have_attribute("data-model", "model-05")

        # Archived: hidden, and back with "Show archived", marked as such.
        expect(models.locator('.jp-ModelHub-model[data-model="aaa-old"]')).to_have_count(0)
        models.get_by_role("checkbox", name="Show archived").check()
        old = models.locator('.jp-ModelHub-model[data-model="aaa-old"]')
        expect(old).to_have_count(1)
        old.locator(".jp-ModelHub-modelButton").click()
        expect(old.locator(".jp-ModelHub-version .jp-ModelHub-archived")).to_have_text("archived")
        assert errors == [], errors


def test_a_deleted_version_tab_says_so_and_stops_polling(lab: LabServer) -> None:
    from playwright.sync_api import expect

    lab.register("churn", flavor="custom")
    lab.register("churn", flavor="custom")
    with chromium_page() as (page, errors):
        panel = open_panel(page, lab)
        churn = panel.locator('.jp-ModelHub-model[data-model="churn"]')
        churn.locator(".jp-ModelHub-modelButton").click()
        churn.get_by_role("button", name="Details of churn:2", exact=True).click()
        detail = page.locator('.jp-ModelHub-versionDetail[data-ref="churn:2"]')
        expect(detail.get_by_role("button", name="Delete churn:2")).to_be_enabled()

        # Deleted elsewhere (a notebook, another user): the tab says so, with no action left.
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        deleted = lab.session.delete(lab.api + "models/churn/versions/2", headers=lab._headers(), timeout=30)
        assert deleted.status_code == 200, deleted.text
        expect(detail.locator(".jp-ModelHub-deletedNote")).to_have_text(
            "churn:2 was deleted from the registry: its files are gone and no action can be taken on it. "
            "Close this tab.",
            timeout=LIVE,
        )
        expect(detail.locator(".jp-ModelHub-action")).to_have_count(0)
        screenshot(page, "deleted-version-tab")

        # Later rounds of the panel's poll (new registrations) do not ask for it again.
        asked.clear()
        lab.register("other", flavor="custom")  # an event: the poll reloads the models and open views
        expect(panel.locator('.jp-ModelHub-model[data-model="other"]')).to_be_visible(timeout=LIVE)
        assert not [url for url in asked if "/models/churn/versions/2" in url], asked
        assert errors == [], errors
