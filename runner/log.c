/* log.c -- see log.h. */
#define _POSIX_C_SOURCE 200809L
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static log_level threshold = LOG_INFO;
static int audit_fd = -1;

static const char *const names[] = {"debug", "info", "warn", "error", "quiet"};

int log_level_parse(const char *name, log_level *out)
{
    for (int i = 0; i <= LOG_QUIET; i++) {
        if (!strcmp(name, names[i])) {
            *out = (log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(log_level level) { threshold = level; }
log_level log_get_level(void) { return threshold; }

int log_open_file(const char *path, char *errbuf, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(errbuf, errlen, "cannot open log file %s: %s", path, strerror(errno));
        return -1;
    }
    log_close_file();
    audit_fd = fd;
    return 0;
}

void log_close_file(void)
{
    if (audit_fd >= 0)
        close(audit_fd);
    audit_fd = -1;
}

/* One write per line, so lines from concurrent runners never interleave
 * inside a line (O_APPEND makes each write land at the end). */
static void write_line(int fd, const char *text)
{
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf)
        return;
    memcpy(buf, text, len);
    buf[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t w = write(fd, buf + off, len + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(buf);
}

int log_has_file(void) { return audit_fd >= 0; }

void log_emit(log_level level, const char *human, const char *json)
{
    if (human && level >= threshold && threshold != LOG_QUIET)
        write_line(STDERR_FILENO, human);
    if (json && audit_fd >= 0)
        write_line(audit_fd, json);
}
