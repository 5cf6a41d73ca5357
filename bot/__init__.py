"""The Slack side: the Bolt app, its listeners, every message a person reads, and the notifier."""
