"""Progress display of a batch run, on stderr, with no dependency beyond the stdlib.

- In a terminal: one line redrawn with ``\\r`` — a bar, the count, the file being worked on
  and the estimated time left. Lines that must stay (a failure) are printed above it.
- Otherwise (a log file, a pipe, a CI job): one plain line per file, e.g.
  ``[3/50] 某单位.xlsx 总分 92.5 优``, so the log reads top to bottom.
"""

from __future__ import annotations

import shutil
import sys
import time
import unicodedata
from typing import TextIO

BAR_WIDTH = 20
REDRAW_INTERVAL_S = 0.1


def text_width(s: str) -> int:
    """Terminal columns of ``s``: CJK (wide/fullwidth) characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def clip(s: str, width: int) -> str:
    """``s`` cut to at most ``width`` terminal columns (an ellipsis marks the cut)."""
    if text_width(s) <= width:
        return s
    out, used = [], 0
    for ch in s:
        w = text_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def fmt_duration(seconds: float) -> str:
    """0:07, 12:30, 1:02:03."""
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Counts finished files out of ``total``.

    Args:
        total: number of files in the run (processed + skipped + failed).
        stream: where to write (default stderr).
        enabled: False shows nothing (``run_batch(progress=False)``).
        tty: force terminal (True) or line (False) mode; default asks ``stream.isatty()``.
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True,
                 tty: bool | None = None):
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        if tty is None:
            try:
                tty = self.stream.isatty()
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.done = 0
        self.current = ""
        self._t0 = time.monotonic()
        self._timed_done = 0     # files that took real work (skips do not predict the ETA)
        self._last_draw = 0.0
        self._drawn = False

    # ----------------------------------------------------------------- events

    def working_on(self, name: str) -> None:
        """The file now being processed (shown in terminal mode)."""
        self.current = name
        self._draw()

    def advance(self, line: str, *, timed: bool = True, keep: bool = False) -> None:
        """One file finished. ``line`` describes it (``某单位.xlsx 总分 92.5 优``); ``timed``
        says it took real work (counts for the ETA); ``keep`` prints it above the bar in
        terminal mode too (failures)."""
        self.done += 1
        if timed:
            self._timed_done += 1
        if not self.enabled:
            return
        text = f"[{self.done}/{self.total}] {line}"
        if not self.tty:
            self._write(text + "\n")
            return
        if keep:
            self._clear()
            self._write(text + "\n")
        self._draw(force=self.done == self.total)

    def message(self, text: str) -> None:
        """A line that is not about one file (e.g. 汇总表 written)."""
        if not self.enabled:
            return
        if self.tty:
            self._clear()
        self._write(text + "\n")

    def close(self) -> None:
        """Leave the terminal on a fresh line."""
        if self.enabled and self.tty and self._drawn:
            self._draw(force=True)
            self._write("\n")
            self._drawn = False

    # ----------------------------------------------------------------- terminal

    def eta(self) -> float | None:
        """Seconds left, from the mean time of the files that took real work so far."""
        left = self.total - self.done
        if left <= 0:
            return 0.0
        if self._timed_done == 0:
            return None
        return (time.monotonic() - self._t0) / self._timed_done * left

    def bar_line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        full = int(frac * BAR_WIDTH)
        bar = "█" * full + "░" * (BAR_WIDTH - full)
        eta = self.eta()
        tail = "" if eta is None else f" 剩余约 {fmt_duration(eta)}"
        current = f" {self.current}" if self.current and self.done < self.total else ""
        return f"{bar} {self.done}/{self.total} {frac:4.0%}{tail}{current}"

    def _draw(self, force: bool = False) -> None:
        if not (self.enabled and self.tty):
            return
        now = time.monotonic()
        if not force and now - self._last_draw < REDRAW_INTERVAL_S:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((80, 20)).columns - 1
        line = clip(self.bar_line(), width)
        self._write("\r" + line + " " * max(0, width - text_width(line)))
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            width = shutil.get_terminal_size((80, 20)).columns - 1
            self._write("\r" + " " * width + "\r")
            self._drawn = False

    def _write(self, s: str) -> None:
        try:
            self.stream.write(s)
            self.stream.flush()
        except (OSError, ValueError):  # a closed pipe must not stop the batch
            self.enabled = False
