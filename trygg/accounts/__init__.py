"""Users, roles, login, two-factor and throttling, and the admin pages for them."""
