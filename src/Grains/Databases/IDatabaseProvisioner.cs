namespace OnDemand.Grains.Databases;

/// <summary>
/// Creates databases and per-binding accounts inside a dedicated cluster, over a connection to the cluster's admin
/// account. Every method is idempotent (safe to repeat after a lost reply or a crash) and quick (seconds at most).
/// </summary>
public interface IDatabaseProvisioner
{
    /// <summary>The catalog's `databases.provisioner` value this implements, e.g. "postgresql".</summary>
    string Engine { get; }

    /// <summary>Creates the database (and whatever owns it) unless it exists. <paramref name="sizeMb"/> is enforced where the engine can.</summary>
    Task CreateDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, int? sizeMb, CancellationToken cancellationToken);

    /// <summary>Drops the database and its accounts; missing is fine.</summary>
    Task DropDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, CancellationToken cancellationToken);

    /// <summary>Creates (or resets the password of) an account with full rights on the database; returns what an app needs to connect.</summary>
    Task<DatabaseCredentials> CreateUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, string password, CancellationToken cancellationToken);

    /// <summary>Ends the account's sessions, hands what it created to the database's owner, and drops it; missing is fine.</summary>
    Task DropUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, CancellationToken cancellationToken);
}

/// <summary>How the broker reaches a cluster's admin account.</summary>
public sealed record ClusterAdminEndpoint(string Host, int Port, string Username, string Password, string Database);

/// <summary>What a binding hands to an app.</summary>
public sealed record DatabaseCredentials(string Hostname, int Port, string Name, string Username, string Password, string Uri, string JdbcUrl);

/// <summary>A provisioning step failed. Transient: the cluster was unreachable or busy, try again later.</summary>
public sealed class DatabaseProvisioningException(string message, bool transient, Exception? inner = null) : Exception(message, inner)
{
    public bool Transient { get; } = transient;
}
