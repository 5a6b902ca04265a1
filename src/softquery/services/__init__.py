"""The service layer: every use case lives here; entry points stay thin."""
