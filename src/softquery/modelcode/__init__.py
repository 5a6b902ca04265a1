"""Model code: static checks, loading user code into a module, templates, preprocessing."""
