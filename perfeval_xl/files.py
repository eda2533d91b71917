"""File output shared by every door: atomic writes, deterministic zip packages, safe names.

Why atomic: a report or workbook is either fully written or not at all, even when Word or
Excel holds the target open or the disk fills up half way.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

FIXED_ZIP_TIME = (2021, 1, 1, 0, 0, 0)


class OutputError(Exception):
    """An output cannot be written; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# Longest file name: 255 bytes on Linux file systems (ext4, XFS, Btrfs), 255 UTF-16 units
# on NTFS; the stricter of the two applies to names we generate.
NAME_MAX_BYTES = 255
NAME_MAX_UNITS = 255


def name_fits(name: str) -> bool:
    """Whether ``name`` is short enough as one file-name component on Linux and Windows."""
    return (len(name.encode("utf-8", "surrogateescape")) <= NAME_MAX_BYTES
            and len(name.encode("utf-16-le", "surrogatepass")) // 2 <= NAME_MAX_UNITS)


# Windows' MAX_PATH (260 including the terminating NUL) for a full path.
WINDOWS_PATHS = os.name == "nt"
WINDOWS_PATH_MAX = 259


def write_target(path: str | os.PathLike) -> Path:
    """Where writing ``path`` really lands, refusing links that lead out of its folder.

    A symlink whose target lies in the link's own folder (or below it) is followed (the
    target is replaced, the link stays a link). One that leads anywhere else (``out.docx`` ->
    ``~/.bashrc``) would make an output land outside the output place, so it is refused.

    Raises:
        OutputError: the name is too long, or the link leads outside the folder.
    """
    path = Path(path)
    if not name_fits(path.name):
        size = len(path.name.encode("utf-8", "surrogateescape"))
        raise OutputError(
            f"输出文件名过长（{size} 字节，上限 {NAME_MAX_BYTES} 字节）：{_clip_name(path.name)}。"
            "请换一个较短的文件名。")
    if WINDOWS_PATHS:
        full = len(str(path.absolute()))
        if full > WINDOWS_PATH_MAX:
            # Without the LongPathsEnabled policy (off by default, needs admin) Windows
            # programs, Word and Excel among them, cannot open a longer path.
            raise OutputError(
                f"输出路径过长（{full} 个字符，Windows 上限 {WINDOWS_PATH_MAX} 个字符）："
                f"{_clip_name(path.name)}。请把输出文件夹放在较浅的位置（如 D:\\绩效评价），"
                "或换一个较短的文件名。")
    if not path.is_symlink():
        return path
    place = (path.parent if str(path.parent) else Path(".")).resolve()
    target = path.resolve()
    if not target.is_relative_to(place):
        raise OutputError(
            f"输出文件 {path} 是指向 {target} 的符号链接，链接目标不在输出文件夹 {place} 中，"
            "为防止改写其他位置的文件已拒绝写入；请删除该链接或换一个输出文件名。")
    if target.is_dir():
        raise OutputError(f"输出文件 {path} 是指向文件夹的链接，请指定一个文件名。")
    return target


def _clip_name(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def atomic_write(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temp file in the same folder and a rename.

    A symlink to a file in the same folder is written through (see :func:`write_target`);
    the returned path is the file actually written.
    """
    path = write_target(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"输出文件夹不存在：{folder}。请先创建该文件夹或换一个输出位置。")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".~perfeval-", suffix=path.suffix, dir=folder)
    except OSError as exc:
        raise OutputError(f"无法在文件夹 {folder} 中写入文件（{exc.strerror}）。请检查权限或换一个输出位置。") from exc
    try:
        # mkstemp creates 0600; give the file the mode a normal save would (or the old one's).
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except PermissionError as exc:
        _unlink(tmp)
        raise OutputError(
            f"无法写入 {path}：文件可能正在 Word/Excel 中打开，或没有写入权限。请关闭该文件后重试。") from exc
    except OSError as exc:
        _unlink(tmp)
        raise OutputError(f"写入 {path} 失败（{exc.strerror}）。原文件未被改动。") from exc
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unlink(p: str) -> None:
    try:
        os.unlink(p)
    except OSError:
        pass


def normalize_zip(data: bytes, *, first: tuple[str, ...] = ("[Content_Types].xml",)) -> bytes:
    """Rewrite an OOXML package with fixed timestamps and a stable member order, so that two
    builds of the same content are byte-identical (committed artifacts are checked)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = src.namelist()
    ordered = [n for n in first if n in names] + [n for n in names if n not in first]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in ordered:
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()


_ILLEGAL = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
             *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, fallback: str = "未命名单位", max_len: int = 40, *,
                  max_bytes: int = 120) -> str:
    """Make text (a unit name from a workbook) safe as one file-name component on Windows
    and Linux: no path separators or illegal characters, no leading dots, no reserved names.

    The result is at most ``max_len`` characters and ``max_bytes`` UTF-8 bytes, so that a
    caller's suffix (``_2021年度部门整体支出绩效自评报告.docx`` is 52 bytes, 24 characters)
    still fits Linux's 255-byte names and leaves most of Windows' 260-character path for the
    folder. A shortened name ends in ``_`` and 6 hex digits of a hash of the whole name, so
    two long names that share their start still give different files.
    """
    from perfeval_xl.display import strip_invisible

    # Pasted names bring invisible characters: spaces that look like spaces become spaces,
    # zero-width ones go (a file name must read the way it looks).
    text = strip_invisible(str(name or "").replace("\u00a0", " ").replace("\u3000", " "))
    # Leading = + - @ are legal in file names but look like formulas wherever the name is shown.
    s = _ILLEGAL.sub("_", text).strip().lstrip("=+-@").strip().strip(".").strip()
    s = re.sub(r"_+", "_", s)
    if not s or set(s) <= {"_"}:
        s = fallback
    if s.upper().split(".")[0].strip() in _RESERVED:
        s = "_" + s
    return shorten(s, max_len, max_bytes)


def shorten(text: str, max_len: int, max_bytes: int = NAME_MAX_BYTES) -> str:
    """``text`` cut to ``max_len`` characters and ``max_bytes`` UTF-8 bytes; when cut, it ends
    in ``_`` plus 6 hex digits of the whole text's hash (unique, stable between runs)."""
    def fits(t: str) -> bool:
        return len(t) <= max_len and len(t.encode("utf-8", "surrogateescape")) <= max_bytes

    if fits(text):
        return text
    tag = "_" + hashlib.sha1(text.encode("utf-8", "surrogateescape")).hexdigest()[:6]
    head = text[: max(max_len - len(tag), 1)]
    while head and not fits(head + tag):
        head = head[:-1]
    # Windows drops trailing dots and spaces; keep the cut end clean.
    return head.rstrip(" .") + tag


def fit_name(stem: str, tail: str) -> str:
    """``stem + tail`` as a file name, the stem shortened (see :func:`shorten`) when the whole
    would exceed 255 bytes / UTF-16 units; ``tail`` (suffix, extension) is always kept."""
    name = stem + tail
    if name_fits(name):
        return name
    budget = NAME_MAX_BYTES - len(tail.encode("utf-8", "surrogateescape"))
    units = NAME_MAX_UNITS - len(tail.encode("utf-16-le", "surrogatepass")) // 2
    return shorten(stem, units, budget) + tail


def default_scored_path(path: Path) -> Path:
    """自评表.xlsx -> 自评表_已评分.xlsx beside it (the stem shortened if the name would be
    too long)."""
    return path.with_name(fit_name(path.stem, f"_已评分{path.suffix}"))


def backup_copy(path: Path) -> Path:
    """Copy ``path`` to ``<stem>.bak-<n><suffix>`` (first free n) before an in-place write."""
    import shutil

    for n in range(1, 1000):
        target = path.with_name(fit_name(path.stem, f".bak-{n}{path.suffix}"))
        if not target.exists():
            try:
                shutil.copy2(path, target)
            except OSError as exc:
                raise OutputError(f"无法备份 {path}（{exc.strerror}），未做任何改动。") from exc
            return target
    raise OutputError(f"{path} 的备份文件过多，请清理 .bak-* 文件后重试。")


_RIBBON_REL = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


def keep_ribbon(original: bytes, saved: bytes) -> bytes:
    """Put the ribbon (customUI parts and their root relationship) of ``original`` back into
    ``saved``: openpyxl keeps vbaProject.bin but drops customUI's root relationship."""
    src = zipfile.ZipFile(io.BytesIO(original))
    parts = [n for n in src.namelist() if n.startswith("customUI/")]
    if not parts:
        return saved
    rels = src.read("_rels/.rels").decode("utf-8")
    wanted = re.findall(r"<Relationship [^>]*" + re.escape(_RIBBON_REL) + r"[^>]*/>", rels)
    dst_in = zipfile.ZipFile(io.BytesIO(saved))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in dst_in.infolist():
            data = dst_in.read(info.filename)
            if info.filename == "_rels/.rels":
                text = data.decode("utf-8")
                missing = [w for w in wanted if _RIBBON_REL not in text]
                if missing:
                    text = text.replace("</Relationships>", "".join(missing) + "</Relationships>")
                data = text.encode("utf-8")
            if info.filename.startswith("customUI/"):
                continue
            dst.writestr(info, data)
        for name in parts:
            dst.writestr(zipfile.ZipInfo(name, date_time=FIXED_ZIP_TIME), src.read(name))
    return out.getvalue()


def open_with_system(path: Path) -> bool:
    """Open a file or folder with the system's default program (the ribbon's and the
    assistant's 打开…); False if that failed."""
    import subprocess
    import sys

    try:
        if sys.platform.startswith("win"):
            os.startfile(str(path))  # noqa: S606 - the user's own output
        elif sys.platform == "darwin":
            subprocess.Popen(["open", str(path)])
        else:
            subprocess.Popen(["xdg-open", str(path)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        return True
    except Exception:
        return False


def log_traceback(exc: BaseException, log_name: str) -> tuple[Path | None, str]:
    """Append ``exc``'s traceback to ``log_name`` in the temp folder, for support (the doors
    show users a Chinese message, never a traceback).

    Returns:
        (the log file, or None when it could not be written; a Chinese sentence saying
        where the details are).
    """
    import datetime
    import traceback

    log = Path(tempfile.gettempdir()) / log_name
    try:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.datetime.now():%Y-%m-%d %H:%M:%S}\n")
            fh.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    except OSError:
        return None, "请记下操作步骤并联系技术支持。"
    return log, f"详细信息已记录在 {log}，请将该文件发给技术支持。"

