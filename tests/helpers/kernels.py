"""A kernel as a notebook has it: started through a Jupyter server's REST API (so it gets the
server's ``MODELHUB_URL`` and token), driven over its ZMQ channels; and the training cell the
magics tests start from."""

from __future__ import annotations

import textwrap

from jupyter_client.blocking import BlockingKernelClient

from helpers.servers import ServerProcess

TRAIN = textwrap.dedent("""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = make_classification(200, 20, random_state=0)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
""")


class Kernel:
    """A kernel started through the server's REST API, driven over its ZMQ channels."""

    def __init__(self, server: ServerProcess, notebook: str = "train.ipynb"):
        self.server = server
        response = server.session.post(
            server.url + "api/sessions",
            json={"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}},
        )
        response.raise_for_status()
        self.session_id = response.json()["id"]
        self.kernel_id = response.json()["kernel"]["id"]
        connection = server.folder / "runtime" / f"kernel-{self.kernel_id}.json"
        self.client = BlockingKernelClient(connection_file=str(connection))
        self.client.load_connection_file()
        # no heartbeat channel: on two busy cores a missed 1 s heartbeat made wait_for_ready report
        # "Kernel died" for a live kernel; a dead one still fails every request with a timeout
        self.client.start_channels(hb=False)
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str) -> dict:
        """Execute; returns {"text": ..., "html": ..., "error": ...} of what a notebook would show."""
        outputs = {"text": "", "html": "", "error": "", "widgets": 0, "updates": ""}

        def collect(message):
            kind, content = message["msg_type"], message["content"]
            if kind in ("execute_result", "display_data"):
                outputs["text"] += content["data"].get("text/plain", "")
                outputs["html"] += content["data"].get("text/html", "")
                outputs["widgets"] += "application/vnd.jupyter.widget-view+json" in content["data"]
            elif kind == "update_display_data":  # a display replaced in place, e.g. a progress bar's end
                outputs["updates"] += content["data"].get("text/plain", "")
            elif kind == "stream":  # IPython prints a UsageError to stderr, in red
                outputs["error" if content["name"] == "stderr" else "text"] += content["text"]
            elif kind == "error":
                outputs["error"] += f"{content['ename']}: {content['evalue']}"

        reply = self.client.execute_interactive(code, output_hook=collect, timeout=120)
        for payload in reply["content"].get("payload", []):  # help (%magic?) arrives as a pager payload
            outputs["text"] += payload.get("data", {}).get("text/plain", "")
        return outputs

    def rename(self, notebook: str) -> None:
        """Rename the notebook as JupyterLab does: the session's path changes, the kernel stays."""
        response = self.server.session.patch(
            self.server.url + f"api/sessions/{self.session_id}", json={"path": notebook, "name": notebook}
        )
        response.raise_for_status()

    def stop(self) -> None:
        self.client.stop_channels()
        self.server.session.delete(self.server.url + f"api/kernels/{self.kernel_id}")
