"""install.bat executed by cmd.exe under Wine (Debian ``wine``), up to where Wine can go.

Wine has no Windows Python and no python.org embeddable zip can be fetched here, so these
tests run install.bat's steps 0-4 only: the unzipped check, the Windows version check, the
SHA-256 check of every file, the refusal when no 64-bit Python 3.11 is found and (embedded
variant) when the interpreter did not unzip. Wine's
``certutil.exe`` is a stub that prints nothing, so the hash tests put a stand-in
``certutil.bat`` on Wine's PATH that prints certutil's ``-hashfile`` output computed by the
host's ``sha256sum``; one test runs Wine's own stub to show an empty answer never passes.
Wine runs with a Chinese locale (code page 936), as on a Chinese Windows.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from perfeval_xl import __version__
from perfeval_xl.bundle import manifest_text, requirements_text, scripts

pytestmark = pytest.mark.skipif(
    shutil.which("wine") is None or shutil.which("sha256sum") is None,
    reason="Wine is not installed (Debian: apt-get install wine wine64)")

PIP_WHEEL = "pip-26.0-py3-none-any.whl"
DEMO_WHEEL = "demo-1.0-py3-none-any.whl"

# Wine starts a Unix program without waiting for it, so the stand-in polls for the result
# file the host script moves into place when complete.
CERTUTIL_BAT = r"""@echo off
rem Stand-in for "certutil -hashfile FILE SHA256" (Wine's certutil prints nothing).
set "T=%~dp0out-%RANDOM%%RANDOM%.txt"
"%~dp0sha256.exe" "%~f2" "%T%"
set /a "N=0"
:wait
if exist "%T%" goto :done
set /a "N+=1"
if %N% LSS 200000 goto :wait
exit /b 1
:done
type "%T%"
del "%T%"
"""

# Output in the form of Windows 10's certutil: a title line, the hash, a status line.
SHA256_SH = r"""#!/bin/sh
u() { printf '%s' "$1" | sed 's/^[A-Za-z]://; s#\\#/#g'; }
out=$(u "$2")
h=$(sha256sum "$(u "$1")" | cut -d' ' -f1)
printf 'SHA256 hash of %s:\r\n%s\r\nCertUtil: -hashfile command completed successfully.\r\n' \
    "$1" "$h" > "$out.part"
mv "$out.part" "$out"
"""


def winpath(path: Path) -> str:
    return "Z:" + str(path).replace("/", "\\")


@pytest.fixture(scope="module")
def wine(tmp_path_factory):
    """Environment of a throwaway Windows 10 Wine prefix with the certutil stand-in."""
    base = tmp_path_factory.mktemp("wine")
    stub = base / "stub"
    stub.mkdir()
    (stub / "certutil.bat").write_bytes(CERTUTIL_BAT.replace("\n", "\r\n").encode("ascii"))
    (stub / "sha256.exe").write_text(SHA256_SH, "ascii")
    (stub / "sha256.exe").chmod(0o755)
    env = dict(os.environ, WINEPREFIX=str(base / "prefix"), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=d", LC_ALL="zh_CN.UTF-8", LANG="zh_CN.UTF-8",
               WINEPATH=winpath(stub))
    env.pop("DISPLAY", None)
    set_windows_version(env, "win10")
    return env


def set_windows_version(env, version: str) -> None:
    subprocess.run(["wine", "reg", "add", r"HKCU\Software\Wine", "/v", "Version", "/d", version,
                    "/f"], env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                   check=True)


def tiny_wheel(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", name)
    return buf.getvalue()


def unzipped_bundle(folder: Path, embedded: bool = False) -> Path:
    """A bundle laid out by the builder's own functions, with two tiny wheels."""
    members = {f"wheels/{n}": tiny_wheel(n) for n in (PIP_WHEEL, DEMO_WHEEL)}
    if embedded:
        members["python/python-embed.zip"] = tiny_wheel("python.exe")
    members["requirements.txt"] = requirements_text([Path(DEMO_WHEEL)]).encode("ascii")
    members["install.bat"] = scripts.install_bat(__version__, "3.11", PIP_WHEEL, embedded)
    members["SHA256SUMS.txt"] = manifest_text(members).encode("ascii")
    for name, data in members.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def run_install(env, bundle: Path, root: Path) -> tuple[int, str]:
    """install.bat's exit code and console output (GBK, decoded strictly)."""
    proc = subprocess.run(["wine", "cmd", "/c", winpath(bundle / "install.bat"), winpath(root)],
                          env=env, cwd=bundle, stdin=subprocess.DEVNULL, capture_output=True,
                          timeout=120)
    return proc.returncode, proc.stdout.decode("gbk").replace("\r\n", "\n")


HEADER = f"部门整体支出绩效自评工具 perfeval-xl {__version__} 离线安装"
CORRUPT = "错误：安装文件不完整或已被改动（见上方列出的文件），未安装任何内容。"


def test_intact_bundle_passes_the_hash_check_then_asks_for_python(wine, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out = run_install(wine, bundle, tmp_path / "root")
    assert rc == 1
    assert HEADER in out
    assert "正在核对安装文件的 SHA-256 校验值……\n安装文件完整。\n" in out
    assert "错误：没有找到 64 位 Python 3.11。" in out and "安装未完成。" in out
    # Step 3 made the install folder; nothing was put into it.
    assert (tmp_path / "root").is_dir() and not any((tmp_path / "root").iterdir())


def test_altered_missing_and_unlisted_wheels_stop_before_anything_is_installed(wine, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    demo = bundle / "wheels" / DEMO_WHEEL
    demo.write_bytes(demo.read_bytes() + b"\0")
    (bundle / "wheels" / PIP_WHEEL).unlink()
    (bundle / "wheels" / "extra-1.0-py3-none-any.whl").write_bytes(tiny_wheel("extra"))
    rc, out = run_install(wine, bundle, tmp_path / "root")
    assert rc == 1
    assert f"  [已损坏或被改动] wheels\\{DEMO_WHEEL}\n" in out
    assert f"  [缺少文件] wheels\\{PIP_WHEEL}\n" in out
    assert "  [清单中没有的文件] wheels\\extra-1.0-py3-none-any.whl\n" in out
    assert "[已损坏或被改动] install.bat" not in out
    assert CORRUPT in out and "安装文件完整" not in out and "Python 3.11" not in out
    assert not (tmp_path / "root").exists()


def test_wines_own_certutil_giving_no_hash_never_passes(wine, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    env = {k: v for k, v in wine.items() if k != "WINEPATH"}
    rc, out = run_install(env, bundle, tmp_path / "root")
    assert rc == 1
    for name in ("install.bat", "requirements.txt", f"wheels\\{DEMO_WHEEL}"):
        assert f"  [已损坏或被改动] {name}\n" in out
    assert CORRUPT in out
    assert not (tmp_path / "root").exists()


def test_a_lone_install_bat_as_run_from_inside_the_zip_is_refused(wine, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(bundle / "install.bat", lone / "install.bat")
    rc, out = run_install(wine, lone, tmp_path / "root")
    assert rc == 1
    assert "错误：请先把整个 zip 文件解压到一个文件夹（右键“全部解压缩”），再双击解压出来的 install.bat。" \
        in out
    assert "SHA-256" not in out
    assert not (tmp_path / "root").exists()


def test_windows_7_is_refused(wine, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    set_windows_version(wine, "win7")
    try:
        rc, out = run_install(wine, bundle, tmp_path / "root")
    finally:
        set_windows_version(wine, "win10")
    assert rc == 1
    assert "错误：本安装包需要 Windows 10 或更高版本。" in out
    assert "SHA-256" not in out
    assert not (tmp_path / "root").exists()


def test_embedded_python_that_did_not_unzip_is_an_error(wine, tmp_path):
    # Wine 8 has no tar.exe and its powershell.exe is a stub that exits 0 having done nothing:
    # install.bat must notice that python.exe is missing instead of going on.
    if (Path(wine["WINEPREFIX"]) / "drive_c/windows/system32/tar.exe").exists():
        pytest.skip("this Wine has tar.exe: the stub-PowerShell path is not reached")
    bundle = unzipped_bundle(tmp_path / "b", embedded=True)
    rc, out = run_install(wine, bundle, tmp_path / "root")
    assert rc == 1
    assert "安装文件完整。" in out
    assert "错误：解压 Python 失败" in out and "pip" not in out
    assert not (tmp_path / "root" / "python" / "python311._pth").exists()
