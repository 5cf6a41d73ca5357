"""Workstation Lambdas: the expiry sweep, the keep-alive steps, EC2 events."""
