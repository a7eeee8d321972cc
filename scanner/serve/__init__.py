"""Serve stored snapshots over HTTP: the JSON API, /healthz, /metrics and the web page."""
