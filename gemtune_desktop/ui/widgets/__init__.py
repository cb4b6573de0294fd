"""Small widgets and helpers shared by the tabs (the status line, buttons)."""
