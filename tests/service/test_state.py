"""`lk-forwarder state`: the checkpoints as a person reads them and as JSON, with each file
compared to what is at its path now."""
import json
import os
import subprocess

import pytest

CONFIG = """
state_directory: "{tmp}/state"
sink:
  type: stdout
inputs:
  - name: app
    type: file
    paths: ["{tmp}/logs/*.ndjson"]
  - name: journal
    type: journald
    directory: "{tmp}/journal"
  - name: quiet
    type: file
    paths: ["{tmp}/quiet/*.ndjson"]
rules:
  - name: all
    event: {{ type: line }}
"""


def checkpoint_file(directory, input_name, checkpoints):
    directory.mkdir(exist_ok=True)
    (directory / f"{input_name}.checkpoints.json").write_text(
        json.dumps({"version": 1, "input": input_name, "checkpoints": checkpoints}))


def file_checkpoint(path, offset, *, inode=None, device=None):
    st = os.stat(path) if os.path.exists(path) else None
    device = device if device is not None else (st.st_dev if st else 2049)
    inode = inode if inode is not None else (st.st_ino if st else 999_999)
    return {"key": f"{device}:{inode}", "path": str(path), "device": device, "inode": inode,
            "fingerprint": 0x9F3C00000000E1, "fingerprintLength": 1024, "offset": offset,
            "committedAt": "2026-11-29T10:00:00Z"}


@pytest.fixture
def setup(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    state = tmp_path / "state"
    behind = logs / "behind.ndjson"
    behind.write_bytes(b"x" * 5000)
    replaced = logs / "replaced.ndjson"
    replaced.write_bytes(b"y" * 100)
    truncated = logs / "truncated.ndjson"
    truncated.write_bytes(b"z" * 10)
    gone = logs / "gone.ndjson"
    st = os.stat(replaced)
    checkpoint_file(state, "app", [
        file_checkpoint(behind, 1200),
        file_checkpoint(replaced, 50, inode=st.st_ino + 1_000_000),
        file_checkpoint(truncated, 400),
        file_checkpoint(gone, 70, device=2049, inode=4242),
    ])
    checkpoint_file(state, "journal", [{
        "key": "journal", "cursor": "s=abc;i=2a;b=def;m=1;t=5f0e;x=9", "realtime": 1_764_410_400_123_456,
        "committedAt": "2026-11-29T10:00:01Z"}])
    checkpoint_file(state, "retired", [file_checkpoint(behind, 5000)])
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(tmp=tmp_path))
    return dict(config=config, behind=behind, replaced=replaced, truncated=truncated, gone=gone, state=state)


def run_state(lk_binary, config, *extra):
    return subprocess.run([lk_binary, "state", "--config", str(config), *extra],
                          capture_output=True, text=True, timeout=30)


def test_json(lk_binary, setup):
    result = run_state(lk_binary, setup["config"], "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["state_directory"] == str(setup["state"])
    inputs = {i["name"]: i for i in report["inputs"]}
    assert [i["name"] for i in report["inputs"]] == ["app", "journal", "quiet", "retired"]

    files = {f["path"]: f for f in inputs["app"]["files"]}
    behind = files[str(setup["behind"])]
    st = os.stat(setup["behind"])
    assert behind["identity"] == f"{st.st_dev}:{st.st_ino}"
    assert behind["fingerprint"] == "009f3c00000000e1"
    assert behind["fingerprint_length"] == 1024
    assert (behind["offset"], behind["size"], behind["bytes_behind"], behind["status"]) == (1200, 5000, 3800, "ok")
    assert behind["committed_at"] == "2026-11-29T10:00:00Z"
    assert files[str(setup["replaced"])]["status"] == "replaced"
    assert "bytes_behind" not in files[str(setup["replaced"])]
    truncated = files[str(setup["truncated"])]
    assert (truncated["status"], truncated["size"]) == ("truncated", 10)
    gone = files[str(setup["gone"])]
    assert (gone["status"], gone["identity"]) == ("gone", "2049:4242")

    journal = inputs["journal"]
    assert journal["type"] == "journald"
    assert journal["cursor"] == "s=abc;i=2a;b=def;m=1;t=5f0e;x=9"
    assert journal["realtime_usec"] == 1_764_410_400_123_456
    assert journal["time"] == "2025-11-29T10:00:00.123456Z"

    assert inputs["quiet"]["files"] == []
    assert inputs["retired"]["configured"] is False
    assert inputs["app"]["configured"] is True


def test_table(lk_binary, setup):
    result = run_state(lk_binary, setup["config"])
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith(f"state directory: {setup['state']}\n")
    blocks = {block.splitlines()[0]: block for block in out.split("\n\n")}
    app = blocks["app (file)"]
    rows = {line.split()[0]: line.split() for line in app.splitlines() if line.startswith("  /")}
    assert app.splitlines()[1].split() == ["PATH", "IDENTITY", "FINGERPRINT", "OFFSET", "SIZE", "BEHIND", "STATUS"]
    st = os.stat(setup["behind"])
    assert rows[str(setup["behind"])] == [str(setup["behind"]), f"{st.st_dev}:{st.st_ino}",
                                          "009f3c00000000e1/1024", "1200", "5000", "3800", "ok"]
    assert rows[str(setup["gone"])][-4:] == ["70", "-", "-", "gone"]
    assert rows[str(setup["replaced"])][-1] == "replaced"
    assert rows[str(setup["truncated"])][-1] == "truncated"
    assert app.splitlines()[-1] == "  4 files, 3800 bytes behind"
    assert "journal (journald)" in out
    assert "  cursor     s=abc;i=2a;b=def;m=1;t=5f0e;x=9" in out
    assert "  time       2025-11-29T10:00:00.123456Z" in out
    assert "quiet (file)\n  no checkpoint yet" in out
    assert "retired (file, not in the configuration any more)" in out


def test_empty_state_directory(lk_binary, setup):
    for f in setup["state"].iterdir():
        f.unlink()
    result = run_state(lk_binary, setup["config"], "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {i["name"]: i.get("files", i.get("cursor")) for i in report["inputs"]} == {
        "app": [], "journal": None, "quiet": []}


def test_invalid_config_exits_1(lk_binary, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("sink: {type: stdout}\nbogus_key: 1\n")
    result = run_state(lk_binary, config)
    assert result.returncode == 1
    assert str(config) in result.stderr


def test_corrupt_checkpoint_file_exits_2(lk_binary, setup):
    (setup["state"] / "app.checkpoints.json").write_text("{ not json")
    result = run_state(lk_binary, setup["config"])
    assert result.returncode == 2
    assert "app.checkpoints.json" in result.stderr
