"""A small Singer target for the demo: loads SCHEMA/RECORD messages from stdin into SQLite.

Tables are created from SCHEMA messages (one column per property, primary key from
key_properties), records are upserted by that key (with their table version in
`_sdc_table_version` when they carry one; ACTIVATE_VERSION deletes the rows of older versions),
and the last STATE is printed on stdout, as Singer targets do. Numbers are stored as their exact
decimal text (a TEXT column; SQLite's NUMERIC affinity would turn them into floats): sum them as
decimals, not in SQL.

    tap-intacct --config c.json --catalog cat.json | python -m devtools.target_sqlite out.db
"""

import json
import sqlite3
import sys

VERSION_COLUMN = "_sdc_table_version"


def sql_type(schema):
    types = schema.get("type") or [t for sub in schema.get("anyOf", []) for t in sub["type"]]
    types = [types] if isinstance(types, str) else types
    if "integer" in types:
        return "INTEGER"
    return "TEXT"  # numbers too: SQLite's NUMERIC would round them through a float


def quoted(name):
    return '"' + name.replace('"', '""') + '"'


class Loader:
    def __init__(self, path):
        self.db = sqlite3.connect(path)
        self.tables = {}
        self.last_state = None

    def schema(self, message):
        stream, properties = message["stream"], message["schema"]["properties"]
        columns = [f"{quoted(name)} {sql_type(schema)}" for name, schema in properties.items()]
        keys = message.get("key_properties") or []
        if keys:
            columns.append(f"PRIMARY KEY ({', '.join(quoted(k) for k in keys)})")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS {quoted(stream)} ({', '.join(columns)})")
        known = {row[1] for row in self.db.execute(f"PRAGMA table_info({quoted(stream)})")}
        for name, schema in properties.items():
            if name not in known:
                self.db.execute(f"ALTER TABLE {quoted(stream)} ADD COLUMN {quoted(name)} "
                                f"{sql_type(schema)}")
        self.tables[stream] = list(properties)

    def record(self, message):
        stream, record = message["stream"], message["record"]
        names = [name for name in self.tables[stream] if name in record]
        values = [json.dumps(record[n]) if isinstance(record[n], (list, dict)) else record[n]
                  for n in names]
        if "version" in message:
            self.versioned(stream)
            names.append(VERSION_COLUMN)
            values.append(message["version"])
        self.db.execute(f"INSERT OR REPLACE INTO {quoted(stream)} "
                        f"({', '.join(quoted(n) for n in names)}) "
                        f"VALUES ({', '.join('?' for _ in names)})", values)

    def versioned(self, stream):
        if VERSION_COLUMN not in self.tables[stream]:
            known = {row[1] for row in self.db.execute(f"PRAGMA table_info({quoted(stream)})")}
            if VERSION_COLUMN not in known:
                self.db.execute(f"ALTER TABLE {quoted(stream)} ADD COLUMN {VERSION_COLUMN} "
                                "INTEGER")
            self.tables[stream].append(VERSION_COLUMN)

    def activate_version(self, message):
        """Rows of an older table version (or none) are gone from the source: deleted (a hard
        delete, as target-postgres does with `hard_delete: true`)."""
        stream = message["stream"]
        self.versioned(stream)
        self.db.execute(f"DELETE FROM {quoted(stream)} WHERE {VERSION_COLUMN} IS NULL OR "
                        f"{VERSION_COLUMN} < ?", (message["version"],))

    def run(self, lines):
        for line in lines:
            message = json.loads(line, parse_float=str)  # keep exact decimal text
            kind = message["type"]
            if kind == "SCHEMA":
                self.schema(message)
            elif kind == "RECORD":
                self.record(message)
            elif kind == "ACTIVATE_VERSION":
                self.activate_version(message)
            elif kind == "STATE":
                self.db.commit()
                self.last_state = message["value"]
        self.db.commit()
        if self.last_state is not None:
            print(json.dumps(self.last_state))


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m devtools.target_sqlite DATABASE < singer-messages")
    Loader(sys.argv[1]).run(sys.stdin)


if __name__ == "__main__":
    main()
