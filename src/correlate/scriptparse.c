/* Reading remote COM activations out of code and command lines (the source side of DCOM
 * lateral movement): which computer and which object a PowerShell script block, a
 * VBScript/JScript line or an offensive tool's command line names.
 *
 * This is not a PowerShell parser (no library parses PowerShell in C); it reads the few
 * shapes the technique takes, tolerantly, from attacker-written text: bounded loops over
 * the text, no recursion, every slice inside the input. What it cannot read it leaves out. */
#include <string.h>
#include <strings.h>

#include "correlate/corr.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_word(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':' || c == '{' || c == '}';
}

/* Next case-insensitive occurrence of needle at or after *pos; its offset, or -1. */
static long find_ci(dh_str t, size_t from, const char *needle)
{
    size_t n = strlen(needle);
    if (!n || from > t.len || t.len - from < n)
        return !n && from <= t.len ? (long)from : -1;
    /* Only where the first byte matches in either case (memchr for each case): a
     * strncasecmp at every byte was 40M instructions of `hunt -j1 --jsonl` on the OTRF
     * capture (682,269 calls, callgrind 2026-12-07), 5% of the run. */
    unsigned char c = (unsigned char)needle[0];
    unsigned char lo = c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
    unsigned char up = c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
    const char *base = t.ptr + from;
    size_t span = t.len - from - n + 1; /* positions a match can start at */
    const char *at_lo = memchr(base, lo, span);
    const char *at_up = up != lo ? memchr(base, up, span) : NULL;
    while (at_lo || at_up) {
        const char *at = !at_up || (at_lo && at_lo < at_up) ? at_lo : at_up;
        if (!strncasecmp(at + 1, needle + 1, n - 1))
            return (long)(at - t.ptr);
        size_t left = span - (size_t)(at - base) - 1;
        if (at == at_lo)
            at_lo = left ? memchr(at + 1, lo, left) : NULL;
        else
            at_up = left ? memchr(at + 1, up, left) : NULL;
    }
    return -1;
}

static dh_str trim(dh_str s)
{
    while (s.len && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_space(s.ptr[s.len - 1]))
        s.len--;
    return s;
}

/* A quoted string at the start of s ('...' or "..."), its contents; len 0 if none. */
static dh_str quoted(dh_str s, size_t *used)
{
    dh_str none = {"", 0};
    *used = 0;
    if (!s.len || (s.ptr[0] != '"' && s.ptr[0] != '\''))
        return none;
    char q = s.ptr[0];
    for (size_t i = 1; i < s.len; i++)
        if (s.ptr[i] == q) {
            *used = i + 1;
            return (dh_str){s.ptr + 1, i - 1};
        }
    return none;
}

/* The arguments of a call whose '(' is at t.ptr[open]: top-level commas split them;
 * returns how many (at most 4) and the offset after the ')'. */
static size_t call_args(dh_str t, size_t open, dh_str args[4], size_t *end)
{
    size_t n = 0, start = open + 1, depth = 0;
    char q = 0;
    for (size_t i = open + 1; i < t.len && i < open + 4096; i++) {
        char c = t.ptr[i];
        if (q) {
            if (c == q)
                q = 0;
            continue;
        }
        if (c == '"' || c == '\'')
            q = c;
        else if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth)
            depth--;
        else if (c == ')' || (c == ',' && !depth)) {
            if (n < 4)
                args[n++] = trim((dh_str){t.ptr + start, i - start});
            start = i + 1;
            if (c == ')') {
                *end = i + 1;
                return n;
            }
        }
    }
    *end = t.len;
    return 0; /* not closed: not read */
}

/* The value a PowerShell variable was last given in the text before `before` ($h = "x",
 * $h='x'); len 0 when it cannot be told. */
static dh_str var_value(dh_str t, dh_str var, size_t before)
{
    dh_str best = {"", 0};
    for (size_t i = 0; i + var.len < t.len && i < before; i++) {
        if (strncasecmp(t.ptr + i, var.ptr, var.len))
            continue;
        size_t k = i + var.len;
        if (k < t.len && is_word(t.ptr[k]) && t.ptr[k] != ':')
            continue; /* $host2 is not $host */
        while (k < t.len && is_space(t.ptr[k]))
            k++;
        if (k >= t.len || t.ptr[k] != '=' || (k + 1 < t.len && t.ptr[k + 1] == '='))
            continue;
        k++;
        while (k < t.len && is_space(t.ptr[k]))
            k++;
        size_t used;
        dh_str v = quoted((dh_str){t.ptr + k, t.len - k}, &used);
        if (v.len)
            best = v;
    }
    return best;
}

/* An argument's value: a quoted string, a variable resolved in the text, the first quoted
 * string inside a cast ([guid]"{...}", [guid]::Parse('...')), or a bare word. */
static dh_str arg_value(dh_str t, dh_str arg, size_t at, int *unresolved)
{
    size_t used;
    dh_str v = quoted(arg, &used);
    *unresolved = 0;
    if (v.len)
        return v;
    if (arg.len > 1 && arg.ptr[0] == '$') {
        size_t n = 1;
        while (n < arg.len && is_word(arg.ptr[n]) && arg.ptr[n] != '.')
            n++;
        dh_str r = var_value(t, (dh_str){arg.ptr, n}, at);
        if (!r.len)
            *unresolved = 1;
        return r;
    }
    for (size_t i = 0; i < arg.len; i++)
        if (arg.ptr[i] == '"' || arg.ptr[i] == '\'') {
            v = quoted((dh_str){arg.ptr + i, arg.len - i}, &used);
            if (v.len)
                return v;
            break;
        }
    size_t n = 0;
    while (n < arg.len && is_word(arg.ptr[n]))
        n++;
    return (dh_str){arg.ptr, n};
}

static int is_bool_arg(dh_str a)
{
    static const char *const b[] = {"$true", "$false", "true", "false", "1", "0"};
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++)
        if (a.len == strlen(b[i]) && !strncasecmp(a.ptr, b[i], a.len))
            return 1;
    return 0;
}

static size_t add(dcom_mention *out, size_t n, size_t max, dh_str target, dh_str object, int ovar)
{
    target = trim(target);
    if (!target.len || n >= max)
        return n;
    for (size_t i = 0; i < n; i++) /* the same call twice counts once */
        if (out[i].target.len == target.len &&
            !strncasecmp(out[i].target.ptr, target.ptr, target.len) &&
            out[i].object.len == object.len &&
            (!object.len || !strncasecmp(out[i].object.ptr, object.ptr, object.len)))
            return n;
    out[n].target = target;
    out[n].object = trim(object);
    out[n].object_var = ovar;
    return n + 1;
}

/* GetTypeFromProgID / GetTypeFromCLSID (.NET), CreateObject (VBScript), ActiveXObject
 * (JScript): the object first, the computer second. */
static size_t calls(dh_str t, dcom_mention *out, size_t n, size_t max)
{
    static const char *const names[] = {"GetTypeFromProgID", "GetTypeFromCLSID", "CreateObject",
                                        "ActiveXObject"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        long at = 0;
        size_t from = 0;
        while ((at = find_ci(t, from, names[k])) >= 0) {
            size_t i = (size_t)at + strlen(names[k]);
            from = i;
            while (i < t.len && is_space(t.ptr[i]))
                i++;
            if (i >= t.len || t.ptr[i] != '(')
                continue;
            dh_str args[4];
            size_t end, na = call_args(t, i, args, &end);
            from = end;
            if (na < 2 || is_bool_arg(args[1]))
                continue; /* no computer: a local activation */
            int ovar, tvar;
            dh_str obj = arg_value(t, args[0], (size_t)at, &ovar);
            dh_str target = arg_value(t, args[1], (size_t)at, &tvar);
            if (!tvar)
                n = add(out, n, max, target, obj, ovar);
        }
    }
    return n;
}

/* The value after a parameter: -Name value, -Name:value, /name:value, name=value. */
static dh_str param(dh_str stmt, const char *const *names, size_t nnames)
{
    for (size_t k = 0; k < nnames; k++) {
        size_t nl = strlen(names[k]);
        for (size_t i = 0; i + nl < stmt.len; i++) {
            if (strncasecmp(stmt.ptr + i, names[k], nl))
                continue;
            char pre = i ? stmt.ptr[i - 1] : ' ';
            char pre2 = i > 1 ? stmt.ptr[i - 2] : ' ';
            int dash = (pre == '-' || pre == '/') && (is_space(pre2) || pre2 == '"' || i == 1);
            size_t j = i + nl;
            char sep = stmt.ptr[j];
            if (dash) {
                if (sep == ':')
                    j++;
                else if (is_space(sep))
                    while (j < stmt.len && is_space(stmt.ptr[j]))
                        j++;
                else
                    continue;
            } else {
                if (!(i == 0 || is_space(pre) || pre == '"') || sep != '=')
                    continue;
                j++;
            }
            size_t used;
            dh_str v = quoted((dh_str){stmt.ptr + j, stmt.len - j}, &used);
            if (v.len)
                return v;
            size_t e = j;
            while (e < stmt.len && !is_space(stmt.ptr[e]) && stmt.ptr[e] != '"' &&
                   stmt.ptr[e] != '\'' && stmt.ptr[e] != ';' && stmt.ptr[e] != ',' &&
                   stmt.ptr[e] != ')')
                e++;
            if (e > j)
                return (dh_str){stmt.ptr + j, e - j};
        }
    }
    return (dh_str){"", 0};
}

/* The statement around offset at: up to a line end, ';' or '|' either side. */
static dh_str statement(dh_str t, size_t at)
{
    size_t a = at, b = at;
    while (a > 0 && t.ptr[a - 1] != '\n' && t.ptr[a - 1] != ';' && t.ptr[a - 1] != '|')
        a--;
    while (b < t.len && t.ptr[b] != '\n' && t.ptr[b] != ';' && t.ptr[b] != '|')
        b++;
    return (dh_str){t.ptr + a, b - a};
}

static const char *const computer_params[] = {"ComputerName", "Computer", "Target", "TargetHost",
                                              "Host"};
static const char *const object_params[] = {"Method", "Object", "DCOMMethod"};

/* Offensive DCOM cmdlets and tools named in the text: Invoke-DCOM, Invoke-DcomExec and the
 * like (-ComputerName, -Method), SharpMove (action=dcom computername= method=). */
static size_t tools(dh_str t, dcom_mention *out, size_t n, size_t max)
{
    static const char *const markers[] = {"Invoke-DCOM",       "Invoke-DcomExec", "action=dcom",
                                          "action=hijackdcom", "CsDCOM",          "SharpDCOM"};
    for (size_t k = 0; k < sizeof markers / sizeof markers[0]; k++) {
        long at;
        size_t from = 0;
        while ((at = find_ci(t, from, markers[k])) >= 0) {
            from = (size_t)at + strlen(markers[k]);
            /* a function's definition is not a call */
            if (at >= 9 && !strncasecmp(t.ptr + at - 9, "function ", 9))
                continue;
            dh_str st = statement(t, (size_t)at);
            dh_str who = param(st, computer_params, 5);
            int var = who.len && who.ptr[0] == '$';
            if (var)
                who = var_value(t, who, (size_t)at);
            dh_str obj = param(st, object_params, 3);
            int ovar = obj.len && obj.ptr[0] == '$';
            if (ovar && (obj = var_value(t, obj, (size_t)at)).len)
                ovar = 0;
            if (who.len && who.ptr[0] != '$')
                n = add(out, n, max, who, obj, ovar);
        }
    }
    /* PowerShell module logging (4103): ParameterBinding(Invoke-DCOM): name="ComputerName";
     * value="fs01" */
    long at = find_ci(t, 0, "ParameterBinding(");
    if (at >= 0) {
        long d = find_ci(t, (size_t)at, "dcom");
        dh_str who = {"", 0}, obj = {"", 0};
        for (size_t i = (size_t)at; d >= 0 && i < t.len;) {
            long nm = find_ci(t, i, "name=\"");
            if (nm < 0)
                break;
            size_t s = (size_t)nm + 6, e = s;
            while (e < t.len && t.ptr[e] != '"')
                e++;
            dh_str name = {t.ptr + s, e - s};
            long val = find_ci(t, e, "value=\"");
            if (val < 0)
                break;
            size_t vs = (size_t)val + 7, ve = vs;
            while (ve < t.len && t.ptr[ve] != '"')
                ve++;
            dh_str value = {t.ptr + vs, ve - vs};
            for (size_t k = 0; k < 5; k++)
                if (name.len == strlen(computer_params[k]) &&
                    !strncasecmp(name.ptr, computer_params[k], name.len))
                    who = value;
            for (size_t k = 0; k < 3; k++)
                if (name.len == strlen(object_params[k]) &&
                    !strncasecmp(name.ptr, object_params[k], name.len))
                    obj = value;
            i = ve;
        }
        if (who.len)
            n = add(out, n, max, who, obj, 0);
    }
    return n;
}

/* Impacket's dcomexec (or a port of it): [[domain/]user[:password]@]target, -object X
 * (ShellWindows by default). */
static size_t impacket(dh_str t, dcom_mention *out, size_t n, size_t max)
{
    long at = find_ci(t, 0, "dcomexec");
    if (at < 0)
        return n;
    dh_str st = {t.ptr + at, t.len - (size_t)at};
    static const char *const obj_names[] = {"object"};
    dh_str obj = param(st, obj_names, 1);
    if (!obj.len)
        obj = (dh_str){"ShellWindows", 12};
    for (size_t i = 0; i < st.len; i++) {
        if (st.ptr[i] != '@')
            continue;
        size_t s = i + 1, e = s;
        while (e < st.len && !is_space(st.ptr[e]) && st.ptr[e] != '"' && st.ptr[e] != '\'')
            e++;
        if (e > s)
            return add(out, n, max, (dh_str){st.ptr + s, e - s}, obj, 0);
    }
    return n;
}

/* CrackMapExec / NetExec run on Windows: `nxc smb TARGET ... --exec-method mmcexec` (MMC20). */
static size_t netexec(dh_str t, dcom_mention *out, size_t n, size_t max)
{
    long at = find_ci(t, 0, "mmcexec");
    if (at < 0 || find_ci(t, 0, "exec-method") < 0)
        return n;
    for (long p = find_ci(t, 0, " smb "); p >= 0 && p < at; p = -1) {
        size_t s = (size_t)p + 5;
        while (s < t.len && is_space(t.ptr[s]))
            s++;
        size_t e = s;
        while (e < t.len && !is_space(t.ptr[e]) && t.ptr[e] != '"')
            e++;
        dh_str target = {t.ptr + s, e - s};
        /* a range or a file of targets names no one host */
        if (target.len && !memchr(target.ptr, '/', target.len) &&
            !memchr(target.ptr, '\\', target.len))
            n = add(out, n, max, target, (dh_str){"MMC20.Application", 17}, 0);
    }
    return n;
}

size_t dcom_mentions(dh_str text, dcom_mention *out, size_t max)
{
    size_t n = calls(text, out, 0, max);
    n = tools(text, out, n, max);
    n = netexec(text, out, n, max);
    return impacket(text, out, n, max);
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

size_t ps_decode_encoded(dh_str cl, char *buf, size_t cap)
{
    /* -e, -ec, -en, -enc, ... -encodedcommand (any prefix PowerShell accepts), / or - */
    for (size_t i = 0; i + 2 < cl.len; i++) {
        if ((cl.ptr[i] != '-' && cl.ptr[i] != '/') || (i && !is_space(cl.ptr[i - 1])))
            continue;
        size_t j = i + 1, w = 0;
        while (j + w < cl.len && !is_space(cl.ptr[j + w]))
            w++;
        if (!w || (w > 14) || (cl.ptr[j] != 'e' && cl.ptr[j] != 'E') ||
            (strncasecmp(cl.ptr + j, "encodedcommand", w) &&
             !(w == 2 && !strncasecmp(cl.ptr + j, "ec", 2))))
            continue;
        size_t k = j + w;
        while (k < cl.len && is_space(cl.ptr[k]))
            k++;
        /* base64 of UTF-16LE: read every other byte */
        size_t out = 0, nbytes = 0;
        unsigned acc = 0;
        int bits = 0;
        for (; k < cl.len && out + 1 < cap; k++) {
            int v = b64val(cl.ptr[k]);
            if (v < 0)
                break;
            acc = (acc << 6) | (unsigned)v;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                unsigned char byte = (unsigned char)(acc >> bits);
                if (!(nbytes++ & 1))
                    buf[out++] = byte ? (char)byte : ' ';
            }
        }
        if (out >= 4)
            return out;
    }
    return 0;
}
