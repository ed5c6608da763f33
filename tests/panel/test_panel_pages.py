"""Browser tests of the panel's pages and reports (issue 23, defects 4 and 5): a version's page with
its conversion reports rendered as the notebook renders them (no raw ``original.latency`` keys),
its input example and signature as tables, sizes in words, tags edited in place; Compare with the
metrics first and the timing internals apart; a batch job's page (the notebook's "why" columns,
failures, the read-only notebook) and an image's page (the build report as a table), opened from
the sidebar, whose own tables keep to the columns that fit.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, real models
registered and converted through REST as a notebook would, real batch jobs (papermill) and a real
image build (Docker). Each test leaves pictures in tests/artifacts/screenshots/ (light, dark, and
the sidebar at 300 px) that the README shows.

Needs Chromium and the built labextension; without them the tests skip, except under CI.
"""

from __future__ import annotations

import json
import re
import secrets

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
    sidebar_width,
    start_lab,
    use_theme,
)

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
X, y = make_classification(120, 4, random_state=0)

lab = lab_fixture("--ModelConverter.timing_budget=0.1")


def _patch(lab: LabServer, ref: str, body: dict) -> dict:
    name, version = ref.split(":")
    response = lab.session.patch(
        lab.api + f"models/{name}/versions/{version}",
        data=json.dumps(body),
        headers=lab._headers(**{"Content-Type": "application/json"}),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()


def _register_wide(lab: LabServer) -> None:
    """A version whose input example is 12 rows of 20 features: the 'wall of floats' of the issue."""
    upload_id = lab.upload({"model.txt": b"wide\n"})
    rows = [[round(0.1 * i + 0.01 * j, 3) for j in range(20)] for i in range(12)]
    response = lab.post(
        "models/wide/versions",
        {
            "upload_id": upload_id,
            "flavor": "custom",
            "signature": {"inputs": [{"name": "X", "dtype": "float64", "shape": [-1, 20]}], "outputs": []},
            "input_example": rows,
        },
    )
    assert response.status_code == 201, response.text


def test_version_page_reports_tags_in_place_and_compare(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("scorer", LogisticRegression().fit(X, y), sample=X[:5], tags={"team": "growth"})
    started = lab.post("models/scorer/versions/1/convert")
    assert started.status_code == 202, started.text
    assert lab.wait_ended(f"operations/{started.json()['id']}")["status"] == "succeeded"  # scorer:2, onnx
    # what an evaluation records (issue 21): the metric a choice between versions rests on
    _patch(lab, "scorer:1", {"properties": {"metrics": {"accuracy": 0.91}}})
    _patch(lab, "scorer:2", {"properties": {"metrics": {"accuracy": 0.92}}})
    _register_wide(lab)

    with chromium_page(width=1440, height=900) as (page, errors):
        panel = open_panel(page, lab)
        scorer = panel.locator('.jp-ModelHub-model[data-model="scorer"]')
        scorer.locator(".jp-ModelHub-modelButton").click()
        scorer.get_by_role("button", name="Details of scorer:2").click()
        detail = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:2"]')

        # The equivalence report as the notebook shows it: the verdict, one row per output.
        equivalence = detail.get_by_role("table", name="equivalence report of scorer:2")
        expect(equivalence.locator("thead th")).to_have_text(
            ["output", "kind", "agreement / max diff", "failing rows", "within tolerance"]
        )
        expect(equivalence.locator("tbody tr")).to_have_count(2)  # label and probabilities
        expect(equivalence.locator("tbody tr").first.locator("td").last).to_have_text("yes")
        expect(detail.locator(".jp-ModelHub-verdict")).to_contain_text(
            re.compile(r"Against scorer:1: equivalent on 5 rows, tolerance [\d.e-]+ \(float\d+\)")
        )
        # The speed report: original against ONNX, milliseconds as read, the speed-up as a factor.
        speed = detail.get_by_role("table", name="speed report of scorer:2")
        expect(speed.locator("thead th").first).to_have_text("speed")
        expect(speed.locator("thead th").last).to_have_text("speed-up")
        median = speed.locator("tbody tr", has_text="single row, median").locator("td")
        expect(median.nth(1)).to_have_text(re.compile(r"^\d+\.\d+ (ms|µs)$"))
        expect(median.nth(3)).to_have_text(re.compile(r"^\d+\.\dx$"))
        expect(median.nth(3)).to_have_class(re.compile(r"\bjp-ModelHub-number\b"))  # a number: right-aligned
        expect(median.nth(0)).not_to_have_class(re.compile(r"\bjp-ModelHub-number\b"))  # words: not
        expect(detail.get_by_role("img", name="Speed of scorer:2: original against ONNX")).to_be_visible()
        # What the conversion made, its size in words; nowhere a raw key or a byte count.
        conversion = detail.get_by_role("definition").filter(has_text=re.compile(r"^\d+(\.\d)? (B|KB|MB)$"))
        expect(conversion).to_have_count(1)
        text = detail.inner_text()
        for raw in ("original.latency", "median_ms", "speedup.latency", "budget_s"):
            assert raw not in text, (raw, text[max(0, text.find(raw) - 300) : text.find(raw) + 100])
        # The signature and the input example as tables, the metric in its own table.
        expect(detail.get_by_role("table", name="Signature of scorer:2")).to_contain_text("[N, 4]")
        example = detail.get_by_role("table", name="Input example of scorer:2")
        expect(example.locator("tbody tr")).to_have_count(5)
        expect(detail.get_by_role("table", name="Metrics of scorer:2")).to_contain_text("accuracy0.92")
        expect(detail.get_by_role("table", name="Files of scorer:2").locator("td").nth(1)).to_have_text(
            re.compile(r"^\d+(\.\d)? (B|KB)$")
        )
        # Lineage as a small graph: scorer:1 -> scorer:2, each node opening what it names.
        lineage = detail.get_by_role("group", name="Lineage of scorer:2")
        expect(lineage).to_contain_text("this version")
        lineage.get_by_role("button", name="derived from scorer:1").click()
        parent = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:1"]')
        expect(parent.get_by_role("group", name="Lineage of scorer:1").get_by_role("button")).to_have_text(
            ["derived toscorer:2"]
        )
        scorer.get_by_role("button", name="Details of scorer:2").click()
        detail.get_by_role("group", name="Lineage of scorer:2").scroll_into_view_if_needed()
        screenshot(page, "version-page-lineage")
        detail.get_by_role("heading", name="scorer:2").first.scroll_into_view_if_needed()
        screenshot(page, "version-page")
        detail.get_by_role("region", name="equivalence report").scroll_into_view_if_needed()
        screenshot(page, "version-page-reports")

        # A wide input example: its first rows under the signature's columns, and how many more.
        wide = panel.locator('.jp-ModelHub-model[data-model="wide"]')
        wide.locator(".jp-ModelHub-modelButton").click()
        wide.get_by_role("button", name="Details of wide:1").click()
        wide_detail = page.locator('.jp-ModelHub-versionDetail[data-ref="wide:1"]')
        wide_example = wide_detail.get_by_role("table", name="Input example of wide:1")
        expect(wide_example.locator("thead th")).to_have_count(20)
        expect(wide_example.locator("thead th").first).to_have_text("X[0]")
        expect(wide_example.locator("tbody tr")).to_have_count(5)
        expect(wide_detail.locator(".jp-ModelHub-exampleMore")).to_have_text("and 7 more rows")

        # Tags in place on scorer:1: a chip's value changed (trimmed), a tag refused in place by the
        # server's rules, then added, then removed.
        scorer.get_by_role("button", name="Details of scorer:1").click()
        detail1 = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:1"]')
        tags = detail1.get_by_role("group", name="Tags of scorer:1")
        tags.get_by_role("button", name="Edit tag team").click()
        tags.get_by_role("textbox", name="Value of tag team").fill("  retention ")
        tags.get_by_role("textbox", name="Value of tag team").press("Enter")
        expect(tags.get_by_role("button", name="Edit tag team")).to_have_text("team=retention", timeout=LIVE)
        tags.get_by_role("button", name="Add a tag to scorer:1").click()
        tags.get_by_role("textbox", name="Tag name").fill("stage")
        tags.get_by_role("textbox", name="Tag value").fill("x" * 1100)
        tags.get_by_role("button", name="Save").click()
        expect(tags.get_by_role("alert")).to_have_text("The value of tag stage is too long: at most 1024 characters.")
        assert "stage" not in lab.get("models/scorer/versions/1").json()["tags"]
        tags.get_by_role("textbox", name="Tag value").fill(" beta")
        tags.get_by_role("button", name="Save").click()
        expect(tags.get_by_role("button", name="Edit tag stage")).to_have_text("stage=beta", timeout=LIVE)
        screenshot(page, "version-page-tags")
        tags.get_by_role("button", name="Remove tag stage").click()
        expect(tags.get_by_role("button", name="Edit tag stage")).to_have_count(0, timeout=LIVE)
        assert lab.get("models/scorer/versions/1").json()["tags"] == {"team": "retention"}

        # Compare: the metric first and marked, the timing internals folded apart and never counted.
        scorer.get_by_role("checkbox", name="Pick scorer:1 to compare").check()
        scorer.get_by_role("checkbox", name="Pick scorer:2 to compare").check()
        scorer.get_by_role("button", name="Compare the picked versions of scorer").click()
        table = page.get_by_role("table", name="Compare versions of scorer")
        expect(table.locator("tbody").first).to_have_attribute("data-group", "Metrics")
        accuracy = table.locator('tr[data-group="Metrics"][data-key="accuracy"]')
        expect(accuracy).to_have_class(re.compile(r"\bjp-mod-differs\b"))
        expect(accuracy.locator("td")).to_have_text(["0.91", "0.92"])
        marked = table.locator("tr.jp-mod-differs")
        summary = page.locator(".jp-ModelHub-compareSummary")
        expect(summary).to_contain_text("rows differ")
        count = int(re.match(r"(\d+) rows differ", summary.inner_text()).group(1))
        assert marked.count() == count
        keys = marked.evaluate_all("rows => rows.map(r => r.dataset.key)")
        assert not [k for k in keys if k.startswith("speed") or "latency" in k or "elapsed" in k], keys
        expect(table.locator('tr[data-group="Timings"]')).to_have_count(0)  # folded
        toggle = table.get_by_role("button", name=re.compile(r"Timings \(\d+ rows, not compared\)"))
        expect(toggle).to_have_attribute("aria-expanded", "false")
        screenshot(page, "compare-metrics-first")
        toggle.click()
        timings = table.locator('tr[data-group="Timings"]')
        expect(timings.filter(has_text="speed.original.latency.median_ms")).to_have_count(1)
        expect(table.locator('tr.jp-mod-differs[data-group="Timings"]')).to_have_count(0)
        toggle.click()

        # After a reload of the page, the edited chip is what the server kept.
        # (a workspace of its own: the panel opens as a fresh page load, not restored half-way)
        panel = open_panel(page, lab, workspace="reloaded")
        scorer = panel.locator('.jp-ModelHub-model[data-model="scorer"]')
        scorer.locator(".jp-ModelHub-modelButton").click()
        scorer.get_by_role("button", name="Details of scorer:1").click()
        detail1 = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:1"]')
        expect(detail1.get_by_role("button", name="Edit tag team")).to_have_text("team=retention")

        # Dark theme and a 300 px sidebar: the same pages, readable.
        scorer.get_by_role("button", name="Details of scorer:2").click()
        use_theme(page, "JupyterLab Dark")
        reports = page.locator('.jp-ModelHub-versionDetail[data-ref="scorer:2"]').get_by_role(
            "region", name="equivalence report"
        )
        reports.scroll_into_view_if_needed()
        screenshot(page, "version-page-dark")
        sidebar_width(page, 300)
        reports.scroll_into_view_if_needed()
        screenshot(page, "version-page-300")
        scorer.get_by_role("checkbox", name="Pick scorer:1 to compare").check()
        scorer.get_by_role("checkbox", name="Pick scorer:2 to compare").check()
        scorer.get_by_role("button", name="Compare the picked versions of scorer").click()
        expect(page.get_by_role("table", name="Compare versions of scorer")).to_be_visible()
        screenshot(page, "compare-metrics-first-dark")
        assert errors == [], errors


def _run_job(lab: LabServer, body: dict) -> dict:
    response = lab.post("jobs", body)
    assert response.status_code == 202, response.text
    return lab.wait_ended(f"jobs/{response.json()['id']}")


@pytest.mark.kernel  # the jobs run papermill
def test_job_page_and_the_sidebar_mini_batch_table(lab: LabServer) -> None:
    from playwright.sync_api import expect

    lab.client().register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    root = lab.root / "root"
    (root / "good.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, row)) for row in X[:20]) + "\n")
    (root / "bad.csv").write_text("a,b\n1,2\n")
    bad = _run_job(
        lab,
        {
            "model": "scorer:1",
            "inputs": [str(root / "good.csv"), str(root / "bad.csv")],
            "settings": {"error_threshold": 0, "mini_batch_size": 1},
        },
    )
    assert bad["status"] == "failed", bad
    why = re.compile("2 columns and the model takes 4 features")

    with chromium_page(width=1440, height=900) as (page, errors):
        panel = open_panel(page, lab)
        batch = panel.get_by_role("region", name="Batch")
        batch.locator(".jp-ModelHub-sectionToggle").click()
        item = batch.locator(f'.jp-ModelHub-job[data-job="{bad["id"]}"]')
        item.get_by_role("button", name=f"Show the mini-batches of job {bad['job']}").click()

        # The sidebar keeps to what fits: which files and the state, why under them across the
        # table (a sentence, not a letter per line); the rest behind "details".
        table = item.get_by_role("table", name=f"Mini-batches of job {bad['job']}")
        expect(table.locator("thead th")).to_have_text(["#", "files", "status"])
        failed = table.locator('tbody[data-status="failed"]')
        expect(failed.locator("td").nth(1)).to_have_text("bad.csv")
        expect(failed.locator(".jp-ModelHub-why")).to_contain_text(why)
        why_width = failed.locator(".jp-ModelHub-why").evaluate("c => c.getBoundingClientRect().width")
        assert why_width > 150, why_width  # across the table, not a column a few letters wide
        failed.get_by_role("button", name=re.compile(r"Details of mini-batch \d+")).click()
        expect(failed.locator(".jp-ModelHub-rowMore")).to_contain_text("rows")
        width = table.evaluate("t => t.getBoundingClientRect().width")
        panel_width = panel.evaluate("p => p.getBoundingClientRect().width")
        assert width <= panel_width, (width, panel_width)  # nothing off-screen to the right

        # The job's page: its state, the failure, the notebook's columns, the read-only notebook.
        item.get_by_role("button", name=f"Open the page of job {bad['job']}").click()
        job_page = page.locator(f'.jp-ModelHub-jobPage[data-job="{bad["job"]}"]')
        expect(job_page.locator(".jp-ModelHub-detailTitle")).to_have_text(f"Job {bad['job']}")
        expect(job_page.locator(".jp-ModelHub-jobStatus")).to_have_text("failed")
        expect(job_page.get_by_role("region", name="Failures")).to_contain_text(why)
        full = job_page.get_by_role("table", name=f"Mini-batches of job {bad['job']}")
        expect(full.locator("thead th")).to_have_text(
            [
                "mini-batch",
                "status",
                "files",
                "rows in",
                "rows out",
                "s",
                "attempts",
                "why tried again",
                "error",
            ]
        )
        bad_row = full.locator('tr[data-status="failed"]')
        expect(bad_row.locator("td").last).to_contain_text(why)
        expect(bad_row.locator("td").nth(3)).to_have_class(re.compile(r"\bjp-ModelHub-number\b"))
        expect(bad_row.locator("td").nth(2)).not_to_have_class(re.compile(r"\bjp-ModelHub-number\b"))
        screenshot(page, "job-page")

        use_theme(page, "JupyterLab Dark")
        screenshot(page, "job-page-dark")
        sidebar_width(page, 300)
        screenshot(page, "job-page-300")

        kernels_before = lab.session.get(lab.url + "api/kernels", headers=lab._headers()).json()
        job_page.get_by_role("button", name=f"View the executed notebook of job {bad['job']}").click()
        expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text=f"job {bad['job']} (read-only)")).to_be_visible()
        frame = page.frame_locator(".jp-ModelHub-notebookPage iframe")
        expect(frame.locator(".jp-Cell, .cell").first).to_be_visible(timeout=30_000)
        assert lab.session.get(lab.url + "api/kernels", headers=lab._headers()).json() == kernels_before
        assert errors == [], errors


@pytest.fixture
def lab_with_docker(tmp_path_factory, docker_client) -> LabServer:
    require_prerequisites()
    server = start_lab(tmp_path_factory.mktemp("lab"), args=(f"--Packager.base_image={BASE_IMAGE}",))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(600)
def test_image_page_with_its_build_report(lab_with_docker: LabServer, docker_client) -> None:
    from playwright.sync_api import expect

    lab = lab_with_docker
    tag = f"modelhub/pages-{secrets.token_hex(4)}:1"  # the engine is shared: a name of this run's own
    lab.client().register("scorer", LogisticRegression().fit(X, y), sample=X[:3])
    started = lab.post("images", {"model": "scorer:1", "tag": tag})
    assert started.status_code == 202, started.text
    built = lab.wait_ended(f"operations/{started.json()['id']}", timeout=480)
    assert built["status"] == "succeeded", built
    try:
        with chromium_page(width=1440, height=900) as (page, errors):
            panel = open_panel(page, lab)
            images = panel.get_by_role("region", name="Images")
            images.locator(".jp-ModelHub-sectionToggle").click()
            item = images.locator(f'.jp-ModelHub-image[data-tag="{tag}"]')
            item.get_by_role("button", name=f"Show the build report of {tag}").click()
            # The sidebar: the step, reused or rebuilt, why under it; a step's stage and size behind "details".
            report = item.get_by_role("table", name=f"Build report of {tag}")
            expect(report.locator("thead th")).to_have_text(["step", "cache"])
            expect(report.locator("tbody").last).to_contain_text(re.compile("reused|rebuilt"))
            width = report.evaluate("t => t.getBoundingClientRect().width")
            assert width <= panel.evaluate("p => p.getBoundingClientRect().width")

            item.get_by_role("button", name=f"Open the page of image {tag}").click()
            image_page = page.locator(".jp-ModelHub-imagePage")
            expect(image_page.locator(".jp-ModelHub-detailTitle")).to_have_text(tag)
            facts = image_page.get_by_role("definition")
            expect(facts.nth(0)).to_have_text(tag.split(":")[0])
            expect(facts.nth(1)).to_have_text("1")
            expect(image_page.locator(".jp-ModelHub-imageDigest")).to_have_text(re.compile(r"^sha256:[0-9a-f]{64}$"))
            full = image_page.get_by_role("table", name=f"Build report of {tag}")
            expect(full.locator("thead th")).to_have_text(["stage", "step", "instruction", "cache", "size", "why"])
            expect(full.locator("tbody tr").first).to_be_visible()
            sizes = full.locator("tbody td:nth-child(5)").all_inner_texts()
            assert any(re.fullmatch(r"\d+(\.\d)? (B|KB|MB|GB)", s) for s in sizes), sizes
            assert all(s == "" or re.fullmatch(r"\d+(\.\d)? (B|KB|MB|GB)", s) for s in sizes), sizes
            expect(image_page.locator(".jp-ModelHub-buildSummary")).to_have_text(
                re.compile(r"^Built in \d+\.\d s: \d+ steps? reused, \d+ layers? rebuilt\.$")
            )
            expect(image_page.get_by_role("region", name="Pushes")).to_contain_text("Not pushed")
            screenshot(page, "image-page")
            use_theme(page, "JupyterLab Dark")
            screenshot(page, "image-page-dark")
            sidebar_width(page, 300)
            screenshot(page, "image-page-300")
            assert errors == [], errors
    finally:
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:  # already gone: nothing of this run's left in the engine
            pass
