"""Business operations. Each takes a session, never commits, and raises domain errors."""
