"""The Tune tab (start at :mod:`.tab`): the job form, presets, estimate and price, problems, and the Start flow."""
