using Npgsql;

namespace OnDemand.Tests.Infrastructure;

/// <summary>
/// A user's session with the postgresql-on-demand service through OSB: clusters, databases by cluster name,
/// bindings, and what the test run's PostgreSQL (where emulated clusters live) really holds.
/// </summary>
public sealed class PgSession(OsbClient osb, PostgresServer postgres)
{
    public const string Service = Catalog.PostgreSql;

    public OsbClient Osb => osb;

    public static JsonObject Database(string cluster, string name, string spaceGuid = OsbClient.SpaceGuid) =>
        OsbClient.ProvisionBody(Service, Catalog.Pg1Gb, new JsonObject { ["cluster"] = cluster }, instanceName: name, spaceGuid: spaceGuid);

    /// <summary>Polls last_operation like Cloud Controller (with the instance's ids) until it leaves "in progress".</summary>
    public async Task<JsonObject> WaitAsync(string id, string planId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var answer = await osb.LastOperationAsync(id, serviceId: Service, planId: planId);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            if (answer.Field("state") != "in progress") return answer.Body!;
            if (DateTime.UtcNow > deadline) Assert.Fail($"{id} still in progress: {answer}");
            await Task.Delay(50);
        }
    }

    public async Task<string> ClusterAsync(string name, string? id = null, string spaceGuid = OsbClient.SpaceGuid)
    {
        id ??= Guid.NewGuid().ToString();
        var answer = await osb.ProvisionAsync(id, OsbClient.ProvisionBody(Service, Catalog.PgClusterSmall, instanceName: name, spaceGuid: spaceGuid));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("succeeded", (await WaitAsync(id, Catalog.PgClusterSmall))["state"]!.GetValue<string>());
        return id;
    }

    public async Task<string> DatabaseAsync(string cluster, string? id = null, string name = "db")
    {
        id ??= Guid.NewGuid().ToString();
        var answer = await osb.ProvisionAsync(id, Database(cluster, name));
        Assert.True(answer.Status == HttpStatusCode.Accepted, answer.ToString());
        Assert.Equal("succeeded", (await WaitAsync(id, Catalog.Pg1Gb))["state"]!.GetValue<string>());
        return id;
    }

    public async Task<JsonNode> BindAsync(string database, string bindingId)
    {
        var answer = await osb.BindAsync(database, bindingId, Service, Catalog.Pg1Gb, "app-1");
        Assert.True(answer.Status == HttpStatusCode.Created, answer.ToString());
        return answer.Body!["credentials"]!;
    }

    /// <summary>An open connection, or the error of opening it (the connection is disposed then, not leaked).</summary>
    public static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public static NpgsqlConnection Connect(JsonNode credentials) => new(new NpgsqlConnectionStringBuilder
    {
        Host = credentials["hostname"]!.GetValue<string>(),
        Port = credentials["port"]!.GetValue<int>(),
        Database = credentials["name"]!.GetValue<string>(),
        Username = credentials["username"]!.GetValue<string>(),
        Password = credentials["password"]!.GetValue<string>(),
        Pooling = false,
        Timeout = 5,
    }.ConnectionString);

    public static async Task<bool> CanConnectAsync(JsonNode credentials)
    {
        try
        {
            await using var connection = Connect(credentials);
            await connection.OpenAsync();
            return true;
        }
        catch (PostgresException) { return false; }
    }

    public async Task<long> DatabasesNamedAsync(string id) =>
        (long)(await ScalarAsync("SELECT count(*) FROM pg_database WHERE datname = @p", OnDemand.Grains.Provisioning.DatabaseNames.Database(id)))!;

    public async Task<object?> ScalarAsync(string sql, object? parameter = null)
    {
        await using var connection = new NpgsqlConnection(postgres.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (parameter is not null) command.Parameters.AddWithValue("p", parameter);
        return await command.ExecuteScalarAsync();
    }

    public async Task<List<string>> NamesAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(postgres.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var names = new List<string>();
        while (await reader.ReadAsync()) names.Add(reader.GetString(0));
        return names;
    }
}
