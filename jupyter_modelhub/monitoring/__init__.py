"""Monitoring: reference profiles of versions, and drift and data quality of new data against them.

- ``features``: what a version's features are called (from its signature) and how a DataFrame
  or array of inputs or predictions becomes a frame with exactly those columns.
- ``profile``: a version's reference profile (quantiles, fixed bins, category frequencies, null
  rates, ranges; the predictions' too), small enough to keep with the version.
- ``drift``: per feature and per prediction column, PSI, Jensen-Shannon, Wasserstein and KS for
  numbers, chi-square for categories, against a profile; ``monitor_frames`` is the one call.
- ``quality``: nulls, values of the wrong type, values outside the signature's or the
  reference's range.
- ``service``: the server's half: a version's reference stored with it (a property) and read back.

Everything but ``service`` is plain numpy/pandas/scipy on DataFrames: the kernel, the server and
an endpoint's collected data use the same functions. Not here: collecting what endpoints see
(the collection module), the REST handlers (``api.monitoring``), the notebook's tables
(``display.monitoring``).
"""

from .drift import MonitorReport, Thresholds, monitor_frames
from .profile import MIN_ROWS, ReferenceProfile, profile_frames

__all__ = ["MIN_ROWS", "MonitorReport", "ReferenceProfile", "Thresholds", "monitor_frames", "profile_frames"]
