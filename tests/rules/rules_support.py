"""Helpers for the rules suites: write a configuration, run `lk-forwarder test` or `check`."""
import json
import pathlib
import subprocess

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent.parent / "examples"


def write_config(directory: pathlib.Path, rules_yaml: str, inputs_yaml: str | None = None) -> pathlib.Path:
    """A configuration with a stdout sink, the given rules, and a file input `app` plus a
    journald input `journal` unless other inputs are given."""
    if inputs_yaml is None:
        inputs_yaml = (
            '  - { name: app, type: file, paths: ["/var/log/app.ndjson"] }\n'
            "  - { name: journal, type: journald, parse_message: json }\n"
        )
    path = directory / "config.yaml"
    path.write_text(f"producer_id: test@host\nsink: {{ type: stdout }}\ninputs:\n{inputs_yaml}rules:\n{rules_yaml}")
    return path


def run_test(binary: str, config: pathlib.Path, input_name: str, lines: str | bytes, timeout: float = 120):
    """Runs `lk-forwarder test` on `lines` (given on stdin); returns (events, diagnostics, rc)."""
    data = lines.encode() if isinstance(lines, str) else lines
    proc = subprocess.run(
        [binary, "test", "--config", str(config), "--input", input_name],
        input=data, capture_output=True, timeout=timeout,
    )
    # Split on newlines only: str.splitlines would also split at U+2028 and friends, which
    # JSON strings may hold as they are.
    events = [json.loads(line) for line in proc.stdout.decode().split("\n") if line]
    diagnostics = [line for line in proc.stderr.decode().split("\n") if line]
    return events, diagnostics, proc.returncode, proc.stdout


def run_check(binary: str, config: pathlib.Path):
    proc = subprocess.run([binary, "check", "--config", str(config)], capture_output=True, timeout=60)
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()
