using Npgsql;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Integration;

/// <summary>
/// Issue 7, finding 10: a child records its intent before the cluster hears of it. A PostgreSQL trigger makes the
/// database grain's own state write fail at the worst moment; whatever the cluster did by then must stay reachable,
/// so Cloud Controller's orphan mitigation removes it and nothing blocks the cluster's delete or outlives its binding.
/// </summary>
public sealed class IntentFirstTests(PostgresFixture postgres) : IAsyncLifetime
{
    private BrokerStack _stack = null!;
    private OsbClient _osb = null!;

    public async ValueTask InitializeAsync()
    {
        _stack = await BrokerStack.StartAsync(postgres.Server);
        _osb = new OsbClient(_stack.Client);
    }

    public async ValueTask DisposeAsync() => await _stack.DisposeAsync();

    /// <summary>While it is installed, every write of this database grain's state fails.</summary>
    private async Task<IAsyncDisposable> FailWritesOfAsync(string databaseId)
    {
        var name = "fail_" + Guid.NewGuid().ToString("N")[..8];
        await ExecuteAsync($"""
            CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected storage failure'; END $$;
            CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON orleansstorage FOR EACH ROW
              WHEN (NEW.graintypestring = 'database' AND NEW.grainidextensionstring = '{databaseId}') EXECUTE FUNCTION {name}();
            """);
        return new Removal(() => ExecuteAsync($"DROP TRIGGER {name} ON orleansstorage; DROP FUNCTION {name}();"));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_stack.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_database_whose_own_write_failed_never_blocks_its_clusters_delete()
    {
        var pg = new PgSession(_osb, postgres.Server);
        var clusterName = "intent-" + Guid.NewGuid().ToString("N")[..8];
        var cluster = await pg.ClusterAsync(clusterName);
        var database = Guid.NewGuid().ToString();

        await using (await FailWritesOfAsync(database))
        {
            var create = await _osb.ProvisionAsync(database, PgSession.Database(clusterName, "db"));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, create.Status);
        }
        // Cloud Controller's orphan mitigation after the 5xx, until it is done.
        await Eventually.TrueAsync(async () => (await _osb.DeprovisionAsync(database, PgSession.Service, Catalog.Pg1Gb)).Status is HttpStatusCode.Gone or HttpStatusCode.Accepted,
            "the orphan-mitigation DELETE is accepted");
        await Eventually.TrueAsync(async () => (await _osb.LastOperationAsync(database)).Field("state") is null or "succeeded", "the database is gone");

        var delete = await _osb.DeprovisionAsync(cluster, PgSession.Service, Catalog.PgClusterSmall);
        Assert.True(delete.Status == HttpStatusCode.Accepted, $"the cluster's delete was refused: {delete}");
        Assert.Equal("succeeded", (await pg.WaitAsync(cluster, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_binding_whose_record_failed_leaves_no_login()
    {
        var pg = new PgSession(_osb, postgres.Server);
        var clusterName = "intent-" + Guid.NewGuid().ToString("N")[..8];
        await pg.ClusterAsync(clusterName);
        var database = await pg.DatabaseAsync(clusterName);
        var binding = Guid.NewGuid().ToString();

        await using (await FailWritesOfAsync(database))
        {
            var bind = await _osb.BindAsync(database, binding, PgSession.Service, Catalog.Pg1Gb, "app-1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, bind.Status);
        }
        await Eventually.TrueAsync(async () => (await _osb.UnbindAsync(database, binding, PgSession.Service, Catalog.Pg1Gb)).Status is HttpStatusCode.Gone or HttpStatusCode.OK,
            "the orphan-mitigation unbind is accepted");

        // No login of that binding exists, under the naming rule of today or of before.
        var logins = await pg.ScalarAsync("SELECT count(*) FROM pg_roles WHERE rolname = @p", DatabaseNames.BindingUser(binding));
        var legacyLogins = await pg.ScalarAsync("SELECT count(*) FROM pg_roles WHERE rolname = @p", DatabaseNames.LegacyBindingUser(binding));
        Assert.Equal(0L, logins);
        Assert.Equal(0L, legacyLogins);
    }

    private sealed class Removal(Func<Task> remove) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await remove();
    }
}
