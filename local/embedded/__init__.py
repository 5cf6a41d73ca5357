"""The embedded local stack: moto's server on 127.0.0.1 as AWS (`stack.py`, `moto_patches.py`), its state across
restarts (`persistence.py`, `gate.py`, `carry.py`, `unsaved.py`), and the processes that stand in for Lambda,
EventBridge and Slack's HTTPS (`supervisor.py`, `worker.py`, `poller.py`, `notices.py`, `schedule.py`,
`slack_http.py`)."""
