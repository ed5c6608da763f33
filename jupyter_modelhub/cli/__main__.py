"""``python -m jupyter_modelhub.cli``, as the client's discovery starts the standalone server."""

from . import main

main()
