using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using OnDemand.Silo.Storage;
using OnDemand.Tests.Infrastructure;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Proves the project's own <c>sql/</c> scripts against the real Orleans 10.4.2 ADO.NET providers on a real
/// PostgreSQL: idempotent installation, the membership version protocol, grain state with optimistic concurrency,
/// reminders, and a client that finds the silos through the membership table.
/// </summary>
public sealed class OrleansSqlContractTests(PostgresFixture postgres)
{
    public const string StorageName = "store";
    private const string DeleteOnClearStorageName = "store-delete-on-clear";
    private const string Invariant = "Npgsql";
    private const string ConnectionStringKey = "OnDemandTests:OrleansConnectionString";

    /// <summary>Every query key the three 10.4.2 providers read (CleanupDefunctSiloEntryKey is optional for them).</summary>
    private static readonly string[] ContractQueryKeys =
    [
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey", "DeleteMembershipTableEntriesKey",
        "GatewaysQueryKey", "InsertMembershipKey", "InsertMembershipVersionKey", "MembershipReadAllKey",
        "MembershipReadRowKey", "UpdateIAmAlivetimeKey", "UpdateMembershipKey",
        "ClearStorageKey", "DeleteStorageKey", "ReadFromStorageKey", "WriteToStorageKey",
        "DeleteReminderRowKey", "DeleteReminderRowsKey", "ReadRangeRows1Key", "ReadRangeRows2Key",
        "ReadReminderRowKey", "ReadReminderRowsKey", "UpsertReminderRowKey",
    ];

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scripts_apply_repeatedly_and_concurrently_without_losing_data()
    {
        var scripts = SqlSchemaInstaller.FindSqlDirectory();

        // Silos starting together all install on an empty database at once.
        var fresh = await postgres.Server.CreateDatabaseAsync(NewDatabaseName());
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            SqlSchemaInstaller.ApplyAsync(fresh, scripts, cancellationToken: Cancellation)));

        await ExecuteAsync(fresh, """
            INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, ServiceId, PayloadBinary, Version)
            VALUES (1, 0, 0, 2, 'sentinel', 'svc', '\x01'::bytea, 7)
            """);
        await ExecuteAsync(fresh, "UPDATE OrleansQuery SET QueryText = 'outdated' WHERE QueryKey = 'ReadFromStorageKey'");
        // A database that still has the first fleet-listing index (led by ServiceId), which grain queries could misuse.
        await ExecuteAsync(fresh, """CREATE INDEX IX_OrleansStorage_Clusters ON OrleansStorage (ServiceId, (GrainIdExtensionString COLLATE "C")) WHERE GrainTypeString = 'cluster'""");

        await SqlSchemaInstaller.ApplyAsync(fresh, scripts, cancellationToken: Cancellation);
        await SqlSchemaInstaller.ApplyAsync(fresh, scripts, cancellationToken: Cancellation);

        Assert.Equal(7, await ScalarAsync<int>(fresh, "SELECT Version FROM OrleansStorage WHERE GrainTypeString = 'sentinel'"));
        var keys = await ReadStringsAsync(fresh, "SELECT QueryKey FROM OrleansQuery");
        Assert.Equal(ContractQueryKeys.Order(StringComparer.Ordinal), keys.Order(StringComparer.Ordinal));
        Assert.NotEqual("outdated", await ScalarAsync<string>(fresh, "SELECT QueryText FROM OrleansQuery WHERE QueryKey = 'ReadFromStorageKey'"));
        Assert.Equal(["ix_orleansstorage_clusterkeys", "ux_orleansstorage_grain"],
            await ReadStringsAsync(fresh, "SELECT indexname::text FROM pg_indexes WHERE tablename = 'orleansstorage' ORDER BY indexname"));
    }

    [Fact]
    public async Task Membership_writes_succeed_only_against_the_current_table_version()
    {
        var connectionString = await postgres.Server.CreateOrleansDatabaseAsync(NewDatabaseName());
        var cluster = Options.Create(new ClusterOptions { ClusterId = "membership-contract", ServiceId = "svc" });
        var services = new ServiceCollection().BuildServiceProvider();
        var table = new AdoNetClusteringTable(
            services,
            cluster,
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = Invariant, ConnectionString = connectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, Cancellation);

        var empty = await table.ReadAllAsync(Cancellation);
        Assert.Empty(empty.Members);

        var silo = NewMembershipEntry(port: 11111);
        Assert.True(await table.InsertRowAsync(silo, empty.Version.Next(), Cancellation));
        Assert.False(
            await table.InsertRowAsync(NewMembershipEntry(port: 11112), empty.Version.Next(), Cancellation),
            "an insert against a stale table version must be refused");

        var afterInsert = await table.ReadAllAsync(Cancellation);
        Assert.Equal(empty.Version.Version + 1, afterInsert.Version.Version);
        var (inserted, etag) = Assert.Single(afterInsert.Members);
        Assert.Equal(silo.SiloAddress, inserted.SiloAddress);
        Assert.Equal(silo.StartTime, inserted.StartTime, TimeSpan.FromMilliseconds(1));

        var voter = SiloAddress.New(IPAddress.Loopback, 22222, 7);
        silo.Status = SiloStatus.Active;
        silo.SuspectTimes = [Tuple.Create(voter, DateTime.UtcNow)];
        Assert.True(await table.UpdateRowAsync(silo, etag, afterInsert.Version.Next(), Cancellation));
        Assert.False(
            await table.UpdateRowAsync(silo, etag, afterInsert.Version.Next(), Cancellation),
            "an update against a stale table version must be refused");

        var (active, activeEtag) = Assert.Single((await table.ReadRowAsync(silo.SiloAddress, Cancellation)).Members);
        Assert.Equal(SiloStatus.Active, active.Status);
        Assert.Equal(voter, Assert.Single(active.SuspectTimes!).Item1);

        // Heartbeats are unversioned but never move the clock backwards.
        await table.UpdateIAmAliveAsync(
            new MembershipEntry { SiloAddress = silo.SiloAddress, IAmAliveTime = active.IAmAliveTime.AddMinutes(-5) },
            Cancellation);
        var (afterHeartbeat, _) = Assert.Single((await table.ReadRowAsync(silo.SiloAddress, Cancellation)).Members);
        Assert.Equal(active.IAmAliveTime, afterHeartbeat.IAmAliveTime);

        var gateways = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            services,
            Options.Create(new AdoNetClusteringClientOptions { Invariant = Invariant, ConnectionString = connectionString }),
            Options.Create(new GatewayOptions()),
            cluster);
        await gateways.InitializeGatewayListProvider();
        Assert.Equal(silo.ProxyPort, Assert.Single(await gateways.GetGatewaysAsync(Cancellation)).Port);

        // A dead silo past the cut-off is pruned through CleanupDefunctSiloEntryKey, which matches the row exactly
        // as read (timestamps and suspicion votes included).
        var current = await table.ReadAllAsync(Cancellation);
        active.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(active, activeEtag, current.Version.Next(), Cancellation));
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(1), Cancellation);
        Assert.Empty((await table.ReadAllAsync(Cancellation)).Members);

        await table.DeleteMembershipTableEntriesAsync(cluster.Value.ClusterId, Cancellation);
        Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM OrleansMembershipVersionTable"));
    }

    [Fact]
    public async Task Grain_state_and_membership_survive_a_full_cluster_restart()
    {
        var connectionString = await postgres.Server.CreateOrleansDatabaseAsync(NewDatabaseName());
        var clusterId = $"restart-{Guid.NewGuid():N}";
        var serviceId = $"svc-{Guid.NewGuid():N}";
        var grainKey = Guid.NewGuid().ToString("N");
        var activeGateways =
            $"SELECT count(*) FROM OrleansMembershipTable WHERE DeploymentId = '{clusterId}' AND Status = 3 AND ProxyPort > 0";

        await using (var first = await StartClusterAsync(connectionString, clusterId, serviceId, silos: 2))
        {
            // The cluster's client found its gateways through the membership table (GatewaysQueryKey).
            await first.Client.GetGrain<ISqlContractTestGrain>(grainKey).SetValue("written before the restart");
            Assert.Equal(2L, await ScalarAsync<long>(connectionString, activeGateways));
            await first.StopAllSilosAsync();
        }

        Assert.Equal(0L, await ScalarAsync<long>(connectionString, activeGateways));
        var payload = await ScalarAsync<byte[]>(connectionString, "SELECT PayloadBinary FROM OrleansStorage");
        Assert.NotEqual((byte)'{', payload[0]); // the Orleans binary serializer, not the JSON default

        await using var second = await StartClusterAsync(connectionString, clusterId, serviceId, silos: 1);
        Assert.Equal("written before the restart", await second.Client.GetGrain<ISqlContractTestGrain>(grainKey).GetValue());
        Assert.Equal(1L, await ScalarAsync<long>(connectionString, activeGateways));
    }

    [Fact]
    public async Task Grain_storage_refuses_stale_writes_and_clears_by_version()
    {
        var connectionString = await postgres.Server.CreateOrleansDatabaseAsync(NewDatabaseName());
        await using var cluster = await StartClusterAsync(connectionString, NewId("cluster"), NewId("svc"), silos: 1);
        var silo = cluster.GetSiloServiceProvider();
        var storage = silo.GetRequiredKeyedService<IGrainStorage>(StorageName);
        const string grainType = "sqlcontractdirect";
        var type = GrainType.Create(grainType);
        var guid = Guid.NewGuid();

        // Every key shape the provider maps to columns; the last two differ only in their extension.
        GrainId[] grains =
        [
            GrainId.Create(grainType, $"string-key-{guid:N}"),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid)),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid, "extension")),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42, "a")),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42, "b")),
        ];

        foreach (var grain in grains)
        {
            var value = new SqlContractTestState { Value = "first" };
            var state = new GrainState<SqlContractTestState>(value);
            await storage.WriteStateAsync(grainType, grain, state);
            Assert.Equal("1", state.ETag);

            var stale = new GrainState<SqlContractTestState>(new SqlContractTestState { Value = "stale" }, state.ETag);
            value.Value = "second";
            await storage.WriteStateAsync(grainType, grain, state);
            Assert.Equal("2", state.ETag);

            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grain, stale));
            var believesNew = new GrainState<SqlContractTestState>(new SqlContractTestState { Value = "duplicate" });
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grain, believesNew));

            var read = new GrainState<SqlContractTestState>();
            await storage.ReadStateAsync(grainType, grain, read);
            Assert.NotNull(read.State);
            Assert.Equal(("second", "2", true), (read.State.Value, read.ETag, read.RecordExists));

            // Clearing keeps the row and bumps the version, so the stale writer still loses afterwards.
            await storage.ClearStateAsync(grainType, grain, read);
            Assert.Equal(("3", false), (read.ETag, read.RecordExists));
            await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(grainType, grain, stale));

            var afterClear = new GrainState<SqlContractTestState>();
            await storage.ReadStateAsync(grainType, grain, afterClear);
            Assert.NotNull(afterClear.State);
            Assert.Equal(((string?)null, "3", false), (afterClear.State.Value, afterClear.ETag, afterClear.RecordExists));
        }

        Assert.Equal((long)grains.Length, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM OrleansStorage"));

        // DeleteStateOnClear = true removes the row (DeleteStorageKey); the grain then starts a new version sequence.
        var deleting = silo.GetRequiredKeyedService<IGrainStorage>(DeleteOnClearStorageName);
        var deletedGrain = GrainId.Create(grainType, $"deleted-{guid:N}");
        var deletedState = new GrainState<SqlContractTestState>(new SqlContractTestState { Value = "to delete" });
        await deleting.WriteStateAsync(grainType, deletedGrain, deletedState);
        var staleDelete = new GrainState<SqlContractTestState>(deletedState.State, deletedState.ETag);
        await deleting.WriteStateAsync(grainType, deletedGrain, deletedState);
        await Assert.ThrowsAsync<InconsistentStateException>(() => deleting.ClearStateAsync(grainType, deletedGrain, staleDelete));
        await deleting.ClearStateAsync(grainType, deletedGrain, deletedState);
        Assert.Null(deletedState.ETag);
        Assert.Equal((long)grains.Length, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM OrleansStorage"));
        await deleting.WriteStateAsync(grainType, deletedGrain, deletedState);
        Assert.Equal("1", deletedState.ETag);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Grain_state_is_read_and_written_through_the_unique_index_however_many_clusters_are_stored(bool analyzed)
    {
        // A fleet that grew faster than autovacuum analyses it: the planner knows nothing of the new rows. A plan
        // that takes another index (the fleet listing's, which matches every cluster of the service) reads every
        // cluster's row on every read and write - milliseconds each at this size, and growing with the fleet.
        // Every kind of grain state the broker stores is here, so an index added for any of them is checked too.
        var connectionString = await postgres.Server.CreateOrleansDatabaseAsync(NewDatabaseName());
        string[] stateNames = ["cluster", "database", "cluster-name", "plan-quota"];
        await ExecuteAsync(connectionString, """
            INSERT INTO OrleansStorage (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString, ServiceId, PayloadBinary, Version)
            SELECT hashtext(t.name || '-' || i), 0, 0, 77 + t.n, t.name, t.name || '-' || i, 'svc', decode(repeat('ab', 400), 'hex'), 1
            FROM unnest(ARRAY['cluster', 'database', 'cluster-name', 'plan-quota']) WITH ORDINALITY AS t(name, n), generate_series(1, 8000) AS i
            """);
        if (analyzed) await ExecuteAsync(connectionString, "ANALYZE OrleansStorage");

        foreach (var (stateName, typeHash) in stateNames.Select((name, i) => (name, 78 + i)))
        {
            foreach (var key in new[] { "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey" })
            {
                var query = await ScalarAsync<string>(connectionString, $"SELECT QueryText FROM OrleansQuery WHERE QueryKey = '{key}'");
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(Cancellation);
                // EXPLAIN ANALYZE runs the statement: each one in a transaction of its own, rolled back, so all see version 1.
                await using var transaction = await connection.BeginTransactionAsync(Cancellation);
                await using var command = new NpgsqlCommand("EXPLAIN (ANALYZE, COSTS OFF, SUMMARY OFF) " + query, connection, transaction);
                command.Parameters.AddWithValue("GrainIdHash", await ScalarAsync<int>(connectionString, $"SELECT hashtext('{stateName}-777')"));
                command.Parameters.AddWithValue("GrainIdN0", 0L);
                command.Parameters.AddWithValue("GrainIdN1", 0L);
                command.Parameters.AddWithValue("GrainTypeHash", typeHash);
                command.Parameters.AddWithValue("GrainTypeString", stateName);
                command.Parameters.AddWithValue("GrainIdExtensionString", $"{stateName}-777");
                command.Parameters.AddWithValue("ServiceId", "svc");
                command.Parameters.AddWithValue("GrainStateVersion", 1);
                command.Parameters.AddWithValue("PayloadBinary", new byte[] { 1, 2, 3 });
                var plan = new List<string>();
                await using (var reader = await command.ExecuteReaderAsync(Cancellation))
                {
                    while (await reader.ReadAsync(Cancellation)) plan.Add(reader.GetString(0));
                }

                var text = string.Join('\n', plan);
                Assert.True(text.Contains("ux_orleansstorage_grain", StringComparison.OrdinalIgnoreCase), $"{key} of '{stateName}' does not use the unique index:\n{text}");
                Assert.DoesNotContain("Rows Removed by Filter", text); // the index finds the one row, nothing else is read
                Assert.Contains("rows=1", text); // and finds it
            }
        }
    }

    [Fact]
    public async Task Reminders_are_stored_versioned_and_fire()
    {
        var connectionString = await postgres.Server.CreateOrleansDatabaseAsync(NewDatabaseName());
        await using var cluster = await StartClusterAsync(connectionString, NewId("cluster"), NewId("svc"), silos: 1);
        var grain = cluster.Client.GetGrain<ISqlContractTestGrain>(Guid.NewGuid().ToString("N"));

        // A production-like one-minute period; the first tick is due after one second.
        await grain.StartReminder(dueTime: TimeSpan.FromSeconds(1), period: TimeSpan.FromMinutes(1));
        Assert.Equal(60_000L, await ScalarAsync<long>(
            connectionString, $"SELECT Period FROM OrleansRemindersTable WHERE ReminderName = '{SqlContractTestGrain.ReminderName}'"));
        await WaitUntilAsync(async () => await grain.GetReminderTicks() > 0, TimeSpan.FromSeconds(30));

        await grain.StopReminder();
        Assert.Equal(0L, await ScalarAsync<long>(connectionString, "SELECT count(*) FROM OrleansRemindersTable"));

        // The table contract itself: every upsert yields a new ETag, deletes need the current one, ring ranges work
        // on the signed hash both without and with wrap-around.
        var reminders = cluster.GetSiloServiceProvider().GetRequiredService<IReminderTable>();
        var grainId = GrainIdWithMidRangeHash();
        var entry = new ReminderEntry
        {
            GrainId = grainId,
            ReminderName = "contract",
            StartAt = DateTime.UtcNow,
            Period = TimeSpan.FromMinutes(5),
        };
        var firstEtag = await reminders.UpsertRow(entry);
        var secondEtag = await reminders.UpsertRow(entry);
        Assert.NotEqual(firstEtag, secondEtag);
        Assert.False(await reminders.RemoveRow(grainId, entry.ReminderName, firstEtag!));

        var stored = await reminders.ReadRow(grainId, entry.ReminderName);
        Assert.NotNull(stored);
        Assert.Equal((secondEtag, entry.Period), (stored.ETag, stored.Period));
        Assert.Equal(entry.StartAt, stored.StartAt, TimeSpan.FromMilliseconds(1));
        Assert.Single((await reminders.ReadRows(grainId)).Reminders);

        var hash = (int)grainId.GetUniformHashCode();
        Assert.Single((await reminders.ReadRows((uint)(hash - 1), (uint)hash)).Reminders);    // (h-1, h]
        Assert.Empty((await reminders.ReadRows((uint)hash, (uint)(hash + 1))).Reminders);     // (h, h+1]
        Assert.Single((await reminders.ReadRows(uint.MaxValue / 2, (uint)hash)).Reminders);   // wraps, ends at h
        Assert.Empty((await reminders.ReadRows((uint)hash, (uint)(hash - 1))).Reminders);     // wraps, skips h

        Assert.True(await reminders.RemoveRow(grainId, entry.ReminderName, secondEtag!));
        Assert.Null(await reminders.ReadRow(grainId, entry.ReminderName));
    }

    /// <summary>Silo side of the ADO.NET configuration, as the Silo host should configure it.</summary>
    public sealed class AdoNetSiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var connectionString = siloBuilder.Configuration[ConnectionStringKey]
                ?? throw new InvalidOperationException($"{ConnectionStringKey} is not configured.");

            siloBuilder
                .UseAdoNetClustering(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = connectionString;
                })
                .AddAdoNetGrainStorage(StorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) =>
                    options.Configure<Serializer>((storage, serializer) =>
                    {
                        storage.Invariant = Invariant;
                        storage.ConnectionString = connectionString;
                        storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                    }))
                .AddAdoNetGrainStorage(DeleteOnClearStorageName, (OptionsBuilder<AdoNetGrainStorageOptions> options) =>
                    options.Configure<Serializer>((storage, serializer) =>
                    {
                        storage.Invariant = Invariant;
                        storage.ConnectionString = connectionString;
                        storage.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
                        storage.DeleteStateOnClear = true;
                    }))
                .UseAdoNetReminderService(options =>
                {
                    options.Invariant = Invariant;
                    options.ConnectionString = connectionString;
                });
        }
    }

    /// <summary>Client side: gateways come from the membership table, as in the BrokerGateway.</summary>
    public sealed class AdoNetClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = Invariant;
                options.ConnectionString = configuration[ConnectionStringKey];
            });
    }

    private static async Task<TestCluster> StartClusterAsync(string connectionString, string clusterId, string serviceId, short silos)
    {
        var builder = new TestClusterBuilder(silos);
        builder.Options.ClusterId = clusterId;
        builder.Options.ServiceId = serviceId;
        builder.Options.UseTestClusterMembership = false;               // membership through PostgreSQL
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket; // real gateways for the client
        builder.Options.ConfigureFileLogging = false;
        builder.Properties[ConnectionStringKey] = connectionString;
        builder.AddSiloBuilderConfigurator<AdoNetSiloConfigurator>();
        builder.AddClientBuilderConfigurator<AdoNetClientConfigurator>();

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(Cancellation);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    private static MembershipEntry NewMembershipEntry(int port) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, generation: 1),
        SiloName = $"silo-{port}",
        HostName = "localhost",
        Status = SiloStatus.Joining,
        ProxyPort = port + 1000,
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
    };

    /// <summary>A grain id whose ring hash is far from the int range ends, so h-1 and h+1 do not wrap.</summary>
    private static GrainId GrainIdWithMidRangeHash()
    {
        while (true)
        {
            var grainId = GrainId.Create("sqlcontractreminder", Guid.NewGuid().ToString("N"));
            if (Math.Abs((long)(int)grainId.GetUniformHashCode()) < int.MaxValue / 2)
            {
                return grainId;
            }
        }
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(condition))] string what = "") =>
        Eventually.TrueAsync(condition, what, timeout);

    private static string NewDatabaseName() => $"sqlcontract_{Guid.NewGuid():N}";

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Cancellation);
    }

    private static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync(Cancellation)
            ?? throw new InvalidOperationException($"No result for: {sql}"));
    }

    private static async Task<List<string>> ReadStringsAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Cancellation);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Cancellation);
        var values = new List<string>();
        while (await reader.ReadAsync(Cancellation))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
