/**
 * Schema migrations, applied in order; the database's `user_version` is the number applied.
 * Never edit a released migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE host_tag (
     host TEXT NOT NULL, tag TEXT NOT NULL, by TEXT NOT NULL, at_ms INTEGER NOT NULL, why TEXT NOT NULL,
     PRIMARY KEY (host, tag));
   CREATE TABLE journal (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
     action TEXT NOT NULL, target TEXT NOT NULL, phase TEXT NOT NULL CHECK (phase IN ('intent','done','failed')),
     detail TEXT);
   CREATE INDEX journal_run ON journal (run_id, seq);
   CREATE TABLE power_event (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, host TEXT NOT NULL, at_ms INTEGER NOT NULL, kind TEXT NOT NULL,
     detail TEXT NOT NULL, watts REAL);
   CREATE INDEX power_event_host ON power_event (host, at_ms);
   CREATE TABLE usage_sample (
     host TEXT NOT NULL, vm TEXT NOT NULL, at_ms INTEGER NOT NULL, cpu_time_ns INTEGER NOT NULL,
     PRIMARY KEY (host, vm));
   CREATE TABLE run_lock (
     id INTEGER PRIMARY KEY CHECK (id = 1), run_id TEXT NOT NULL, pid INTEGER NOT NULL,
     pid_start TEXT NOT NULL, hostname TEXT NOT NULL, since_ms INTEGER NOT NULL);`,
  // A powered-off host cannot be read: its last known capacity lets the planner size a wake.
  `CREATE TABLE host_capacity (
     host TEXT PRIMARY KEY, at_ms INTEGER NOT NULL, cpu REAL NOT NULL, mem_mib REAL NOT NULL,
     disk_gib REAL NOT NULL);`,
];
