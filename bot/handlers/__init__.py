"""Slack Lambdas: the Bolt app behind API Gateway, the notifier behind SNS."""
