"""Browser tests of the panel's governance views (issue 21) as two real users see them: who may do
what to a model (a grant made in one user's panel reaches the other's), the history with who moved
an alias and from where, a rollback from the panel confirmed by what it returns to, a version's
promotion checks with Approve (refused for its registrant), and an alias move refused by the rules
shown inside the alias dialog.

A real ``jupyter lab`` (tests/helpers/panel.py) with the test identity provider of
``helpers.identities`` (alice and bob, each with a token), a model alice opened to everyone for
reading only, and a promotion rule on ``production`` that asks for an approval; two Chromium pages, one per user.
Screenshots in tests/artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest

from helpers.identities import PROVIDER, team
from helpers.panel import (
    LabServer,
    chromium_browser,
    open_panel,
    require_prerequisites,
    screenshot,
    start_lab,
    use_theme,
    user_page,
)

pytestmark = pytest.mark.timeout(300)

LIVE = 20_000  # ms: a change made elsewhere shows up through the 2 s event poll
RULES = {"production": {"approval": True}}


@pytest.fixture
def team_lab(tmp_path_factory):
    require_prerequisites()
    tokens, env = team(alice=[], bob=["risk"])
    server = start_lab(
        tmp_path_factory.mktemp("lab"),
        args=(PROVIDER,),
        env=env,
        config={"ModelHubApp": {"promotion_rules": RULES}},
    )
    try:
        yield server, tokens
    finally:
        server.stop()


def open_version(page, lab: LabServer, name: str, version: int):
    """Open the panel, the model, and the version's detail tab; returns the detail's locator."""
    from playwright.sync_api import expect

    panel = open_panel(page, lab, workspace=f"user-{lab.token[:8]}")
    model = panel.locator(f'.jp-ModelHub-model[data-model="{name}"]')
    model.locator(".jp-ModelHub-modelButton").click()
    model.get_by_role("button", name=f"Details of {name}:{version}", exact=True).click()
    detail = page.locator(f'.jp-ModelHub-versionDetail[data-ref="{name}:{version}"]')
    expect(detail.locator(".jp-ModelHub-detailTitle")).to_have_text(f"{name}:{version}")
    return detail


def test_two_users_permissions_history_rollback_and_promotion(team_lab) -> None:
    from playwright.sync_api import expect

    lab, tokens = team_lab
    alice, bob = lab.as_user(tokens["alice"]), lab.as_user(tokens["bob"])
    alice.register("churn", description="first")
    alice.register("churn", description="second")
    alice.set_alias("churn", "staging", 1)
    # everyone else may read churn, no more (the server's default, write, stays for other models)
    closed = alice.session.put(
        alice.api + "models/churn/permissions",
        json={"principal": "everyone", "permission": "read"},
        headers=alice._headers(),
        timeout=30,
    )
    assert closed.status_code == 200, closed.text
    assert bob.get("models/churn/permissions").json()["yours"] == "read"

    with chromium_browser() as browser:
        page, errors = user_page(browser, lab, tokens["alice"], width=1440, height=1000)
        detail = open_version(page, alice, "churn", 2)

        # Promotion checks: production needs an approval; its registrant cannot give it.
        production = detail.locator('.jp-ModelHub-aliasChecks[data-alias="production"]')
        expect(production.locator(".jp-ModelHub-promotionVerdict")).to_have_text("cannot move to churn:2 yet")
        expect(production.locator('[data-check="approval"]')).to_have_attribute("data-status", "missing")
        approve = production.get_by_role("button", name="Approve churn:2 for production")
        expect(approve).to_be_disabled()
        expect(production.locator(".jp-ModelHub-reasonText")).to_have_text(
            "You registered churn:2: someone else must approve it."
        )

        # The alias dialog: a move the rules refuse is said inside the dialog, the input kept.
        detail.get_by_role("button", name="Set an alias on churn:2").click()
        form = page.locator(".jp-ModelHub-aliasForm")
        form.get_by_label("Alias").fill("production")
        form.get_by_role("button", name="Move alias").click()
        refusal = form.locator(".jp-ModelHub-formError")
        expect(refusal).to_contain_text("promotion rules of 'production' are not met")
        expect(refusal).to_contain_text("approval: missing")
        expect(form.get_by_label("Alias")).to_have_value("production")
        screenshot(page, "governance-alias-refused")
        # A name the server would refuse is said as typed, before anything is sent.
        form.get_by_label("Alias").fill("9lives")
        expect(form.locator(".jp-ModelHub-fieldError")).to_have_text(
            "The alias must start with a letter and hold only letters, digits, - and _."
        )
        form.get_by_label("Alias").fill("staging")
        form.get_by_role("button", name="Move alias").click()
        expect(form).to_have_count(0)
        expect(detail.locator(".jp-ModelHub-actionResult")).to_have_text(re.compile(r"churn@staging \u2192 churn:2"))
        assert alice.get("models/churn/versions/@staging").json()["version"] == 2

        # The history: the move, by alice, from the panel, newest first.
        history = detail.get_by_role("region", name="History of churn")
        newest = history.locator(".jp-ModelHub-timelineEntry").first
        expect(newest).to_have_attribute("data-action", "alias.moved", timeout=LIVE)
        expect(newest).to_have_attribute("data-subject", "churn@staging")
        expect(newest.locator(".jp-ModelHub-timelineChange")).to_have_text("v1 \u2192 v2")
        expect(newest.locator(".jp-ModelHub-timelineUser")).to_have_text("alice")
        expect(newest.locator(".jp-ModelHub-timelineClient")).to_have_text(" (from the panel)")
        # Filters: by action (alice opened churn to everyone for reading), then by a user who did nothing.
        history.get_by_label("Action").select_option("permission.changed")
        entries = history.locator(".jp-ModelHub-timelineEntry")
        expect(entries).to_have_count(1)
        expect(entries.first).to_have_attribute("data-subject", "churn everyone")
        expect(entries.first.locator(".jp-ModelHub-timelineChange")).to_have_text("set to read")
        history.get_by_label("User").fill("bob")
        history.get_by_label("User").press("Enter")
        expect(entries).to_have_count(0)
        expect(history.get_by_role("status")).to_have_text("No change matches the filter.")
        history.get_by_role("button", name="Clear").click()
        expect(history.locator(".jp-ModelHub-timelineEntry").first).to_have_attribute("data-subject", "churn@staging")

        # Rollback from the alias row: the confirmation names what it returns to.
        aliases = detail.get_by_role("region", name="Aliases of churn")
        aliases.get_by_role("button", name="Roll back churn@staging").click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("churn@staging returns to churn:1. It points at churn:2 since alice moved it")
        dialog.get_by_role("button", name="Return to churn:1").click()
        expect(aliases.locator(".jp-ModelHub-changeOutcome")).to_have_text(
            re.compile(r"churn@staging \u2192 churn:1 again")
        )
        assert alice.get("models/churn/versions/@staging").json()["version"] == 1
        expect(newest.locator(".jp-ModelHub-timelineChange")).to_have_text("v2 \u2192 v1", timeout=LIVE)

        # Permissions as alice: the creator manages; a principal the server would refuse is said.
        permissions = detail.get_by_role("region", name="Permissions on churn")
        expect(permissions.locator(".jp-ModelHub-yourPermission")).to_have_text("manage")
        expect(permissions.locator(".jp-ModelHub-creator")).to_have_text("alice (manages it)")
        expect(permissions.locator(".jp-ModelHub-defaultPermission")).to_have_text("read")

        # bob, in a browser of his own, may read churn and not grant.
        bob_page, bob_errors = user_page(browser, lab, tokens["bob"], width=1440, height=1000)
        bob_detail = open_version(bob_page, bob, "churn", 2)
        bob_permissions = bob_detail.get_by_role("region", name="Permissions on churn")
        expect(bob_permissions.locator(".jp-ModelHub-yourPermission")).to_have_text("read")
        expect(bob_permissions.get_by_role("button", name="Grant", exact=True)).to_be_disabled()
        expect(bob_permissions.locator(".jp-ModelHub-grantRefused")).to_have_text(
            "You have read on churn; granting needs manage. Ask alice."
        )
        # Approving records evidence, which needs write: said before it is tried.
        bob_production = bob_detail.locator('.jp-ModelHub-aliasChecks[data-alias="production"]')
        expect(bob_production.get_by_role("button", name="Approve churn:2 for production")).to_be_disabled()
        expect(bob_production.locator(".jp-ModelHub-reasonText")).to_have_text(
            "Approving needs write on churn; you have read. Ask alice."
        )
        # A refusal the page could not foresee is said where it was tried, in the server's words.
        bob_detail.get_by_role("button", name="Tag churn:2").click()
        bob_page.locator(".jp-Dialog input").fill("team=risk")
        bob_page.locator(".jp-Dialog").get_by_role("button", name="OK").click()
        expect(bob_detail.locator(".jp-ModelHub-actionResult")).to_contain_text("bob may not")
        screenshot(bob_page, "governance-bob-read-only")

        # alice grants bob write from her panel.
        page.bring_to_front()
        permissions.get_by_label("Who").fill("bob smith")
        expect(permissions.locator(".jp-ModelHub-fieldError")).to_contain_text(
            "Who must be user:NAME, group:NAME or everyone"
        )
        permissions.get_by_label("Who").fill("user:bob")
        permissions.get_by_label("Permission", exact=True).select_option("write")
        permissions.get_by_role("button", name="Grant", exact=True).click()
        expect(
            permissions.locator('.jp-ModelHub-grants tr[data-principal="user:bob"] .jp-ModelHub-grantPermission')
        ).to_have_text("write")
        expect(permissions.locator(".jp-ModelHub-changeOutcome")).to_have_text(
            re.compile("user:bob now has write on churn")
        )

        # bob's panel follows: he has write now, and approves churn:2 for production.
        bob_page.bring_to_front()
        expect(bob_permissions.locator(".jp-ModelHub-yourPermission")).to_have_text("write", timeout=LIVE)
        bob_production.get_by_role("button", name="Approve churn:2 for production").click()
        expect(bob_production.locator('[data-check="approval"]')).to_have_attribute("data-status", "passed")
        expect(bob_production.locator(".jp-ModelHub-promotionVerdict")).to_have_text("may move to churn:2")

        # alice's view follows, and her move to production now passes.
        page.bring_to_front()
        expect(production.locator(".jp-ModelHub-promotionVerdict")).to_have_text("may move to churn:2", timeout=LIVE)
        detail.get_by_role("button", name="Set an alias on churn:2").click()
        form.get_by_label("Alias").fill("production")
        form.get_by_role("button", name="Move alias").click()
        expect(form).to_have_count(0)
        assert alice.get("models/churn/versions/@production").json()["version"] == 2
        expect(production.locator(".jp-ModelHub-promotionVerdict")).to_have_text("points at churn:2 now", timeout=LIVE)
        history.get_by_label("User").fill("alice")
        history.get_by_label("User").press("Enter")
        expect(history.locator(".jp-ModelHub-timelineEntry").first).to_have_attribute("data-action", "alias.moved")
        expect(history.locator(".jp-ModelHub-timelineEntry").first).to_have_attribute(
            "data-subject", "churn@production"
        )
        permissions.scroll_into_view_if_needed()
        screenshot(page, "governance-version-light")
        use_theme(page, "JupyterLab Dark")
        screenshot(page, "governance-version-dark")
        assert errors == [] and bob_errors == []
