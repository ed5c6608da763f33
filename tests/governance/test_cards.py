"""Model cards (issue 21): a version's card in the Hugging Face layout, made from what the
registry knows (signature, example, lineage, metrics, reference profile, pickle scan, who
registered it), "unknown" for what it does not; written sections kept across regenerations and
shown for later versions; downloadable as Markdown or HTML; ``%card`` in a real IPython shell.
Real server, real scikit-learn model.
"""

from __future__ import annotations

import pytest
import requests
import yaml
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from helpers.servers import ServerProcess
from helpers.shell import Shell

X, y = make_classification(150, 4, random_state=4)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = ServerProcess(tmp_path_factory.mktemp("cards"))
    hub = server.client()
    hub.register(
        "churn",
        LogisticRegression().fit(X, y),
        sample=X[:120],
        properties={"metrics": {"auc": 0.91, "accuracy": 0.87}},
        description="Predicts which customers leave.",
    )
    yield server
    server.stop()


def test_the_card_says_what_the_registry_knows_and_unknown_for_the_rest(server):
    card = server.client().card("churn:1")
    markdown = card["markdown"]
    front = yaml.safe_load(markdown.split("---\n")[1])
    assert front["model_name"] == "churn" and front["model_version"] == 1 and front["library_name"] == "sklearn"
    assert front["metrics"] == ["accuracy", "auc"] and front["license"] == "unknown"
    for heading in (
        "# Model card for churn:1",
        "## Model details",
        "## Uses",
        "### Intended use",
        "## Bias, risks, and limitations",
        "## How to get started with the model",
        "## Training details",
        "## Evaluation",
        "## Environmental impact",
        "## Technical specifications",
        "## Model card authors",
    ):
        assert f"\n{heading}\n" in f"\n{markdown}", heading
    assert "Predicts which customers leave." in markdown
    assert "| auc | 0.91 |" in markdown and "| accuracy | 0.87 |" in markdown
    assert "Reference profile: 120 rows" in markdown  # registration profiled the sample
    assert "| input |" in markdown and "```json" in markdown  # signature and input example
    assert "- **Imports outside the trusted modules:** none" in markdown
    # nothing guessed: no notebook (a script registered it), no image, no emissions
    assert {"source notebook", "environment lock", "environmental impact"} <= set(card["unknown"])
    assert "<h2>Model details</h2>" in card["html"] and "<table>" in card["html"]


def test_written_sections_are_kept_across_regenerations_and_shown_for_later_versions(server):
    hub = server.client()
    markdown = hub.card("churn:1")["markdown"]
    edited = markdown.replace(
        "### Intended use\n\nunknown",
        "### Intended use\n\nMonthly churn scores for the retention team.\n\n<script>alert(1)</script>\n\nunknown",
    ).replace(
        "### Limitations\n\nunknown (edit this section and save the card: %card NAME:VERSION --edit FILE)",
        "### Limitations\n\nNot for customers under 18.",
    )
    saved = hub.save_card("churn:1", edited)
    assert saved["sections"]["limitations"] == "Not for customers under 18."
    assert saved["sections"]["intended_use"].startswith("Monthly churn scores")
    assert "&lt;script&gt;" in saved["html"] and "<script>" not in saved["html"]  # shown, never run

    again = hub.card("churn:1")
    assert "Not for customers under 18." in again["markdown"] and again["inherited_from"] is None
    assert again["updated_by"] and again["markdown"].count("### Limitations") == 1

    hub.register("churn", LogisticRegression(C=0.5).fit(X, y))
    later = hub.card("churn:2")
    assert later["inherited_from"] == "churn:1" and "*(written for churn:1)*" in later["markdown"]
    assert "Not for customers under 18." in later["markdown"]

    # a card with no written section of its own changes nothing, and says why
    response = requests.put(
        server.url + "modelhub/api/models/churn/versions/1/card",
        json={"markdown": "# just a title"},
        headers={"Authorization": f"token {server.token}"},
        timeout=30,
    )
    assert response.status_code == 400 and "sections people write" in response.json()["message"]
    assert "Not for customers under 18." in hub.card("churn:1")["markdown"]


def test_the_card_downloads_as_markdown_or_html_and_refuses_other_formats(server):
    base = server.url + "modelhub/api/models/churn/versions/1/card"
    auth = {"Authorization": f"token {server.token}"}
    md = requests.get(base, params={"format": "md"}, headers=auth, timeout=30)
    assert md.headers["Content-Type"].startswith("text/markdown") and md.text.startswith("---\n")
    assert 'filename="churn-1-card.md"' in md.headers["Content-Disposition"]
    html = requests.get(base, params={"format": "html"}, headers=auth, timeout=30)
    assert html.headers["Content-Type"].startswith("text/html") and "<h1>Model card for churn:1</h1>" in html.text
    bad = requests.get(base, params={"format": "pdf"}, headers=auth, timeout=30)
    assert bad.status_code == 400 and "json, md or html" in bad.json()["message"]
    missing = requests.get(base.replace("/1/", "/9/"), headers=auth, timeout=30)
    assert missing.status_code == 404 and "no version 9" in missing.json()["message"]


def test_card_magic_shows_the_card_and_saves_it(server, tmp_path):
    shell = Shell(server)
    try:
        shown = shell.run("%load_ext jupyter_modelhub\n%card churn:1")
        assert not shown["error"], shown["error"]
        assert "<h1>Model card for churn:1</h1>" in shown["html"] and "# Model card for churn:1" in shown["text"]
        target = tmp_path / "card.md"
        missing = shell.run(f"%card nope:1 --save {target}")
        assert "No model named 'nope'" in missing["error"] and "Traceback" not in missing["error"]
        assert not target.exists()
        saved = shell.run(f"%card churn:1 --save {target}")
        assert not saved["error"] and target.read_text().startswith("---\n") and f"saved to {target}" in saved["text"]
    finally:
        shell.close()
