/* driver.c -- which engines this binary has. */
#include "driver.h"

#include <string.h>

const db_driver *driver_for(const char *engine)
{
    if (engine && !strcmp(engine, "sqlite"))
        return &driver_sqlite;
    return NULL; /* postgres/mysql drivers plug in here */
}
