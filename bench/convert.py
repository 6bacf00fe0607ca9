#!/usr/bin/env python3
"""The peer for bench/run.sh's conversion: the same rewrite of jobs.doc
({"a":N,"b":"x"} -> {"alpha":N,"b":"x"}) as a careful Python migration
would do it: a server-side cursor, batches of BATCH rows, one multi-row
UPDATE per batch, one transaction.

    convert.py postgres|mysql PORT DATABASE      (password in $N9E_TEST_PASSWORD)
"""
import json
import os
import sys

BATCH = 2000


def convert(row_doc):
    d = json.loads(row_doc) if isinstance(row_doc, str) else row_doc
    if "a" not in d:
        return None
    d["alpha"] = d.pop("a")
    return json.dumps(d, separators=(",", ":"))


def batches(read):
    """(rows, [(id, new doc) ...]) for each batch of a server-side cursor."""
    while True:
        rows = read.fetchmany(BATCH)
        if not rows:
            return
        yield rows, [(i, new) for i, new in ((i, convert(doc)) for i, doc in rows) if new is not None]


def postgres(port, database):
    import psycopg2
    import psycopg2.extras
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="n9e", dbname=database,
                            password=os.environ["N9E_TEST_PASSWORD"])
    read = conn.cursor(name="jobs_reader")  # server-side
    read.itersize = BATCH
    read.execute("SELECT id, doc::text FROM jobs ORDER BY id")
    write = conn.cursor()
    for rows, out in batches(read):
        if out:
            # the key range keeps the join on the primary key (else: a
            # sequential scan of the table per batch)
            psycopg2.extras.execute_values(
                write, "UPDATE jobs SET doc = v.doc::jsonb FROM (VALUES %s) AS v(id, doc) WHERE jobs.id = v.id"
                " AND jobs.id BETWEEN " + str(int(rows[0][0])) + " AND " + str(int(rows[-1][0])),
                out, page_size=BATCH)
    read.close()
    conn.commit()
    conn.close()


def mysql(port, database):
    import pymysql
    import pymysql.cursors
    reader = pymysql.connect(host="127.0.0.1", port=port, user="n9e", database=database,
                             password=os.environ["N9E_TEST_PASSWORD"], cursorclass=pymysql.cursors.SSCursor)
    writer = pymysql.connect(host="127.0.0.1", port=port, user="n9e", database=database,
                             password=os.environ["N9E_TEST_PASSWORD"])
    read = reader.cursor()
    read.execute("SELECT id, doc FROM jobs ORDER BY id")
    write = writer.cursor()
    for _, out in batches(read):
        if out:
            values = ", ".join(["(%s, %s)"] * len(out))
            write.execute("INSERT INTO jobs (id, doc) VALUES " + values +
                          " ON DUPLICATE KEY UPDATE doc = VALUES(doc)", [x for pair in out for x in pair])
    writer.commit()
    reader.close()
    writer.close()


if __name__ == "__main__":
    engine, port, database = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    {"postgres": postgres, "mysql": mysql}[engine](port, database)
