-- Rate counters need no durability: losing them after a database crash only gives every client a
-- fresh window. Unlogged, their updates write no WAL, so counting a request (one statement per
-- request, gateway/ratelimit.py) no longer waits for a WAL flush to disk on commit.
-- (An unlogged table is emptied by crash recovery, kept across clean restarts, and not copied to
-- streaming replicas: each gateway replica still shares the primary's counters.)
ALTER TABLE rate_counters SET UNLOGGED;
