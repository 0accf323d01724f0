"""The steward actions of the REST API: the same services as the steward UI."""
