"""Which installed font family the window uses, so Chinese never shows as boxes. Pure (the
window passes ``tkinter.font.families()``), so it is tested without a display."""

from __future__ import annotations

import sys

# Platform UI fonts first, then common CJK families; the first installed one wins.
PREFERRED = {
    "win": ["Microsoft YaHei UI", "Microsoft YaHei", "微软雅黑", "SimHei", "黑体", "SimSun",
            "宋体"],
    "darwin": ["PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti"],
    "linux": ["Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN",
              "思源黑体", "WenQuanYi Micro Hei", "文泉驿微米黑", "WenQuanYi Zen Hei",
              "文泉驿正黑", "Droid Sans Fallback", "AR PL UMing CN", "Noto Serif CJK SC"],
}


def platform_key(platform: str | None = None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "win"
    return "darwin" if platform == "darwin" else "linux"


def pick_ui_family(families, platform: str | None = None) -> str | None:
    """The preferred UI family among ``families``; else any family whose name says it covers
    simplified Chinese; None when nothing suitable is installed (Tk's default stays)."""
    installed = {f.lower(): f for f in families}
    key = platform_key(platform)
    order = PREFERRED[key] + [f for k, v in PREFERRED.items() if k != key for f in v]
    for name in order:
        if name.lower() in installed:
            return installed[name.lower()]
    for f in sorted(families):
        low = f.lower()
        if not f.startswith("@") and ("cjk sc" in low or low.endswith((" sc", " gb"))
                                      or "hei" in low):
            return f
    return None
