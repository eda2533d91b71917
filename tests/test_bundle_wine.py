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
from perfeval_xl.bundle import desktop, manifest_text, requirements_text, scripts

pytestmark = pytest.mark.skipif(
    shutil.which("wine") is None or shutil.which("sha256sum") is None,
    reason="Wine is not installed (Debian: apt-get install wine wine64)")

PIP_WHEEL = "pip-26.0-py3-none-any.whl"
DEMO_WHEEL = "demo-1.0-py3-none-any.whl"
PROJECT_WHEEL = f"perfeval_xl-{__version__}-py3-none-any.whl"

# Wine starts a Unix program without waiting for it, so the stand-in polls for the result
# file the host script moves into place when complete.
CERTUTIL_BAT = r"""@echo off
rem Stand-in for "certutil -hashfile FILE SHA256" (Wine's certutil prints nothing).
if defined CERTUTIL_BLOCKED exit /b 1
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
u() { printf '%s' "$1" | sed 's#^[Cc]:#@@DRIVE_C@@#; s/^[A-Za-z]://; s#\\#/#g'; }
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
    (stub / "sha256.exe").write_text(
        SHA256_SH.replace("@@DRIVE_C@@", str(base / "prefix" / "drive_c")), "ascii")
    (stub / "sha256.exe").chmod(0o755)
    env = dict(os.environ, WINEPREFIX=str(base / "prefix"), WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=d", LC_ALL="zh_CN.UTF-8", LANG="zh_CN.UTF-8",
               WINEPATH=winpath(stub))
    env.pop("DISPLAY", None)
    # Wine maps Chinese file names through the host's locale; a host without zh_CN.UTF-8
    # gets it compiled privately (glibc's LOCPATH) from Debian's locale sources.
    if subprocess.run(["localedef", "-i", "zh_CN", "-f", "UTF-8", str(base / "zh_CN.UTF-8")],
                      capture_output=True).returncode == 0 if shutil.which("localedef") else False:
        env["LOCPATH"] = str(base)
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
    """A bundle laid out by the builder's own functions, with three tiny wheels."""
    members = {f"wheels/{n}": tiny_wheel(n) for n in (PIP_WHEEL, DEMO_WHEEL, PROJECT_WHEEL)}
    if embedded:
        members["python/python-embed.zip"] = tiny_wheel("python.exe")
    members["requirements.txt"] = requirements_text(
        [Path(DEMO_WHEEL), Path(PROJECT_WHEEL)]).encode("ascii")
    members["install.bat"] = scripts.install_bat(__version__, "3.11", PIP_WHEEL, embedded,
                                                 PROJECT_WHEEL)
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
    # A file name with & is listed, not run as a command.
    (bundle / "wheels" / "x&echo INJECTED.whl").write_bytes(tiny_wheel("x"))
    rc, out = run_install(wine, bundle, tmp_path / "root")
    assert rc == 1
    assert f'  [已损坏或被改动] "wheels\\{DEMO_WHEEL}"\n' in out
    assert f'  [缺少文件] "wheels\\{PIP_WHEEL}"\n' in out
    assert '  [清单中没有的文件] "wheels\\extra-1.0-py3-none-any.whl"\n' in out
    assert '  [清单中没有的文件] "wheels\\x&echo INJECTED.whl"\n' in out
    assert "\nINJECTED.whl" not in out
    assert "[已损坏或被改动] install.bat" not in out
    assert CORRUPT in out and "安装文件完整" not in out and "Python 3.11" not in out
    assert not (tmp_path / "root").exists()


NO_HASH_TOOL = ("错误：无法计算文件的 SHA-256 校验值（certutil 和 PowerShell 都没有给出结果），"
                "未安装任何内容。")


def test_wines_own_certutil_giving_no_hash_never_passes(wine, tmp_path):
    # Wine's certutil.exe and powershell.exe print nothing: the probe of known content
    # shows that no hash tool works, which is said as such and nothing is installed.
    bundle = unzipped_bundle(tmp_path / "b")
    env = {k: v for k, v in wine.items() if k != "WINEPATH"}
    rc, out = run_install(env, bundle, tmp_path / "root")
    assert rc == 1
    assert NO_HASH_TOOL in out and "360" in out
    assert "[已损坏或被改动]" not in out and CORRUPT not in out
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


# --------------------------------------------------------------------------- steps 4-9
# Past step 4 install.bat runs python.exe, py.exe, tar.exe and tasklist.exe. The stand-ins
# are real Windows programs: pip's own console-script launcher (distlib's t64.exe, what pip
# puts in Scripts\*.exe) with a "#!" line that runs a recording batch file. The launcher
# waits for it and returns its exit code; it hands on the command line after its own path
# with every " written as \" (undone by ``unlaunch``), so the log shows exactly the argument
# list install.bat gave python.exe.

PYSTUB_BAT = r"""@echo off
setlocal DisableDelayedExpansion
>>"%PYSTUB_LOG%" echo CWD:"%CD%"
>>"%PYSTUB_LOG%" echo ARGS:%*
rem Decisions with find: Wine's cmd has no !var:a=b! substitution.
>"%PYSTUB_LOG%.last" echo ARGS:%*
find " -m venv " "%PYSTUB_LOG%.last" >nul
if %errorlevel% EQU 0 goto :venv
if not defined PYSTUB_FAIL exit /b 0
find "%PYSTUB_FAIL%" "%PYSTUB_LOG%.last" >nul
if %errorlevel% EQU 0 exit /b 1
exit /b 0
:venv
rem "py -m venv": a venv whose Scripts\python.exe is this stand-in again.
mkdir "%ROOT%\venv\Scripts" >nul 2>&1
copy /y "%~dp0python.exe" "%ROOT%\venv\Scripts\python.exe" >nul
exit /b %errorlevel%
"""

# "tar -xf ZIP -C DIR": install.bat names both in UZ_SRC/UZ_DST; the stand-in "unzips" the
# python.exe stand-in into DIR.
TARSTUB_BAT = r"""@echo off
>>"%PYSTUB_LOG%" echo CWD:"%CD%"
>>"%PYSTUB_LOG%" echo ARGS:%*
copy /y "%~dp0python.exe" "%UZ_DST%\python.exe" >nul
exit /b %errorlevel%
"""

# PowerShell's Get-FileHash (install.bat's fallback when certutil gives nothing): the hash via
# the certutil stand-in. Anything else does nothing and exits 0, as Wine's powershell.exe.
PSSTUB_BAT = r"""@echo off
>"%PYSTUB_LOG%.ps" echo %*
find "Get-FileHash" "%PYSTUB_LOG%.ps" >nul
if %errorlevel% NEQ 0 exit /b 0
set "CERTUTIL_BLOCKED="
call "%~dp0..\stub\certutil.bat" -hashfile "%PE_FILE%" SHA256
"""

TASKLIST_BAT = r"""@echo off
if defined TASKLIST_EXCEL echo "EXCEL.EXE","4242","Console","1","98,304 K"
if not defined TASKLIST_EXCEL echo INFO: No tasks are running which match the specified criteria.
exit /b 0
"""

# Wine sets LOCALAPPDATA/USERPROFILE itself, and the host has no zh_CN locale to carry Chinese
# through the environment or the command line, so a driver batch file (GBK, written per run)
# puts the county user's profile in place and starts install.bat from C:\windows.
DRIVER_BAT = """@echo off
chcp 936 >nul
set "LOCALAPPDATA={profile}\\AppData\\Local"
set "USERPROFILE={profile}"
set "USERNAME={user}"
set "TEMP={profile}\\AppData\\Local\\Temp"
cd /d C:\\windows
{pre}
"{install}" {args}
"""


def batch_literal(text: str) -> str:
    """``text`` as it must be written in a batch file (a lone % would be dropped)."""
    return text.replace("%", "%%")


def launcher() -> bytes:
    import pip

    path = Path(pip.__file__).parent / "_vendor" / "distlib" / "t64.exe"
    if not path.is_file():
        pytest.skip("pip's distlib launcher t64.exe is not in this pip")
    return path.read_bytes()


def stand_in_exe(bat: str) -> bytes:
    """A Windows .exe that runs ``cmd /d /c <bat> "<its own path>" <arguments>`` and returns
    the batch file's exit code."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("__main__.py", "")
    return launcher() + f"#!C:\\windows\\system32\\cmd.exe /d /c {bat}\n".encode() + buf.getvalue()


def unlaunch(text: str) -> str:
    """The command line as given to the launcher (undo its \\" escaping)."""
    import re

    return re.sub(r'(\\*)\\"', lambda m: "\\" * (len(m.group(1)) // 2) + '"', text)


def windows_argv(line: str) -> list[str]:
    """``line`` split as the Microsoft C runtime (and so Python) splits a command line."""
    args: list[str] = []
    cur: list[str] = []
    quoted = have = False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "\\":
            n = 0
            while i < len(line) and line[i] == "\\":
                n, i = n + 1, i + 1
            if i < len(line) and line[i] == '"':
                cur.append("\\" * (n // 2))
                if n % 2:
                    cur.append('"')
                    i += 1
            else:
                cur.append("\\" * n)
            have = True
        elif c == '"':
            quoted, have, i = not quoted, True, i + 1
        elif c in " \t" and not quoted:
            if have:
                args.append("".join(cur))
            cur, have, i = [], False, i + 1
        else:
            cur.append(c)
            have, i = True, i + 1
    if have:
        args.append("".join(cur))
    return args


@pytest.fixture(scope="module")
def stubs(wine, tmp_path_factory):
    """(Wine environment with the python/py/tar/tasklist/powershell stand-ins first on the
    PATH, their folder). Their own folder beside the certutil stand-in's, so that the tests
    above never see them."""
    base = Path(wine["WINEPATH"][2:].replace("\\", "/")).parent / "standins"
    base.mkdir(exist_ok=True)
    for name, text in (("pystub.bat", PYSTUB_BAT), ("tarstub.bat", TARSTUB_BAT),
                       ("tasklist.bat", TASKLIST_BAT), ("psstub.bat", PSSTUB_BAT)):
        (base / name).write_bytes(text.replace("\n", "\r\n").encode("ascii"))
    for name, bat in (("python.exe", "pystub.bat"), ("py.exe", "pystub.bat"),
                      ("tar.exe", "tarstub.bat"), ("tasklist.exe", "tasklist.bat"),
                      ("powershell.exe", "psstub.bat")):
        (base / name).write_bytes(stand_in_exe(winpath(base / bat)))
    return dict(wine, WINEPATH=winpath(base) + ";" + wine["WINEPATH"]), base


# A county PC: the zip unzipped into a Chinese folder on the desktop whose name has spaces,
# parentheses, & ! ^, and a Chinese user name with a space and parentheses. (A % in a
# folder name cannot be tried: Wine's cmd drops it from %~dp0, Windows' cmd does not.)
HOSTILE_FOLDER = "桌面/新建文件夹 (2)/绩效 安装包 a&b!c x^y"
USER = "张三 (财务)"


@pytest.fixture
def chinese_names(stubs):
    if "LOCPATH" not in stubs[0]:
        pytest.skip("no zh_CN.UTF-8 locale for Wine's Chinese file names "
                    "(Debian: apt-get install locales)")


def county_run(stubs, tmp_path, bundle: Path, *args: str, pre: str = "rem",
               script: str = "install.bat", **extra) -> tuple[int, str, list]:
    """Run install.bat as the county user after the batch lines ``pre``;
    (exit code, console, [(cwd, argv), ...])."""
    env, base = stubs
    profile = tmp_path / "Users" / USER
    (profile / "AppData" / "Local" / "Temp").mkdir(parents=True, exist_ok=True)
    log = base / "calls.log"
    log.unlink(missing_ok=True)
    driver = tmp_path / "driver.bat"
    driver.write_bytes(DRIVER_BAT.format(
        profile=batch_literal(winpath(profile)), user=USER,
        install=batch_literal(winpath(bundle / script)), pre=pre,
        args=" ".join(f'"{batch_literal(a)}"' for a in args)).replace("\n", "\r\n").encode("gbk"))
    env = dict(env, PYSTUB_LOG=winpath(log), **extra)
    proc = subprocess.run(["wine", "cmd", "/c", winpath(driver)], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    calls, cwd = [], None
    if log.exists():
        for line in log.read_bytes().decode("gbk").splitlines():
            if line.startswith("CWD:"):
                cwd = windows_argv(line[4:])[0]
            elif line.startswith("ARGS:"):
                calls.append((cwd, windows_argv(unlaunch(line[5:]))))
    return proc.returncode, proc.stdout.decode("gbk").replace("\r\n", "\n"), calls


def snapshot(folder: Path, skip: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*")
            if p.is_file() and skip not in p.parents}


def test_full_install_from_a_chinese_folder_with_spaces_parentheses_and_ampersand(
        stubs, chinese_names, tmp_path):
    env, base = stubs
    bundle = unzipped_bundle(tmp_path / HOSTILE_FOLDER)
    here = winpath(bundle) + "\\"
    root = winpath(tmp_path / "Users" / USER / "AppData" / "Local" / "perfeval-xl")
    # A workbook the user already filled, on the desktop and in the bundle's folder.
    desk = tmp_path / "Users" / USER / "Desktop"
    desk.mkdir(parents=True)
    (desk / "部门整体支出绩效自评表.xlsm").write_bytes(b"user data")
    (bundle.parent / "自评表.xlsm").write_bytes(b"user data 2")

    rc, out, calls = county_run(stubs, tmp_path, bundle)
    assert rc == 0, out
    assert "安装文件完整。" in out and "安装完成。" in out and "错误" not in out
    assert f'正在创建 Python 虚拟环境 "{root}\\venv" ……' in out
    py, venv_py = winpath(base / "py.exe"), f"{root}\\venv\\Scripts\\python.exe"
    probe = "import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)"
    assert [argv for _, argv in calls] == [
        [py, "-3.11-64", "-c", "import sys"],
        [py, "-3.11-64", "-m", "venv", "--clear", f"{root}\\venv"],
        [venv_py, "-m", "pip", "install", "--no-index", "--find-links", f"{here}wheels",
         "--upgrade", "--no-warn-script-location", "-r", f"{here}requirements.txt"],
        [venv_py, "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall",
         "--no-warn-script-location", f"{here}wheels\\{PROJECT_WHEEL}"],
        [venv_py, "-c", "import perfeval_xl.excel.macros, xlwings, win32com.client, numpy, "
                        "pandas, openpyxl, docxtpl"],
        [venv_py, "-m", "perfeval_xl", "excel-setup"],
        [venv_py, "-m", "perfeval_xl.bundle.desktop", "--root", root],
        [venv_py, "-m", "perfeval_xl", "gui", "--create-shortcut"],
    ]
    # Started from C:\windows, every program runs in the bundle folder (pushd).
    assert {cwd for cwd, _ in calls} == {here.rstrip("\\")}
    assert (tmp_path / "Users" / USER / "AppData/Local/perfeval-xl/venv/Scripts/python.exe"
            ).is_file()
    assert (desk / "部门整体支出绩效自评表.xlsm").read_bytes() == b"user data"
    assert (bundle.parent / "自评表.xlsm").read_bytes() == b"user data 2"

    # Re-run (an upgrade): the working venv is kept and checked for 3.11, the packages are
    # reinstalled, nothing outside the install folder changes.
    before = snapshot(tmp_path, tmp_path / "Users" / USER / "AppData")
    rc, out, calls = county_run(stubs, tmp_path, bundle)
    assert rc == 0 and "安装完成。" in out and "虚拟环境" not in out
    assert [argv[:3] for _, argv in calls][:3] == [
        [venv_py, "-c", probe], [venv_py, "-m", "pip"], [venv_py, "-m", "pip"]]
    assert not any(argv[0] == py for _, argv in calls)
    assert snapshot(tmp_path, tmp_path / "Users" / USER / "AppData") == before


def test_a_venv_of_another_python_is_rebuilt(stubs, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle)
    assert rc == 0
    rc, out, calls = county_run(stubs, tmp_path, bundle, PYSTUB_FAIL="sys.version_info")
    assert rc == 0 and "正在创建 Python 虚拟环境" in out
    assert [argv[1:4] for _, argv in calls][:3] == [
        ["-c", "import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)"],
        ["-3.11-64", "-c", "import sys"], ["-3.11-64", "-m", "venv"]]


def test_rerun_while_excel_runs_stops_before_pip(stubs, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle, TASKLIST_EXCEL="1")
    assert rc == 1
    assert out.count("检测到 Excel 正在运行。请保存并关闭所有 Excel 窗口，然后按任意键继续……") == 2
    assert "错误：Excel 仍在运行。请保存并关闭所有 Excel 窗口后重新运行 install.bat" in out
    assert not any("pip" in argv for _, argv in calls)


@pytest.mark.parametrize("fail, message, last", [
    ("-m pip install", "错误：离线安装失败（见上方 pip 的提示）。", "pip"),
    ("import perfeval_xl", "错误：安装后无法加载程序", "-c"),
])
def test_failing_install_steps_stop_with_a_chinese_message(stubs, tmp_path, fail, message,
                                                           last):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle, PYSTUB_FAIL=fail)
    assert rc == 1 and message in out and "安装未完成。" in out and "安装完成。" not in out
    assert calls[-1][1][2 if last == "pip" else 1] == last     # nothing ran after it
    assert not any("excel-setup" in argv for _, argv in calls)


def test_failing_excel_setup_and_desktop_steps_only_warn(stubs, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle, PYSTUB_FAIL="-m perfeval_xl")
    assert rc == 0 and "安装完成。" in out
    assert "提示：excel-setup 列出了需要处理的问题（见上方），命令行功能不受影响。" in out
    assert "提示：未能在桌面放置空白自评表或 perfeval-xl.bat。" in out
    assert "提示：未能创建桌面快捷方式“绩效评价助手”" in out


def test_embedded_python_into_a_chinese_folder_given_on_the_command_line(stubs, chinese_names,
                                                                         tmp_path):
    env, base = stubs
    bundle = unzipped_bundle(tmp_path / HOSTILE_FOLDER, embedded=True)
    here = winpath(bundle) + "\\"
    target = tmp_path / "D" / "软件 (x86)" / "perfeval-xl"
    root = winpath(target)
    rc, out, calls = county_run(stubs, tmp_path, bundle, root)
    assert rc == 0, out
    assert f'正在解压 Python 3.11 到 "{root}\\python" ……' in out
    py = f"{root}\\python\\python.exe"
    assert [argv for _, argv in calls][:4] == [
        [winpath(base / "tar.exe"), "-xf", f"{here}python\\python-embed.zip", "-C",
         f"{root}\\python"],
        [py, "-m", "pip", "--version"],
        [py, "-m", "pip", "install", "--no-index", "--find-links", f"{here}wheels", "--upgrade",
         "--no-warn-script-location", "-r", f"{here}requirements.txt"],
        [py, "-m", "pip", "install", "--no-index", "--no-deps", "--force-reinstall",
         "--no-warn-script-location", f"{here}wheels\\{PROJECT_WHEEL}"],
    ]
    assert [argv for _, argv in calls][-2] == [py, "-m", "perfeval_xl.bundle.desktop", "--root",
                                               root]
    assert (target / "python" / "python311._pth").read_bytes() == \
        b"python311.zip\r\n.\r\nLib\\site-packages\r\nimport site\r\n"
    assert (target / "python" / "Lib" / "site-packages").is_dir()
    # Re-run: the working Python is kept (not unzipped over while Excel may use it).
    rc, out, calls = county_run(stubs, tmp_path, bundle, root)
    assert rc == 0 and "正在解压" not in out
    assert [argv[1:] for _, argv in calls][0] == [
        "-c", "import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)"]
    assert not any(argv[0].endswith("tar.exe") for _, argv in calls)


def test_embedded_python_without_pip_gets_it_from_the_bundled_wheel(stubs, tmp_path):
    env, base = stubs
    bundle = unzipped_bundle(tmp_path / "b", embedded=True)
    root = winpath(tmp_path / "root")
    rc, out, calls = county_run(stubs, tmp_path, bundle, root, PYSTUB_FAIL="pip --version")
    assert rc == 0, out
    argvs = [argv for _, argv in calls]
    assert argvs[2] == [winpath(base / "tar.exe"), "-xf",
                        f"{winpath(bundle)}\\wheels\\{PIP_WHEEL}", "-C",
                        f"{root}\\python\\Lib\\site-packages"]
    assert argvs[3] == [f"{root}\\python\\python.exe", "-m", "pip", "install", "--no-index",
                        "--find-links", f"{winpath(bundle)}\\wheels", "--force-reinstall",
                        "--no-warn-script-location", "pip"]


def test_32_bit_windows_is_refused(stubs, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle, pre="set PROCESSOR_ARCHITECTURE=x86\n"
                                "set PROCESSOR_ARCHITEW6432=")
    assert rc == 1 and "错误：本安装包只适用于 64 位 Windows 10 或更高版本，本机是 x86。" in out
    assert "SHA-256" not in out and calls == []
    # A 32-bit cmd on 64-bit Windows (WOW64) is fine: the real architecture counts.
    rc, out, calls = county_run(stubs, tmp_path, bundle, pre="set PROCESSOR_ARCHITECTURE=x86\n"
                                "set PROCESSOR_ARCHITEW6432=AMD64")
    assert rc == 0 and "安装完成。" in out



def test_blocked_certutil_falls_back_to_powershell(stubs, tmp_path):
    bundle = unzipped_bundle(tmp_path / "b")
    rc, out, calls = county_run(stubs, tmp_path, bundle, CERTUTIL_BLOCKED="1")
    assert rc == 0 and "安装文件完整。" in out and "安装完成。" in out
    # and the fallback still finds an altered wheel
    demo = bundle / "wheels" / DEMO_WHEEL
    demo.write_bytes(demo.read_bytes() + b"\0")
    rc, out, calls = county_run(stubs, tmp_path, bundle, CERTUTIL_BLOCKED="1")
    assert rc == 1 and f'  [已损坏或被改动] "wheels\\{DEMO_WHEEL}"\n' in out and CORRUPT in out
    assert calls == []


def test_desktop_wrapper_runs_the_installed_python_with_the_arguments(stubs, chinese_names,
                                                                     tmp_path):
    # perfeval-xl.bat as desktop.py writes it, run by cmd with a Chinese, & and ( ) argument.
    # (A % in the path is not tried: Wine's cmd /c, which carries the stand-in's command
    # line, reads "%...:" as a substitution; the doubling is checked in test_bundle.py.)
    env, base = stubs
    lad = tmp_path / "Users" / USER / "AppData" / "Local"
    exe = lad / "perfeval-xl" / "venv" / "Scripts" / "python.exe"
    exe.parent.mkdir(parents=True)
    shutil.copy(base / "python.exe", exe)
    desk = tmp_path / "Users" / USER / "Desktop"
    desk.mkdir(parents=True)
    text = desktop.wrapper_text(winpath(exe), winpath(lad))
    assert text.isascii()
    (desk / desktop.WRAPPER_NAME).write_bytes(text.encode("ascii"))
    book = winpath(tmp_path / "县 (1)" / "自评表&2021.xlsx")
    rc, out, calls = county_run(stubs, tmp_path, desk, "score", book, script=desktop.WRAPPER_NAME)
    assert rc == 0
    assert [argv for _, argv in calls] == [[winpath(exe), "-m", "perfeval_xl", "score", book]]
    rc, out, calls = county_run(stubs, tmp_path, desk, "score", book,
                                script=desktop.WRAPPER_NAME, PYSTUB_FAIL="score")
    assert rc == 1                                        # the exit code reaches the caller
    rc, out, calls = county_run(stubs, tmp_path, desk, script=desktop.WRAPPER_NAME)
    assert [argv for _, argv in calls] == [[winpath(exe), "-m", "perfeval_xl", "--help"]]
