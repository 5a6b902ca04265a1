"""User model code: templates, checks and the preprocessing they rely on."""
