/*
 * log.h -- the runner's log sink: human lines on stderr, JSON lines in an
 * audit file.  Formatting and redaction are the Lua library's policy; this
 * is only the mechanism (levels, file handling, atomic line writes).
 */
#ifndef N9E_LOG_H
#define N9E_LOG_H

#include <stddef.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_QUIET } log_level;

int log_level_parse(const char *name, log_level *out);
void log_set_level(log_level level);
log_level log_get_level(void);
/* Whether an audit file is open (a JSON line would be written). */
int log_has_file(void);

/* Open (append, create 0600) the JSON-lines audit file. 0 or -1 + errbuf. */
int log_open_file(const char *path, char *errbuf, size_t errlen);
void log_close_file(void);

/* human may be NULL (nothing on stderr); json may be NULL (nothing in the
 * file).  Each is written as one line with one write(2). */
void log_emit(log_level level, const char *human, const char *json);

typedef struct lua_State lua_State;
int luaopen_n9e_log(lua_State *L);

#endif
