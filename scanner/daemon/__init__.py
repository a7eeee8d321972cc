"""`liqscan daemon`: continuous snapshots, alerts and metrics (README "Daemon").

    settings.py  the [daemon] config section        service.py  the daemon, signals, HTTP
    worker.py    one chain: lock, heads, snapshots  heads.py    new heads through web3.py
    locks.py     one daemon per chain (PostgreSQL advisory lock / flock)
    alerts.py    alert conditions (pure)            webhooks.py POSTs with retries
    retention.py which snapshots to prune (pure)    metrics.py  Prometheus metrics
"""
