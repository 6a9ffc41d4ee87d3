"""Services hold the panel's logic; they never touch ``request`` or ``current_user``."""
