"""Monitoring: what an endpoint's traffic looks like against what its model was made for.

Payload collection (the endpoint host records sampled requests and answers as Parquet,
``collector``; they are read back as DataFrames, ``collected``), reference profiles, drift and
data quality, and replay.
"""
