"""Where a deployment runs: ``process`` (the endpoint host's own scoring processes, the default),
``docker`` (a container of the packaged image), ``kubernetes`` (manifests for a cluster)."""
