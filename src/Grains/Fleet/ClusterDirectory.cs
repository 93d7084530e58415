using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orleans.Configuration;

namespace OnDemand.Grains.Fleet;

/// <summary>
/// The ids of every cluster grain that has state in storage, old ones included: the fleet comes from storage, not
/// from a registry every create would have to write (docs/fleet.md, "How the fleet is read").
/// </summary>
public interface IClusterDirectory
{
    /// <summary>Streamed in pages, in ordinal order; a deleted cluster is listed too (its status says so).</summary>
    IAsyncEnumerable<string> ListClusterIdsAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Reads the AdoNet grain storage table (sql/03-persistence.sql): the cluster grain's state is stored under its state
/// name ("cluster", ClusterGrain's [PersistentState]) with the instance id as the string key; a cleared state keeps
/// its row with a NULL payload and is skipped.
/// </summary>
public sealed class PostgresClusterDirectory(string connectionString, IOptions<ClusterOptions> cluster) : IClusterDirectory
{
    public const string ClusterStateName = "cluster";
    public const int PageSize = 1000;

    /// <summary>The type is a literal, not a parameter: the partial index IX_OrleansStorage_ClusterKeys (sql/03-persistence.sql)
    /// matches it in every plan.</summary>
    public const string Query = $"""
        SELECT GrainIdExtensionString FROM OrleansStorage
        WHERE ServiceId = @service AND GrainTypeString = '{ClusterStateName}' AND PayloadBinary IS NOT NULL
          AND GrainIdExtensionString IS NOT NULL AND GrainIdExtensionString COLLATE "C" > @after
        ORDER BY GrainIdExtensionString COLLATE "C"
        LIMIT @page
        """;

    public async IAsyncEnumerable<string> ListClusterIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var after = "";
        while (true)
        {
            var page = new List<string>(PageSize);
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand(Query, connection);
                command.Parameters.AddWithValue("service", cluster.Value.ServiceId);
                command.Parameters.AddWithValue("after", after);
                command.Parameters.AddWithValue("page", PageSize);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken)) page.Add(reader.GetString(0));
            }
            foreach (var id in page) yield return id;
            if (page.Count < PageSize) yield break;
            after = page[^1];
        }
    }
}

/// <summary>The fallback where grain state is not in PostgreSQL (the in-memory test silo): no stored cluster to list.</summary>
public sealed class NoClusterDirectory : IClusterDirectory
{
    public async IAsyncEnumerable<string> ListClusterIdsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.CompletedTask;
        yield break;
    }
}

public static class ClusterDirectoryServiceCollectionExtensions
{
    /// <summary>The SQL directory over the Orleans database (ConnectionStrings:Orleans), for silos and gateways.</summary>
    public static IServiceCollection AddPostgresClusterDirectory(this IServiceCollection services, string connectionString)
    {
        services.RemoveAll<IClusterDirectory>();
        services.AddSingleton<IClusterDirectory>(sp => new PostgresClusterDirectory(connectionString, sp.GetRequiredService<IOptions<ClusterOptions>>()));
        return services;
    }
}
