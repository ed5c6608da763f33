"""Persistent state: the SQL database (``orm``, ``database``) and the artifact files (``artifacts``)."""
