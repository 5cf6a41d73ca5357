"""studiobot's backend: plain Python services, no Slack. One package per domain (render, workstations, budgets),
the shared contracts (config, errors, events, commands), the AWS adapters (aws/) and the composition root (wiring)."""
