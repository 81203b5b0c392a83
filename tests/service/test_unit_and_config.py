"""The systemd unit and the configuration the package ships, checked on the build host
(packaging/test-deb checks them again inside a fresh Debian 12 with the package installed)."""
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "lk-forwarder.service"


def test_shipped_config_passes_check(lk_binary):
    result = subprocess.run([lk_binary, "check", "--config", str(ROOT / "packaging" / "config.yaml")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def unit_with_built_binary(lk_binary, tmp_path) -> pathlib.Path:
    """The unit with ExecStart= pointing at the built binary (verify needs it to exist) and
    without the man: link (the man page is only there once the package is installed)."""
    text = UNIT.read_text().replace("/usr/bin/lk-forwarder", lk_binary)
    text = re.sub(r"^Documentation=.*\n", "", text, flags=re.M)
    unit = tmp_path / "lk-forwarder.service"
    unit.write_text(text)
    return unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)")
def test_unit_verifies_silently(unit_with_built_binary):
    result = subprocess.run(["systemd-analyze", "verify", str(unit_with_built_binary)],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr, result.stdout) == (0, "", "")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (package systemd)")
def test_unit_security_score_is_at_most_2():
    result = subprocess.run(["systemd-analyze", "security", "--offline=true", str(UNIT)],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for lk-forwarder.service: ([0-9.]+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 2.0


def test_unit_has_what_the_spec_asks():
    settings = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    assert settings["Type"] == ["notify"]
    assert settings["NotifyAccess"] == ["main"]
    assert settings["Restart"] == ["on-failure"]
    assert settings["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert settings["StateDirectory"] == ["lk-forwarder"]
    assert settings["SupplementaryGroups"] == ["systemd-journal adm"]
    assert settings["CapabilityBoundingSet"] == [""]
    assert settings["ProtectSystem"] == ["strict"]
    assert re.fullmatch(r"\d+s", settings["WatchdogSec"][0])
