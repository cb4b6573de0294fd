"""Settings (start at :mod:`.connections_dialog`): pages that each load, validate and save what they show."""
