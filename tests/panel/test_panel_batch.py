"""Browser test of the panel's Batch section: a finished and a failed batch job, run by the server
(papermill and Dask) as a notebook's %batch would start them, shown with their state, the output
path, the per-mini-batch table with the failure explained, and a button that opens the executed
notebook in JupyterLab. Leaves tests/artifacts/screenshots/batch.png.

Needs Chromium and the built labextension (skipped without them, failed under CI).
"""

from __future__ import annotations

import re

import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot

pytestmark = [pytest.mark.timeout(300), pytest.mark.kernel]  # the jobs run papermill


lab = lab_fixture()


def _run_job(lab: LabServer, body: dict) -> dict:
    response = lab.post("jobs", body)
    assert response.status_code == 202, response.text
    return lab.wait_ended(f"jobs/{response.json()['id']}")


def test_batch_section_with_a_finished_and_a_failed_job(lab: LabServer) -> None:
    from playwright.sync_api import expect

    X, y = make_classification(60, 4, random_state=0)
    lab.client().register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    root = lab.root / "root"
    (root / "good.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, row)) for row in X[:20]) + "\n")
    (root / "bad.csv").write_text("a,b\n1,2\n")
    good = _run_job(lab, {"model": "scorer:1", "inputs": [str(root / "good.csv")]})
    bad = _run_job(lab, {"model": "scorer:1", "inputs": [str(root / "bad.csv")], "settings": {"error_threshold": 0}})
    assert (good["status"], bad["status"]) == ("succeeded", "failed")

    with chromium_page() as (page, errors):
        panel = open_panel(page, lab)
        batch = panel.get_by_role("region", name="Batch")
        batch.locator(".jp-ModelHub-sectionToggle").click()
        finished = batch.locator(f'.jp-ModelHub-job[data-job="{good["id"]}"]')
        failed = batch.locator(f'.jp-ModelHub-job[data-job="{bad["id"]}"]')
        expect(finished.locator(".jp-ModelHub-jobStatus")).to_have_text("succeeded")
        expect(finished.locator(".jp-ModelHub-jobSummary")).to_contain_text("rows out: 20")
        expect(finished.locator(".jp-ModelHub-jobOutput")).to_have_text(good["output"])
        expect(failed.locator(".jp-ModelHub-jobStatus")).to_have_text("failed")
        expect(failed.locator(".jp-ModelHub-operationError")).to_have_text(bad["error"]["message"])

        # The per-mini-batch table says which file failed and why.
        failed.get_by_role("button", name=f"Show the mini-batches of job {bad['job']}").click()
        table = failed.get_by_role("table", name=f"Mini-batches of job {bad['job']}")
        expect(table.locator("tbody")).to_have_count(1)  # one mini-batch: its row, and why under it
        expect(table.locator("tbody tr").first).to_have_attribute("data-status", "failed")
        expect(table).to_contain_text("bad.csv")
        expect(table).to_contain_text(re.compile("2 columns and the model takes 4 features"))
        screenshot(page, "batch")

        # The executed notebook (the job's log) opens read-only: rendered by nbconvert, no kernel, no
        # notebook document that could be modified and saved over the log.
        kernels_before = lab.session.get(lab.url + "api/kernels", headers=lab._headers()).json()
        finished.get_by_role("button", name=f"Open the executed notebook of job {good['job']}").click()
        expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text=f"job {good['job']} (read-only)")).to_be_visible()
        frame = page.frame_locator(".jp-ModelHub-notebookPage iframe")
        expect(frame.locator(".jp-Cell, .cell").first).to_be_visible(timeout=30_000)
        expect(page.locator(".jp-Notebook")).to_have_count(0)
        assert lab.session.get(lab.url + "api/kernels", headers=lab._headers()).json() == kernels_before
        screenshot(page, "batch-notebook-read-only")
        assert errors == [], errors
