/* driver.c -- which engines this binary has. */
#include "driver.h"

#include <string.h>
#ifdef N9E_HAVE_MYSQL
#include <mysql.h>
#endif

void driver_init_threads(void)
{
#ifdef N9E_HAVE_MYSQL
    /* mysql_init() would do this on first use, but not safely from two
     * threads at once (serve runs requests and jobs on threads). */
    mysql_library_init(0, NULL, NULL);
#endif
}

void driver_thread_end(void)
{
#ifdef N9E_HAVE_MYSQL
    mysql_thread_end();
#endif
}

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
