namespace OnDemand.Grains.Provisioning;

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
/// <param name="CaFile">the CA that signs the clusters' server certificates (PEM file): when set, the broker verifies
/// the server (certificate and host name) and binding credentials tell apps to do the same; when null, TLS is used if
/// the server offers it, unverified (local runs, tests).</param>
public sealed record ClusterAdminEndpoint(string Host, int Port, string Username, string Password, string Database, string? CaFile = null)
{
    /// <summary>The CA as PEM text for binding credentials, or null.</summary>
    public string? CaCertificate => CaFile is null ? null : File.ReadAllText(CaFile);
}

/// <summary>What a binding hands to an app.</summary>
/// <param name="CaCertificate">PEM of the CA to verify the server with; its presence means TLS is to be verified.</param>
public sealed record DatabaseCredentials(string Hostname, int Port, string Name, string Username, string Password, string Uri, string JdbcUrl, string? CaCertificate = null);

/// <summary>A provisioning step failed. Transient: the cluster was unreachable or busy, try again later.</summary>
public sealed class DatabaseProvisioningException(string message, bool transient, Exception? inner = null) : Exception(message, inner)
{
    public bool Transient { get; } = transient;
}
