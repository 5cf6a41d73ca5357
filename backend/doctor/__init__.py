"""`studiobot doctor`: a read-only preflight of a real AWS account and Slack workspace, as plain checks over ports."""
