"""Browser tests of the panel's deploy form and "try it" (issue 23, defects 1, 3 and 8).

Deploying a version to an endpoint that already serves makes a canary: a new deployment with an
unused name and 0% of the traffic, so the live deployment keeps answering (checked with real HTTP
requests to the endpoint). Reusing a name in service asks first, naming what is replaced. The form
checks what is typed with the server's rules as the user types, in plain words, and keeps the
dialog open with the input on a server refusal. "Try it" on a deployment's page is answered by
that deployment.

A real ``jupyter lab`` (tests/helpers/panel.py) with this checkout's extension, scikit-learn models
registered and deployed through REST, and Debian's Chromium driven by Playwright. Screenshots go to
tests/artifacts/screenshots/ (light, dark, and a 300 px sidebar).
"""

from __future__ import annotations

import pytest
import requests
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.panel import LabServer, chromium_page, lab_fixture, open_panel, screenshot, sidebar_width, use_theme

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change shows up through the 2 s event poll
DEPLOY = 60_000  # ms: a process deployment starts and answers its readiness probe

X, y = make_classification(120, 4, random_state=0)
X6, y6 = make_classification(120, 6, random_state=1)

lab = lab_fixture()


def served_by(lab: LabServer, endpoint: str, deployment: str | None = None) -> str:
    """Score one row on the endpoint over HTTP, as a client does; the deployment that answered."""
    info = lab.get(f"endpoints/{endpoint}").json()
    key = lab.get(f"endpoints/{endpoint}/keys").json()["primary"]
    headers = {"Authorization": f"Bearer {key}"}
    if deployment:
        headers["azureml-model-deployment"] = deployment
    answer = requests.post(info["url"] + "/score", json={"data": X[:1].tolist()}, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.headers["x-modelhub-deployment"]


def open_deploy_form(page, panel, ref: str):
    """The deploy form of version ``ref``, opened from its detail view as a user does."""
    from playwright.sync_api import expect

    name, number = ref.split(":")
    model = panel.locator(f'.jp-ModelHub-model[data-model="{name}"]')
    if model.locator(".jp-ModelHub-modelButton").get_attribute("aria-expanded") != "true":
        model.locator(".jp-ModelHub-modelButton").click()
    model.get_by_role("button", name=f"Details of {ref}", exact=True).click()
    detail = page.locator(f'.jp-ModelHub-versionDetail[data-ref="{ref}"]')
    detail.get_by_role("button", name=f"Deploy {ref}", exact=True).click()
    form = page.locator(".jp-ModelHub-formDialog .jp-ModelHub-deployForm")
    expect(form).to_be_visible()
    return detail, form


def test_a_canary_from_the_form_leaves_the_live_deployment_serving(lab: LabServer) -> None:
    from playwright.sync_api import expect

    client = lab.client()
    client.register("churn", LogisticRegression(C=1.0).fit(X, y), sample=X[:3])  # churn:1, live as blue
    client.register("churn", LogisticRegression(C=0.1).fit(X, y), sample=X[:3])  # churn:2, the candidate
    client.register("churn", LogisticRegression().fit(X6, y6), sample=X6[:3])  # churn:3, other inputs
    client.deploy("churn-ep", "churn:1")
    assert served_by(lab, "churn-ep") == "blue"
    try:
        with chromium_page(width=1440, height=900) as (page, errors):
            panel = open_panel(page, lab)
            live = panel.locator('.jp-ModelHub-endpoint[data-endpoint="churn-ep"]')
            expect(live.locator(".jp-ModelHub-endpointState")).to_have_text("healthy", timeout=LIVE)
            detail, form = open_deploy_form(page, panel, "churn:2")

            # The defaults on an endpoint that serves: its name, an unused deployment name, 0% (a canary).
            endpoint = form.get_by_label("Endpoint", exact=True)
            deployment = form.get_by_label("Deployment name")
            traffic = form.get_by_label("Live traffic for this deployment (%)")
            expect(endpoint).to_have_value("churn-ep")
            expect(deployment).to_have_value("green")
            expect(form.get_by_label("Model version")).to_have_value("churn:2")
            expect(traffic).to_have_value("0")
            expect(traffic).to_have_attribute("min", "0")
            expect(traffic).to_have_attribute("max", "100")  # the server's bound, from its OpenAPI document
            expect(form).to_contain_text("After the deploy: blue 100%, green 0%. 0% is a canary: nothing live changes.")
            screenshot(page, "deploy-form")

            # Checked as the user types, with the server's rules, in plain words, inside the dialog.
            submit = form.locator(".jp-ModelHub-submit")
            deployment.fill("1green")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_text(
                "Deployment name must start with a letter and hold only letters, digits, - and _."
            )
            expect(submit).to_be_disabled()
            expect(form.locator(".jp-ModelHub-blocked")).to_have_text("Correct the fields marked above to deploy.")
            deployment.fill("green")
            traffic.fill("150")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_text("Live traffic must be at most 100.")
            traffic.fill("0")
            form.get_by_label("Instances").fill("9")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_text("Instances must be at most 8.")
            screenshot(page, "deploy-form-invalid")
            form.get_by_label("Instances").fill("")
            form.get_by_label("Target").select_option("kubernetes")
            expect(form.get_by_label("Max instances (autoscaler)")).to_be_visible()
            form.get_by_label("CPU cores").fill("0")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_text("CPU cores must be more than 0.")
            form.get_by_label("CPU cores").fill("")
            form.get_by_label("Target").select_option("process")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_count(0)
            expect(submit).to_be_enabled()

            # Reusing the live name asks first, naming what goes; Back keeps what was typed.
            deployment.fill("blue")
            expect(form).to_contain_text("Replaces deployment blue (churn:1, 100% of traffic) with churn:2.")
            submit.click()
            dialog = page.locator(".jp-ModelHub-formDialog")
            expect(dialog.locator(".jp-ModelHub-confirmText")).to_have_text(
                "Replaces deployment blue (churn:1, 100% of traffic) with churn:2."
            )
            expect(dialog.get_by_role("button", name="Replace blue")).to_be_visible()
            screenshot(page, "deploy-form-confirm")
            dialog.get_by_role("button", name="Back").click()
            expect(deployment).to_have_value("blue")
            deployment.fill("green")
            expect(traffic).to_have_value("0")

            # Deploy the canary: the dialog closes once the server has it; blue still answers everything.
            submit.click()
            expect(dialog).to_have_count(0, timeout=DEPLOY)
            expect(detail.locator(".jp-ModelHub-actionText")).to_have_text("churn:2 deployed to churn-ep (green).")
            state = lab.get("endpoints/churn-ep").json()
            assert {d["name"]: d["ref"] for d in state["deployments"]} == {"blue": "churn:1", "green": "churn:2"}
            assert state["traffic"].get("blue") == 100 and not state["traffic"].get("green"), state["traffic"]
            assert {served_by(lab, "churn-ep") for _ in range(10)} == {"blue"}
            assert served_by(lab, "churn-ep", "green") == "green"  # the header picks the canary
            canary = live.locator('.jp-ModelHub-deployment[data-deployment="green"]')
            expect(canary.locator(".jp-ModelHub-traffic")).to_have_text("0%", timeout=LIVE)

            # Try it on green's page is answered by green; "by traffic" by blue.
            canary.get_by_role("button", name="Details of deployment green of churn-ep").click()
            page_ = page.locator('.jp-ModelHub-deploymentDetail[data-deployment="green"]')
            picker = page_.get_by_label("Send to")
            expect(picker).to_have_value("green")
            page_.get_by_role("button", name="Send the request to churn-ep").click()
            answer = page_.get_by_role("status", name="Answer")
            expect(answer.locator(".jp-ModelHub-httpStatus")).to_have_text("HTTP 200")
            expect(answer).to_contain_text("served by green")
            picker.select_option("")
            page_.get_by_role("button", name="Send the request to churn-ep").click()
            expect(answer).to_contain_text("served by blue")
            screenshot(page, "try-it-green")

            # A refusal only the server can make (other inputs behind the endpoint): shown in the
            # dialog, which stays open with what was typed.
            _, form = open_deploy_form(page, panel, "churn:3")
            expect(form.get_by_label("Deployment name")).to_have_value("red")
            form.locator(".jp-ModelHub-submit").click()
            refusal = form.locator(".jp-ModelHub-formError")
            expect(refusal).to_contain_text("would change what churn-ep answers", timeout=DEPLOY)
            expect(form.get_by_label("Deployment name")).to_have_value("red")
            expect(form.get_by_label("Endpoint", exact=True)).to_have_value("churn-ep")
            screenshot(page, "deploy-form-refused")
            form.get_by_role("button", name="Cancel").click()
            expect(page.locator(".jp-ModelHub-formDialog")).to_have_count(0)
            assert [d["name"] for d in lab.get("endpoints/churn-ep").json()["deployments"]] == ["blue", "green"]

            # The form over a 300 px sidebar, in the dark theme (a theme changes with no dialog open).
            sidebar_width(page, 300)
            use_theme(page, "JupyterLab Dark")
            screenshot(page, "endpoints-300px-dark")
            _, form = open_deploy_form(page, panel, "churn:3")
            form.locator(".jp-ModelHub-submit").click()
            expect(form.locator(".jp-ModelHub-formError")).to_contain_text("would change", timeout=DEPLOY)
            screenshot(page, "deploy-form-300px-dark")
            page.keyboard.press("Escape")
            expect(page.locator(".jp-ModelHub-formDialog")).to_have_count(0)
            use_theme(page, "JupyterLab Light")
            assert errors == [], errors
    finally:
        client.undeploy("churn-ep")


def test_a_new_endpoint_takes_all_traffic(lab: LabServer) -> None:
    """A version deployed where nothing serves it: a new endpoint named after the model, deployment
    blue with 100% (the share cannot be changed: it is the only deployment)."""
    from playwright.sync_api import expect

    client = lab.client()
    client.register("fresh", LogisticRegression().fit(X, y), sample=X[:3])
    try:
        with chromium_page() as (page, errors):
            panel = open_panel(page, lab)
            detail, form = open_deploy_form(page, panel, "fresh:1")
            expect(form.get_by_label("Endpoint", exact=True)).to_have_value("")  # "New endpoint…"
            expect(form.get_by_label("New endpoint name")).to_have_value("fresh-ep")
            expect(form.get_by_label("Deployment name")).to_have_value("blue")
            traffic = form.get_by_label("Live traffic for this deployment (%)")
            expect(traffic).to_have_value("100")
            expect(traffic).to_be_disabled()
            expect(form).to_contain_text("The only deployment of its endpoint: it takes all the traffic.")
            form.get_by_label("New endpoint name").fill("fresh ep")
            expect(form.locator(".jp-ModelHub-fieldError")).to_have_text(
                "Endpoint name must start with a letter and hold only letters, digits, - and _."
            )
            form.get_by_label("New endpoint name").fill("fresh-ep")
            form.locator(".jp-ModelHub-submit").click()
            expect(page.locator(".jp-ModelHub-formDialog")).to_have_count(0, timeout=DEPLOY)
            expect(detail.locator(".jp-ModelHub-actionText")).to_have_text("fresh:1 deployed to fresh-ep (blue).")
            assert lab.get("endpoints/fresh-ep").json()["traffic"] == {"blue": 100}
            assert served_by(lab, "fresh-ep") == "blue"
            assert errors == [], errors
    finally:
        if lab.get("endpoints/fresh-ep").status_code == 200:
            client.undeploy("fresh-ep")
