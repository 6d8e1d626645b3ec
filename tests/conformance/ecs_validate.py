#!/usr/bin/env python3
"""An ECS document validator over the Elastic Common Schema's generated field list
(ecs_flat.yml of the ECS repository; ../shared/ecs), for dcomhunt's tests.

Every field of a document (nested objects flattened to dotted names) must be an ECS field,
or lie under an ECS field of type object or flattened, or under `winlog` (Winlogbeat's own
fields, not ECS), and its value must fit the field:

  - keyword, constant_keyword, wildcard, text, match_only_text: a string;
  - long, integer: a whole number in range; float, double, scaled_float: a number;
  - boolean: true or false; ip: an IPv4 or IPv6 address (no zone); date: an ISO 8601
    date and time, or milliseconds since 1970;
  - fields ECS normalises to arrays are arrays (of such values), and no other field is;
  - allowed values (event.kind, event.category, event.type, event.outcome...) and
    expected values (network.direction) are respected, and each event.type is one that
    one of the document's event.category values expects;
  - the required fields (@timestamp, ecs.version) are present, ecs.version is the list's
    version; no value is an empty string.

Usage: ecs_validate.py --ecs DIR [FILE...]   (JSON lines; '-' or nothing: stdin)
Exit 0 when every document is valid, 1 otherwise."""
import argparse
import ipaddress
import json
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonlines  # noqa: E402

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$")
STRINGS = {"keyword", "constant_keyword", "wildcard", "text", "match_only_text"}
RANGES = {"long": (-(2**63), 2**63 - 1), "integer": (-(2**31), 2**31 - 1)}
OWN = ("winlog",)  # Winlogbeat's own fields, kept beside ECS


class Fields:
    def __init__(self, root):
        path = os.path.join(root, "generated", "ecs", "ecs_flat.yml")
        with open(path) as f:
            self.fields = yaml.safe_load(f)
        with open(os.path.join(root, "version")) as f:
            self.version = f.read().strip()
        self.required = [n for n, d in self.fields.items() if d.get("required")]
        self.open = {n for n, d in self.fields.items() if d["type"] in ("object", "flattened", "nested")}
        cat = self.fields["event.category"]
        self.expected_types = {a["name"]: set(a.get("expected_event_types", [])) for a in cat["allowed_values"]}

    def validate(self, doc):
        errs = []
        if not isinstance(doc, dict):
            return ["document: not a JSON object"]
        flat = {}
        self._flatten(doc, "", flat, errs)
        for name in self.required:
            if name not in flat:
                errs.append("%s: required, missing" % name)
        if "ecs.version" in flat and flat["ecs.version"] != self.version:
            errs.append("ecs.version: %r, the field list is %s" % (flat["ecs.version"], self.version))
        for name, v in flat.items():
            d = self.fields.get(name)
            if d is None:
                errs.append("%s: not an ECS %s field" % (name, self.version))
                continue
            if "array" in (d.get("normalize") or []):
                if not isinstance(v, list):
                    errs.append("%s: ECS normalises it to an array, got %s" % (name, type(v).__name__))
                    continue
                vals = v
            elif isinstance(v, list):
                errs.append("%s: not an array field, got an array" % name)
                continue
            else:
                vals = [v]
            allowed = {a["name"] for a in d.get("allowed_values") or []} | set(d.get("expected_values") or [])
            for x in vals:
                why = self._type(d["type"], x)
                if why:
                    errs.append("%s: %s" % (name, why))
                elif allowed and x not in allowed:
                    errs.append("%s: %r is not one of ECS's values (%s)" % (name, x, ", ".join(sorted(allowed))))
        cats = flat.get("event.category") or []
        if isinstance(cats, list) and cats:
            expect = set().union(*(self.expected_types.get(c, set()) for c in cats))
            for t in flat.get("event.type") or []:
                if t not in expect:
                    errs.append("event.type: %r is not a type event.category %s expects" % (t, cats))
        return errs

    def _flatten(self, v, path, out, errs):
        if path in self.open or path.split(".")[0] in OWN:
            return
        if isinstance(v, dict):
            if path and path in self.fields:
                errs.append("%s: an object where ECS has a %s" % (path, self.fields[path]["type"]))
                return
            if not v and path:
                errs.append("%s: an empty object" % path)
            for k, x in v.items():
                self._flatten(x, path + "." + k if path else k, out, errs)
        else:
            out[path] = v

    @staticmethod
    def _type(t, x):
        if x == "" or x is None:
            return "an empty value"
        if t in STRINGS:
            return None if isinstance(x, str) else "expected a string (%s), got %r" % (t, x)
        if t in RANGES:
            lo, hi = RANGES[t]
            ok = isinstance(x, int) and not isinstance(x, bool) and lo <= x <= hi
            return None if ok else "expected %s, got %r" % (t, x)
        if t in ("float", "double", "scaled_float", "half_float"):
            ok = isinstance(x, (int, float)) and not isinstance(x, bool)
            return None if ok else "expected %s, got %r" % (t, x)
        if t == "boolean":
            return None if isinstance(x, bool) else "expected a boolean, got %r" % (x,)
        if t == "ip":
            if not isinstance(x, str) or "%" in x:
                return "expected an IP address, got %r" % (x,)
            try:
                ipaddress.ip_address(x)
                return None
            except ValueError:
                return "expected an IP address, got %r" % (x,)
        if t == "date":
            if isinstance(x, int) and not isinstance(x, bool):
                return None
            return None if isinstance(x, str) and DATE.match(x) else "expected a date, got %r" % (x,)
        return "type %s is not checked by this validator (value %r)" % (t, x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ecs", required=True, help="the ECS field list (../shared/ecs)")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    fields = Fields(a.ecs)
    total, bad = jsonlines.check_files(fields.validate, a.files)
    for m in bad:
        print(m)
    print("%d documents, %d problems (ECS %s)" % (total, len(bad), fields.version))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
