"""studiobot's backend: plain Python services, no Slack. One package per domain (render, workstations, budgets),
the shared contracts (config, errors, events, commands) and the AWS adapters (aws/). The composition root and the
entry points that build from it live above, in `entry/`."""
