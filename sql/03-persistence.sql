-- Orleans ADO.NET grain persistence for PostgreSQL, as read by Microsoft.Orleans.Persistence.AdoNet 10.4.2.
--
-- One row per grain state. A grain is identified by ServiceId + GrainTypeString + (GrainIdN0, GrainIdN1,
-- GrainIdExtensionString); the provider also sends two 32-bit hashes of the id and the type, which lead the index
-- so that a lookup touches one narrow index entry. The payload is whatever the configured IGrainStorageSerializer
-- produced (this project: the Orleans binary serializer), stored as bytea.
--
-- Version is the grain state's ETag. Writes name the version they last read (@GrainStateVersion, NULL for a grain
-- that has no row yet) and succeed only if it is still current, returning the new version; otherwise they return
-- NULL, which the provider turns into an InconsistentStateException. That is what stops a stale or duplicate
-- activation from silently overwriting newer state.
--
-- Parameters the provider binds: @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
-- @GrainIdExtensionString (NULL when the key has no extension), @ServiceId, @GrainStateVersion (int, NULL),
-- @PayloadBinary (bytea).

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString text         NULL,      -- string keys live here too, so it is unbounded
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,      -- NULL once the state is cleared (the version row stays)
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NOT NULL
);

-- At most one row per grain: two activations racing to write a new grain's first state cannot both insert, the
-- loser gets a version conflict. The extension is indexed by its md5 because a string key may exceed the btree
-- entry limit; NULLS NOT DISTINCT (PostgreSQL 15+) makes "no extension" a value like any other.
-- Created only when missing: CREATE INDEX IF NOT EXISTS takes a SHARE lock on the table before it checks, which
-- would stall the grain writes of running silos every time another silo starts and re-applies this script.
DO $$
BEGIN
    IF to_regclass('UX_OrleansStorage_Grain') IS NULL THEN
        CREATE UNIQUE INDEX UX_OrleansStorage_Grain ON OrleansStorage
            (GrainIdHash, GrainTypeHash, ServiceId, GrainIdN0, GrainIdN1, GrainTypeString, md5(GrainIdExtensionString))
            NULLS NOT DISTINCT;
    END IF;
END
$$;

-- The fleet listing (src/Grains/Fleet/ClusterDirectory.cs) pages through the cluster grains' rows in key order; this
-- index serves it without reading the whole table (every grain type's rows). Only the cluster rows are in it, and its
-- columns never change when a state is written, so it adds no work to HOT updates. Cluster keys are instance ids of at
-- most 100 characters, well within a btree entry.
-- The key leads, the service follows: the grain queries below name the service but cannot use the key (they compare it
-- with IS NOT DISTINCT FROM), so this index offers them nothing to seek by. Its first version, led by ServiceId, did:
-- where the planner's statistics lagged a growing fleet it read every cluster of the service through it, on every
-- grain read and write (tests/Broker.Tests/Integration/OrleansSqlContractTests.cs). That version is dropped here.
-- Both happen once, on the first start of a version that has them: building the index holds up grain writes while it
-- builds (seconds for a hundred thousand rows), and the drop takes a brief exclusive lock.
DO $$
BEGIN
    IF to_regclass('IX_OrleansStorage_ClusterKeys') IS NULL THEN
        CREATE INDEX IX_OrleansStorage_ClusterKeys ON OrleansStorage ((GrainIdExtensionString COLLATE "C"), ServiceId)
            WHERE GrainTypeString = 'cluster';
    END IF;
    IF to_regclass('IX_OrleansStorage_Clusters') IS NOT NULL THEN
        DROP INDEX IX_OrleansStorage_Clusters;
    END IF;
END
$$;

-- Returns the state and its version, or no row for a grain never written. A cleared state comes back as a row with
-- a NULL payload and its version, so the next write continues the version sequence.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', $$
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainTypeString = @GrainTypeString
  AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Writes the state. With a version: update only if it still matches. Without one: insert the grain's first row,
-- which the unique index refuses if another activation got there first. Exactly one row comes back, holding the
-- new version or NULL on a conflict (the provider needs the row to tell "conflict" from "nothing returned").
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', $$
WITH updated AS (
    UPDATE OrleansStorage
    SET PayloadBinary = @PayloadBinary, ModifiedOn = now(), Version = Version + 1
    WHERE @GrainStateVersion IS NOT NULL
      AND GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version
), inserted AS (
    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId,
         PayloadBinary, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString, @ServiceId,
           @PayloadBinary, 1
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING Version
)
SELECT (SELECT Version FROM updated UNION ALL SELECT Version FROM inserted) AS NewGrainStateVersion;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- ClearStateAsync with DeleteStateOnClear = false (the default): drop the payload but keep the row and bump its
-- version, so a stale activation still conflicts after the clear. Returns the new version, or NULL on a conflict.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', $$
WITH cleared AS (
    UPDATE OrleansStorage
    SET PayloadBinary = NULL, ModifiedOn = now(), Version = Version + 1
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version
)
SELECT (SELECT Version FROM cleared) AS NewGrainStateVersion;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- ClearStateAsync with DeleteStateOnClear = true: remove the row if the version matches. The provider treats a
-- result equal to the caller's ETag as a conflict, so success reports the next version rather than the deleted one.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', $$
WITH deleted AS (
    DELETE FROM OrleansStorage
    WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash AND ServiceId = @ServiceId
      AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
      AND GrainTypeString = @GrainTypeString
      AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
      AND Version = @GrainStateVersion
    RETURNING Version
)
SELECT (SELECT Version + 1 FROM deleted) AS NewGrainStateVersion;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
