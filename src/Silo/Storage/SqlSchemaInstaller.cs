using Microsoft.Extensions.Logging;
using Npgsql;

namespace OnDemand.Silo.Storage;

/// <summary>
/// Applies the project's own PostgreSQL scripts for Orleans' ADO.NET contract (the <c>sql/</c> folder): tables plus
/// the named queries the clustering, persistence and reminder providers read from <c>OrleansQuery</c>.
/// </summary>
/// <remarks>
/// The scripts are idempotent, so every silo applies all of them on every start; there is no migration ledger to
/// drift. Several silos starting together would still race on <c>CREATE TABLE IF NOT EXISTS</c> (PostgreSQL's
/// catalog insert is not atomic with its existence check), hence the advisory lock.
/// </remarks>
public static class SqlSchemaInstaller
{
    /// <summary>The folder name the scripts live in, in the repository and next to the built app.</summary>
    public const string SqlFolderName = "sql";

    /// <summary>The first script; its presence identifies a scripts folder.</summary>
    private const string MarkerScript = "01-main.sql";

    /// <summary>
    /// Advisory lock key shared by every installer on a database: the ASCII bytes of "OnDemand" as a bigint, so it
    /// cannot collide with locks taken by anything else we run.
    /// </summary>
    private const long AdvisoryLockKey = 0x4F6E_4465_6D61_6E64;

    /// <summary>
    /// Applies every <c>*.sql</c> file of <paramref name="sqlDirectory"/> in ordinal name order, each in its own
    /// transaction that first takes a transaction-scoped advisory lock.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="FileNotFoundException">The directory holds no <c>*.sql</c> file.</exception>
    public static async Task ApplyAsync(
        string connectionString,
        string sqlDirectory,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentException.ThrowIfNullOrWhiteSpace(sqlDirectory);

        if (!Directory.Exists(sqlDirectory))
        {
            throw new DirectoryNotFoundException($"SQL scripts directory '{sqlDirectory}' does not exist.");
        }

        var scripts = Directory.GetFiles(sqlDirectory, "*.sql").Order(StringComparer.Ordinal).ToArray();
        if (scripts.Length == 0)
        {
            throw new FileNotFoundException($"No *.sql scripts found in '{sqlDirectory}'.");
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);

        foreach (var script in scripts)
        {
            var name = Path.GetFileName(script);
            var sql = await File.ReadAllTextAsync(script, cancellationToken);

            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            // Waits while another silo applies the same script; released by the commit or rollback below.
            await using (var takeLock = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction))
            {
                takeLock.Parameters.AddWithValue("key", AdvisoryLockKey);
                takeLock.CommandTimeout = 0; // bounded by cancellationToken, not by how long the other silo takes
                await takeLock.ExecuteNonQueryAsync(cancellationToken);
            }

            try
            {
                await using var apply = new NpgsqlCommand(sql, connection, transaction);
                await apply.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException exception)
            {
                throw new InvalidOperationException(
                    $"Applying SQL script '{name}' failed: {exception.MessageText} (SQLSTATE {exception.SqlState}).",
                    exception);
            }

            await transaction.CommitAsync(cancellationToken);
            logger?.LogDebug("Applied SQL script {Script}", name);
        }

        logger?.LogInformation(
            "Orleans SQL schema is up to date ({Count} scripts from {Directory})", scripts.Length, sqlDirectory);
    }

    /// <summary>
    /// Finds the scripts folder: a <c>sql</c> folder holding <c>01-main.sql</c>, looked for next to the app
    /// (published app, build output), then in the current directory and its parents (<c>dotnet run</c> from the
    /// repository), then in the parents of the app directory (tests run from <c>bin/</c>).
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder was found; the message lists where it looked.</exception>
    public static string FindSqlDirectory()
    {
        var candidates = new[] { AppContext.BaseDirectory }
            .Concat(SelfAndAncestors(Directory.GetCurrentDirectory()))
            .Concat(SelfAndAncestors(AppContext.BaseDirectory))
            .Select(directory => Path.Combine(directory, SqlFolderName))
            .Distinct(StringComparer.Ordinal)
            .ToList();

        return candidates.FirstOrDefault(candidate => File.Exists(Path.Combine(candidate, MarkerScript)))
            ?? throw new DirectoryNotFoundException(
                $"No '{SqlFolderName}/{MarkerScript}' found. Looked in: {string.Join(", ", candidates)}.");
    }

    private static IEnumerable<string> SelfAndAncestors(string path)
    {
        for (var directory = new DirectoryInfo(path); directory is not null; directory = directory.Parent)
        {
            yield return directory.FullName;
        }
    }
}
