-- Orleans ADO.NET clustering (membership) for PostgreSQL, as read by Microsoft.Orleans.Clustering.AdoNet 10.4.2.
--
-- Orleans keeps one membership "table" per cluster (DeploymentId = ClusterOptions.ClusterId): one row per silo plus
-- one version row. The version is the table's optimistic-concurrency token (the provider's etag): every insert or
-- update of a silo row must name the version it read, and succeeds only if that version is still current, bumping it
-- in the same statement. A stale writer gets FALSE and Orleans re-reads and retries; this is what keeps concurrent
-- silos from overwriting each other's view of who is alive or dead.
--
-- Parameters the provider binds: @DeploymentId, @Address (text), @Port, @Generation, @SiloName, @HostName, @Status,
-- @ProxyPort, @StartTime, @IAmAliveTime (UTC timestamps), @SuspectTimes (text, may be NULL), @Version (int).
-- Result columns it reads: Address, Port, Generation, SiloName, HostName, Status, ProxyPort, SuspectTimes, StartTime,
-- IAmAliveTime, Version; the insert/update/version queries must return exactly one row with one boolean column.

CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId varchar(150) NOT NULL,
    Timestamp    timestamptz  NOT NULL DEFAULT now(),
    Version      integer      NOT NULL DEFAULT 0,

    CONSTRAINT PK_OrleansMembershipVersionTable PRIMARY KEY (DeploymentId)
);

CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId varchar(150) NOT NULL,
    Address      varchar(45)  NOT NULL,  -- long enough for any IPv6 text form
    Port         integer      NOT NULL,
    Generation   integer      NOT NULL,
    SiloName     varchar(150) NOT NULL,
    HostName     varchar(150) NOT NULL,
    Status       integer      NOT NULL,  -- Orleans SiloStatus: 3 = Active, 6 = Dead
    ProxyPort    integer      NOT NULL,  -- gateway port, 0 when the silo is no gateway
    SuspectTimes text         NULL,      -- "silo,date|silo,date": the suspicion votes against this silo
    StartTime    timestamptz  NOT NULL,
    IAmAliveTime timestamptz  NOT NULL,

    CONSTRAINT PK_OrleansMembershipTable PRIMARY KEY (DeploymentId, Address, Port, Generation)
);

-- Creates the cluster's version row on first start. Returns TRUE only for the silo that created it.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipVersionKey', $$
WITH created AS (
    INSERT INTO OrleansMembershipVersionTable (DeploymentId)
    VALUES (@DeploymentId)
    ON CONFLICT (DeploymentId) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM created);
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- A silo announces itself. The version bump and the insert are one statement: the insert only happens if the bump
-- matched @Version, and a concurrent writer that bumped first makes this one match nothing (FALSE), so no silo row
-- is ever written against a stale view. The NOT EXISTS keeps an already-present row from costing a version bump.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('InsertMembershipKey', $$
WITH version_bump AS (
    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
      AND NOT EXISTS (
          SELECT 1 FROM OrleansMembershipTable
          WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
    RETURNING DeploymentId
), inserted AS (
    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    SELECT DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM version_bump
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM inserted);
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- A silo changes a row (its own status, or a suspicion vote / death declaration against another silo), under the same
-- version check as the insert. IAmAliveTime never moves backwards: the unversioned heartbeat below may have written a
-- newer value than the one in the caller's snapshot of the entry.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateMembershipKey', $$
WITH version_bump AS (
    UPDATE OrleansMembershipVersionTable
    SET Version = Version + 1, Timestamp = now()
    WHERE DeploymentId = @DeploymentId
      AND Version = @Version
      AND EXISTS (
          SELECT 1 FROM OrleansMembershipTable
          WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation)
    RETURNING DeploymentId
), updated AS (
    UPDATE OrleansMembershipTable AS m
    SET Status = @Status,
        SuspectTimes = @SuspectTimes,
        IAmAliveTime = GREATEST(m.IAmAliveTime, @IAmAliveTime)
    FROM version_bump AS v
    WHERE m.DeploymentId = v.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM updated);
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Heartbeat. Deliberately unversioned (it would otherwise make every other writer retry every few seconds); Orleans
-- ignores its result.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpdateIAmAlivetimeKey', $$
UPDATE OrleansMembershipTable
SET IAmAliveTime = GREATEST(IAmAliveTime, @IAmAliveTime)
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- One silo's row (or none) with the table version. Driven from the version row so that the version is returned even
-- when the silo has no row: the provider reads the version from the first row and treats a NULL StartTime as "no entry".
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadRowKey', $$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m
       ON m.DeploymentId = v.DeploymentId AND m.Address = @Address AND m.Port = @Port AND m.Generation = @Generation
WHERE v.DeploymentId = @DeploymentId;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- The whole membership table of the cluster, same shape as above.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('MembershipReadAllKey', $$
SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
       m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
FROM OrleansMembershipVersionTable AS v
LEFT JOIN OrleansMembershipTable AS m ON m.DeploymentId = v.DeploymentId
WHERE v.DeploymentId = @DeploymentId;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Gateways a client may connect to: active silos that listen for clients (@Status is SiloStatus.Active).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('GatewaysQueryKey', $$
SELECT Address, ProxyPort, Generation
FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Status = @Status AND ProxyPort > 0;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Forgets a whole cluster (used by tests and tooling).
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteMembershipTableEntriesKey', $$
WITH deleted_members AS (
    DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId
)
DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Prunes long-dead silos in one sweep. Orleans 10.4.2 only uses this when CleanupDefunctSiloEntryKey (below) is
-- missing; it is kept because the provider requires the key to exist. Only Dead (6) rows are removed: a silo that is
-- merely slow (Joining, ShuttingDown, ...) must keep its row however old its heartbeat.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntriesKey', $$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId
  AND Status = 6
  AND IAmAliveTime < @IAmAliveTime
  AND StartTime < @IAmAliveTime;
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;

-- Prunes one dead silo row that the provider has just read and judged expired. The row is deleted only if it is
-- still exactly what was read (status, start, heartbeat, votes), so a row that changed meanwhile survives until the
-- next sweep. SuspectTimes compares NULL and '' as equal because the provider reads an empty list back as NULL.
INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES ('CleanupDefunctSiloEntryKey', $$
DELETE FROM OrleansMembershipTable
WHERE DeploymentId = @DeploymentId AND Address = @Address AND Port = @Port AND Generation = @Generation
  AND Status = 6
  AND StartTime = @StartTime
  AND IAmAliveTime = @IAmAliveTime
  AND COALESCE(SuspectTimes, '') = COALESCE(@SuspectTimes, '');
$$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
