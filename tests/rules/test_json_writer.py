"""The JSON writer against an independent one: strings that go through the parser (with and
without escapes in the line) and out through the writer (event type, user id, a string in
a data template) come out byte for byte as Python's
`json.dumps(s, ensure_ascii=False, separators=(",", ":"))` writes them, which for strings
is what JavaScript's JSON.stringify writes (both escape only `"`, `\\` and U+0000-U+001F,
with \\b \\f \\n \\r \\t and lower-case \\u00xx, and write everything else as UTF-8)."""
import json
import random

from rules_support import run_test, write_config

ALPHABET = (
    [chr(c) for c in range(0x00, 0x20)]
    + list("\"\\/'`<>&abcXYZ019 {}[]:,")
    + ["\x7f", "\x80", "é", "ß", "€", "\u2028", "\u2029", "\ufeff", "\uffff", "😀", "𝄞", "中", "\u0301"]
)


def test_strings_are_written_as_json_stringify_writes_them(lk_binary, tmp_path):
    r = random.Random(7)
    strings = ["".join(r.choice(ALPHABET) for _ in range(r.randint(1, 12))) for _ in range(2000)]
    config = write_config(
        tmp_path, '  - { name: r, event: { type: "${s}", user_id: "${s}", partition_key: "k", data: { v: "<${s}>" } } }\n')
    lines = "".join(json.dumps({"s": s}, ensure_ascii=r.random() < 0.5) + "\n" for s in strings)
    out, diagnostics, rc, stdout = run_test(lk_binary, config, "app", lines)
    assert rc == 0, diagnostics
    raw_lines = [line for line in stdout.decode().split("\n") if line]
    assert len(raw_lines) == len(strings)
    for s, raw, event in zip(strings, raw_lines, out):
        expected = json.dumps(s, ensure_ascii=False, separators=(",", ":"))
        assert f',"type":{expected},"data":' in raw
        assert f'"source":{{"userId":{expected},' in raw
        assert f',"data":{{"v":{json.dumps("<" + s + ">", ensure_ascii=False)}}},' in raw
        assert event["type"] == s
