"""Differential test of the event-pattern matcher against an independent implementation:
moto's `EventPattern` (moto 5.2.1, installed with the test requirements).

Thousands of generated (pattern, event) pairs are judged by `lk-forwarder test` (one rule
per pattern, `continue: true`, so every matching pattern makes one event per line) and by
moto. Every disagreement must be explained by one of moto's documented departures from
EventBridge, each stated below against the AWS documentation, and the explanation is
checked, not asserted: the pair is judged again by moto with that departure corrected
(an *adapter* rewrites the event or pattern so that moto's Python semantics coincide with
EventBridge's), and moto must then agree with lk-forwarder. A disagreement no adapter
explains fails the test.
"""
import copy
import itertools
import json
import random

from moto.events.models import EventPattern

from rules_support import run_test, write_config

SEED = 20240501
PATTERNS = 400
EVENTS = 60

STRINGS = [
    "", "x", "X", "xy", "xyz", "XYZ", "abc", "aBc", "a*c", "a\\c", "init", "initializing", "running", "Running",
    "10.0.0.1", "10.0.0.200", "10.1.2.3", "192.168.1.1", "2001:db8::1", "2001:db9::1", "é", "É", "5", "true", "null",
]
NUMBERS = [0, 1, -1, 1.5, 5, 5.0, 300, 3e2, -2.5, 1000000, 0.000001]
PREFIXES = ["", "x", "X", "in", "IN", "10.", "ab", "é", "2001:"]
SUFFIXES = ["", "z", "Z", "ing", "ING", ".1", "c", "É"]
WILDCARDS = ["*", "x*", "*z", "a*c", "*y*", "a\\*c", "init*", "*.0.*", "", "xyz", "*i*i*"]
NETWORKS = ["10.0.0.0/8", "10.0.0.0/24", "192.168.0.0/16", "2001:db8::/32", "0.0.0.0/0", "10.0.0.1/32"]

# The AWS documentation each adapter's correction rests on.
EXPLANATIONS = {
    "booleans": (
        "JSON booleans are neither numbers nor strings: EventBridge matches typed JSON values "
        "('Numeric matching only works with values that are JSON numbers'; true is not 1), while moto "
        "compares Python values, where True == 1 and isinstance(True, int)."
    ),
    "arrays": (
        "EventBridge looks into arrays in the event: arrays of objects are 'crushed out' (a nested pattern "
        "matches one element as a whole) and nested arrays are flattened (event-ruler README, 'JSON Array "
        "Matching'; EventBridge user guide, 'Arrays in event patterns'); moto flattens nested objects only."
    ),
    "leaves": (
        "EventBridge matches leaf values ('Exists matching only works on leaf nodes. It does not work on "
        "intermediate nodes'): an empty object or empty array has no leaf, so the field is absent; moto "
        "treats {} and [] as present values."
    ),
    "cidr": (
        "IP address matching applies to IP addresses, which JSON carries as strings; moto hands numbers to "
        "Python's ipaddress.ip_address, which reads 5 as 0.0.0.5."
    ),
}


# -- generation ---------------------------------------------------------------------------

def scalar(r: random.Random):
    roll = r.random()
    if roll < 0.5:
        return r.choice(STRINGS)
    if roll < 0.8:
        return r.choice(NUMBERS)
    if roll < 0.92:
        return r.choice([True, False])
    return None


def leaf_value(r: random.Random):
    roll = r.random()
    if roll < 0.75:
        return scalar(r)
    if roll < 0.9:
        return [scalar(r) for _ in range(r.randint(0, 3))]
    if roll < 0.95:
        return [[scalar(r)], scalar(r)]
    return {}


def nested_value(r: random.Random):
    def obj():
        o = {}
        for key in ("x", "y"):
            if r.random() < 0.7:
                o[key] = leaf_value(r)
        return o

    roll = r.random()
    if roll < 0.55:
        return obj()
    if roll < 0.8:
        return [obj() for _ in range(r.randint(0, 3))]
    if roll < 0.9:
        return scalar(r)
    return [scalar(r) for _ in range(2)]


def event(r: random.Random, index: int) -> dict:
    e = {"_i": index}
    for key in ("a", "b", "c"):
        if r.random() < 0.8:
            e[key] = leaf_value(r)
    if r.random() < 0.7:
        e["n"] = nested_value(r)
    return e


def numeric(r: random.Random) -> list:
    a, b = sorted(r.sample([-5, -1, 0, 1, 1.5, 2, 5, 300, 1000000], 2))
    forms = [
        ["=", r.choice(NUMBERS)], [">", a], [">=", a], ["<", b], ["<=", b],
        [">", a, "<", b], [">=", a, "<=", b], [">", a, "<=", b], [">=", a, "<", b],
    ]
    return r.choice(forms)


def operator(r: random.Random):
    kind = r.choice([
        "exact", "exact", "exact", "prefix", "suffix", "eic", "wildcard", "anything-but", "anything-but",
        "numeric", "numeric", "exists", "cidr",
    ])
    if kind == "exact":
        return scalar(r)
    if kind == "prefix":
        text = r.choice(PREFIXES)
        return {"prefix": {"equals-ignore-case": text} if r.random() < 0.3 else text}
    if kind == "suffix":
        text = r.choice(SUFFIXES)
        return {"suffix": {"equals-ignore-case": text} if r.random() < 0.3 else text}
    if kind == "eic":
        return {"equals-ignore-case": r.choice(STRINGS)}
    if kind == "wildcard":
        return {"wildcard": r.choice(WILDCARDS)}
    if kind == "numeric":
        return {"numeric": numeric(r)}
    if kind == "exists":
        return {"exists": r.choice([True, False])}
    if kind == "cidr":
        return {"cidr": r.choice(NETWORKS)}
    form = r.choice(["string", "number", "strings", "numbers", "prefix", "suffix", "eic", "eics", "wildcard", "wildcards"])
    value = {
        "string": lambda: r.choice(STRINGS),
        "number": lambda: r.choice(NUMBERS),
        "strings": lambda: r.sample(STRINGS, r.randint(1, 3)),
        "numbers": lambda: r.sample(NUMBERS, r.randint(1, 3)),
        "prefix": lambda: {"prefix": r.choice([p for p in PREFIXES if p])},
        "suffix": lambda: {"suffix": r.choice([s for s in SUFFIXES if s])},
        "eic": lambda: {"equals-ignore-case": r.choice(STRINGS)},
        "eics": lambda: {"equals-ignore-case": r.sample(STRINGS, 2)},
        "wildcard": lambda: {"wildcard": r.choice(WILDCARDS)},
        "wildcards": lambda: {"wildcard": r.sample(WILDCARDS, 2)},
    }[form]()
    return {"anything-but": value}


def leaf_pattern(r: random.Random) -> list:
    return [operator(r) for _ in range(r.randint(1, 3))]


def pattern(r: random.Random) -> dict:
    p = {}
    for key in r.sample(["a", "b", "c"], r.randint(0, 2)):
        p[key] = leaf_pattern(r)
    if r.random() < 0.45:
        nested = {k: leaf_pattern(r) for k in r.sample(["x", "y"], r.randint(1, 2))}
        p["n"] = nested if r.random() < 0.85 else leaf_pattern(r)
    if r.random() < 0.15:
        keys = [k for k in ("a", "b", "c") if k not in p] or ["a"]
        p["$or"] = [{r.choice(keys): leaf_pattern(r)} for _ in range(2)]
    if not p:
        p["a"] = leaf_pattern(r)
    return p


# -- moto and its adapters ----------------------------------------------------------------

class JSONBool:
    """A JSON boolean as EventBridge sees it: equal only to the same boolean, and neither a
    number nor a string (Python's True is the integer 1)."""

    def __init__(self, value: bool):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, JSONBool) and other.value == self.value

    def __hash__(self):
        return hash(("bool", self.value))


def tag_booleans(value, in_pattern: bool = False):
    """Booleans become JSONBool, in the event and as exact values of the pattern (operator
    objects are left as they are)."""
    if isinstance(value, bool):
        return JSONBool(value)
    if isinstance(value, list):
        return [v if in_pattern and is_operator(v) else tag_booleans(v, in_pattern) for v in value]
    if isinstance(value, dict):
        return {k: tag_booleans(v, in_pattern) for k, v in value.items()}
    return value


def is_operator(v) -> bool:
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)) in {
        "prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"}


def flatten_scalars(values: list) -> list:
    out = []
    for v in values:
        out.extend(flatten_scalars(v) if isinstance(v, list) else [v])
    return out


ABSENT = object()


def expansions(value):
    """Every way of choosing one element of each array of objects (EventBridge's 'crushing'),
    with nested arrays of scalars flattened and empty arrays removed."""
    if isinstance(value, dict):
        keys = list(value)
        choices = []
        for k in keys:
            v = value[k]
            if isinstance(v, list) and any(isinstance(x, dict) for x in flatten_scalars(v)):
                elements = [x for x in flatten_scalars(v) if isinstance(x, dict)]
                choices.append([(k, option) for x in elements for option in expansions(x)])
            elif isinstance(v, list):
                flat = flatten_scalars(v)
                choices.append([(k, flat)] if flat else [(k, ABSENT)])
            else:
                choices.append([(k, option) for option in expansions(v)])
        for combination in itertools.product(*choices):
            yield {k: v for k, v in combination if v is not ABSENT}
    else:
        yield value


def drop_empty(value):
    """Removes empty objects and arrays: they have no leaf value."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = drop_empty(v)
            if v == {} or (isinstance(v, list) and not flatten_scalars(v)):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [drop_empty(v) for v in value]
    return value


def ints_to_floats(value):
    if isinstance(value, bool) or value is None or isinstance(value, JSONBool):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, list):
        return [ints_to_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: ints_to_floats(v) for k, v in value.items()}
    return value


def moto_judges(p: dict, e: dict, adapters: tuple = ()) -> bool:
    e = copy.deepcopy(e)
    compiled = EventPattern.load(json.dumps(p))
    if "leaves" in adapters:
        e = drop_empty(e)
    if "cidr" in adapters:
        e = ints_to_floats(e)
    candidates = list(expansions(e)) if "arrays" in adapters else [e]
    if "booleans" not in adapters:
        return any(compiled.matches_event(c) for c in candidates)
    # JSONBool does not survive matches_event's JSON round trip: call the two steps it
    # consists of (flatten the event, match the pattern) with the tagged values.
    tagged = tag_booleans(compiled.get_pattern(), in_pattern=True)
    return any(compiled._does_event_match(compiled._flatten_dict(tag_booleans(c)), tagged) for c in candidates)


def explain(p: dict, e: dict, ours: bool):
    """The smallest set of adapters under which moto agrees with lk-forwarder, or None."""
    names = list(EXPLANATIONS)
    for size in range(1, len(names) + 1):
        for combination in itertools.combinations(names, size):
            if moto_judges(p, e, combination) == ours:
                return combination
    return None


# -- the test -----------------------------------------------------------------------------

def test_matcher_agrees_with_moto_up_to_documented_differences(lk_binary, tmp_path):
    r = random.Random(SEED)
    patterns = [pattern(r) for _ in range(PATTERNS)]
    events = [event(r, i) for i in range(EVENTS)]

    rules = "".join(
        f"  - {{ name: p{k}, input: app, match: {json.dumps(p)}, event: {{ type: p{k} }}, continue: true }}\n"
        for k, p in enumerate(patterns)
    )
    config = write_config(tmp_path, rules)
    lines = "".join(json.dumps(e) + "\n" for e in events)
    out, diagnostics, rc, _ = run_test(lk_binary, config, "app", lines)
    assert rc == 0, diagnostics

    ours = set()
    for ev in out:
        ours.add((int(ev["type"][1:]), ev["data"]["_i"]))
    # Lines no pattern matched are reported, one diagnostic each.
    unmatched_lines = {i for i in range(EVENTS) if not any((k, i) in ours for k in range(PATTERNS))}
    assert sum(1 for d in diagnostics if d.endswith("no rule matched")) == len(unmatched_lines)

    agreements = 0
    matches = 0
    explained = {}
    unexplained = []
    for k, p in enumerate(patterns):
        for i, e in enumerate(events):
            mine = (k, i) in ours
            matches += mine
            if moto_judges(p, e) == mine:
                agreements += 1
                continue
            why = explain(p, e, mine)
            if why is None:
                unexplained.append((p, e, mine))
            else:
                explained[why] = explained.get(why, 0) + 1

    total = PATTERNS * EVENTS
    summary = [f"{total} pairs: {agreements} agreements, {matches} matches by lk-forwarder"]
    for why, count in sorted(explained.items(), key=lambda item: -item[1]):
        summary.append(f"  {count} disagreements explained by {' + '.join(why)}")
    for name, text in EXPLANATIONS.items():
        summary.append(f"  [{name}] {text}")
    print("\n".join(summary))

    assert not unexplained, "unexplained disagreements (pattern, event, lk-forwarder's verdict):\n" + "\n".join(
        f"{json.dumps(p)}  {json.dumps(e)}  {m}" for p, e, m in unexplained[:20])
    # The generated pairs exercise both outcomes, and moto agrees on the great majority.
    assert 0.05 * total < matches < 0.95 * total
    assert agreements > 0.9 * total
