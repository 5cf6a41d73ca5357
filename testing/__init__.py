"""Test doubles: a loopback fake of Slack's Web API, and helpers to sign requests."""
