"""One router module per page group."""
