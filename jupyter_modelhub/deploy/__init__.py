"""Local online endpoints: the deployment service (``manager``) and the per-endpoint host
process that routes traffic and supervises scoring processes (``host``)."""
