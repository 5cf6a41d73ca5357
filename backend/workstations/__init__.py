"""Studio workstations (EC2 + DCV): the command grammar, leases, the service, keep-alive and the EC2 provider."""
