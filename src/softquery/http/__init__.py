"""What the API and the web UI share: authentication, the app factory, error envelopes."""
