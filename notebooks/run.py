"""Run a demo notebook headless (``make demo``) and print what each step did.

Executes the notebook with papermill in a scratch folder (``notebooks/output/``) and prints
every code cell's first line with its text output, the way a reader would skim it. Outside
JupyterLab the magics start (or reuse) a standalone Model Hub server, so this needs nothing
running beforehand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import papermill


def main(notebook: str) -> int:
    source = Path(notebook).resolve()
    output_dir = source.parent / "output"
    output_dir.mkdir(exist_ok=True)
    executed = papermill.execute_notebook(
        str(source), str(output_dir / source.name), cwd=str(output_dir), progress_bar=False, kernel_name="python3"
    )
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        print(f">>> {cell.source.splitlines()[0]}")
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            for line in str(text).rstrip().splitlines()[:12]:
                print(f"    {line}")
    from jupyter_modelhub.client.discovery import discover

    url, _ = discover()
    print(f"\nDone: {source.name} ran against the Model Hub server at {url}")
    print(f"Executed notebook: {output_dir / source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).with_name("01-quickstart.ipynb"))))
