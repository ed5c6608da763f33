"""jupyter_modelhub: register, convert, package, deploy and batch-score models from Jupyter.

This module holds entry points only, so importing the package stays cheap: the Jupyter server
extension, the JupyterLab extension's location, the IPython extension, and ``connect()``.
"""

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .app import ModelHubApp

    return [{"module": "jupyter_modelhub.app", "app": ModelHubApp}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyter-modelhub"}]


def load_ipython_extension(ipython):
    from .magics import load_ipython_extension as load

    load(ipython)


def connect(url=None, token=None):
    """Return a client of the Model Hub server this kernel belongs to (or a standalone one)."""
    from .client import connect as _connect

    return _connect(url=url, token=token)
