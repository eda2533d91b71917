"""``python -m perfeval_xl.gui [WB]``: the window (the shortcut's fallback command)."""

from perfeval_xl.gui import main

raise SystemExit(main())
