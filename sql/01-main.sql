-- Orleans ADO.NET relational contract, PostgreSQL: the query catalogue.
--
-- The Orleans ADO.NET providers (clustering, persistence, reminders) run no SQL of their own: at start-up each one
-- reads `SELECT QueryKey, QueryText FROM OrleansQuery` and afterwards executes those texts with named parameters
-- (@DeploymentId, @GrainIdHash, ...). The later scripts (02-.., 03-.., 04-..) create their tables and register their
-- queries here.
--
-- Every script in this folder is idempotent: SqlSchemaInstaller applies all of them, in name order, on every silo
-- start (each in its own transaction, under an advisory lock), so re-running one must never fail or lose data.
-- A later schema change therefore has to be written as an idempotent step too (ALTER TABLE ... ADD COLUMN IF NOT
-- EXISTS, CREATE INDEX IF NOT EXISTS, ...), never by editing a CREATE TABLE that already ran in production.
--
-- Unquoted identifiers are folded to lower case by PostgreSQL; the providers look result columns up by name and
-- Npgsql matches names case-insensitively, so the Orleans spelling (QueryKey, PayloadBinary, ...) is kept for
-- readability.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,

    CONSTRAINT PK_OrleansQuery PRIMARY KEY (QueryKey)
);
