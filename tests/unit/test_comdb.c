/* Unit tests for the knowledge table of COM objects (src/correlate/comdb.c): the built-in
 * rows load, every way of naming an object finds it (CLSID with or without braces, AppID,
 * ProgID with a version suffix, a tool's alias, a GUID inside a command line or a registry
 * path), server starts by image and command-line shape, cousins are known as such, user
 * rows add and replace, and bad files are refused with the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "correlate/comdb.h"
#include "correlate/corr.h"

#define S(lit) ((dh_str){(lit), sizeof(lit) - 1})

static const char *name_of(const dh_com_object *o)
{
    return o ? o->name : "(none)";
}

static void builtin_loads(void **state)
{
    (void)state;
    dh_comdb *db = NULL;
    assert_int_equal(dh_comdb_new(&db), DH_OK);
    assert_true(comdb_count(db) >= 10);
    for (size_t i = 0; i < comdb_count(db); i++) {
        const dh_com_object *o = comdb_at(db, i);
        /* every lateral object says how to lock it down and is named by a CLSID */
        if (o->lateral) {
            assert_true(o->nclsids > 0);
            assert_true(*o->hardening);
        }
    }
    dh_comdb_free(db);
}

static void names_find_objects(void **state)
{
    (void)state;
    dh_comdb *db = NULL;
    assert_int_equal(dh_comdb_new(&db), DH_OK);
    assert_string_equal(name_of(comdb_by_guid(db, S("{49B2791A-B1AE-4C90-9B8E-E860BA07F889}"))),
                        "MMC20.Application");
    assert_string_equal(name_of(comdb_by_guid(db, S("49b2791a-b1ae-4c90-9b8e-e860ba07f889"))),
                        "MMC20.Application");
    /* the AppID of DistributedCOM 10016's param5 */
    assert_string_equal(name_of(comdb_by_guid(db, S("{7E0423CD-1119-0928-900C-E6D4A52A0715}"))),
                        "MMC20.Application");
    assert_string_equal(name_of(comdb_by_name(db, S("MMC20.Application.1"))), "MMC20.Application");
    assert_string_equal(name_of(comdb_by_name(db, S("excel.application.16"))), "Excel.Application");
    assert_string_equal(name_of(comdb_by_name(db, S("'ShellBrowserWindow'"))),
                        "ShellBrowserWindow");
    assert_string_equal(name_of(comdb_by_name(db, S("MMC20"))), "MMC20.Application");
    assert_string_equal(name_of(comdb_by_name(db, S("ExcelDDE"))), "Excel.Application");
    assert_string_equal(name_of(comdb_by_name(db, S("{9BA05972-F6A8-11CF-A442-00A0C90A8F39}"))),
                        "ShellWindows");
    assert_null(comdb_by_name(db, S("Scripting.FileSystemObject")));
    assert_null(comdb_by_guid(db, S("{00000000-0000-0000-0000-000000000000}")));
    assert_null(comdb_by_guid(db, S("not a guid")));
    /* a GUID inside text: a registry path, a command line */
    assert_string_equal(
        name_of(comdb_in_text(
            db,
            S("HKLM\\SOFTWARE\\Classes\\AppID\\{C08AFD90-F2A1-11D1-8455-00A0C91F3880}\\RunAs"))),
        "ShellBrowserWindow");
    assert_null(comdb_in_text(db, S("{5BD95610-9434-43C2-886C-57852CC8A120} {short}")));
    dh_comdb_free(db);
}

static void server_starts(void **state)
{
    (void)state;
    dh_comdb *db = NULL;
    assert_int_equal(dh_comdb_new(&db), DH_OK);
    int emb = 0;
    const dh_com_object *o;
    o = comdb_by_start(db, S("C:\\Windows\\System32\\mmc.exe"), S("mmc.exe -Embedding"), &emb);
    assert_string_equal(name_of(o), "MMC20.Application");
    assert_int_equal(emb, 1);
    o = comdb_by_start(db, S("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE"),
                       S("\"EXCEL.EXE\" /automation -Embedding"), &emb);
    assert_string_equal(name_of(o), "Excel.Application");
    /* a GUID in the command line names the object whatever the image */
    o = comdb_by_start(db, S("C:\\Windows\\System32\\rundll32.exe"),
                       S("rundll32.exe shell32.dll,SHCreateLocalServerRunDll "
                         "{c08afd90-f2a1-11d1-8455-00a0c91f3880} -Embedding"),
                       &emb);
    assert_string_equal(name_of(o), "ShellBrowserWindow");
    /* cousins: known, not lateral */
    o = comdb_by_start(db, S("C:\\Windows\\System32\\wbem\\WmiPrvSE.exe"),
                       S("wmiprvse.exe -secured -Embedding"), &emb);
    assert_non_null(o);
    assert_int_equal(o->lateral, 0);
    assert_string_equal(o->technique, "T1047");
    o = comdb_by_start(db, S("C:\\Windows\\explorer.exe"),
                       S("explorer.exe /factory,{75dff2b7-6936-4c06-a8bb-676a7b00b24b} -Embedding"),
                       &emb);
    assert_non_null(o);
    assert_int_equal(o->lateral, 0);
    /* an unknown server: no object, but the -Embedding marker is seen */
    o = comdb_by_start(db, S("C:\\Tools\\thing.exe"), S("thing.exe /Embedding"), &emb);
    assert_null(o);
    assert_int_equal(emb, 1);
    o = comdb_by_start(db, S("C:\\Windows\\System32\\mmc.exe"), S("mmc.exe compmgmt.msc"), &emb);
    assert_null(o);
    assert_int_equal(emb, 0);
    /* listeners: which object a process accepting remote connections serves */
    assert_string_equal(name_of(comdb_by_listener(db, S("C:\\Windows\\explorer.exe"))),
                        "ShellWindows");
    assert_string_equal(name_of(comdb_by_listener(db, S("\\device\\harddiskvolume2\\windows\\"
                                                        "system32\\mmc.exe"))),
                        "MMC20.Application");
    assert_null(comdb_by_listener(db, S("C:\\Windows\\System32\\rundll32.exe")));
    assert_null(comdb_by_listener(db, S("C:\\Windows\\System32\\svchost.exe")));
    assert_int_equal(comdb_is_server_image(db, S("C:\\X\\MSHTA.EXE")), 1);
    assert_int_equal(comdb_is_server_image(db, S("C:\\X\\wmiprvse.exe")), 0);
    dh_comdb_free(db);
}

static void user_rows(void **state)
{
    (void)state;
    dh_comdb *db = NULL;
    assert_int_equal(dh_comdb_new(&db), DH_OK);
    size_t before = comdb_count(db);
    static const char add[] = "objects:\n"
                              "  - name: Vendor.Automation\n"
                              "    clsid: '{11111111-2222-3333-4444-555555555555}'\n"
                              "    progid: [Vendor.Automation]\n"
                              "    servers: [{image: VendorSrv.exe, shape: [-Embedding]}]\n"
                              "    lateral: true\n"
                              "    severity: medium\n"
                              "  - name: MMC20.Application\n"
                              "    clsid: ['{49B2791A-B1AE-4C90-9B8E-E860BA07F889}']\n"
                              "    lateral: false\n";
    dh_error e;
    assert_int_equal(dh_comdb_add_text(db, add, sizeof add - 1, "user.yml", &e), DH_OK);
    assert_int_equal(comdb_count(db), before + 1);
    int emb;
    const dh_com_object *o =
        comdb_by_start(db, S("D:\\Vendor\\VendorSrv.exe"), S("VendorSrv.exe -Embedding"), &emb);
    assert_string_equal(name_of(o), "Vendor.Automation");
    assert_int_equal(o->severity, DH_LEVEL_MEDIUM);
    assert_int_equal(comdb_is_server_image(db, S("vendorsrv.exe")), 1);
    /* the replaced row: MMC20 declared benign in this estate */
    o = comdb_by_name(db, S("MMC20.Application"));
    assert_int_equal(o->lateral, 0);
    assert_int_equal(comdb_is_server_image(db, S("mmc.exe")), 0);
    /* refused, with the line */
    static const char bad1[] = "objects:\n  - name: X\n    clsid: nope\n";
    assert_int_equal(dh_comdb_add_text(db, bad1, sizeof bad1 - 1, "bad.yml", &e), DH_ERR_FORMAT);
    assert_string_equal(e.file, "bad.yml");
    assert_non_null(strstr(e.message, "line 3"));
    static const char bad2[] = "objects: [1, 2]\n";
    assert_int_equal(dh_comdb_add_text(db, bad2, sizeof bad2 - 1, "bad.yml", &e), DH_ERR_FORMAT);
    static const char bad3[] = "objects:\n  - name: Y\n    lateral: maybe\n";
    assert_int_equal(dh_comdb_add_text(db, bad3, sizeof bad3 - 1, "bad.yml", &e), DH_ERR_FORMAT);
    static const char bad4[] = "objects:\n  - name: Y\n   bad indent: [\n";
    assert_int_equal(dh_comdb_add_text(db, bad4, sizeof bad4 - 1, "bad.yml", &e), DH_ERR_FORMAT);
    assert_int_equal(dh_comdb_add_file(db, "/nonexistent/objects.yml", &e), DH_ERR_IO);
    dh_comdb_free(db);
    dh_comdb_free(NULL);
}

/* Markers are found in any case, at the text's very start and end, and not past it
 * (scriptparse.c's find_ci looks only where the first byte matches). */
static void mentions_any_case(void **state)
{
    (void)state;
    dcom_mention m[4];
    static const char t1[] = "python DCOMEXEC.py corp/admin:pw@10.0.0.5 -OBJECT MMC20";
    size_t n = dcom_mentions(S(t1), m, 4);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].target.len, 8);
    assert_memory_equal(m[0].target.ptr, "10.0.0.5", 8);
    assert_int_equal(m[0].object.len, 5);
    static const char t2[] = "nxc SMB srv7 -u a -p b --Exec-Method mmcExec";
    n = dcom_mentions(S(t2), m, 4);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].target.len, 4);
    assert_memory_equal(m[0].target.ptr, "srv7", 4);
    assert_memory_equal(m[0].object.ptr, "MMC20.Application", 17);
    /* the marker cut by the text's end, or only its first letters: nothing */
    static const char t3[] = "x@y dcomexe";
    assert_int_equal(dcom_mentions(S(t3), m, 4), 0);
    static const char t4[] = "dcomexec";
    assert_int_equal(dcom_mentions(S(t4), m, 4), 0);
    static const char t5[] = "dDdCcDCOMEXEC a@h";
    assert_int_equal(dcom_mentions(S(t5), m, 4), 1);
    assert_memory_equal(m[0].target.ptr, "h", 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_loads),     cmocka_unit_test(names_find_objects),
        cmocka_unit_test(server_starts),     cmocka_unit_test(user_rows),
        cmocka_unit_test(mentions_any_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
