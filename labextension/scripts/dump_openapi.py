"""Write the REST API's OpenAPI document to a file, the one the server serves at modelhub/api/openapi.json.

No server needed: the document is data in jupyter_modelhub.api.openapi. `jlpm generate:api` runs this,
then openapi-typescript turns the file into src/generated/openapi.ts (committed, never edited by hand;
tests/panel/test_panel_openapi.py fails when it is stale).

Usage: python scripts/dump_openapi.py OUT.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout, installed or not

from jupyter_modelhub.api.openapi import openapi_document  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__.rsplit("Usage: ", 1)[1])
    document = openapi_document("/")
    document["info"]["version"] = "0"  # the package version is not part of the contract
    Path(sys.argv[1]).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
