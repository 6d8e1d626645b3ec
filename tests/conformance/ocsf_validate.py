#!/usr/bin/env python3
"""An OCSF event validator over the schema's own source tree (the ocsf-schema repository:
dictionary.json, categories.json, events/, objects/, profiles/), for dcomhunt's tests.

The schema repository is not a JSON Schema: classes and objects `extends` a parent, pull in
profile files and enum files with `$include`, and name their attributes by dictionary entry.
This module compiles it the way the OCSF server does, then checks events strictly:

  - every attribute is defined by the class or object, counting a profile's attributes only
    when `metadata.profiles` names that profile (an attribute a class re-declares with
    `"profile": null` belongs to the class whatever the profiles);
  - each declared profile exists and is one the class takes;
  - required attributes are present;
  - values have their dictionary type: string_t, integer_t (32-bit), long_t and timestamp_t
    (64-bit), float_t, boolean_t, json_t, the string subtypes' regex and max_len, the
    numeric ranges, arrays where `is_array`, objects recursively;
  - enum values are defined, and an enum's sibling (`severity` for `severity_id`...) holds
    the value's caption (99, Other, carries the source's own word);
  - class_uid, category_uid and type_uid agree with the class and activity; the
    constraints (`at_least_one`, `just_one`) of classes and objects hold;
  - observables name attributes that exist; deprecated classes, objects, attributes and
    enum values are reported;
  - metadata.version is the schema's version.

Where the OCSF server only warns (a caption that differs, a regex not matched, deprecation)
this validator reports an error: dcomhunt's output is meant to pass clean.

Usage: ocsf_validate.py --schema DIR [FILE...]   (JSON lines; '-' or nothing: stdin)
       ocsf_validate.py --schema DIR --describe NAME   (a compiled class or object)
Exit 0 when every event is valid, 1 otherwise."""
import argparse
import copy
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonlines  # noqa: E402

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)


def deep_merge(left, right):
    """right over left, maps merged key by key (the schema's own merge rule: an explicit
    null on the right wins, which is how a class takes an attribute out of a profile)."""
    if isinstance(left, dict) and isinstance(right, dict):
        out = dict(left)
        for k, v in right.items():
            out[k] = deep_merge(left[k], v) if k in left else copy.deepcopy(v)
        return out
    return copy.deepcopy(right)


class Schema:
    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "version.json")) as f:
            self.version = json.load(f)["version"]
        d = self._load("dictionary.json")
        self.types = d["types"]["attributes"]
        self.dictionary = d["attributes"]
        self.categories = self._load("categories.json")["attributes"]
        self.profiles = {}
        for name in sorted(os.listdir(os.path.join(root, "profiles"))):
            if name.endswith(".json"):
                p = self._load(os.path.join("profiles", name))
                self.profiles[p["name"]] = p
        raw_objects = self._read_dir("objects")
        raw_classes = self._read_dir("events")
        observable_types = self._observable_types(raw_objects)
        self.objects = {n: self._compile(self._extend(n, raw_objects)) for n in raw_objects}
        self.objects["observable"]["attributes"]["type_id"]["enum"].update(observable_types)
        self.classes = {}
        self.class_by_uid = {}
        for n in raw_classes:
            c = self._extend(n, raw_classes)
            if "uid" not in c and n != "base_event":
                continue  # an abstract class (finding, network, ...)
            c = self._compile(c)
            cat = self.categories.get(c.get("category"))
            cat_uid = cat["uid"] if cat else 0
            c["class_uid"] = cat_uid * 1000 + c.get("uid", 0)
            self._class_enums(c, cat)
            self.classes[n] = c
            self.class_by_uid[c["class_uid"]] = c

    # -- reading ---------------------------------------------------------------------------
    def _load(self, rel):
        with open(os.path.join(self.root, rel)) as f:
            return json.load(f)

    def _read_dir(self, top):
        out = {}
        for dirpath, _, files in os.walk(os.path.join(self.root, top)):
            for fn in sorted(files):
                if fn.endswith(".json"):
                    rel = os.path.relpath(os.path.join(dirpath, fn), self.root)
                    item = self._includes(self._load(rel))
                    out[item["name"]] = item
        return out

    def _observable_types(self, raw_objects):
        """observable.type_id's values: the numbers the dictionary's types, attributes and
        the objects (and their attributes) are marked observable with."""
        out = {}
        for t in self.types.values():
            if "observable" in t:
                out[str(t["observable"])] = {"caption": t["caption"]}
        for a in self.dictionary.values():
            if "observable" in a:
                out[str(a["observable"])] = {"caption": a["caption"]}
        for o in raw_objects.values():
            if "observable" in o:
                out[str(o["observable"])] = {"caption": o["caption"]}
            for a in o.get("attributes", {}).values():
                if isinstance(a, dict) and "observable" in a:
                    out[str(a["observable"])] = {"caption": None}  # named by the server, not the schema
        return out

    def _includes(self, item):
        """Resolves `$include` in an item's attributes (profile and trait files: the item's
        own definitions win) and in single attributes (enum files)."""
        attrs = item.get("attributes")
        if not attrs:
            return item
        inc = attrs.get("$include", [])
        if isinstance(inc, str):
            inc = [inc]
        own = {k: v for k, v in attrs.items() if k != "$include"}
        merged = {}
        for rel in inc:
            other = self._includes(self._load(rel))
            other_attrs = other.get("attributes", {})
            if other.get("meta") == "profile":
                other_attrs = {k: dict(v, profile=other["name"]) for k, v in other_attrs.items()}
            merged = deep_merge(merged, other_attrs)
        merged = deep_merge(merged, own)
        for k, v in list(merged.items()):
            if isinstance(v, dict) and "$include" in v:
                enum_file = self._load(v["$include"])
                merged[k] = deep_merge(enum_file, {x: y for x, y in v.items() if x != "$include"})
        item = dict(item)
        item["attributes"] = merged
        return item

    def _extend(self, name, table, seen=()):
        item = table[name]
        parent = item.get("extends")
        if not parent:
            return item
        if parent in seen or parent not in table:
            raise ValueError("%s extends %s: unknown or circular" % (name, parent))
        base = self._extend(parent, table, seen + (name,))
        out = dict(base)
        out.update(item)
        out.pop("extends", None)
        out["attributes"] = deep_merge(base.get("attributes", {}), item.get("attributes", {}))
        # the profiles a class may take accumulate down the hierarchy
        out["profiles"] = sorted(set(base.get("profiles", [])) | set(item.get("profiles", [])))
        out["name"] = item["name"]
        return out

    def _compile(self, item):
        """Each attribute: its dictionary entry with the item's definition over it."""
        item = dict(item)
        attrs = {}
        for name, a in item.get("attributes", {}).items():
            if name not in self.dictionary:
                raise ValueError("%s.%s is not in the dictionary" % (item["name"], name))
            full = deep_merge(self.dictionary[name], a)
            t = full.get("type")
            if t not in self.types:
                full["object_type"] = t
                full["type"] = "object_t"
            attrs[name] = full
        # the datetime profile: every timestamp_t gets a datetime_t twin named <name>_dt
        for name, a in list(attrs.items()):
            if a["type"] == "timestamp_t" and name + "_dt" not in attrs:
                attrs[name + "_dt"] = {"type": "datetime_t", "profile": "datetime",
                                       "requirement": "optional", "is_array": a.get("is_array", False)}
        item["attributes"] = attrs
        item["open"] = not attrs  # "object": any content (unmapped)
        return item

    def _class_enums(self, c, cat):
        a = c["attributes"]
        caption = c.get("caption", c["name"])
        a["class_uid"]["enum"] = {str(c["class_uid"]): {"caption": caption}}
        if cat:
            a["category_uid"]["enum"] = {str(cat["uid"]): {"caption": cat["caption"]}}
        acts = a.get("activity_id", {}).get("enum", {})
        types = {}
        for k, v in acts.items():
            types[str(c["class_uid"] * 100 + int(k))] = {"caption": "%s: %s" % (caption, v["caption"])}
        types.setdefault(str(c["class_uid"] * 100), {"caption": "%s: Unknown" % caption})
        a["type_uid"]["enum"] = types

    # -- validation ------------------------------------------------------------------------
    def validate(self, event):
        """Returns the list of problems ("path: message"), empty when the event is valid."""
        errs = []
        if not isinstance(event, dict):
            return ["event: not a JSON object"]
        uid = event.get("class_uid")
        if not isinstance(uid, int) or isinstance(uid, bool):
            return ["class_uid: missing or not an integer"]
        cls = self.class_by_uid.get(uid)
        if cls is None:
            return ["class_uid: no class %r in OCSF %s" % (uid, self.version)]
        if "@deprecated" in cls:
            errs.append("class %s is deprecated" % cls["name"])
        profiles = self._profiles(event, cls, errs)
        self._item(event, cls, "", profiles, errs)
        md = event.get("metadata")
        if isinstance(md, dict) and md.get("version") != self.version:
            errs.append("metadata.version: %r, the schema is %s" % (md.get("version"), self.version))
        if all(isinstance(event.get(k), int) for k in ("activity_id", "type_uid")):
            want = uid * 100 + event["activity_id"]
            if event["type_uid"] != want:
                errs.append("type_uid: %d, class_uid * 100 + activity_id is %d" % (event["type_uid"], want))
        for i, ob in enumerate(event.get("observables") or []):
            if isinstance(ob, dict) and isinstance(ob.get("name"), str):
                if not self._path_defined(ob["name"].split("."), cls, profiles):
                    errs.append("observables[%d].name: %r names no attribute of %s"
                                % (i, ob["name"], cls["name"]))
        return errs

    def _profiles(self, event, cls, errs):
        md = event.get("metadata")
        ps = md.get("profiles") if isinstance(md, dict) else None
        if ps is None:
            return set()
        if not isinstance(ps, list):
            return set()  # the type check reports it
        for i, p in enumerate(ps):
            if p not in self.profiles:
                errs.append("metadata.profiles[%d]: no profile %r" % (i, p))
            elif p not in cls.get("profiles", []):
                errs.append("metadata.profiles[%d]: class %s does not take profile %r" % (i, cls["name"], p))
        return {p for p in ps if isinstance(p, str)}

    @staticmethod
    def _visible(attrs, profiles):
        return {k: v for k, v in attrs.items() if v.get("profile") is None or v["profile"] in profiles}

    def _path_defined(self, keys, item, profiles):
        a = self._visible(item["attributes"], profiles).get(keys[0])
        if a is None:
            return False
        if len(keys) == 1:
            return True
        return a["type"] == "object_t" and self._path_defined(keys[1:], self.objects[a["object_type"]], profiles)

    def _item(self, value, item, path, profiles, errs):
        if item.get("open"):
            return
        attrs = self._visible(item["attributes"], profiles)
        where = ("class %s" % item["name"]) if "class_uid" in item else ("object %s" % item["name"])
        for key in value:
            if key not in attrs:
                hidden = item["attributes"].get(key)
                why = (" (profile %s is not in metadata.profiles)" % hidden["profile"]) if hidden else ""
                errs.append("%s: not an attribute of %s%s" % (join(path, key), where, why))
        for name, a in attrs.items():
            p = join(path, name)
            if name not in value or value[name] is None:
                if a.get("requirement") == "required":
                    errs.append("%s: required by %s, missing" % (p, where))
                continue
            if "@deprecated" in a:
                errs.append("%s: deprecated (%s)" % (p, a["@deprecated"].get("message", "")))
            v = value[name]
            if a.get("is_array"):
                if not isinstance(v, list):
                    errs.append("%s: expected an array of %s, got %s" % (p, tname(a), jtype(v)))
                    continue
                for i, x in enumerate(v):
                    self._value(x, a, "%s[%d]" % (p, i), profiles, errs)
            else:
                self._value(v, a, p, profiles, errs)
            if "enum" in a:
                self._enum(value, name, a, path, errs)
        for kind, names in (item.get("constraints") or {}).items():
            n = sum(1 for k in names if value.get(k) is not None)
            if kind == "at_least_one" and n == 0:
                errs.append("%s: %s needs at least one of %s" % (path or "event", where, ", ".join(names)))
            elif kind == "just_one" and n != 1:
                errs.append("%s: %s needs exactly one of %s, has %d" % (path or "event", where, ", ".join(names), n))
            elif kind not in ("at_least_one", "just_one"):
                errs.append("%s: unknown constraint %s in %s" % (path or "event", kind, where))

    def _value(self, v, a, p, profiles, errs):
        if a["type"] == "object_t":
            obj = self.objects.get(a["object_type"])
            if obj is None:
                errs.append("%s: schema has no object %s" % (p, a["object_type"]))
            elif not isinstance(v, dict):
                errs.append("%s: expected object %s, got %s" % (p, a["object_type"], jtype(v)))
            else:
                if "@deprecated" in obj:
                    errs.append("%s: object %s is deprecated" % (p, obj["name"]))
                self._item(v, obj, p, profiles, errs)
            return
        t = a["type"]
        chain = [t]
        while "type" in self.types[chain[-1]]:
            chain.append(self.types[chain[-1]]["type"])
        prim = chain[-1]
        ok = {
            "string_t": lambda x: isinstance(x, str),
            "integer_t": lambda x: is_int(x) and INT32[0] <= x <= INT32[1],
            "long_t": lambda x: is_int(x) and INT64[0] <= x <= INT64[1],
            "float_t": lambda x: isinstance(x, float),
            "boolean_t": lambda x: isinstance(x, bool),
            "json_t": lambda x: True,
        }.get(prim)
        if ok is None:
            errs.append("%s: schema type %s has no primitive" % (p, t))
            return
        if not ok(v):
            errs.append("%s: expected %s, got %s %s" % (p, tname(a), jtype(v), json.dumps(v)[:60]))
            return
        for tn in chain:
            td = self.types[tn]
            if "regex" in td and not re.search(td["regex"], v):
                errs.append("%s: %r is not a valid %s" % (p, v[:80], tn))
            if "max_len" in td and len(v) > td["max_len"]:
                errs.append("%s: longer than %s's %d" % (p, tn, td["max_len"]))
            if "range" in td and not td["range"][0] <= v <= td["range"][1]:
                errs.append("%s: %r outside %s's range %s" % (p, v, tn, td["range"]))
            if "values" in td and v not in td["values"]:
                errs.append("%s: %r not among %s's values" % (p, v, tn))

    def _enum(self, value, name, a, path, errs):
        sib = a.get("sibling")
        vals = value[name] if a.get("is_array") else [value[name]]
        sibs = value.get(sib) if sib else None
        for i, v in enumerate(vals if isinstance(vals, list) else []):
            p = join(path, name) + ("[%d]" % i if a.get("is_array") else "")
            e = a["enum"].get(str(v)) if is_int(v) or isinstance(v, str) else None
            if e is None:
                errs.append("%s: %r is not a value of enum %s (%s)" % (p, v, name, ", ".join(sorted(a["enum"], key=sortkey))))
                continue
            if "@deprecated" in e:
                errs.append("%s: enum value %r is deprecated" % (p, v))
            if sibs is None:
                continue
            s = sibs[i] if a.get("is_array") and isinstance(sibs, list) and i < len(sibs) else \
                (None if a.get("is_array") else sibs)
            if str(v) == "99":
                continue  # Other: the sibling carries the source's own word
            if e["caption"] is not None and s != e["caption"]:
                errs.append("%s: %r, the caption of %s %s is %r" % (join(path, sib), s, name, v, e["caption"]))

    def describe(self, name):
        item = self.classes.get(name) or self.objects.get(name)
        if item is None:
            return "no class or object %r" % name
        lines = ["%s %s (profiles %s)%s" % ("class" if "class_uid" in item else "object", name,
                                            ", ".join(item.get("profiles", [])) or "-",
                                            "  constraints %s" % item["constraints"] if item.get("constraints") else "")]
        for k, a in sorted(item["attributes"].items()):
            lines.append("  %-28s %-10s %-24s%s%s" % (
                k, a.get("requirement", "optional"), tname(a),
                "  profile=%s" % a["profile"] if a.get("profile") else "",
                "  enum " + ",".join(sorted(a["enum"], key=sortkey)) if "enum" in a else ""))
        return "\n".join(lines)


def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def sortkey(k):
    return (0, int(k)) if k.lstrip("-").isdigit() else (1, k)


def join(path, key):
    return "%s.%s" % (path, key) if path else key


def tname(a):
    t = a["object_type"] if a["type"] == "object_t" else a["type"]
    return t + ("[]" if a.get("is_array") else "")


def jtype(v):
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}[type(v)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schema", required=True, help="the ocsf-schema source tree")
    ap.add_argument("--describe", help="print a compiled class or object and exit")
    ap.add_argument("files", nargs="*")
    a = ap.parse_args()
    schema = Schema(a.schema)
    if a.describe:
        print(schema.describe(a.describe))
        return 0
    total, bad = jsonlines.check_files(schema.validate, a.files)
    for m in bad:
        print(m)
    print("%d events, %d problems (OCSF %s)" % (total, len(bad), schema.version))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
