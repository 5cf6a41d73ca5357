"""Render Lambdas: dead-lettered tasks, expiry of unsubmitted jobs."""
