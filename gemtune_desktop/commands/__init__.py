"""Terminal subcommands (``check``, ``convert``): Qt-free glue over the core package."""
