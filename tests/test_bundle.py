"""The offline Windows bundle (``perfeval-xl bundle``), built here from this checkout.

Building downloads the Windows wheels from PyPI (CI has network); without network the
build tests skip with that reason. The texts (install.bat, README) and the post-install
steps are also tested without network.
"""

from __future__ import annotations

import hashlib
import io
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from perfeval_xl import bundle
from perfeval_xl.bundle import desktop, scripts

ROOT = Path(__file__).resolve().parents[1]
PIP_WHEEL = "pip-26.0-py3-none-any.whl"


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def fake_embed_zip(path: Path, tag: str = "python311") -> Path:
    """A stand-in for python.org's embeddable zip: the members the builder checks for."""
    with zipfile.ZipFile(path, "w") as z:
        for name in ("python.exe", "python311.dll", f"{tag}._pth", f"{tag}.zip"):
            z.writestr(name, b"stand-in " + name.encode())
    return path


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """(zip path, {member: bytes}) of one bundle with an embedded Python, built once."""
    if not _pypi_reachable():
        pytest.skip("no network: building the bundle downloads the Windows wheels from PyPI")
    work = tmp_path_factory.mktemp("bundle")
    embed = fake_embed_zip(work / "python-3.11.9-embed-amd64.zip")
    digest = hashlib.sha256(embed.read_bytes()).hexdigest()
    (work / "SHA256SUM").write_text(f"{digest}  python-3.11.9-embed-amd64.zip\n", "utf-8")
    out = work / "out"
    out.mkdir()
    result = bundle.build_bundle(out, embed_zip=embed, embed_sha256=str(work / "SHA256SUM"),
                                 repo=ROOT)
    z = zipfile.ZipFile(result.path)
    top = result.path.stem + "/"
    members = {i.filename[len(top):]: z.read(i) for i in z.infolist()}
    assert all(i.filename.startswith(top) for i in z.infolist())
    return result.path, members


def _wheels(members) -> dict[str, bytes]:
    return {Path(n).name: d for n, d in members.items() if n.startswith("wheels/")}


# --------------------------------------------------------------------------- built bundle


def test_every_wheel_fits_cp311_win_amd64(built):
    from packaging.tags import compatible_tags, cpython_tags
    from packaging.utils import parse_wheel_filename

    ok = set(cpython_tags((3, 11), abis=["cp311", "abi3", "none"], platforms=["win_amd64"]))
    ok |= set(compatible_tags((3, 11), interpreter="cp311", platforms=["win_amd64"]))
    wheels = _wheels(built[1])
    assert len(wheels) > 15
    for name in wheels:
        tags = parse_wheel_filename(name)[3]
        assert tags & ok, name
        assert all(t.platform in ("win_amd64", "any") for t in tags), name


def test_windows_only_requirements_and_the_pins(built):
    from packaging.utils import parse_wheel_filename

    names = {str(parse_wheel_filename(n)[0]): parse_wheel_filename(n)[1]
             for n in _wheels(built[1])}
    assert "pywin32" in names                     # xlwings: pywin32; platform_system=="Windows"
    assert str(names["xlwings"]) == "0.37.8"
    assert names["numpy"].major == 2 and names["numpy"].minor < 4   # no x86-64-v2 baseline
    assert "perfeval-xl" in names and "pip" in names
    xlwings = next(d for n, d in _wheels(built[1]).items() if n.startswith("xlwings-"))
    inside = zipfile.ZipFile(io.BytesIO(xlwings)).namelist()
    for bits in (32, 64):
        assert f"xlwings-0.37.8.data/data/xlwings{bits}-0.37.8.dll" in inside


def test_offline_install_resolves_for_windows(built, tmp_path):
    _, members = built
    for name, data in members.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links",
         str(tmp_path / "wheels"), "--only-binary=:all:", "--platform", "win_amd64",
         "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         "--ignore-installed", "--target", str(tmp_path / "target"),
         "-r", str(tmp_path / "requirements.txt")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "perfeval-xl-" in proc.stdout and "xlwings-0.37.8" in proc.stdout
    assert "pywin32-" in proc.stdout


def test_import_check_names_modules_the_bundled_wheels_provide(built):
    """install.bat's step-6 import check can only pass on Windows if every module it names
    is in some bundled wheel (as a top-level package/module) — checked on the wheel files."""
    _, members = built
    text = members["install.bat"].decode("gbk")
    line = next(ln for ln in text.split("\r\n") if ln.startswith('"%PY%" -c "import perfeval_xl'))
    modules = [m.strip() for m in line.split('"import ', 1)[1].rstrip('"').split(",")]
    assert {"perfeval_xl.excel.macros", "xlwings", "win32com.client", "numpy"} <= set(modules)
    provided: dict[str, set[str]] = {}
    for data in _wheels(members).values():
        for path in zipfile.ZipFile(io.BytesIO(data)).namelist():
            top = path.split("/")[0]
            if not top.endswith((".dist-info", ".data")):
                provided.setdefault(top.split(".")[0], set()).add(path)
    for module in modules:
        parts = module.split(".")
        files = provided.get(parts[0], set())
        want = ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py")
        assert any(f in files for f in want), module


def test_manifest_covers_every_file(built):
    _, members = built
    manifest = members["SHA256SUMS.txt"].decode("ascii")
    assert manifest.endswith("\r\n") and "\n" not in manifest.replace("\r\n", "")
    listed = {}
    for line in manifest.splitlines():
        digest, name = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()
        listed[name.replace("\\", "/")] = digest
    assert set(listed) == set(members) - {"SHA256SUMS.txt"}
    for name, digest in listed.items():
        assert hashlib.sha256(members[name]).hexdigest() == digest, name
    assert all(n.isascii() and " " not in n for n in members)     # ASCII member names
    assert members["python/python-embed.zip"].startswith(b"PK")


def test_bundled_install_bat_and_readme(built):
    _, members = built
    bat = members["install.bat"]
    check_install_bat(bat, embedded=True)
    readme = members["README.txt"]
    assert readme.startswith(b"\xef\xbb\xbf")
    text = readme.decode("utf-8-sig")
    assert "使用说明" in text and "install.bat D:\\perfeval-xl" in text


def test_bundle_refuses_an_altered_embeddable_zip(tmp_path, capsys):
    embed = fake_embed_zip(tmp_path / "python-3.11.9-embed-amd64.zip")
    out = tmp_path / "out"
    out.mkdir()
    code = bundle.run_bundle(str(out), str(embed), "0" * 64)
    assert code == 2 and "SHA-256" in capsys.readouterr().err
    assert list(out.iterdir()) == []
    assert bundle.run_bundle(str(out), str(embed), None) == 2
    assert "--python-embed-sha256" in capsys.readouterr().err
    wrong = tmp_path / "not-python.zip"
    with zipfile.ZipFile(wrong, "w") as z:
        z.writestr("readme.txt", "x")
    digest = hashlib.sha256(wrong.read_bytes()).hexdigest()
    assert bundle.run_bundle(str(out), str(wrong), digest) == 2
    assert "嵌入式安装包" in capsys.readouterr().err
    assert bundle.run_bundle(str(tmp_path / "missing"), None, None) == 2
    assert "输出文件夹不存在" in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_cli_bundle_arguments():
    from perfeval_xl.cli import _parser

    args = _parser().parse_args(["bundle", "-o", "dist", "--python-embed-zip", "p.zip",
                                 "--python-embed-sha256", "ab" * 32])
    assert (args.output, args.python_embed_zip, args.python_embed_sha256) == \
        ("dist", "p.zip", "ab" * 32)


# --------------------------------------------------------------------------- install.bat


def gbk_trail_hazards(data: bytes) -> list[str]:
    """Characters in GBK ``data`` whose trail byte is \\ ^ or | (read byte by byte)."""
    out, i = [], 0
    while i < len(data):
        if data[i] < 0x80:
            i += 1
            continue
        pair = data[i:i + 2]
        if pair[1] in (0x5C, 0x5E, 0x7C):
            out.append(pair.decode("gbk"))
        i += 2
    return out


def check_install_bat(bat: bytes, embedded: bool) -> str:
    text = bat.decode("gbk")                                  # GBK-encodable
    assert gbk_trail_hazards(bat) == []
    assert b"\r\n" in bat and b"\n" not in bat.replace(b"\r\n", b"")   # CRLF only
    lines = text.split("\r\n")
    for line in lines:                                        # ASCII commands
        if not line.isascii():
            assert re.match(r"\s*(echo |rem |title )", line) or " echo " in line, line
    assert lines[0] == "@echo off" and lines[1] == "chcp 936 >nul"
    # Order: unzipped? -> 64-bit Windows 10+ -> SHA-256 of every file -> install.
    pos = {key: text.index(key) for key in (
        r'if not exist "%HERE%wheels\" goto :in_zip', '"AMD64" goto :not_64bit',
        "LSS 10 goto :old_windows", "call :verify", "if %BAD% NEQ 0 goto :corrupt",
        "pip install --no-index --find-links", "-m perfeval_xl excel-setup",
        "-m perfeval_xl.bundle.desktop", "-m perfeval_xl gui --create-shortcut")}
    assert list(pos.values()) == sorted(pos.values())
    head = text[:pos["if %BAD% NEQ 0 goto :corrupt"]]
    assert "pip" not in head.replace("PIP_", "") and "mkdir" not in head and ":unzip" not in head
    assert 'certutil -hashfile "%PE_FILE%" SHA256' in text and 'set "PE_FILE=%HERE%%REL%"' in text
    # Every step that must succeed is checked with NEQ 0.
    for cmd in ("pip install --no-index", 'import perfeval_xl.excel.macros'):
        after = text[text.index(cmd):].split("\r\n")[1]
        assert after.startswith("if %errorlevel% NEQ 0 goto :fail"), cmd
    assert ('set "UZ_SRC=%HERE%python\\python-embed.zip"' in text) == embedded
    check_cmd_pitfalls(lines)
    assert ("py -3.11-64 -m venv" in text) == (not embedded)
    return text


PATH_VARS = ("%HERE%", "%ROOT%", "%PY%", "%UZ_SRC%", "%UZ_DST%", "%REL%", "%~1", "%~2", "%~f1")


def check_cmd_pitfalls(lines: list[str]) -> None:
    """cmd.exe rules install.bat keeps so that paths with spaces, ( ) & ! % ^ and Chinese
    characters work (see the head of install.bat)."""
    assert "setlocal EnableExtensions DisableDelayedExpansion" in lines
    for line in lines:
        cmd = line.strip()
        if not cmd or cmd.startswith("rem ") or cmd.startswith(":"):
            continue
        # No ( ) blocks: %errorlevel% in a block is read before the block runs.
        assert not cmd.endswith("(") and cmd != ")", line
        assert "!" not in cmd, line                 # nothing relies on delayed expansion
        # "call" expands % a second time and doubles ^: no path goes through its arguments.
        if cmd.startswith("call "):
            assert not any(v in cmd for v in PATH_VARS[:5]), line
        # A path echoed unquoted would be cut at & (and ^ would vanish).
        if cmd.startswith("echo ") or " echo " in cmd:
            text = cmd[cmd.index("echo ") + 5:]
            for var in PATH_VARS:
                for part in text.split('"')[0::2]:   # the parts outside quotes
                    assert var not in part, line
        if cmd.startswith(("set ", "if not exist", "mkdir")):
            for var in PATH_VARS:
                for part in cmd.split('"')[0::2]:
                    assert var not in part or cmd.startswith("set /a"), line


@pytest.mark.parametrize("embedded", [True, False])
def test_install_bat_text(embedded):
    check_install_bat(scripts.install_bat("0.1.0", "3.11", PIP_WHEEL, embedded), embedded)


def test_gbk_hazards_are_refused(monkeypatch):
    assert scripts.gbk_hazards("安装完成，请阅读说明") == []
    assert scripts.gbk_hazards("正在安装 僜 程序") == ["僜"]      # 僜 = 0x83 0x5C in GBK
    assert gbk_trail_hazards("僜".encode("gbk")) == ["僜"]
    monkeypatch.setattr(scripts, "_COMMON_TAIL", scripts._COMMON_TAIL + "echo 表示僜\n")
    with pytest.raises(ValueError, match="hazard"):
        scripts.install_bat("0.1.0", "3.11", PIP_WHEEL, True)


def test_embed_checks(tmp_path):
    embed = fake_embed_zip(tmp_path / "e.zip")
    digest = hashlib.sha256(embed.read_bytes()).hexdigest()
    assert bundle.expected_sha256(digest.upper()) == digest
    (tmp_path / "sum.txt").write_text(digest + "\n", "utf-8")
    assert bundle.expected_sha256(str(tmp_path / "sum.txt")) == digest
    bundle.check_embed_zip(embed, digest)
    with pytest.raises(bundle.BundleError, match="3.12"):
        bundle.check_embed_zip(embed, digest, python_version="3.12")
    with pytest.raises(bundle.BundleError):
        bundle.expected_sha256("not-a-digest")


def test_windows_markers_bring_windows_only_requirements(tmp_path):
    def wheel(name, version, requires):
        meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
        with zipfile.ZipFile(tmp_path / f"{name}-{version}-py3-none-any.whl", "w") as z:
            z.writestr(f"{name}-{version}.dist-info/METADATA", meta)

    wheel("xlwings", "0.37.8", ['pywin32>=224; platform_system == "Windows"',
                                'appscript>=1.0.1; platform_system == "Darwin"',
                                'pandas; extra == "all"'])
    wheel("pandas", "2.2.0", ["numpy>=1.23", 'tzdata>=2022.7; sys_platform == "win32"'])
    assert sorted(bundle.missing_windows_requirements(tmp_path)) == [
        "numpy>=1.23", "pywin32>=224", "tzdata>=2022.7"]
    wheel("pywin32", "312", [])
    assert "pywin32>=224" not in bundle.missing_windows_requirements(tmp_path)


# --------------------------------------------------------------------------- desktop steps


def test_wrapper_stays_ascii_under_localappdata():
    lad = r"C:\Users\张三\AppData\Local"
    text = desktop.wrapper_text(lad + r"\perfeval-xl\venv\Scripts\python.exe", lad)
    assert text.isascii() and "\r\n" in text
    assert r'"%LOCALAPPDATA%\perfeval-xl\venv\Scripts\python.exe" -m perfeval_xl %*' in text
    other = desktop.wrapper_text(r"D:\perfeval-xl\python\python.exe", lad)
    assert r'"D:\perfeval-xl\python\python.exe" -m perfeval_xl %*' in other
    assert "setlocal DisableDelayedExpansion" in text.split("\r\n")[:3]
    # A % in a folder name is doubled (cmd would expand it); in the user name it stays inside
    # %LOCALAPPDATA%.
    pct = desktop.wrapper_text(r"D:\100% 软件\perfeval-xl\python\python.exe", lad)
    assert r'"D:\100%% 软件\perfeval-xl\python\python.exe" -m perfeval_xl %*' in pct
    lad2 = r"C:\Users\a%b\AppData\Local"
    pct2 = desktop.wrapper_text(lad2 + r"\perfeval-xl\venv\Scripts\python.exe", lad2)
    assert r'"%LOCALAPPDATA%\perfeval-xl\venv\Scripts\python.exe" -m perfeval_xl %*' in pct2


def test_blank_workbook_and_wrapper_on_the_desktop(tmp_path, monkeypatch):
    from perfeval_xl.excel import xlsm

    exe = r"C:\Users\张三\AppData\Local\perfeval-xl\venv\Scripts\python.exe"
    monkeypatch.setenv("LOCALAPPDATA", r"C:\Users\张三\AppData\Local")
    monkeypatch.setattr(desktop, "desktop_dir", lambda: tmp_path / "Desktop")
    monkeypatch.setattr(desktop.sys, "executable", exe)
    monkeypatch.delenv("OneDrive", raising=False)
    monkeypatch.delenv("OneDriveCommercial", raising=False)
    monkeypatch.delenv("OneDriveConsumer", raising=False)
    assert desktop.main(["--root", str(tmp_path / "root")]) == 0
    blank = tmp_path / "Desktop" / desktop.BLANK_NAME
    assert xlsm.read_conf(blank.read_bytes())["Interpreter_Win"] == exe
    wrapper = (tmp_path / "Desktop" / desktop.WRAPPER_NAME).read_bytes()
    assert wrapper.isascii() and b"%LOCALAPPDATA%" in wrapper
    # A re-run (upgrade) leaves the user's workbook alone.
    blank.write_bytes(b"user data")
    assert desktop.main(["--root", str(tmp_path / "root")]) == 0
    assert blank.read_bytes() == b"user data"
    # A foreign perfeval-xl.bat is not overwritten.
    (tmp_path / "Desktop" / desktop.WRAPPER_NAME).write_bytes(b"@echo mine\r\n")
    assert desktop.place_wrapper(tmp_path / "Desktop", exe)[1] is False


def test_onedrive_desktop_gets_a_local_folder(tmp_path, monkeypatch):
    cloud = tmp_path / "OneDrive"
    (cloud / "Desktop").mkdir(parents=True)
    monkeypatch.setenv("OneDrive", str(cloud))
    monkeypatch.setattr(desktop.Path, "home", classmethod(lambda cls: tmp_path))
    assert desktop.workbook_folder(cloud / "Desktop") == tmp_path / desktop.FALLBACK_FOLDER
    assert desktop.workbook_folder(tmp_path / "Desktop") == tmp_path / "Desktop"


def test_download_mark_cleared_only_from_installed_files(tmp_path):
    root = tmp_path / "perfeval-xl"
    for rel in ("venv/Scripts/python.exe", "venv/Lib/site-packages/x.py", "python/python.exe"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"")
    (root / "user-notes.txt").write_bytes(b"")              # not ours: never touched
    removed = []

    def remove(stream):
        removed.append(stream)
        if "site-packages" in stream:
            raise FileNotFoundError(stream)                  # no mark on this one

    n = desktop.clear_download_mark(desktop.installed_files(root), remove=remove)
    assert n == 2 and len(removed) == 3
    assert all(s.endswith(":Zone.Identifier") for s in removed)
    assert not any("user-notes" in s for s in removed)
