using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace OnDemand.Grains.Provisioning;

/// <summary>
/// Databases and binding accounts inside a dedicated PostgreSQL cluster, through the cluster's admin account, which
/// has CREATEDB and CREATEROLE but is not a superuser.
/// </summary>
/// <remarks>Layout of a database and its logins, size, passwords and locking: docs/databases.md.</remarks>
public sealed partial class PostgresDatabaseProvisioner : IDatabaseProvisioner
{
    public const string EngineName = "postgresql";

    private const string OwnerSuffix = "_owner";
    private const int MaxIdentifierLength = 63; // NAMEDATALEN - 1: longer names are silently truncated by PostgreSQL
    private const int MaxDatabaseNameLength = MaxIdentifierLength - 6; // room for OwnerSuffix
    private const int ConnectTimeoutSeconds = 5;
    private const int CommandTimeoutSeconds = 15;
    private const int ScramIterations = 4096; // PostgreSQL's default (scram_iterations)
    private const string ApplicationName = "ondemand-broker";
    private const string LockPrefix = "ondemand-broker/database/"; // advisory lock key, hashed with the database name

    private static readonly TimeSpan SessionExitTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SessionExitPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>SQLSTATEs worth retrying: the server is busy, starting, stopping or lost the connection.</summary>
    private static readonly HashSet<string> TransientStates =
    [
        PostgresErrorCodes.TooManyConnections,          // 53300
        PostgresErrorCodes.InsufficientResources,       // 53000
        PostgresErrorCodes.OutOfMemory,                 // 53200
        PostgresErrorCodes.ConfigurationLimitExceeded,  // 53400
        PostgresErrorCodes.AdminShutdown,               // 57P01
        PostgresErrorCodes.CrashShutdown,               // 57P02
        PostgresErrorCodes.CannotConnectNow,            // 57P03
        PostgresErrorCodes.QueryCanceled,               // 57014: statement_timeout on the server
        PostgresErrorCodes.SerializationFailure,        // 40001
        PostgresErrorCodes.DeadlockDetected,            // 40P01
        PostgresErrorCodes.LockNotAvailable,            // 55P03
        PostgresErrorCodes.ObjectInUse,                 // 55006: e.g. "database is being accessed by other users"
    ];

    private readonly ILogger _logger;

    public PostgresDatabaseProvisioner(ILogger<PostgresDatabaseProvisioner>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Engine => EngineName;

    /// <summary>The NOLOGIN role owning <paramref name="databaseName"/>; binding accounts are its members.</summary>
    public static string OwnerRoleOf(string databaseName) => databaseName + OwnerSuffix;

    public Task CreateDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, int? sizeMb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        if (sizeMb is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeMb), sizeMb, "The size must be positive when given.");
        }

        var owner = OwnerRoleOf(databaseName);
        return RunAsync(admin, databaseName, $"creating database '{databaseName}'", async (connection, ct) =>
        {
            var existingOwner = await DatabaseOwnerAsync(connection, databaseName, ct);
            if (existingOwner is not null && existingOwner != owner)
            {
                throw NotManaged(admin, $"database '{databaseName}' exists but is owned by '{existingOwner}', not '{owner}'");
            }

            await EnsureOwnerRoleAsync(admin, connection, owner, ct);

            if (existingOwner is null)
            {
                try
                {
                    // Not in a transaction: CREATE DATABASE refuses to run in one.
                    await ExecuteAsync(connection, $"CREATE DATABASE {Quote(databaseName)} OWNER {Quote(owner)}", ct);
                    Log.DatabaseCreated(_logger, databaseName, admin.Host, admin.Port);
                }
                catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
                {
                    // A concurrent caller created it first (42P04, or 23505 when both passed the catalog check at once).
                    var winner = await DatabaseOwnerAsync(connection, databaseName, ct);
                    if (winner != owner)
                    {
                        throw NotManaged(admin, $"database '{databaseName}' was just created by someone else, owned by '{winner}'");
                    }
                }
            }

            // Only members of the owner role may connect. Repeated on every call: it repairs a half-finished create.
            var comment = sizeMb is { } size
                ? $"OnDemand broker: requested size {size} MB (advisory; PostgreSQL enforces no per-database limit)"
                : "OnDemand broker: no size requested";
            await ExecuteAsync(connection, $"""
                REVOKE CONNECT ON DATABASE {Quote(databaseName)} FROM PUBLIC;
                GRANT CONNECT ON DATABASE {Quote(databaseName)} TO {Quote(owner)};
                COMMENT ON DATABASE {Quote(databaseName)} IS {QuoteLiteral(comment)};
                """, ct);
        }, cancellationToken);
    }

    public Task<DatabaseCredentials> CreateUserAsync(
        ClusterAdminEndpoint admin, string databaseName, string username, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        ValidateUsername(username);
        ValidatePassword(password);

        var owner = OwnerRoleOf(databaseName);
        // Either a SCRAM verifier (ASCII passwords: SASLprep leaves them unchanged, so the verifier computed here is
        // exactly the one the server would compute) or the escaped password itself.
        var passwordLiteral = QuoteLiteral(Ascii.IsValid(password) ? ScramSha256Verifier(password) : password);

        return RunAsync(admin, databaseName, $"creating user '{username}' in database '{databaseName}'", async (connection, ct) =>
        {
            var databaseOwner = await DatabaseOwnerAsync(connection, databaseName, ct);
            if (databaseOwner is null)
            {
                throw new DatabaseProvisioningException(
                    $"{Where(admin)}: cannot create user '{username}': database '{databaseName}' does not exist (create it first).", transient: false);
            }
            if (databaseOwner != owner)
            {
                throw NotManaged(admin, $"database '{databaseName}' is owned by '{databaseOwner}', not '{owner}'");
            }

            for (var attempt = 1; ; attempt++)
            {
                var role = await RoleAsync(connection, username, owner, ct);
                if (role is not null && (!role.MemberOfOwner || role.Privileged))
                {
                    throw NotManaged(admin, $"role '{username}' exists but is not an account of database '{databaseName}'; refusing to change it");
                }

                await using var transaction = await connection.BeginTransactionAsync(ct);
                try
                {
                    await ExecuteAsync(connection, role is null
                        ? $"CREATE ROLE {Quote(username)} LOGIN INHERIT PASSWORD {passwordLiteral} IN ROLE {Quote(owner)}"
                        : $"ALTER ROLE {Quote(username)} LOGIN INHERIT PASSWORD {passwordLiteral}", ct, transaction);
                }
                catch (PostgresException e) when (attempt == 1 && role is null
                    && e.SqlState is PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.UniqueViolation)
                {
                    await transaction.RollbackAsync(ct);
                    continue; // created concurrently: look again, then reset its password
                }

                // The app's sessions act as the owner role, so what one binding creates every binding can use.
                await ExecuteAsync(connection,
                    $"ALTER ROLE {Quote(username)} IN DATABASE {Quote(databaseName)} SET role TO {QuoteLiteral(owner)}", ct, transaction);
                await transaction.CommitAsync(ct);
                Log.UserCreated(_logger, username, databaseName, admin.Host, admin.Port, role is null ? "created" : "password reset");
                break;
            }

            var reachable = await OtherDatabasesReachableAsync(connection, username, databaseName, ct);
            if (reachable.Count > 0)
            {
                Log.LoginReachesOtherDatabases(_logger, username, admin.Host, admin.Port, string.Join(", ", reachable));
            }

            return Credentials(admin, databaseName, username, password);
        }, cancellationToken, hideServerError: true);
    }

    public Task DropUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        ValidateUsername(username);

        var owner = OwnerRoleOf(databaseName);
        return RunAsync(admin, databaseName, $"dropping user '{username}' of database '{databaseName}'", async (connection, ct) =>
        {
            var role = await RoleAsync(connection, username, owner, ct);
            if (role is null)
            {
                return; // never created, or already dropped
            }
            if (!role.MemberOfOwner || role.Privileged)
            {
                throw NotManaged(admin, $"role '{username}' is not an account of database '{databaseName}'; refusing to drop it");
            }

            // Membership in the account lets the admin end its sessions and take over its objects; NOLOGIN keeps it
            // from coming back in between.
            await ExecuteAsync(connection, $"""
                GRANT {Quote(owner)} TO CURRENT_USER;
                GRANT {Quote(username)} TO CURRENT_USER;
                ALTER ROLE {Quote(username)} NOLOGIN;
                """, ct);
            await TerminateSessionsAsync(connection, username, ct);

            if (await DatabaseOwnerAsync(connection, databaseName, ct) == owner)
            {
                try
                {
                    // REASSIGN/DROP OWNED act on the current database (and shared objects): run them inside it.
                    await using var inDatabase = await OpenAsync(admin, databaseName, pooled: false, ct);
                    await using var transaction = await inDatabase.BeginTransactionAsync(ct);
                    await ExecuteAsync(inDatabase, $"""
                        REASSIGN OWNED BY {Quote(username)} TO {Quote(owner)};
                        DROP OWNED BY {Quote(username)};
                        """, ct, transaction);
                    await transaction.CommitAsync(ct);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidCatalogName)
                {
                    // The database was dropped meanwhile, and what the account owned in it with it.
                }
            }

            await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Quote(username)}", ct);
            Log.UserDropped(_logger, username, databaseName, admin.Host, admin.Port);
        }, cancellationToken);
    }

    public Task DropDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);

        var owner = OwnerRoleOf(databaseName);
        return RunAsync(admin, databaseName, $"dropping database '{databaseName}'", async (connection, ct) =>
        {
            var databaseOwner = await DatabaseOwnerAsync(connection, databaseName, ct);
            if (databaseOwner is not null && databaseOwner != owner)
            {
                throw NotManaged(admin, $"database '{databaseName}' is owned by '{databaseOwner}', not '{owner}'; refusing to drop it");
            }

            var ownerRole = await RoleAsync(connection, owner, owner, ct);
            if (ownerRole is not null && (ownerRole.CanLogin || ownerRole.Privileged))
            {
                throw NotManaged(admin, $"role '{owner}' is not a database owner role (it can log in or is privileged); refusing to drop it");
            }

            var accounts = new List<string>();
            if (ownerRole is not null)
            {
                await ExecuteAsync(connection, $"GRANT {Quote(owner)} TO CURRENT_USER", ct);
                accounts = await AccountsOfAsync(connection, owner, ct);
                foreach (var account in accounts)
                {
                    // Lets DROP DATABASE … WITH (FORCE) end the account's sessions, and keeps it from reconnecting.
                    await ExecuteAsync(connection, $"""
                        GRANT {Quote(account)} TO CURRENT_USER;
                        ALTER ROLE {Quote(account)} NOLOGIN;
                        """, ct);
                }
            }

            if (databaseOwner is not null)
            {
                // FORCE (PostgreSQL 13+) terminates the sessions still connected to it.
                await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Quote(databaseName)} WITH (FORCE)", ct);
            }

            foreach (var account in accounts)
            {
                await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Quote(account)}", ct);
            }
            await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Quote(owner)}", ct);

            if (databaseOwner is not null || ownerRole is not null)
            {
                Log.DatabaseDropped(_logger, databaseName, accounts.Count, admin.Host, admin.Port);
            }
        }, cancellationToken);
    }

    // ---------------------------------------------------------------- catalog

    private sealed record RoleInfo(bool CanLogin, bool Privileged, bool MemberOfOwner);

    private static async Task<string?> DatabaseOwnerAsync(NpgsqlConnection connection, string databaseName, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT pg_get_userbyid(d.datdba)::text FROM pg_database d WHERE d.datname = $1
            """, databaseName);
        return await command.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>The role, whether it can log in, holds cluster-wide powers, and is a direct member of <paramref name="owner"/>.</summary>
    private static async Task<RoleInfo?> RoleAsync(NpgsqlConnection connection, string roleName, string owner, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT r.rolcanlogin,
                   r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls,
                   EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                           WHERE m.member = r.oid AND g.rolname = $2)
            FROM pg_roles r WHERE r.rolname = $1
            """, roleName, owner);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new RoleInfo(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2))
            : null;
    }

    /// <summary>Direct members of the owner role other than admins (this one, or any privileged role).</summary>
    private static async Task<List<string>> AccountsOfAsync(NpgsqlConnection connection, string owner, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT r.rolname::text
            FROM pg_auth_members m
            JOIN pg_roles g ON g.oid = m.roleid
            JOIN pg_roles r ON r.oid = m.member
            WHERE g.rolname = $1
              AND r.rolname <> current_user
              AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls)
            ORDER BY 1
            """, owner);
        var accounts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            accounts.Add(reader.GetString(0));
        }
        return accounts;
    }

    /// <summary>Databases other than its own that <paramref name="username"/> may connect to (through PUBLIC, mostly).</summary>
    private static async Task<List<string>> OtherDatabasesReachableAsync(NpgsqlConnection connection, string username, string databaseName, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT datname::text FROM pg_database
            WHERE datallowconn AND datname <> $2 AND has_database_privilege($1, oid, 'CONNECT')
            ORDER BY 1
            """, username, databaseName);
        var databases = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            databases.Add(reader.GetString(0));
        }
        return databases;
    }

    private static async Task EnsureOwnerRoleAsync(ClusterAdminEndpoint admin, NpgsqlConnection connection, string owner, CancellationToken ct)
    {
        var role = await RoleAsync(connection, owner, owner, ct);
        if (role is null)
        {
            try
            {
                await ExecuteAsync(connection, $"CREATE ROLE {Quote(owner)} NOLOGIN", ct);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.UniqueViolation)
            {
                // Created concurrently.
            }
        }
        else if (role.CanLogin || role.Privileged)
        {
            throw NotManaged(admin, $"role '{owner}' exists but is not a database owner role (it can log in or is privileged)");
        }

        // CREATE DATABASE … OWNER, and later DROP DATABASE, need the admin to be a member of the owner role.
        await ExecuteAsync(connection, $"GRANT {Quote(owner)} TO CURRENT_USER", ct);
    }

    /// <summary>Ends the sessions of <paramref name="roleName"/> and waits (briefly) until they are gone.</summary>
    private static async Task TerminateSessionsAsync(NpgsqlConnection connection, string roleName, CancellationToken ct)
    {
        await using (var terminate = Command(connection, """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
            FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()
            """, roleName))
        {
            if (Convert.ToInt64(await terminate.ExecuteScalarAsync(ct)) == 0)
            {
                return;
            }
        }

        // pg_terminate_backend only signals; a backend may still be finishing a statement.
        var deadline = DateTime.UtcNow + SessionExitTimeout;
        await using var remaining = Command(connection, "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", roleName);
        while (Convert.ToInt64(await remaining.ExecuteScalarAsync(ct)) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(SessionExitPoll, ct);
        }
    }

    // ---------------------------------------------------------------- connections and errors

    private static async Task<NpgsqlConnection> OpenAsync(ClusterAdminEndpoint admin, string database, bool pooled, CancellationToken ct)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = admin.Host,
            Port = admin.Port,
            Username = admin.Username,
            Password = admin.Password,
            Database = database,
            Timeout = ConnectTimeoutSeconds,
            CommandTimeout = CommandTimeoutSeconds,
            Pooling = pooled,
            ApplicationName = ApplicationName,
            // Error details name the objects blocking a DROP ROLE; they never contain passwords.
            IncludeErrorDetail = true,
            // With the clusters' CA: certificate and host name verified. Without: TLS when the server offers it.
            SslMode = admin.CaFile is null ? SslMode.Prefer : SslMode.VerifyFull,
            RootCertificate = admin.CaFile,
        }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params string[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var value in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(ct);
    }

    private Task RunAsync(
        ClusterAdminEndpoint admin, string databaseName, string action, Func<NpgsqlConnection, CancellationToken, Task> body, CancellationToken ct) =>
        RunAsync(admin, databaseName, action, async (connection, token) => { await body(connection, token); return true; }, ct);

    /// <summary>
    /// Runs <paramref name="body"/> on a pooled admin connection, holding the database's advisory lock: operations on
    /// one database run one at a time across broker silos (concurrent GRANT/COMMENT/ALTER ROLE on the same catalog
    /// rows fail with "tuple concurrently updated"), and a retry never overtakes the attempt it repeats.
    /// </summary>
    /// <param name="hideServerError">
    /// the body sends a password (or its verifier): Npgsql's exception, which carries the failed statement
    /// (<c>BatchCommand</c>), is not kept as the inner exception, so no logger can print it.
    /// </param>
    private async Task<T> RunAsync<T>(
        ClusterAdminEndpoint admin, string databaseName, string action, Func<NpgsqlConnection, CancellationToken, Task<T>> body,
        CancellationToken ct, bool hideServerError = false)
    {
        try
        {
            await using var connection = await OpenAsync(admin, admin.Database, pooled: true, ct);
            // A session lock, not a transaction one: CREATE DATABASE cannot run in a transaction.
            await using (var command = Command(connection, "SELECT pg_advisory_lock(hashtext($1))", LockPrefix + databaseName))
            {
                await command.ExecuteNonQueryAsync(ct);
            }
            try
            {
                return await body(connection, ct);
            }
            finally
            {
                await UnlockAsync(connection, databaseName);
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or SocketException or IOException)
        {
            ct.ThrowIfCancellationRequested();
            var error = Translate(admin, action, e, hideServerError);
            Log.Failed(_logger, error.Transient, error.Message);
            throw error;
        }
    }

    /// <summary>
    /// Releases the lock explicitly: Npgsql resets a pooled session (DISCARD ALL) only when it is next used, so a
    /// pooled session would keep it meanwhile. Never throws, so the body's own error is the one reported.
    /// </summary>
    private static async Task UnlockAsync(NpgsqlConnection connection, string databaseName)
    {
        if (connection.FullState != System.Data.ConnectionState.Open)
        {
            return; // broken: the pool drops it, and the session ends with its lock
        }
        try
        {
            await using var unlock = Command(connection, "SELECT pg_advisory_unlock(hashtext($1))", LockPrefix + databaseName);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Make sure this session does not go back to the pool still holding the lock (clears this pool only).
            NpgsqlConnection.ClearPool(connection);
        }
    }

    private static DatabaseProvisioningException Translate(ClusterAdminEndpoint admin, string action, Exception e, bool hideServerError)
    {
        bool transient;
        string reason;
        if (e is PostgresException pg)
        {
            transient = TransientStates.Contains(pg.SqlState) || pg.SqlState.StartsWith("08", StringComparison.Ordinal);
            reason = pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword =>
                    $"the server rejected the password of admin account '{admin.Username}'",
                PostgresErrorCodes.InvalidAuthorizationSpecification =>
                    $"the server refused admin account '{admin.Username}' ({pg.MessageText}); check the role can log in and pg_hba.conf admits it",
                PostgresErrorCodes.InsufficientPrivilege =>
                    $"admin account '{admin.Username}' lacks a privilege ({pg.MessageText}); it needs CREATEDB and CREATEROLE",
                PostgresErrorCodes.TooManyConnections => "the server has no free connection slot",
                PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow =>
                    $"the server is restarting or shutting down ({pg.MessageText})",
                _ => $"{pg.MessageText} (SQLSTATE {pg.SqlState}{(string.IsNullOrEmpty(pg.Detail) ? "" : "; " + pg.Detail)})",
            };
        }
        else
        {
            // Npgsql wraps connection refused, DNS failures, resets and timeouts (connect and command) in an
            // NpgsqlException whose IsTransient is true; what remains (e.g. a TLS or protocol error) is not.
            transient = e is TimeoutException or SocketException or IOException || e is NpgsqlException { IsTransient: true };
            reason = ProvisioningFailures.Unreachable(e, ConnectTimeoutSeconds, CommandTimeoutSeconds, _ => false);
        }
        return ProvisioningFailures.Failed(Where(admin), action, reason, transient, hideServerError ? null : e);
    }

    private static string Where(ClusterAdminEndpoint admin) => $"PostgreSQL {admin.Host}:{admin.Port}";

    private static DatabaseProvisioningException NotManaged(ClusterAdminEndpoint admin, string what) => ProvisioningFailures.NotManaged(Where(admin), what);

    // ---------------------------------------------------------------- names, literals, credentials

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,62}$")]
    private static partial Regex PlainIdentifier();

    private static void ValidateDatabaseName(string databaseName)
    {
        ValidateIdentifier(databaseName, nameof(databaseName), MaxDatabaseNameLength);
    }

    private static void ValidateUsername(string username)
    {
        ValidateIdentifier(username, nameof(username), MaxIdentifierLength);
        if (username.EndsWith(OwnerSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{username}' ends with '{OwnerSuffix}', reserved for database owner roles.", nameof(username));
        }
    }

    private static void ValidateIdentifier(string? name, string parameter, int maxLength)
    {
        ProvisioningFailures.ValidateIdentifier(name, parameter, maxLength, "PostgreSQL", PlainIdentifier());
        if (name!.StartsWith("pg_", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' starts with 'pg_', reserved by PostgreSQL.", parameter);
        }
    }

    private static void ValidatePassword(string password) => ProvisioningFailures.ValidatePassword(password);

    /// <summary>A double-quoted identifier; names are validated first, the escaping is defence in depth.</summary>
    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// An escape-string literal, as libpq's PQescapeLiteral builds it: correct whatever
    /// <c>standard_conforming_strings</c> is (Npgsql always talks UTF-8, so no multi-byte trap).
    /// </summary>
    private static string QuoteLiteral(string value) =>
        "E'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The verifier PostgreSQL stores for <paramref name="password"/> (RFC 5802/7677, as <c>scram_build_secret</c>).</summary>
    private static string ScramSha256Verifier(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var salted = Rfc2898DeriveBytes.Pbkdf2(passwordBytes, salt, ScramIterations, HashAlgorithmName.SHA256, 32);
        try
        {
            var storedKey = SHA256.HashData(HMACSHA256.HashData(salted, "Client Key"u8));
            var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
            return $"SCRAM-SHA-256${ScramIterations}:{Convert.ToBase64String(salt)}${Convert.ToBase64String(storedKey)}:{Convert.ToBase64String(serverKey)}";
        }
        finally
        {
            CryptographicOperations.ZeroMemory(passwordBytes);
            CryptographicOperations.ZeroMemory(salted);
        }
    }

    private static DatabaseCredentials Credentials(ClusterAdminEndpoint admin, string databaseName, string username, string password)
    {
        var host = admin.Host.Contains(':', StringComparison.Ordinal) && !admin.Host.StartsWith('[') ? $"[{admin.Host}]" : admin.Host;
        var user = Uri.EscapeDataString(username);
        var secret = Uri.EscapeDataString(password);
        return new DatabaseCredentials(
            Hostname: admin.Host,
            Port: admin.Port,
            Name: databaseName,
            Username: username,
            Password: password,
            Uri: $"postgres://{user}:{secret}@{host}:{admin.Port}/{databaseName}{(admin.CaFile is null ? "" : "?sslmode=verify-full")}",
            JdbcUrl: $"jdbc:postgresql://{host}:{admin.Port}/{databaseName}?user={user}&password={secret}{(admin.CaFile is null ? "" : "&sslmode=verify-full")}",
            CaCertificate: admin.CaCertificate);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Created PostgreSQL database {Database} on {Host}:{Port}")]
        public static partial void DatabaseCreated(ILogger logger, string database, string host, int port);

        [LoggerMessage(Level = LogLevel.Information, Message = "PostgreSQL user {Username} of database {Database} on {Host}:{Port}: {What}")]
        public static partial void UserCreated(ILogger logger, string username, string database, string host, int port, string what);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped PostgreSQL user {Username} of database {Database} on {Host}:{Port}")]
        public static partial void UserDropped(ILogger logger, string username, string database, string host, int port);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped PostgreSQL database {Database} and {Accounts} account(s) on {Host}:{Port}")]
        public static partial void DatabaseDropped(ILogger logger, string database, int accounts, string host, int port);

        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL user {Username} on {Host}:{Port} can also connect to database(s) {Databases} " +
            "(PUBLIC has CONNECT there; never to another binding's database): the cluster's deployment should REVOKE CONNECT ON DATABASE ... FROM PUBLIC on them")]
        public static partial void LoginReachesOtherDatabases(ILogger logger, string username, string host, int port, string databases);

        [LoggerMessage(Level = LogLevel.Warning, Message = "PostgreSQL provisioning failed (transient: {Transient}): {Reason}")]
        public static partial void Failed(ILogger logger, bool transient, string reason);
    }
}
