"""AWS Budgets and the budget guard: alerts read from SNS, the guard, the service behind `/budget`, the Budgets provider."""
