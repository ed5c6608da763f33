"""The panel's TypeScript types are generated from the served OpenAPI document: this fails when
labextension/src/generated/openapi.ts no longer matches it (run `cd labextension && jlpm generate:api`).

It regenerates the types from the document as openapi.py builds it, with the labextension's own
generator (scripts/generate_api.mjs, on the openapi-typescript it pins), and compares them byte for
byte with the committed file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers.paths import LABEXTENSION_SOURCE

LABEXTENSION = LABEXTENSION_SOURCE
GENERATOR = LABEXTENSION / "node_modules" / "openapi-typescript"
GENERATED = LABEXTENSION / "src" / "generated" / "openapi.ts"


def test_generated_api_types_match_the_served_document(tmp_path):
    if not GENERATOR.exists():
        reason = f"no {GENERATOR.relative_to(LABEXTENSION.parent)} (cd labextension && jlpm install)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    document, types = tmp_path / "openapi.json", tmp_path / "openapi.ts"
    subprocess.run([sys.executable, str(LABEXTENSION / "scripts" / "dump_openapi.py"), str(document)], check=True)
    node = shutil.which("node")
    assert node, "node is needed to generate the types (it builds the labextension too)"
    subprocess.run(
        [node, "scripts/generate_api.mjs", str(document), str(types)], check=True, cwd=LABEXTENSION, capture_output=True
    )
    assert types.read_text() == GENERATED.read_text(), (
        "labextension/src/generated/openapi.ts is stale: the REST API changed. "
        "Regenerate it with `cd labextension && jlpm generate:api` and commit it."
    )
