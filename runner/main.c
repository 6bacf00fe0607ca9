/*
 * main.c -- the command line: `n9e-lua-migrate COMMAND [options] [args]`.
 *
 * Only parsing and validation happen here (getopt_long, numbers checked,
 * --help for every command); the work is the Lua library's, reached
 * through host_run.  Exit codes are documented in the README.
 */
#define _POSIX_C_SOURCE 200809L
#include "dsn.h"
#include "host.h"
#include "http.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef N9E_VERSION
#define N9E_VERSION "0.0.0-dev"
#endif

#define EXIT_USAGE 2

enum {
    OPT_DB = 1000,
    OPT_JSON,
    OPT_SCRIPTS,
    OPT_LUA_PATH,
    OPT_LOG_LEVEL,
    OPT_LOG_FILE,
    OPT_LOCK_TIMEOUT,
    OPT_MEMORY_LIMIT,
    OPT_MAX_INSTRUCTIONS,
    OPT_STEP_TIMEOUT,
    OPT_ALLOW_PATH,
    OPT_TO,
    OPT_SPEC_DIR,
    OPT_N9E_CONFIG,
    OPT_PASSWORD_FILE,
    OPT_SKIP_CHECK,
    OPT_DISK_PATH,
    OPT_MIN_FREE_DISK,
    OPT_EXPECT,
    OPT_FOR,
    OPT_TIMEOUT,
    OPT_INTERVAL,
    OPT_LISTEN,
    OPT_TOKENS,
    OPT_CLIENT_TIMEOUT,
    OPT_ROLE,
    OPT_VERSIONS,
    OPT_DDL_LOCK_TIMEOUT,
    OPT_LOCK_RETRIES,
    OPT_BIG_TABLE_ROWS,
    OPT_SAMPLE_ROWS,
    OPT_BACKUP,
    OPT_NO_BACKUP,
    OPT_OTHER_DATABASE,
    OPT_GROUP_MS,
};

/* Options only some commands take: command.extra is a mask of these. */
enum { X_TO = 1, X_SPEC_DIR = 2, X_EXPECT = 4, X_WAIT = 8, X_SERVE = 16, X_TOKEN = 32,
       X_BACKUP = 64, X_RESTORE = 128, X_REHEARSE = 256, X_GROUP = 512 };

static const struct {
    int mask;
    struct option opt;
} extra_options[] = {
    {X_TO, {"to", required_argument, NULL, OPT_TO}},
    {X_SPEC_DIR, {"spec-dir", required_argument, NULL, OPT_SPEC_DIR}},
    {X_EXPECT, {"expect", required_argument, NULL, OPT_EXPECT}},
    {X_WAIT, {"for", required_argument, NULL, OPT_FOR}},
    {X_WAIT, {"timeout", required_argument, NULL, OPT_TIMEOUT}},
    {X_WAIT, {"interval", required_argument, NULL, OPT_INTERVAL}},
    {X_SERVE, {"listen", required_argument, NULL, OPT_LISTEN}},
    {X_SERVE | X_TOKEN, {"tokens", required_argument, NULL, OPT_TOKENS}},
    {X_SERVE, {"client-timeout", required_argument, NULL, OPT_CLIENT_TIMEOUT}},
    {X_TOKEN, {"role", required_argument, NULL, OPT_ROLE}},
    {X_TOKEN, {"versions", required_argument, NULL, OPT_VERSIONS}},
    {X_REHEARSE, {"sample-rows", required_argument, NULL, OPT_SAMPLE_ROWS}},
    {X_BACKUP, {"backup", required_argument, NULL, OPT_BACKUP}},
    {X_BACKUP, {"no-backup", no_argument, NULL, OPT_NO_BACKUP}},
    {X_RESTORE, {"other-database", no_argument, NULL, OPT_OTHER_DATABASE}},
    {X_GROUP, {"group-ms", required_argument, NULL, OPT_GROUP_MS}},
};
#define N_EXTRA (sizeof extra_options / sizeof *extra_options)

/* Options every command accepts. */
#define COMMON_OPTIONS                                                                            \
    {"db", required_argument, NULL, OPT_DB}, {"json", no_argument, NULL, OPT_JSON},              \
        {"scripts", required_argument, NULL, OPT_SCRIPTS},                                        \
        {"lua-path", required_argument, NULL, OPT_LUA_PATH},                                      \
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},                                    \
        {"log-file", required_argument, NULL, OPT_LOG_FILE},                                      \
        {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},                              \
        {"memory-limit", required_argument, NULL, OPT_MEMORY_LIMIT},                              \
        {"max-instructions", required_argument, NULL, OPT_MAX_INSTRUCTIONS},                      \
        {"step-timeout", required_argument, NULL, OPT_STEP_TIMEOUT},                              \
        {"ddl-lock-timeout", required_argument, NULL, OPT_DDL_LOCK_TIMEOUT},                      \
        {"lock-retries", required_argument, NULL, OPT_LOCK_RETRIES},                              \
        {"allow-path", required_argument, NULL, OPT_ALLOW_PATH},                                  \
        {"n9e-config", required_argument, NULL, OPT_N9E_CONFIG},                                  \
        {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},                            \
        {"skip-check", required_argument, NULL, OPT_SKIP_CHECK},                                  \
        {"disk-path", required_argument, NULL, OPT_DISK_PATH},                                    \
        {"min-free-disk", required_argument, NULL, OPT_MIN_FREE_DISK},                            \
        {"big-table-rows", required_argument, NULL, OPT_BIG_TABLE_ROWS},                          \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                   \
        {"help", no_argument, NULL, 'h'}

static const char COMMON_HELP[] =
    "Options for every command:\n"
    "  --db DSN              database (default $N9E_MIGRATE_DB, else ./n9e.db):\n"
    "                        sqlite:PATH or a file path, postgres://user@host:port/db,\n"
    "                        mysql://user@host:port/db, Nightingale's Go-MySQL DSN\n"
    "                        user@tcp(host:port)/db?... or its PostgreSQL DSN\n"
    "                        'host=... port=... user=... dbname=...'\n"
    "  --n9e-config FILE     take DBType and DSN from the [DB] table of Nightingale's\n"
    "                        config.toml instead of --db\n"
    "  --password-file FILE  the database password, first line of FILE (else\n"
    "                        $N9E_MIGRATE_PASSWORD, else the DSN's own)\n"
    "  --json                one JSON document on stdout instead of text\n"
    "  --scripts DIR         migration scripts from DIR instead of the built-in ones\n"
    "  --lua-path DIR        load the Lua library from DIR before the built-in one\n"
    "  --log-level LEVEL     debug, info (default), warn, error or quiet\n"
    "  -v, --verbose         same as --log-level debug;  -q, --quiet: --log-level error\n"
    "  --log-file FILE       append a JSON-lines audit log to FILE\n"
    "  --lock-timeout SECS   wait at most SECS for the migration lock (default 60)\n"
    "  --memory-limit MIB    memory cap for scripts, in MiB (default 512; 0: none)\n"
    "  --max-instructions N  instruction budget per script step (default 0: none)\n"
    "  --step-timeout SECS   time budget per script step (default 3600; 0: none);\n"
    "                        PostgreSQL: also each statement's statement_timeout\n"
    "  --ddl-lock-timeout SECS  how long a statement of a step may wait for a table\n"
    "                        lock before it gives up and the version is retried\n"
    "                        (default 3; PostgreSQL lock_timeout, MySQL\n"
    "                        lock_wait_timeout and innodb_lock_wait_timeout)\n"
    "  --lock-retries N      retries of a version that gave up on a lock, with\n"
    "                        backoff and jitter (default 5), then it fails (exit 1)\n"
    "  --allow-path DIR      let scripts read files under DIR (repeatable)\n"
    "  --skip-check NAME     skip one named precheck (run records it in history)\n"
    "  --disk-path DIR       measure free disk space there (the server's data directory\n"
    "                        when it is local; SQLite: the database's directory)\n"
    "  --min-free-disk MIB   free space to keep beyond what rewrites need (default 256)\n"
    "  --big-table-rows N    a table of N rows or more is big (default 1000000): DDL\n"
    "                        that would block its writes while copying, rewriting,\n"
    "                        scanning or indexing it is refused (check lock-impact:V)\n"
    "                        unless the script declares an online strategy\n"
    "  -h, --help            this help\n";

typedef struct {
    const char *name;
    const char *usage;
    const char *summary;
    const char *details;
    int min_args, max_args;
    int extra; /* X_* options */
} command;

static const command commands[] = {
    {"run", "run [--to VERSION]", "apply pending migrations",
     "Takes the migration lock, plans, runs prechecks, then applies each pending\n"
     "version (up + convert + verify + history row) atomically. A failing version is\n"
     "rolled back completely and the run stops (exit 1).\n"
     "  --to VERSION          stop after VERSION (default: the newest script)\n"
     "  --backup DIR          before the first pending version, back the database up\n"
     "                        into a new directory under DIR (SQLite: its online\n"
     "                        backup; PostgreSQL: pg_dump; MySQL/MariaDB: mysqldump or\n"
     "                        mariadb-dump), recorded in history; restore brings it\n"
     "                        back. Default: $N9E_MIGRATE_BACKUP_DIR. Nothing pending:\n"
     "                        no backup. A missing dump tool refuses the run (exit 3)\n"
     "  --no-backup           no backup, even with $N9E_MIGRATE_BACKUP_DIR set\n"
     "  --group-ms MS         MySQL/MariaDB: versions without a convert step that\n"
     "                        applied in under MS ms in all are recorded together,\n"
     "                        in one history write; a crash before it undoes them\n"
     "                        all and the next run applies them again (default 100;\n"
     "                        0: each version recorded on its own)\n",
     0, 0, X_TO | X_BACKUP | X_GROUP},
    {"check", "check [--to VERSION | --expect VERSION]", "run every precheck; writes nothing",
     "Checks, each ok / refused / warning / skipped with a detail and a fix:\n"
     "server (reachable, version), plan (history vs scripts), compatibility (a\n"
     "script's min_from), privileges, disk (free space against the tables the plan\n"
     "rewrites), managed (history present), script:VERSION (a script's precheck),\n"
     "lock-impact:VERSION (what each DDL statement of the version locks, whether it\n"
     "copies, rewrites, scans or indexes the table, the table's size and a time\n"
     "estimate; refused on big tables unless online; see --big-table-rows).\n"
     "run performs the same checks first. Exit 3 when any is refused.\n"
     "  --to VERSION          check the plan up to VERSION\n"
     "  --expect VERSION      readiness gate instead: exit 0 only when the database is\n"
     "                        at VERSION and every applied version verifies (exit 3\n"
     "                        at another version, 4 when a verification fails)\n"
     "  --backup DIR          also check what run --backup DIR needs: DIR writable, the\n"
     "                        dump tool on PATH and new enough, free space for the\n"
     "                        database (default: $N9E_MIGRATE_BACKUP_DIR)\n"
     "  --no-backup           ignore $N9E_MIGRATE_BACKUP_DIR\n",
     0, 0, X_TO | X_EXPECT | X_BACKUP},
    {"rehearse", "rehearse [--to VERSION] [--sample-rows N]",
     "run the whole plan on a throwaway copy; the database is only read",
     "Runs every precheck on the database (read-only: lock impact is judged on its\n"
     "real sizes), copies it, applies the plan to the copy as run would, reports\n"
     "every step's outcome, duration and rows, and drops the copy, whatever\n"
     "happened. Copies: SQLite VACUUM INTO a file beside the database; PostgreSQL\n"
     "CREATE DATABASE ... TEMPLATE (needs CREATEDB), or with other sessions on the\n"
     "database pg_dump loaded by psql into a new database; MySQL/MariaDB a new\n"
     "database with every table's definition and a sample of its rows (needs\n"
     "CREATE and DROP on databases). Exit: what run would exit on the copy (0, 1,\n"
     "3 ...), 3 also when the copy cannot be made or took the plan but the\n"
     "database's own prechecks refuse it.\n"
     "  --to VERSION          rehearse up to VERSION (default: the newest script)\n"
     "  --sample-rows N       MySQL/MariaDB: rows copied per table (default 10000;\n"
     "                        the runner's own tables are copied whole)\n",
     0, 0, X_TO | X_REHEARSE},
    {"plan", "plan [--to VERSION]", "show what run would do; writes nothing",
     "  --to VERSION          plan up to VERSION (default: the newest script)\n", 0, 0, X_TO},
    {"status", "status", "current version, pending versions, last outcome", "", 0, 0, 0},
    {"history", "history", "every recorded apply attempt, oldest first", "", 0, 0, 0},
    {"log", "log", "the step log: every script step that ran, with timing, rows and outcome",
     "Outcomes: ok, failed, lock_timeout (a statement gave up waiting for a lock, or\n"
     "lost a deadlock). Failed steps of rolled-back versions and of attempts retried\n"
     "after a lock timeout are kept. The same events, and more, go to\n"
     "the JSON-lines file of --log-file.\n",
     0, 0, 0},
    {"verify", "verify", "re-run the verify step of every applied version (read-only)",
     "Exit 4 when a verification fails.\n", 0, 0, 0},
    {"rollback", "rollback --to VERSION", "undo applied versions newer than VERSION",
     "Takes the migration lock and runs the `down` step of every applied version\n"
     "newer than VERSION, newest first; after each, the verify step of the version\n"
     "that becomes current. Each is all or nothing and recorded in history.\n"
     "Refused (exit 3) if one of them has no down step.\n"
     "  --to VERSION          the version to return to (required)\n",
     0, 0, X_TO},
    {"baseline", "baseline VERSION",
     "record that an existing database is at VERSION",
     "For a database n9e-lua-migrate did not create: runs the verify step of every\n"
     "script up to VERSION against it (read-only) and, if all pass, records VERSION\n"
     "as its baseline; later runs start from there. Exit 3 when a check fails.\n",
     1, 1, 0},
    {"repair", "repair", "finish what an interrupted or unrestored run left behind",
     "Takes the migration lock. On MySQL/MariaDB, undoes every version whose journal\n"
     "is still open (a run that died, or one that exited 6) and checks the schema\n"
     "against the snapshot taken before it; `run` does the same by itself first.\n"
     "Exit 6 when the state before the version cannot be restored.\n",
     0, 0, 0},
    {"restore", "restore DIR [--other-database]",
     "bring the database back to a backup taken by run --backup",
     "DIR is one backup: the directory holding manifest.json. Checks the manifest\n"
     "and the size and SHA-256 of every file first (exit 3 when one differs, when\n"
     "the engine is another, or when the database is not the one backed up), takes\n"
     "the migration lock, drops what the database has now (tables, views, sequences,\n"
     "routines, the runner's own tables) and loads the backup (SQLite: its online\n"
     "backup; PostgreSQL: psql in one transaction; MySQL/MariaDB: the mysql or\n"
     "mariadb client). Then every table's row count and checksum and the schema\n"
     "must equal those the manifest recorded (exit 4 otherwise), and a `restore` row\n"
     "is added to history. A failed load: exit 1 when nothing changed (SQLite,\n"
     "PostgreSQL), 6 when the database is left partly loaded (MySQL/MariaDB, whose\n"
     "DDL cannot be rolled back: run restore again).\n"
     "  --other-database      allow restoring into a database other than the one the\n"
     "                        backup was taken from (another name or SQLite file)\n",
     1, 1, X_RESTORE},
    {"new", "new VERSION DESCRIPTION [--spec-dir DIR]",
     "scaffold a migration script and its busted spec",
     "Writes <scripts>/VERSION.lua (--scripts DIR, default ./scripts) and\n"
     "<spec-dir>/VERSION_spec.lua (default ./spec). Refuses to overwrite.\n"
     "  --spec-dir DIR        where the spec goes (default ./spec)\n",
     2, 2, X_SPEC_DIR},
    {"test", "test [DIR|FILE ...] [-- BUSTED-OPTIONS]",
     "run busted specs inside the runtime (db, sandbox and helpers available)",
     "Default DIR is ./spec. Arguments after -- go to busted unchanged.\n"
     "With --json, busted reports in its JSON format.\n",
     0, 64, 0},
    {"lint", "lint [--scripts DIR]", "check migration scripts without a database",
     "Checks the built-in scripts, or those under --scripts DIR, and prints one line\n"
     "per finding (FILE:LINE: [rule] message) and a summary. Rules:\n"
     "  luacheck     luacheck-clean under the project's .luacheckrc (Debian package\n"
     "               lua-check; missing, it is an error)\n"
     "  load         the script loads in the sandbox and its fields are valid\n"
     "  version      versions parse and are unique, a version-like file name\n"
     "               matches, min_from names an earlier version\n"
     "  destructive  DROP TABLE/COLUMN, TRUNCATE and narrowing type changes\n"
     "               outside down only with destructive = true\n"
     "  down         a script without a down declares irreversible = \"why\"\n"
     "Exit 0 when there are only warnings or nothing, 3 when there is an error\n"
     "(2: DIR is not a directory).\n",
     0, 0, 0},
    {"wait", "wait --for VERSION [--timeout SECS] [--interval SECS]",
     "block until another instance has upgraded the database to VERSION",
     "Polls the database (read-only; an unreachable or missing database is waited\n"
     "for too) until it is at VERSION, then runs the same gate as check --expect.\n"
     "Exit 0 when at VERSION and verified, 4 when a verification fails, 3 when the\n"
     "database is newer than VERSION, 5 when VERSION is not reached in time.\n"
     "  --for VERSION         the version to wait for (required)\n"
     "  --timeout SECS        give up after SECS (default 300)\n"
     "  --interval SECS       poll every SECS (default 2)\n",
     0, 0, X_WAIT},
    {"serve", "serve --tokens FILE [--listen ADDR:PORT] [--client-timeout SECS]",
     "HTTP API for CI/CD pipelines and Prometheus, with token roles",
     "Endpoints (JSON; see README.md): GET /healthz, /v1/status, /v1/plan?to=,\n"
     "/v1/history, /v1/log, /v1/jobs, /v1/jobs/ID; POST /v1/check, /v1/run,\n"
     "/v1/verify, /v1/rehearse, /v1/rollback, /v1/baseline, /v1/repair. GET /metrics\n"
     "(viewer): the upgrade's state from the database in the Prometheus text format\n"
     "(versions, pending, last outcome and durations, step durations, lock\n"
     "timeouts, rows converted, unrestored versions); 200 with n9e_migrate_up 0\n"
     "when the database cannot be read. Bearer tokens from FILE (made by `token`)\n"
     "with roles viewer < operator < admin. verify and rehearse are jobs; run,\n"
     "rollback, baseline and repair are jobs one at a time (409 otherwise, also\n"
     "against other runners through the database lock). SIGHUP rereads FILE;\n"
     "SIGINT or SIGTERM stops accepting and waits for a running job to finish.\n"
     "  --tokens FILE         the token file (required)\n"
     "  --listen ADDR:PORT    where to listen (default 127.0.0.1:8787; port 0 picks a\n"
     "                        free one; the first line on stdout names it)\n"
     "  --client-timeout SECS close a connection idle for SECS (default 30)\n",
     0, 0, X_SERVE},
    {"token", "token NAME --role ROLE [--versions LOW..HIGH] --tokens FILE",
     "make an API token for serve",
     "Prints a new random token once and appends its SHA-256 hash, with NAME and\n"
     "ROLE, to FILE (created mode 0600). The token itself is stored nowhere.\n"
     "  --role ROLE           viewer (status, plan, history, log, jobs, metrics),\n"
     "                        operator (+ check, run, verify, rehearse) or admin\n"
     "                        (+ rollback, baseline, repair)\n"
     "  --versions LOW..HIGH  only run/rollback/baseline to versions in the range\n"
     "                        (either end may be left out)\n"
     "  --tokens FILE         the token file\n",
     1, 1, X_TOKEN},
    {"version", "version", "print the runner version", "", 0, 0, 0},
};

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage_all(FILE *out)
{
    fprintf(out, "usage: n9e-lua-migrate COMMAND [options]\n\n"
                 "Upgrades a Nightingale (n9e) database by running one Lua script per version.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'n9e-lua-migrate COMMAND --help' describes one command.\n\n"
                 "Exit codes: 0 ok/up to date, 1 migration failed and was rolled back,\n"
                 "2 bad usage or input, 3 precheck refused, 4 verification failed,\n"
                 "5 lock not obtained in time, 6 failed and could not be fully restored.\n");
}

static void usage_command(const command *c, FILE *out)
{
    fprintf(out, "usage: n9e-lua-migrate %s\n\n%s.\n\n%s%s%s", c->usage, c->summary, c->details,
            c->details[0] ? "\n" : "", COMMON_HELP);
}

static int usage_error(const command *c, const char *fmt, const char *arg)
{
    fprintf(stderr, "n9e-lua-migrate: error: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nhint: n9e-lua-migrate %s --help\n", c ? c->name : "");
    return EXIT_USAGE;
}

static int parse_number(const char *s, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || v < 0 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A password given in --db stays usable (the option now points at a copy)
 * but is blanked in argv, so `ps` and /proc/PID/cmdline no longer show it,
 * as the mysql client does for -p.  Prefer --password-file or
 * $N9E_MIGRATE_PASSWORD: argv is readable until this runs. */
static void scrub_passwords(host_option *opts, int nopts, char **owned)
{
    for (int i = 0; i < nopts; i++) {
        if (strcmp(opts[i].key, "db") != 0)
            continue;
        db_target t;
        char msg[256];
        if (dsn_parse(opts[i].value, &t, msg, sizeof msg) != 0)
            continue; /* reported later, without quoting the text */
        int has_password = t.password != NULL;
        dsn_free(&t);
        if (!has_password)
            continue;
        char *copy = strdup(opts[i].value);
        if (!copy)
            continue;
        char *arg = (char *)opts[i].value;
        memset(arg, 'x', strlen(arg));
        opts[i].value = owned[i] = copy;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage_all(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
        const command *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (c)
            usage_command(c, stdout);
        else
            usage_all(stdout);
        return 0;
    }
    if (!strcmp(name, "--version"))
        name = "version";
    const command *cmd = find_command(name);
    if (!cmd)
        return usage_error(NULL, "unknown command '%s' (see n9e-lua-migrate --help)", name);

    static const struct option base[] = {COMMON_OPTIONS};
    struct option longopts[sizeof base / sizeof *base + N_EXTRA + 1];
    size_t nlong = sizeof base / sizeof *base;
    memcpy(longopts, base, sizeof base);
    for (size_t i = 0; i < N_EXTRA; i++)
        if (cmd->extra & extra_options[i].mask)
            longopts[nlong++] = extra_options[i].opt;
    longopts[nlong] = (struct option){NULL, 0, NULL, 0};

    host_option *opts = calloc((size_t)argc + 1, sizeof *opts);
    if (!opts)
        return 1;
    int nopts = 0;
    host_args ha = {.command = cmd->name,
                    .limits = {.memory_bytes = (size_t)512 << 20, .max_seconds = 3600}};
    const char *optname = NULL;
    int c, rc = -1;
    opterr = 0;
    optind = 2;
    while (rc < 0 && (c = getopt_long(argc, argv, "qvh", longopts, NULL)) != -1) {
        double num;
        for (size_t i = 0; i < nlong; i++)
            if (longopts[i].val == c)
                optname = longopts[i].name;
        switch (c) {
        case 'h': usage_command(cmd, stdout); rc = 0; break;
        case 'q': opts[nopts++] = (host_option){"log-level", "error"}; break;
        case 'v': opts[nopts++] = (host_option){"log-level", "debug"}; break;
        case OPT_LUA_PATH: ha.lua_path = optarg; break;
        case OPT_MEMORY_LIMIT:
            if (parse_number(optarg, 1 << 20, &num))
                rc = usage_error(cmd, "--memory-limit wants a size in MiB, got '%s'", optarg);
            else
                ha.limits.memory_bytes = (size_t)(num * 1048576.0);
            break;
        case OPT_MAX_INSTRUCTIONS:
            if (parse_number(optarg, 1e18, &num))
                rc = usage_error(cmd, "--max-instructions wants a count, got '%s'", optarg);
            else
                ha.limits.max_instructions = (uint64_t)num;
            break;
        case OPT_STEP_TIMEOUT:
            if (parse_number(optarg, 1e9, &num))
                rc = usage_error(cmd, "--step-timeout wants seconds, got '%s'", optarg);
            else {
                ha.limits.max_seconds = num;
                opts[nopts++] = (host_option){optname, optarg};
            }
            break;
        case OPT_DDL_LOCK_TIMEOUT:
            if (parse_number(optarg, 1e6, &num) || num < 0.001)
                rc = usage_error(cmd, "--ddl-lock-timeout wants seconds (at least 0.001), got '%s'",
                                 optarg);
            else
                opts[nopts++] = (host_option){optname, optarg};
            break;
        case OPT_GROUP_MS:
            if (parse_number(optarg, 3600000, &num))
                rc = usage_error(cmd, "--group-ms wants milliseconds (0 to 3600000), got '%s'", optarg);
            else
                opts[nopts++] = (host_option){optname, optarg};
            break;
        case OPT_LOCK_RETRIES:
            if (parse_number(optarg, 1000, &num) || num != (double)(long)num)
                rc = usage_error(cmd, "--lock-retries wants a whole number (0 to 1000), got '%s'",
                                 optarg);
            else
                opts[nopts++] = (host_option){optname, optarg};
            break;
        case OPT_MIN_FREE_DISK:
            if (parse_number(optarg, 1e12, &num)) {
                rc = usage_error(cmd, "--min-free-disk wants MiB, got '%s'", optarg);
                break;
            }
            opts[nopts++] = (host_option){optname, optarg};
            break;
        case OPT_SAMPLE_ROWS:
        case OPT_BIG_TABLE_ROWS:
            if (parse_number(optarg, 1e15, &num) || num != (double)(long long)num) {
                char msg[512];
                snprintf(msg, sizeof msg, "--%s wants a whole number of rows, got '%s'", optname, optarg);
                rc = usage_error(cmd, "%s", msg);
                break;
            }
            opts[nopts++] = (host_option){optname, optarg};
            break;
        case OPT_LOCK_TIMEOUT:
        case OPT_TIMEOUT:
        case OPT_INTERVAL:
        case OPT_CLIENT_TIMEOUT:
            if (parse_number(optarg, 1e9, &num) || (c == OPT_CLIENT_TIMEOUT && num < 1)) {
                char msg[512];
                snprintf(msg, sizeof msg, "--%s wants seconds, got '%s'", optname, optarg);
                rc = usage_error(cmd, "%s", msg);
                break;
            }
            /* fall through */
        case OPT_DB:
        case OPT_JSON:
        case OPT_SCRIPTS:
        case OPT_LOG_LEVEL:
        case OPT_LOG_FILE:
        case OPT_ALLOW_PATH:
        case OPT_TO:
        case OPT_N9E_CONFIG:
        case OPT_PASSWORD_FILE:
        case OPT_SKIP_CHECK:
        case OPT_DISK_PATH:
        case OPT_EXPECT:
        case OPT_FOR:
        case OPT_LISTEN:
        case OPT_TOKENS:
        case OPT_ROLE:
        case OPT_VERSIONS:
        case OPT_BACKUP:
        case OPT_NO_BACKUP:
        case OPT_OTHER_DATABASE:
        case OPT_SPEC_DIR: opts[nopts++] = (host_option){optname, optarg ? optarg : "true"}; break;
        case ':': rc = usage_error(cmd, "option '%s' needs a value", argv[optind - 1]); break;
        default: rc = usage_error(cmd, "unknown option '%s'", argv[optind - 1]); break;
        }
    }
    char **owned = calloc((size_t)argc + 1, sizeof *owned);
    if (rc < 0 && owned)
        scrub_passwords(opts, nopts, owned);
    if (rc < 0) {
        int npos = argc - optind;
        if (npos < cmd->min_args || npos > cmd->max_args)
            rc = usage_error(cmd, "wrong number of arguments for '%s'", cmd->name);
        ha.nargs = npos;
        ha.args = argv + optind;
    }
    if (rc < 0) {
        if (!strcmp(cmd->name, "version")) {
            int json = 0;
            for (int i = 0; i < nopts; i++)
                json |= !strcmp(opts[i].key, "json");
            printf(json ? "{\"ok\":true,\"command\":\"version\",\"version\":\"%s\"}\n"
                        : "n9e-lua-migrate %s\n",
                   N9E_VERSION);
            rc = 0;
        } else {
            ha.nopts = nopts;
            ha.opts = opts;
            rc = !strcmp(cmd->name, "serve") ? http_serve(&ha) : host_run(&ha);
        }
    }
    for (int i = 0; owned && i < nopts; i++)
        free(owned[i]);
    free(owned);
    free(opts);
    return rc;
}
