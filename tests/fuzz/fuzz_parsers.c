/*
 * libFuzzer target for everything that parses untrusted connection text:
 * dsn_parse_as (every form, every DBType) and the Nightingale config reader.
 * Built with clang -fsanitize=fuzzer,address,undefined; run for a bounded
 * time by ctest (test "fuzz_parsers").
 */
#include "dsn.h"
#include "n9e_config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {NULL, "mysql", "postgres", "sqlite"};
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char msg[256];
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        db_target t;
        if (dsn_parse_as(types[i], text, &t, msg, sizeof msg) == 0) {
            char *r = dsn_redact(&t);
            /* a password is always replaced by the mask (the unit tests
             * check with distinctive passwords that it never shows) */
            if (r && t.password && !strstr(r, ":***@"))
                abort();
            free(r);
            dsn_free(&t);
        }
    }
    char *dbtype = NULL, *dsn = NULL;
    if (n9e_config_parse_db((const char *)data, size, &dbtype, &dsn, msg, sizeof msg) == 0) {
        free(dbtype);
        free(dsn);
    }
    free(text);
    return 0;
}
