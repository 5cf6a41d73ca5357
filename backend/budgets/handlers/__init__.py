"""Budget Lambdas: AWS Budgets notifications in, alerts and the guard out."""
