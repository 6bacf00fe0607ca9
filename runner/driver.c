/* driver.c -- which engines this binary has. */
#include "driver.h"

#include <string.h>

const db_driver *driver_for(const char *engine)
{
    if (!engine)
        return NULL;
    if (!strcmp(engine, "sqlite"))
        return &driver_sqlite;
#ifdef N9E_HAVE_PG
    if (!strcmp(engine, "postgres"))
        return &driver_pg;
#endif
#ifdef N9E_HAVE_MYSQL
    if (!strcmp(engine, "mysql"))
        return &driver_mysql;
#endif
    return NULL;
}
