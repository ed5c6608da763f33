"""Monitoring: what an endpoint's traffic looks like against what its model was made for.

- ``collector``: the endpoint host records sampled requests and answers as Parquet, off the
  request path; ``collected`` reads them back as DataFrames and decodes them into the model's
  features and predictions.
- ``features``: what a version's features are called (from its signature) and how a DataFrame
  or array of inputs or predictions becomes a frame with exactly those columns.
- ``profile``: a version's reference profile (quantiles, fixed bins, category frequencies, null
  rates, ranges; the predictions' too), small enough to keep with the version.
- ``drift``: per feature and per prediction column, PSI, Jensen-Shannon, Wasserstein and KS for
  numbers, chi-square for categories, against a profile; ``monitor_frames`` is the one call.
- ``quality``: nulls, values of the wrong type, values outside the signature's or the
  reference's range.
- ``service``: the server's half: a version's reference stored with it (a property) and read back.

This package imports nothing itself: the endpoint host imports only ``collector`` (no pandas,
no scipy on its start).
"""
