#!/usr/bin/env python3
"""dcomhunt rules export: the rule pack as KQL hunting queries and back as Sigma YAML.

1. golden: `rules export --to kql NAME` of every pack rule equals
   tests/data/kql-golden/NAME.kql (--update rewrites the files after you have read the
   differences); a difference fails the test and names the rule. A corrupted copy of one
   golden is checked to fail the comparison, so the comparison cannot pass vacuously.
2. KQL form: a checker written here, independent of the C code, tokenizes every exported
   query (string literals, verbatim @"..." strings with doubled quotes, escapes, comments),
   checks balanced brackets, that every table is a Defender or Sentinel table, that every
   column named after where/extend/project/summarize/join ... on/lookup ... on is a column of
   its table (schemas below, from Microsoft's advanced-hunting and Azure Monitor table
   references) or one the query made itself, that word operators and functions are known KQL
   ones, and that pipes stand only between tabular operators. Known-bad queries are checked
   to fail it.
3. seed: exporting seed_com_suspicious_child, seed_mmc20_dcom and seed_dcom_config_tool
   together gives one DeviceProcessEvents query whose where clause is, clause for clause,
   the seed hunting query: `(InitiatingProcessFileName has_any (parents) and FileName
   has_any (children)) or ...`, lists equal to SEED in tests/vectors/kql_seed_equivalence.py.
4. every rule exports with exit 0 (alone, all together, --split, --no-enrich); --to sigma
   gives each rule's YAML back byte for byte and `dcomhunt rules check` loads it; rules the
   export cannot translate are named on stderr and in a comment, with exit 3.

usage: rules_export.py --dcomhunt DCOMHUNT --source SOURCE_DIR [--update]
"""
import argparse
import difflib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile

# ---- schemas -------------------------------------------------------------------------
# Microsoft Defender XDR advanced hunting schema reference (Device* tables) and the Azure
# Monitor Logs table reference (Event, SecurityEvent), as documented.

_DEVICE = ["Timestamp", "DeviceId", "DeviceName", "ActionType", "ReportId",
           "AppGuardContainerId", "MachineGroup", "TimeGenerated"]
_INITIATING = [
    "InitiatingProcessAccountDomain", "InitiatingProcessAccountName",
    "InitiatingProcessAccountSid", "InitiatingProcessAccountUpn",
    "InitiatingProcessAccountObjectId", "InitiatingProcessIntegrityLevel",
    "InitiatingProcessTokenElevation", "InitiatingProcessSHA1", "InitiatingProcessSHA256",
    "InitiatingProcessMD5", "InitiatingProcessFileName", "InitiatingProcessFileSize",
    "InitiatingProcessVersionInfoCompanyName", "InitiatingProcessVersionInfoProductName",
    "InitiatingProcessVersionInfoProductVersion", "InitiatingProcessVersionInfoInternalFileName",
    "InitiatingProcessVersionInfoOriginalFileName", "InitiatingProcessVersionInfoFileDescription",
    "InitiatingProcessId", "InitiatingProcessCommandLine", "InitiatingProcessCreationTime",
    "InitiatingProcessFolderPath", "InitiatingProcessParentId", "InitiatingProcessParentFileName",
    "InitiatingProcessParentCreationTime", "InitiatingProcessSessionId",
    "IsInitiatingProcessRemoteSession", "InitiatingProcessRemoteSessionDeviceName",
    "InitiatingProcessRemoteSessionIP"]

TABLES = {
    "DeviceProcessEvents": _DEVICE + _INITIATING + [
        "FileName", "FolderPath", "SHA1", "SHA256", "MD5", "FileSize",
        "ProcessVersionInfoCompanyName", "ProcessVersionInfoProductName",
        "ProcessVersionInfoProductVersion", "ProcessVersionInfoInternalFileName",
        "ProcessVersionInfoOriginalFileName", "ProcessVersionInfoFileDescription", "ProcessId",
        "ProcessCommandLine", "ProcessIntegrityLevel", "ProcessTokenElevation",
        "ProcessCreationTime", "AccountDomain", "AccountName", "AccountSid", "AccountUpn",
        "AccountObjectId", "LogonId", "InitiatingProcessLogonId", "InitiatingProcessSignerType",
        "InitiatingProcessSignatureStatus", "AdditionalFields", "CreatedProcessSessionId",
        "IsProcessRemoteSession", "ProcessRemoteSessionDeviceName", "ProcessRemoteSessionIP"],
    "DeviceNetworkEvents": _DEVICE + _INITIATING + [
        "RemoteIP", "RemotePort", "RemoteUrl", "LocalIP", "LocalPort", "Protocol",
        "LocalIPType", "RemoteIPType", "AdditionalFields"],
    "DeviceLogonEvents": _DEVICE + _INITIATING + [
        "LogonType", "AccountDomain", "AccountName", "AccountSid", "Protocol", "FailureReason",
        "IsLocalAdmin", "LogonId", "RemoteDeviceName", "RemoteIP", "RemoteIPType", "RemotePort",
        "AdditionalFields"],
    "DeviceImageLoadEvents": _DEVICE + _INITIATING + [
        "FileName", "FolderPath", "SHA1", "SHA256", "MD5", "FileSize"],
    "DeviceRegistryEvents": _DEVICE + _INITIATING + [
        "RegistryKey", "RegistryValueType", "RegistryValueName", "RegistryValueData",
        "PreviousRegistryKey", "PreviousRegistryValueName", "PreviousRegistryValueData"],
    "DeviceFileEvents": _DEVICE + _INITIATING + [
        "FileName", "FolderPath", "SHA1", "SHA256", "MD5", "FileSize", "FileOriginUrl",
        "FileOriginReferrerUrl", "FileOriginIP", "PreviousFolderPath", "PreviousFileName",
        "RequestProtocol", "RequestSourceIP", "RequestSourcePort", "RequestAccountName",
        "RequestAccountDomain", "RequestAccountSid", "ShareName", "SensitivityLabel",
        "SensitivitySubLabel", "IsAzureInfoProtectionApplied", "AdditionalFields"],
    "DeviceEvents": _DEVICE + _INITIATING + [
        "FileName", "FolderPath", "SHA1", "SHA256", "MD5", "FileSize", "AccountDomain",
        "AccountName", "AccountSid", "RemoteUrl", "RemoteDeviceName", "ProcessId",
        "ProcessCommandLine", "ProcessCreationTime", "ProcessTokenElevation", "LogonId",
        "RegistryKey", "RegistryValueName", "RegistryValueData", "RemoteIP", "RemotePort",
        "LocalIP", "LocalPort", "FileOriginUrl", "FileOriginIP", "AdditionalFields"],
    "DeviceFileCertificateInfo": [
        "Timestamp", "DeviceId", "DeviceName", "SHA1", "IsSigned", "SignatureType", "Signer",
        "SignerHash", "Issuer", "IssuerHash", "CertificateSerialNumber",
        "CrlDistributionPointUrls", "CertificateCreationTime", "CertificateExpirationTime",
        "CertificateCountersignatureTime", "IsTrusted", "IsRootSignerMicrosoft", "ReportId",
        "MachineGroup", "TimeGenerated"],
    "Event": [
        "TimeGenerated", "Computer", "EventID", "EventLog", "Source", "EventLevel",
        "EventLevelName", "EventCategory", "EventData", "ParameterXml", "RenderedDescription",
        "UserName", "Message", "ManagementGroupName", "SourceSystem", "TenantId", "Type",
        "AzureDeploymentID", "Role", "MG", "_ResourceId"],
    "SecurityEvent": [
        "TimeGenerated", "Computer", "EventID", "Channel", "EventSourceName", "Activity",
        "Account", "AccountType", "AccessMask", "AuthenticationPackageName", "CommandLine",
        "ElevatedToken", "EventData", "ImpersonationLevel", "IpAddress", "IpPort", "KeyLength",
        "LmPackageName", "LogonGuid", "LogonProcessName", "LogonType", "MandatoryLabel",
        "NewProcessId", "NewProcessName", "ObjectName", "ObjectType", "ParentProcessName",
        "PrivilegeList", "Process", "ProcessId", "ProcessName", "RelativeTargetName",
        "ServiceFileName", "ServiceName", "ShareName", "SubjectAccount", "SubjectDomainName",
        "SubjectLogonId", "SubjectUserName", "SubjectUserSid", "TargetAccount",
        "TargetDomainName", "TargetLogonId", "TargetUserName", "TargetUserSid",
        "TokenElevationType", "WorkstationName", "SourceSystem", "TenantId", "Type"],
}

# KQL word operators (string, membership, logical, range) and the functions the export may use.
OPERATORS = {
    "and", "or", "has", "!has", "has_cs", "!has_cs", "has_any", "has_all", "hasprefix",
    "hassuffix", "contains", "!contains", "contains_cs", "!contains_cs", "startswith",
    "!startswith", "startswith_cs", "!startswith_cs", "endswith", "!endswith", "endswith_cs",
    "!endswith_cs", "in", "!in", "in~", "!in~", "matches", "between", "!between"}
FUNCTIONS = {
    "not", "isempty", "isnotempty", "isnull", "isnotnull", "iff", "iif", "case", "strcat",
    "tostring", "toint", "tolong", "toreal", "todouble", "todatetime", "tolower", "toupper",
    "replace_regex", "replace_string", "extract", "parse_xml", "parse_json", "coalesce",
    "ipv4_is_in_range", "ipv6_is_in_range", "ipv4_is_in_any_range", "parse_ipv4", "parse_ipv6",
    "pack_array", "bag_pack", "make_set", "make_list", "make_bag", "take_any", "arg_max",
    "arg_min", "max", "min", "count", "dcount", "sum", "dynamic", "materialize", "ago", "now",
    "indexof", "strlen", "substring", "typeof", "datetime", "timespan", "abs", "array_length"}
TABULAR_OPS = {
    "where", "extend", "project", "project-away", "project-reorder", "project-rename",
    "summarize", "join", "lookup", "mv-expand", "distinct", "take", "limit", "top", "sort",
    "order", "count", "union"}
LITERALS = {"true", "false", "null", "long", "int", "string", "real", "bool", "datetime",
            "dynamic", "timespan", "guid", "decimal"}


class KqlError(Exception):
    pass


# ---- tokenizer -----------------------------------------------------------------------

def tokenize(text):
    """Tokens as (kind, value, line): kinds ID, STR, NUM, OP, PUNCT. Comments are dropped."""
    toks, i, line, n = [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "@" and i + 1 < n and text[i + 1] in "\"'":
            q, j, val = text[i + 1], i + 2, []
            while True:
                if j >= n or text[j] == "\n":
                    raise KqlError("line %d: unterminated verbatim string" % line)
                if text[j] == q:
                    if j + 1 < n and text[j + 1] == q:
                        val.append(q)
                        j += 2
                        continue
                    break
                val.append(text[j])
                j += 1
            toks.append(("STR", "".join(val), line))
            i = j + 1
        elif c in "\"'":
            j, val = i + 1, []
            while True:
                if j >= n or text[j] == "\n":
                    raise KqlError("line %d: unterminated string" % line)
                if text[j] == "\\":
                    if j + 1 >= n:
                        raise KqlError("line %d: unterminated string" % line)
                    esc = text[j + 1]
                    if esc not in "\\\"'tnr":
                        raise KqlError("line %d: unknown escape \\%s in a string" % (line, esc))
                    val.append({"t": "\t", "n": "\n", "r": "\r"}.get(esc, esc))
                    j += 2
                    continue
                if text[j] == c:
                    break
                val.append(text[j])
                j += 1
            toks.append(("STR", "".join(val), line))
            i = j + 1
        elif c.isdigit():
            m = re.match(r"\d+(?:\.\d+)?(?:ms|microsecond|tick|d|h|m|s)?", text[i:])
            toks.append(("NUM", m.group(0), line))
            i += len(m.group(0))
        elif c.isalpha() or c == "_" or (c in "!$" and i + 1 < n and
                                         (text[i + 1].isalpha() or text[i + 1] == "_")):
            m = re.match(r"[!$]?[A-Za-z_][A-Za-z0-9_]*(?:-[a-z]+)*~?", text[i:])
            word = m.group(0)
            if "-" in word and word.lstrip("!") not in TABULAR_OPS:
                word = word.split("-")[0]  # a minus, not a hyphenated operator name
            if word.endswith("~") and word.lstrip("!") != "in~":
                word = word[:-1]
            toks.append(("ID", word, line))
            i += len(word)
        else:
            for op in ("==", "!=", "=~", "!~", "<=", ">=", ".."):
                if text.startswith(op, i):
                    toks.append(("OP", op, line))
                    i += 2
                    break
            else:
                if c in "()[]{},;|.=<>+-*/%":
                    toks.append(("PUNCT", c, line))
                    i += 1
                else:
                    raise KqlError("line %d: unexpected character %r" % (line, c))
    return toks


def check_brackets(toks):
    stack = []
    for kind, v, line in toks:
        if kind != "PUNCT":
            continue
        if v in "([{":
            stack.append((v, line))
        elif v in ")]}":
            if not stack or "([{"[")]}".index(v)] != stack[-1][0]:
                raise KqlError("line %d: unbalanced %s" % (line, v))
            stack.pop()
    if stack:
        raise KqlError("line %d: %s never closed" % (stack[-1][1], stack[-1][0]))


# ---- checker -------------------------------------------------------------------------

class Checker:
    """Walks one query: let statements and a tabular expression; every column a clause names
    must be in the columns of the table flowing into it."""

    def __init__(self, text):
        self.toks = tokenize(text)
        check_brackets(self.toks)
        self.i = 0
        self.tabular = {}
        self.scalars = set()
        self.tables_used = set()
        self.operators_used = set()

    def peek(self, k=0):
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("EOF", "", self.toks[-1][2] if self.toks else 0)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def expect(self, value):
        t = self.take()
        if t[1] != value:
            raise KqlError("line %d: expected %r, found %r" % (t[2], value, t[1]))
        return t

    def fail(self, msg):
        raise KqlError("line %d: %s" % (self.peek()[2], msg))

    def run(self):
        if not self.toks:
            return
        while self.peek()[1] == "let":
            self.take()
            name = self.take()
            if name[0] != "ID":
                self.fail("let needs a name")
            self.expect("=")
            if self.peek()[0] in ("NUM", "STR") or self.peek()[1] in ("dynamic", "datetime",
                                                                       "timespan", "ago"):
                self.scalar_expr(set(), stop=(";",))
                self.scalars.add(name[1])
            else:
                self.tabular[name[1]] = self.tabular_expr()
            self.expect(";")
        self.tabular_expr()
        if self.peek()[1] == ";":
            self.take()
        if self.peek()[0] != "EOF":
            self.fail("text after the end of the query: %r" % self.peek()[1])

    def tabular_expr(self):
        t = self.take()
        if t[1] == "(":
            cols = self.tabular_expr()
            self.expect(")")
        elif t[1] == "materialize":
            self.expect("(")
            cols = self.tabular_expr()
            self.expect(")")
        elif t[1] == "union":
            cols = set()
            while True:
                if self.peek()[1] == "(":
                    self.take()
                    cols |= self.tabular_expr()
                    self.expect(")")
                else:
                    cols |= self.table_name(self.take())
                if self.peek()[1] != ",":
                    break
                self.take()
        else:
            cols = self.table_name(t)
        while self.peek()[1] == "|":
            self.take()
            op = self.take()
            if op[0] != "ID" or op[1] not in TABULAR_OPS:
                raise KqlError("line %d: %r after a pipe is not a tabular operator" % (op[2], op[1]))
            cols = getattr(self, "op_" + op[1].replace("-", "_"))(cols)
        return cols

    def table_name(self, t):
        if t[0] == "ID" and t[1] in TABLES:
            self.tables_used.add(t[1])
            return set(TABLES[t[1]])
        if t[0] == "ID" and t[1] in self.tabular:
            return set(self.tabular[t[1]])
        raise KqlError("line %d: %r is not a known Defender or Sentinel table" % (t[2], t[1]))

    def scalar_expr(self, cols, stop):
        """Scans an expression up to a stop token at depth 0 (or an unmatched closing
        bracket); checks names. Returns the tokens scanned."""
        depth, out = 0, []
        while True:
            t = self.peek()
            kind, v, line = t
            if kind == "EOF":
                break
            if depth == 0 and (v in stop or v in (")", "]", "}")) and kind in ("PUNCT", "ID", "OP"):
                if not (kind == "ID" and v not in stop):
                    break
            if kind == "PUNCT" and v in "([{":
                depth += 1
            elif kind == "PUNCT" and v in ")]}":
                depth -= 1
            elif kind == "PUNCT" and v == "|":
                raise KqlError("line %d: a pipe inside an expression" % line)
            elif kind == "PUNCT" and v == ";":
                raise KqlError("line %d: a statement ends inside an expression" % line)
            elif kind == "ID":
                self.check_name(t, out, cols)
            elif kind in ("STR", "NUM") and out and (
                    out[-1][0] in ("STR", "NUM") or out[-1][1] in (")", "]") or
                    (out[-1][0] == "ID" and out[-1][1] not in OPERATORS and
                     out[-1][1] not in ("regex", "to", "kind"))):
                raise KqlError("line %d: %s follows an operand with no operator between" % (line, v))
            out.append(t)
            self.i += 1
        if not out:
            self.fail("an empty expression")
        return out

    def check_name(self, t, before, cols):
        v, line = t[1], t[2]
        prev = before[-1][1] if before else None
        nxt = self.peek(1)[1]
        if prev == ".":
            return  # a property of a dynamic value
        if v in OPERATORS or v == "regex" and prev == "matches":
            if v == "regex":
                return
            if not before or before[-1][1] in OPERATORS or before[-1][1] in ("(", ","):
                raise KqlError("line %d: operator %s has no left operand" % (line, v))
            self.operators_used.add(v)
            return
        if nxt == "(":
            if v not in FUNCTIONS:
                raise KqlError("line %d: %s( is not a known KQL function" % (line, v))
            return
        if v in LITERALS or v in self.scalars or v in ("$left", "$right"):
            return
        if v not in cols:
            raise KqlError("line %d: column %s is not in the table at this point" % (line, v))
        if before and before[-1][0] in ("ID", "STR", "NUM") and before[-1][1] not in OPERATORS \
                and before[-1][1] not in ("by", "on", "to", "kind"):
            raise KqlError("line %d: %s follows an operand with no operator between" % (line, v))

    def assignments(self, cols, stop, allow_bare, keep=False):
        """`Name = expr, ...` (or bare expressions): returns the names made."""
        made = []
        while True:
            t = self.peek()
            if t[0] == "ID" and self.peek(1)[1] == "=" and self.peek(1)[0] == "PUNCT":
                self.i += 2
                self.scalar_expr(cols | (set(made) if keep else set()), stop=(",",) + stop)
                made.append(t[1])
            elif allow_bare:
                toks = self.scalar_expr(cols, stop=(",",) + stop)
                made.append(self.default_name(toks))
            else:
                self.fail("expected Name = expression")
            if self.peek()[1] != ",":
                return made
            self.take()

    def default_name(self, toks):
        ids = [t[1] for t in toks if t[0] == "ID"]
        if len(toks) == 1:
            return ids[0] if ids else "Column1"
        return "_".join(ids[:2]) if ids else "Column1"

    def op_where(self, cols):
        self.scalar_expr(cols, stop=("|", ";"))
        return cols

    def op_extend(self, cols):
        return cols | set(self.assignments(cols, ("|", ";"), allow_bare=False, keep=True))

    def op_project(self, cols):
        return set(self.assignments(cols, ("|", ";"), allow_bare=True))

    def column_list(self, cols, stop):
        names = []
        while True:
            t = self.take()
            if t[0] != "ID" or t[1] not in cols:
                raise KqlError("line %d: column %s is not in the table at this point" % (t[2], t[1]))
            names.append(t[1])
            if self.peek()[1] != ",":
                break
            self.take()
        if self.peek()[1] not in stop and self.peek()[0] != "EOF":
            self.fail("unexpected %r after a column list" % self.peek()[1])
        return names

    def op_project_away(self, cols):
        return cols - set(self.column_list(cols, ("|", ";", ")")))

    def op_project_reorder(self, cols):
        self.column_list(cols, ("|", ";", ")"))
        return cols

    def op_project_rename(self, cols):
        out = set(cols)
        while True:
            new = self.take()
            self.expect("=")
            old = self.take()
            if old[1] not in cols:
                raise KqlError("line %d: column %s is not in the table" % (old[2], old[1]))
            out.discard(old[1])
            out.add(new[1])
            if self.peek()[1] != ",":
                return out
            self.take()

    def op_summarize(self, cols):
        made = []
        while self.peek()[1] != "by":
            t = self.peek()
            if t[0] == "ID" and self.peek(1)[1] == "=":
                self.i += 2
                self.scalar_expr(cols, stop=(",", "by", "|", ";"))
                made.append(t[1])
            else:
                toks = self.scalar_expr(cols, stop=(",", "by", "|", ";"))
                if toks[0][1] in ("arg_max", "arg_min"):
                    made += [x[1] for x in toks[2:] if x[0] == "ID"]
                else:
                    made.append(self.default_name(toks))
            if self.peek()[1] != ",":
                break
            self.take()
        if self.peek()[1] == "by":
            self.take()
            made += self.assignments(cols, ("|", ";"), allow_bare=True)
        return set(made)

    def right_side(self):
        while self.peek()[0] == "ID" and self.peek(1)[1] == "=" and self.peek()[1] in (
                "kind", "hint"):
            self.take()
            self.take()
            self.take()
        if self.peek()[1] == "(":
            self.take()
            right = self.tabular_expr()
            self.expect(")")
            return right
        return self.table_name(self.take())

    def join_keys(self, left, right):
        self.expect("on")
        while True:
            t = self.take()
            if t[1] == "$left":
                self.expect(".")
                a = self.take()
                self.expect("==")
                if self.take()[1] != "$right":
                    self.fail("expected $right")
                self.expect(".")
                b = self.take()
                if a[1] not in left or b[1] not in right:
                    raise KqlError("line %d: join key %s/%s not on its side" % (t[2], a[1], b[1]))
            elif t[0] != "ID" or t[1] not in left or t[1] not in right:
                raise KqlError("line %d: join key %s is not a column of both sides" % (t[2], t[1]))
            if self.peek()[1] != ",":
                return
            self.take()

    def op_join(self, cols):
        right = self.right_side()
        self.join_keys(cols, right)
        return cols | right | {c + "1" for c in cols & right}

    def op_lookup(self, cols):
        right = self.right_side()
        self.join_keys(cols, right)
        return cols | right

    def op_mv_expand(self, cols):
        t = self.take()
        if t[1] not in cols:
            raise KqlError("line %d: column %s is not in the table" % (t[2], t[1]))
        if self.peek()[1] == "to":
            self.take()
            self.expect("typeof")
            self.expect("(")
            self.take()
            self.expect(")")
        return cols

    def op_distinct(self, cols):
        return set(self.column_list(cols, ("|", ";", ")")))

    def op_take(self, cols):
        if self.take()[0] != "NUM":
            self.fail("take needs a number")
        return cols

    op_limit = op_take

    def op_count(self, cols):
        return {"Count"}


def check_kql(text):
    """Checks every query of an export (queries are separated by blank lines). Returns the
    number of queries and the tables and operators they use."""
    tables, ops, nq = set(), set(), 0
    for block in re.split(r"\n\s*\n", text.strip("\n")):
        code = "\n".join(l for l in block.split("\n") if not l.lstrip().startswith("//"))
        if not code.strip():
            continue  # a comment block (rules not exported)
        lines = block.split("\n")
        for a, b in zip(lines, lines[1:]):
            if a.rstrip().endswith("|"):
                raise KqlError("a line ends with a pipe: %r" % a)
        c = Checker(block)
        c.run()
        tables |= c.tables_used
        ops |= c.operators_used
        nq += 1
    return nq, tables, ops


BAD_QUERIES = {
    "unbalanced parenthesis": 'DeviceProcessEvents\n| where (FileName has_any ("a.exe")',
    "unterminated string": 'DeviceProcessEvents\n| where FileName == "a.exe',
    "verbatim quote not doubled": 'DeviceProcessEvents\n| where FolderPath == @"C:\\a"b"',
    "unknown table": 'DeviceProcessEvent\n| where FileName == "a"',
    "unknown column": 'DeviceProcessEvents\n| where FileNme == "a"',
    "column of another table": 'DeviceNetworkEvents\n| where ProcessCommandLine contains "a"',
    "unknown operator": 'DeviceProcessEvents\n| where FileName hasany ("a")',
    "unknown operator word": 'DeviceProcessEvents\n| where FileName containz "a"',
    "operands with no operator": 'DeviceProcessEvents\n| where FileName "a"',
    "unknown function": 'DeviceProcessEvents\n| where isblank(FileName)',
    "pipe in an expression": 'DeviceProcessEvents\n| where (FileName | where x)',
    "double pipe": 'DeviceProcessEvents\n| | where FileName == "a"',
    "trailing pipe": 'DeviceProcessEvents\n| where FileName == "a"\n|',
    "operator with no operand": 'DeviceProcessEvents\n| where and FileName == "a"',
    "join key on one side only": ('DeviceProcessEvents\n| join kind=inner (DeviceLogonEvents) '
                                  'on ProcessId'),
    "column dropped by project": 'DeviceProcessEvents\n| project FileName\n| where FolderPath == "a"',
}


def self_test_checker():
    problems = []
    for why, q in BAD_QUERIES.items():
        try:
            check_kql(q)
            problems.append("the KQL checker accepted a query with a%s %s" % (
                "n" if why[0] in "aeiou" else "", why))
        except KqlError:
            pass
    try:
        check_kql('let W = 5m;\nDeviceProcessEvents\n| where FolderPath endswith @"\\a""b.exe"'
                  ' and ProcessCommandLine contains "x\\"y"\n| extend A = iff(isempty(AccountName)'
                  ', "", "b")\n| where A =~ "b" and Timestamp > ago(W)')
    except KqlError as e:
        problems.append("the KQL checker refused a good query: %s" % e)
    return problems


# ---- the command ---------------------------------------------------------------------

def run(dcomhunt, args):
    return subprocess.run([dcomhunt] + args, capture_output=True, text=True, encoding="utf-8")


def compare_goldens(outputs, golden_dir):
    """Names of the rules whose export differs from its golden file, and the differences."""
    failed, report = [], []
    for name, text in outputs.items():
        path = os.path.join(golden_dir, name + ".kql")
        try:
            with open(path, encoding="utf-8") as f:
                want = f.read()
        except OSError:
            want = None
        if want != text:
            failed.append(name)
            if want is None:
                report.append("%s: no golden file %s" % (name, path))
            else:
                diff = difflib.unified_diff(want.splitlines(), text.splitlines(),
                                            "golden/" + name + ".kql", "export", lineterm="", n=1)
                report.append("%s: export differs from its golden file:\n  %s" % (
                    name, "\n  ".join(list(diff)[:30])))
    return failed, report


def where_clause(query):
    """The text of the (last) where of a query, comments dropped."""
    code = "\n".join(l.split("//")[0] if not l.lstrip().startswith("//") else ""
                     for l in query.split("\n"))
    parts = re.split(r"^\| where\b", code, flags=re.M)
    if len(parts) != 2:
        raise KqlError("expected exactly one where clause, found %d" % (len(parts) - 1))
    return parts[1]


def split_top(toks, word):
    out, cur, depth = [], [], 0
    for t in toks:
        if t[1] in "([{" and t[0] == "PUNCT":
            depth += 1
        elif t[1] in ")]}" and t[0] == "PUNCT":
            depth -= 1
        if depth == 0 and t[0] == "ID" and t[1] == word:
            out.append(cur)
            cur = []
        else:
            cur.append(t)
    out.append(cur)
    return out


def strip_parens(toks):
    while toks and toks[0][1] == "(" and toks[-1][1] == ")":
        depth, closes_at_end = 0, True
        for k, t in enumerate(toks):
            if t[1] == "(" and t[0] == "PUNCT":
                depth += 1
            elif t[1] == ")" and t[0] == "PUNCT":
                depth -= 1
                if depth == 0 and k != len(toks) - 1:
                    closes_at_end = False
                    break
        if not closes_at_end:
            break
        toks = toks[1:-1]
    return toks


def has_any_clauses(where):
    """[{column: [needles]}] per top-level or-clause; every conjunct must be a has_any."""
    clauses = []
    for clause in split_top(tokenize(where), "or"):
        got = {}
        for conj in split_top(strip_parens(clause), "and"):
            conj = strip_parens(conj)
            if len(conj) < 4 or conj[0][0] != "ID" or conj[1][1] != "has_any" or \
                    conj[2][1] != "(" or conj[-1][1] != ")":
                raise KqlError("a conjunct that is not `Column has_any (...)`: %s" %
                               " ".join(t[1] for t in conj))
            items = conj[3:-1]
            needles = [t[1] for t in items if t[0] == "STR"]
            if [t[1] for t in items if t[0] != "STR"] != [","] * (len(needles) - 1):
                raise KqlError("a has_any list that is not a list of strings")
            if conj[0][1] in got:
                raise KqlError("%s tested twice in one clause" % conj[0][1])
            got[conj[0][1]] = needles
        clauses.append(got)
    return clauses


def seed_expected(seed):
    want = {}
    for name, (parents, children) in seed.items():
        w = {"FileName": list(children)}
        if parents is not None:
            w["InitiatingProcessFileName"] = list(parents)
        want[name] = w
    return want


def check_seed(dcomhunt, seed, problems):
    names = list(seed)
    r = run(dcomhunt, ["rules", "export", "--to", "kql"] + names)
    if r.returncode != 0:
        problems.append("seed export: exit %d: %s" % (r.returncode, r.stderr.strip()))
        return
    try:
        nq, tables, _ = check_kql(r.stdout)
        if nq != 1 or tables != {"DeviceProcessEvents"}:
            raise KqlError("expected one DeviceProcessEvents query, got %d queries on %s" % (
                nq, sorted(tables)))
        if re.search(r"^\| (?!where)", r.stdout, flags=re.M) or "let " in r.stdout:
            raise KqlError("the seed query has only a where; this export has more stages")
        clauses = has_any_clauses(where_clause(r.stdout))
        labels = re.findall(r"^    // (\S+)$", r.stdout, flags=re.M)
        if labels != names:
            raise KqlError("clause labels %s, expected %s" % (labels, names))
        want = seed_expected(seed)
        if len(clauses) != len(names):
            raise KqlError("%d or-clauses for %d seed patterns" % (len(clauses), len(names)))
        for name, got in zip(names, clauses):
            if got != want[name]:
                raise KqlError("clause for %s is %s, the seed has %s" % (name, got, want[name]))
        for name in names:  # and each seed rule alone: its one clause
            one = run(dcomhunt, ["rules", "export", "--to", "kql", name])
            got = has_any_clauses(where_clause(one.stdout))
            if got != [want[name]]:
                raise KqlError("%s alone exports %s, the seed has %s" % (name, got, want[name]))
    except KqlError as e:
        problems.append("seed export: %s\n%s" % (e, r.stdout))
        return
    print("seed: %d clauses equal to SEED (%s)" % (len(clauses), ", ".join(
        "%s: %s" % (n, " and ".join("%s has_any %d" % (c, len(v)) for c, v in sorted(want.items())))
        for n, want in zip(names, clauses))))


def check_sigma(dcomhunt, source, names, problems):
    tmp = tempfile.mkdtemp(prefix="dh-export-")
    try:
        for name in names:
            r = run(dcomhunt, ["rules", "export", "--to", "sigma", name])
            with open(os.path.join(source, "rules", name + ".yml"), encoding="utf-8") as f:
                orig = f.read()
            if r.returncode != 0 or r.stdout.rstrip("\n") != orig.rstrip("\n"):
                problems.append("%s: --to sigma is not the embedded YAML (exit %d)" % (
                    name, r.returncode))
                continue
            path = os.path.join(tmp, name + ".yml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(r.stdout)
            c = run(dcomhunt, ["rules", "check", path])
            if c.returncode != 0 or not c.stdout.startswith("1 rules loaded, 0 refused"):
                problems.append("%s: its --to sigma export does not load back: %s %s" % (
                    name, c.stdout.strip(), c.stderr.strip()))
        r = run(dcomhunt, ["rules", "export", "--to", "sigma"])
        path = os.path.join(tmp, "pack.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(r.stdout)
        c = run(dcomhunt, ["rules", "check", path])
        want = "%d rules loaded, 0 refused" % len(names)
        if r.returncode != 0 or c.returncode != 0 or not c.stdout.startswith(want):
            problems.append("the whole pack as one --to sigma stream: %s (want %s)" % (
                c.stdout.strip(), want))
        # Round trip: the KQL of a rule loaded from its Sigma export is the same query but
        # for the rule's origin line.
        r = run(dcomhunt, ["rules", "export", "--to", "kql", "--rules", path])
        s = run(dcomhunt, ["rules", "export", "--to", "kql"])
        strip = lambda t: re.sub(r"; (builtin:rules/\S+|\S*pack\.yml)$", "", t, flags=re.M)
        if r.returncode != 0 or strip(r.stdout) != strip(s.stdout):
            problems.append("KQL of the pack reloaded from its Sigma export differs")
    finally:
        shutil.rmtree(tmp)


UNTRANSLATABLE = """title: Keyword search
id: 0b7d1d5e-0000-4000-8000-000000000001
logsource:
  product: windows
  category: process_creation
detection:
  keywords:
    - 'Invoke-DCOM'
  condition: keywords
---
title: PCRE lookbehind
id: 0b7d1d5e-0000-4000-8000-000000000002
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    CommandLine|re: '(?<=mmc\\.exe )-Embedding'
  condition: sel
---
title: Derived CLSID on System
id: 0b7d1d5e-0000-4000-8000-000000000003
logsource:
  product: windows
  service: system
detection:
  sel:
    EventID: 10016
    CLSID: '{49B2791A-B1AE-4C90-9B8E-E860BA07F889}'
  condition: sel
---
title: Fine
id: 0b7d1d5e-0000-4000-8000-000000000004
logsource:
  product: windows
  category: process_creation
detection:
  sel:
    Image|endswith: '\\mmc.exe'
  condition: sel
"""


def check_untranslatable(dcomhunt, problems):
    tmp = tempfile.mkdtemp(prefix="dh-export-")
    try:
        path = os.path.join(tmp, "bad.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(UNTRANSLATABLE)
        r = run(dcomhunt, ["rules", "export", "--to", "kql", "--rules", path])
        for k in ("1", "2", "3"):
            rid = "0b7d1d5e-0000-4000-8000-00000000000" + k
            if "%s: not exported to KQL" % rid not in r.stderr:
                problems.append("untranslatable rule %s not named on stderr" % rid)
            if not re.search(r"^// ---- not exported to KQL ----$(?:\n//.*)*\n// %s: " % rid,
                             r.stdout, flags=re.M):
                problems.append("untranslatable rule %s not named in the output's comments" % rid)
        if r.returncode != 3:
            problems.append("export with untranslatable rules: exit %d, want 3" % r.returncode)
        try:
            nq, tables, _ = check_kql(r.stdout)
            if nq != 1:
                problems.append("export with untranslatable rules: %d queries, want 1" % nq)
        except KqlError as e:
            problems.append("export with untranslatable rules: %s" % e)
    finally:
        shutil.rmtree(tmp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dcomhunt", required=True)
    ap.add_argument("--source", required=True, help="the source tree (rules/, tests/)")
    ap.add_argument("--update", action="store_true", help="rewrite the golden files")
    a = ap.parse_args()
    golden_dir = os.path.join(a.source, "tests", "data", "kql-golden")
    spec = importlib.util.spec_from_file_location(
        "kql_seed_equivalence", os.path.join(a.source, "tests", "vectors", "kql_seed_equivalence.py"))
    seedmod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seedmod)

    problems = self_test_checker()
    names = sorted(f[:-4] for f in os.listdir(os.path.join(a.source, "rules")) if f.endswith(".yml"))
    listed = run(a.dcomhunt, ["rules", "list"])
    if not listed.stdout.rstrip().endswith("\n%d rules" % len(names)):
        problems.append("rules/ has %d rules, the built-in pack lists: %s" % (
            len(names), listed.stdout.strip().split("\n")[-1]))

    # (1), (2), (4): every rule alone.
    outputs, all_ops, all_tables = {}, set(), set()
    for name in names:
        r = run(a.dcomhunt, ["rules", "export", "--to", "kql", name])
        if r.returncode != 0 or "not exported" in r.stderr or not r.stdout:
            problems.append("%s: export failed (exit %d): %s" % (name, r.returncode, r.stderr.strip()))
            continue
        outputs[name] = r.stdout
        try:
            nq, tables, ops = check_kql(r.stdout)
            if nq != 1:
                problems.append("%s: %d queries, want 1" % (name, nq))
            all_ops |= ops
            all_tables |= tables
        except KqlError as e:
            problems.append("%s: KQL form: %s" % (name, e))
    if a.update:
        os.makedirs(golden_dir, exist_ok=True)
        for name, text in outputs.items():
            with open(os.path.join(golden_dir, name + ".kql"), "w", encoding="utf-8") as f:
                f.write(text)
        print("rewrote %d golden files in %s" % (len(outputs), golden_dir))
    failed, report = compare_goldens(outputs, golden_dir)
    problems += report
    # The comparison itself: one corrupted golden must fail it, naming that rule.
    if outputs and not failed:
        tmp = tempfile.mkdtemp(prefix="dh-golden-")
        try:
            for name in outputs:
                shutil.copy(os.path.join(golden_dir, name + ".kql"), tmp)
            victim = sorted(outputs)[len(outputs) // 2]
            with open(os.path.join(tmp, victim + ".kql"), "a", encoding="utf-8") as f:
                f.write("| where false\n")
            bad, _ = compare_goldens(outputs, tmp)
            if bad != [victim]:
                problems.append("a corrupted golden of %s was reported as %s" % (victim, bad))
        finally:
            shutil.rmtree(tmp)

    # All rules at once, combined per table and split, with and without enrichment.
    for flags in ([], ["--split"], ["--no-enrich"]):
        r = run(a.dcomhunt, ["rules", "export", "--to", "kql"] + flags)
        if r.returncode != 0 or "not exported" in r.stderr:
            problems.append("export %s: exit %d: %s" % (" ".join(flags) or "(all)", r.returncode,
                                                         r.stderr.strip()))
            continue
        try:
            nq, tables, ops = check_kql(r.stdout)
            all_ops |= ops
            for name in names:
                if not re.search(r"^// %s: " % re.escape(name), r.stdout, flags=re.M):
                    problems.append("export %s does not name %s" % (" ".join(flags), name))
            print("export %s: %d queries on %s" % (" ".join(flags) or "(all rules)", nq,
                                                    ", ".join(sorted(tables))))
        except KqlError as e:
            problems.append("export %s: KQL form: %s" % (" ".join(flags) or "(all)", e))
        if flags == ["--no-enrich"] and ("DeviceLogonEvents" in r.stdout or "let " in r.stdout):
            problems.append("--no-enrich still joins logons")

    check_seed(a.dcomhunt, seedmod.SEED, problems)  # (3)
    check_sigma(a.dcomhunt, a.source, names, problems)  # (4)
    check_untranslatable(a.dcomhunt, problems)

    print("%d rules exported; %d golden files compared, %d differ; tables %s; operators %s" % (
        len(outputs), len(outputs), len(failed), ", ".join(sorted(all_tables)),
        ", ".join(sorted(all_ops))))
    for p in problems:
        print("FAIL: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
