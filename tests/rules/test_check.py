"""`lk-forwarder check`: a valid configuration is summarised (exit 0); each kind of broken
configuration is refused (exit 1) with the file, line, column and key path of the mistake,
a message a person understands, and the offending line quoted with a caret under the column.
"""
import re

import pytest

from rules_support import EXAMPLES, run_check

BASE = """\
producer_id: test@host
sink:
  type: kinesis
  stream: events
  region: eu-west-1
inputs:
  - name: orders
    type: file
    paths: ["/var/log/orders/*.ndjson"]
  - name: legacy
    type: journald
    parse_message: json
rules:
  - name: order-created
    input: orders
    match:
      action: ["create"]
      order:
        total: [ { numeric: [">", 0] } ]
    event:
      type: "order-${action}"
      partition_key: "${order.id}"
"""

# (name, text to replace in BASE, replacement, line, column, key path, words of the message)
BROKEN = [
    ("unknown top-level key", "producer_id:", "producer:", 1, 1, "producer", "unknown key 'producer'"),
    ("misspelt sink key", "  stream: events", "  strem: events", 4, 3, "sink.strem", "did you mean 'stream'?"),
    ("stream missing", "  stream: events\n", "", 2, 1, "sink.stream", "missing required key 'stream'"),
    ("batch too large", "  region: eu-west-1", "  region: eu-west-1\n  batch: { max_records: 501 }", 6, 25,
     "sink.batch.max_records", "from 1 to 500"),
    ("duration without unit", "  region: eu-west-1", "  region: eu-west-1\n  batch:\n    max_delay: 200", 7, 16,
     "sink.batch.max_delay", "duration with a unit"),
    ("file sink key on kinesis", "  region: eu-west-1", "  region: eu-west-1\n  path: /tmp/x", 6, 3, "sink.path",
     "applies only to a file sink"),
    ("duplicate input name", "  - name: legacy", "  - name: orders", 10, 11, "inputs.1.name", "already used at line 7"),
    ("relative path", '["/var/log/orders/*.ndjson"]', '["orders/*.ndjson"]', 9, 13, "inputs.0.paths.0", "absolute path"),
    ("unknown input in a rule", "    input: orders", "    input: ordres", 15, 12, "rules.0.input",
     "unknown input 'ordres' (inputs are: orders, legacy)"),
    ("pattern value not a list", '      action: ["create"]', "      action: create", 17, 15, "rules.0.match.action",
     "list of values"),
    ("unknown operator", '[ { numeric: [">", 0] } ]', '[ { greater: 0 } ]', 19, 18, "rules.0.match.order.total.0",
     "unknown operator 'greater'"),
    ("empty numeric range", '[ { numeric: [">", 0] } ]', '[ { numeric: [">", 5, "<", 1] } ]', 19, 18,
     "rules.0.match.order.total.0", "range is empty"),
    ("bad wildcard", '      action: ["create"]', '      action: [ { wildcard: "cr**" } ]', 17, 17, "rules.0.match.action.0",
     "two * in a row"),
    ("unclosed template", 'type: "order-${action}"', 'type: "order-${action"', 21, 13, "rules.0.event.type",
     "without a closing '}'"),
    ("literal partition key too long", 'partition_key: "${order.id}"', "partition_key: " + "k" * 300, 22, 22,
     "rules.0.event.partition_key", "300 characters"),
    ("rule without event", '    event:\n      type: "order-${action}"\n      partition_key: "${order.id}"\n', "", 14, 5,
     "rules.0.event", "missing required key 'event'"),
    ("YAML syntax", "    type: file", "    type: file\n   bad", 9, 4, "", "YAML syntax"),
    ("duplicate key", "  region: eu-west-1", "  region: eu-west-1\n  region: us-east-1", 6, 3, "",
     "the key 'region' appears twice in the same mapping (first at line 5)"),
]


@pytest.mark.parametrize("name,old,new,line,column,key_path,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_check_points_at_the_mistake(lk_binary, tmp_path, name, old, new, line, column, key_path, words):
    assert old in BASE
    config = tmp_path / "config.yaml"
    config.write_text(BASE.replace(old, new, 1))
    rc, out, err = run_check(lk_binary, config)
    assert rc == 1, (out, err)
    assert out == ""
    first = err.splitlines()[0]
    where = f"lk-forwarder: {config}:{line}:{column}: "
    assert first.startswith(where), first
    if key_path:
        assert first.startswith(where + key_path + ": "), first
    assert words in first, first
    # The line is quoted, with a caret under the column.
    quoted, caret = err.splitlines()[1:3]
    source_line = config.read_text().split("\n")[line - 1]
    assert quoted == f" {line} | {source_line}"
    assert caret.index("^") == len(f" {line} | ") + column - 1


def test_check_accepts_the_example_and_summarises_it(lk_binary):
    rc, out, err = run_check(lk_binary, EXAMPLES / "config.yaml")
    assert rc == 0, err
    assert err == ""
    assert out.splitlines()[0] == f"{EXAMPLES / 'config.yaml'}: valid"
    assert "producer_id: shop@example-host" in out
    assert "sink: stdout" in out
    assert re.search(r"^inputs: 2$", out, re.M)
    assert re.search(r"^  orders: file /var/log/shop/orders\*\.ndjson excluding \*\.gz, start at beginning$", out, re.M)
    assert re.search(r"^  legacy: journald .* where _SYSTEMD_UNIT=legacy-billing.service, start at end, MESSAGE parsed as JSON$", out, re.M)
    assert re.search(r"^rules: 4$", out, re.M)


def test_check_on_a_missing_file_is_an_input_error(lk_binary, tmp_path):
    rc, out, err = run_check(lk_binary, tmp_path / "absent.yaml")
    assert rc == 1
    assert f"{tmp_path / 'absent.yaml'}:1:1: cannot open the configuration: No such file or directory" in err


def test_config_path_from_the_environment(lk_binary, tmp_path):
    import subprocess

    config = tmp_path / "c.yaml"
    config.write_text("sink: { type: stdout }\n")
    proc = subprocess.run([lk_binary, "check"], capture_output=True, text=True,
                          env={"LK_FORWARDER_CONFIG": str(config), "PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{config}: valid")
