-- Runs once, when the PostgreSQL data volume is first initialised
-- (mounted into /docker-entrypoint-initdb.d by docker-compose.yml).
-- Temporal's auto-setup creates its own databases (temporal, temporal_visibility);
-- the application gets a database of its own on the same server, owned by
-- POSTGRES_USER. `famassist migrate` creates the tables.
CREATE DATABASE famassist;
