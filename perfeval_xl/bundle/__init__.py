"""``perfeval-xl bundle``: the offline Windows install bundle for a county PC (no internet,
no admin rights).

The bundle is one zip with ASCII member names (old unzip tools garble others)::

    perfeval-xl-<version>-win64/
        install.bat          GBK, CRLF, ASCII commands, Chinese messages (``install_bat``)
        README.txt           使用说明 (Chinese, UTF-8 with BOM so Notepad reads it anywhere)
        SHA256SUMS.txt       SHA-256 of every other file; install.bat checks it first
        requirements.txt     exact pins of every wheel, so a re-run installs these versions
        wheels/*.whl         win_amd64 wheels for CPython 3.11 + the project wheel + pip
        python/python-embed.zip   only with --python-embed-zip (python.org embeddable zip)

Building runs on any OS. Wheels come from ``pip download --only-binary=:all: --platform
win_amd64 --python-version 3.11 --implementation cp``. pip evaluates environment markers
for the machine it runs on, so on Linux it would leave out Windows-only requirements such
as xlwings' ``pywin32; platform_system == "Windows"``; ``_add_windows_requirements``
re-reads every downloaded wheel's metadata with a Windows marker environment and downloads
what is missing until nothing is.

numpy is held below 2.4: numpy 2.4 raised its x86-64 baseline to x86-64-v2 (SSE4.2,
POPCNT; numpy PR #28896), so its wheels stop at import on pre-2009/2013 office CPUs
(Core 2, early Pentium/Celeron) with "NumPy was built with baseline optimizations (X86_V2)
but your machine doesn't support (X86_V2)". numpy 2.3.x keeps the SSE3 baseline and
dispatches newer instructions at run time.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from perfeval_xl import __version__, files
from perfeval_xl.bundle import scripts

PYTHON_VERSION = "3.11"
PLATFORM = "win_amd64"
# Why: see the module docstring (x86-64-v2 baseline from numpy 2.4).
CONSTRAINTS = ("numpy<2.4",)
FIXED_TIME = (2021, 1, 1, 0, 0, 0)


class BundleError(Exception):
    """The bundle cannot be built; ``message`` is Chinese and says what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Bundle:
    """What ``build_bundle`` wrote."""

    path: Path
    wheels: tuple[str, ...]
    embedded_python: bool


def windows_marker_env(python_version: str = PYTHON_VERSION) -> dict[str, str]:
    """The PEP 508 marker environment of 64-bit CPython ``python_version`` on Windows."""
    return {
        "implementation_name": "cpython", "implementation_version": python_version + ".0",
        "os_name": "nt", "platform_machine": "AMD64", "platform_python_implementation":
        "CPython", "platform_release": "10", "platform_system": "Windows",
        "platform_version": "10.0.19045", "python_full_version": python_version + ".0",
        "python_version": python_version, "sys_platform": "win32", "extra": "",
    }


def wheel_requirements(wheel: Path) -> list[str]:
    """The ``Requires-Dist`` lines of a wheel's METADATA."""
    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist()
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        text = z.read(meta).decode("utf-8", errors="replace")
    return [line.split(":", 1)[1].strip() for line in text.splitlines()
            if line.startswith("Requires-Dist:")]


def _project_name(wheel: Path) -> str:
    from packaging.utils import canonicalize_name, parse_wheel_filename

    return canonicalize_name(parse_wheel_filename(wheel.name)[0])


def missing_windows_requirements(folder: Path, python_version: str = PYTHON_VERSION
                                 ) -> list[str]:
    """Requirements (marker removed) that apply on Windows but have no wheel in ``folder``."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    env = windows_marker_env(python_version)
    have = {_project_name(w) for w in folder.glob("*.whl")}
    out = []
    for wheel in sorted(folder.glob("*.whl")):
        for line in wheel_requirements(wheel):
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            if canonicalize_name(req.name) not in have:
                req.marker = None
                if str(req) not in out:
                    out.append(str(req))
    return out


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout or "").strip().splitlines()[-6:])
        raise BundleError(f"pip 运行失败（{' '.join(args[:2])}）。下载 Windows 安装包需要联网访问 PyPI；"
                          f"请检查网络或代理后重试。\n{tail}")


def _download_args(python_version: str) -> list[str]:
    return ["--only-binary=:all:", "--platform", PLATFORM, "--python-version", python_version,
            "--implementation", "cp", "--abi", "cp" + python_version.replace(".", "")]


def build_project_wheel(repo: Path, out: Path) -> Path:
    """The project wheel built from the checkout ``repo`` (a copy, so the checkout gets no
    build/ or egg-info folders)."""
    if not (repo / "pyproject.toml").is_file() or not (repo / "perfeval_xl").is_dir():
        raise BundleError(f"找不到本软件的源码目录（{repo} 中没有 pyproject.toml）。"
                          "bundle 命令须在从源码安装（pip install -e .）的环境中运行。")
    with tempfile.TemporaryDirectory(prefix="perfeval-bundle-src-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            if (repo / name).is_file():
                shutil.copy2(repo / name, src / name)
        shutil.copytree(repo / "perfeval_xl", src / "perfeval_xl",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _pip(["wheel", "--no-deps", "--quiet", "-w", str(out), str(src)])
    built = sorted(out.glob("perfeval_xl-*.whl"))
    if not built:
        raise BundleError("未能生成本软件的 wheel 安装文件。")
    return built[-1]


def download_wheels(project_wheel: Path, dest: Path, python_version: str = PYTHON_VERSION,
                    cache: Path | None = None) -> None:
    """Every win_amd64/pure wheel the project needs on Windows, plus pip, into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="perfeval-bundle-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(CONSTRAINTS) + "\n", encoding="utf-8")
        base = ["download", "--quiet", *_download_args(python_version), "-c", str(constraints),
                "-d", str(dest)]
        if cache is not None:
            base += ["--find-links", str(cache)]
        _pip([*base, str(project_wheel), "pip"])
        for _ in range(10):  # Windows-only requirements, until none is missing
            missing = missing_windows_requirements(dest, python_version)
            if not missing:
                break
            _pip([*base, *missing])
        else:
            raise BundleError("无法补全 Windows 专用的依赖包：" + "、".join(missing))


def requirements_text(wheels: list[Path]) -> str:
    """Exact pins of every wheel (pip installs exactly these, also when re-run)."""
    from packaging.utils import parse_wheel_filename

    pins = sorted(f"{parse_wheel_filename(w.name)[0]}=={parse_wheel_filename(w.name)[1]}"
                  for w in wheels)
    return "\r\n".join(pins) + "\r\n"


def manifest_text(members: dict[str, bytes]) -> str:
    """``<sha256>  <path>`` per member (backslashes: install.bat hands them to certutil)."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name.replace('/', chr(92))}\r\n"
                   for name, data in sorted(members.items()))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expected_sha256(value: str) -> str:
    """A SHA-256 given as 64 hex digits or as a file holding them (``sha256sum`` output
    or python.org's bare digest)."""
    text = value.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text):
        path = Path(value)
        if not path.is_file():
            raise BundleError(f"--python-embed-sha256 须为 64 位十六进制 SHA-256 值或含该值的文件：{value}")
        m = re.search(r"\b[0-9a-fA-F]{64}\b", path.read_text(encoding="utf-8", errors="replace"))
        if not m:
            raise BundleError(f"文件 {path} 中没有 SHA-256 值。")
        text = m.group(0)
    return text.lower()


def check_embed_zip(path: Path, sha256: str, python_version: str = PYTHON_VERSION) -> None:
    """The python.org embeddable zip: the SHA-256 given by the user and its contents."""
    if not path.is_file():
        raise BundleError(f"找不到 Python 嵌入式安装包 {path}。")
    got = sha256_file(path)
    if got != sha256:
        raise BundleError(f"{path.name} 的 SHA-256 为 {got}，与给定的 {sha256} 不符："
                          "文件可能已损坏或被改动，请从 python.org 重新下载。")
    tag = "python" + python_version.replace(".", "")
    try:
        names = set(zipfile.ZipFile(path).namelist())
    except zipfile.BadZipFile:
        raise BundleError(f"{path.name} 不是有效的 zip 文件。") from None
    if not {"python.exe", f"{tag}._pth", f"{tag}.zip"} <= names:
        raise BundleError(f"{path.name} 不是 Python {python_version} 的 64 位嵌入式安装包"
                          f"（python-{python_version}.x-embed-amd64.zip）。")


def _add(z: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    z.writestr(info, data)


def build_bundle(out_dir: Path, *, embed_zip: Path | None = None, embed_sha256: str | None = None,
                 repo: Path | None = None, python_version: str = PYTHON_VERSION,
                 cache: Path | None = None) -> Bundle:
    """Build the offline Windows bundle zip into ``out_dir`` (written atomically).

    Args:
        embed_zip: python.org's embeddable zip for 64-bit Windows, bundled as the interpreter.
        embed_sha256: its SHA-256 (hex, or a file holding it); required with ``embed_zip``.
        repo: the source checkout the project wheel is built from (default: this one).
        cache: a folder of already downloaded wheels pip may use.

    Raises:
        BundleError: a missing/altered embeddable zip, no network, no checkout.
    """
    from perfeval_xl.artifacts import REPO

    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise BundleError(f"输出文件夹不存在：{out_dir}。请先创建该文件夹。")
    if embed_zip is not None:
        if not embed_sha256:
            raise BundleError("使用 --python-embed-zip 时必须用 --python-embed-sha256 给出 python.org "
                              "公布的 SHA-256 值（或含该值的文件）。")
        check_embed_zip(Path(embed_zip), expected_sha256(embed_sha256), python_version)
    top = f"perfeval-xl-{__version__}-win64"
    with tempfile.TemporaryDirectory(prefix="perfeval-bundle-") as tmp:
        wheels_dir = Path(tmp) / "wheels"
        project = build_project_wheel(Path(repo or REPO), Path(tmp) / "project")
        download_wheels(project, wheels_dir, python_version, cache)
        shutil.copy2(project, wheels_dir / project.name)
        wheels = sorted(wheels_dir.glob("*.whl"))
        pip_wheel = next((w for w in wheels if _project_name(w) == "pip"), None)
        if pip_wheel is None:
            raise BundleError("未能下载 pip 的 wheel 安装文件。")
        members: dict[str, bytes] = {}
        for w in wheels:
            members[f"wheels/{w.name}"] = w.read_bytes()
        if embed_zip is not None:
            members["python/python-embed.zip"] = Path(embed_zip).read_bytes()
        members["requirements.txt"] = requirements_text(
            [w for w in wheels if _project_name(w) != "pip"]).encode("ascii")
        members["README.txt"] = b"\xef\xbb\xbf" + _crlf(scripts.readme_text(
            __version__, python_version, embed_zip is not None)).encode("utf-8")
        members["install.bat"] = scripts.install_bat(
            __version__, python_version, pip_wheel.name, embed_zip is not None, project.name)
        members["SHA256SUMS.txt"] = manifest_text(members).encode("ascii")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for name in ("install.bat", "README.txt", "SHA256SUMS.txt", "requirements.txt"):
                _add(z, f"{top}/{name}", members.pop(name))
            for name, data in sorted(members.items()):
                _add(z, f"{top}/{name}", data)
        target = files.atomic_write(out_dir / f"{top}.zip", buf.getvalue())
    return Bundle(target, tuple(w.name for w in wheels), embed_zip is not None)


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def run_bundle(output: str, embed_zip: str | None, embed_sha256: str | None) -> int:
    """``perfeval-xl bundle``: build, print the path and what is inside. Returns the exit code."""
    try:
        bundle = build_bundle(Path(output), embed_zip=Path(embed_zip) if embed_zip else None,
                              embed_sha256=embed_sha256)
    except (BundleError, files.OutputError) as exc:
        print(exc.message, file=sys.stderr)
        return 2
    print(bundle.path)
    kind = "含 Python 嵌入式解释器" if bundle.embedded_python else "使用本机 py 启动器的 64 位 Python 3.11"
    print(f"已生成 Windows 离线安装包（{len(bundle.wheels)} 个 wheel，{kind}）。"
          "把 zip 拷到目标电脑，解压后双击 install.bat。", file=sys.stderr)
    return 0
