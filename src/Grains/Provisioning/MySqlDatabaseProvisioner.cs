using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using MySqlConnector;

namespace OnDemand.Grains.Provisioning;

/// <summary>
/// Databases and binding accounts inside a dedicated MySQL (8.0+) or MariaDB (10.5+) cluster, through the cluster's
/// admin account, which holds global privileges WITH GRANT OPTION but not SUPER.
/// </summary>
/// <remarks>Layout of a database and its accounts, privileges, size, passwords and locking: docs/databases.md.</remarks>
public sealed partial class MySqlDatabaseProvisioner : IDatabaseProvisioner
{
    public const string EngineName = "mysql";

    /// <summary>Binding accounts carry this prefix (<see cref="DatabaseNames.BindingUser"/>); nothing else is touched.</summary>
    public const string AccountPrefix = "u_";

    private const int MaxDatabaseNameLength = 64;
    private const int MaxUsernameLength = 32; // MySQL's limit (MariaDB allows 80: the lower one keeps both working)
    private const string AccountHost = "%";
    private const int ConnectTimeoutSeconds = 5;
    private const int CommandTimeoutSeconds = 15;
    private const int LockTimeoutSeconds = 10;
    private const string LockPrefix = "ondemand-broker:"; // + 40 hex characters: GET_LOCK names are at most 64
    private const string ApplicationName = "ondemand-broker";

    private static readonly TimeSpan SessionExitTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SessionExitPoll = TimeSpan.FromMilliseconds(20);

    /// <summary>Schemas of the server itself: never created, granted or dropped.</summary>
    private static readonly HashSet<string> SystemSchemas = ["mysql", "information_schema", "performance_schema", "sys"];

    /// <summary>Server errors worth retrying: the server is busy, starting, stopping, or lost the connection.</summary>
    private static readonly HashSet<MySqlErrorCode> TransientErrors =
    [
        MySqlErrorCode.ConnectionCountError,      // 1040 Too many connections
        MySqlErrorCode.TooManyUserConnections,    // 1203
        MySqlErrorCode.UserLimitReached,          // 1226 max_user_connections and the like
        MySqlErrorCode.ServerShutdown,            // 1053
        MySqlErrorCode.UnableToConnectToHost,     // 1042: refused, unreachable, DNS, lost (MySqlConnector)
        MySqlErrorCode.LockDeadlock,              // 1213
        MySqlErrorCode.LockWaitTimeout,           // 1205: also metadata locks held by sessions of the database
        MySqlErrorCode.QueryInterrupted,          // 1317
        MySqlErrorCode.CommandTimeoutExpired,     // client-side command timeout
        MySqlErrorCode.HostIsBlocked,             // 1129: too many connection errors; FLUSH HOSTS or wait
        MySqlErrorCode.AbortingConnection,        // 1152
        MySqlErrorCode.NetReadInterrupted,        // 1159
        MySqlErrorCode.NetWriteInterrupted,       // 1161
        MySqlErrorCode.ClientInteractionTimeout,  // 4031: the server closed an idle pooled connection
    ];

    private readonly ILogger _logger;

    public MySqlDatabaseProvisioner(ILogger<MySqlDatabaseProvisioner>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public string Engine => EngineName;

    public Task CreateDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, int? sizeMb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        if (sizeMb is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(sizeMb), sizeMb, "The size must be positive when given.");
        }
        RefuseSystemSchema(admin, databaseName, "create");

        return RunAsync(admin, databaseName, $"creating database '{databaseName}'", async (connection, ct) =>
        {
            // IF NOT EXISTS: an existing database (a repeat, or a half-finished earlier attempt) is kept as it is.
            var created = await ExecuteAsync(connection,
                $"CREATE DATABASE IF NOT EXISTS {Quote(databaseName)} CHARACTER SET utf8mb4", ct) > 0;
            if (created)
            {
                Log.DatabaseCreated(_logger, databaseName, admin.Host, admin.Port, sizeMb);
            }
        }, cancellationToken);
    }

    public Task<DatabaseCredentials> CreateUserAsync(
        ClusterAdminEndpoint admin, string databaseName, string username, string password, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        ValidateUsername(username);
        ValidatePassword(password);
        RefuseSystemSchema(admin, databaseName, "grant on");

        return RunAsync(admin, databaseName, $"creating user '{username}' in database '{databaseName}'", async (connection, ct) =>
        {
            if (!await DatabaseExistsAsync(connection, databaseName, ct))
            {
                throw new DatabaseProvisioningException(
                    $"{Where(admin)}: cannot create user '{username}': database '{databaseName}' does not exist (create it first).", transient: false);
            }

            var grantPattern = await GrantPatternAsync(connection, databaseName, ct);
            for (var attempt = 1; ; attempt++)
            {
                var account = await AccountAsync(connection, username, databaseName, grantPattern, ct);
                if (account is { Managed: false })
                {
                    throw NotManaged(admin, $"account '{username}'@'{AccountHost}' exists but is not an account of database '{databaseName}' " +
                        "(it has global privileges or grants on other databases); refusing to change it");
                }

                try
                {
                    // Existing: reset the password, and unlock it (a drop interrupted after ACCOUNT LOCK).
                    await ExecuteAsync(connection, account is null
                        ? $"CREATE USER {Account(username)} IDENTIFIED BY @password"
                        : $"ALTER USER {Account(username)} IDENTIFIED BY @password ACCOUNT UNLOCK", ct, ("@password", password));
                }
                catch (MySqlException e) when (attempt == 1 && account is null && e.ErrorCode == MySqlErrorCode.CannotUser)
                {
                    continue; // created concurrently (by a caller of another database): look again
                }

                await ExecuteAsync(connection, $"GRANT ALL PRIVILEGES ON {Quote(grantPattern)}.* TO {Account(username)}", ct);
                Log.UserCreated(_logger, username, databaseName, admin.Host, admin.Port, account is null ? "created" : "password reset");
                break;
            }

            return Credentials(admin, databaseName, username, password);
        }, cancellationToken, secret: password);
    }

    public Task DropUserAsync(ClusterAdminEndpoint admin, string databaseName, string username, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        ValidateUsername(username);

        return RunAsync(admin, databaseName, $"dropping user '{username}' of database '{databaseName}'", async (connection, ct) =>
        {
            var account = await AccountAsync(connection, username, databaseName, await GrantPatternAsync(connection, databaseName, ct), ct);
            if (account is null)
            {
                return; // never created, or already dropped
            }
            if (!account.Managed)
            {
                throw NotManaged(admin, $"account '{username}'@'{AccountHost}' is not an account of database '{databaseName}'; refusing to drop it");
            }

            await DropAccountAsync(connection, username, ct);
            Log.UserDropped(_logger, username, databaseName, admin.Host, admin.Port);
        }, cancellationToken);
    }

    public Task DropDatabaseAsync(ClusterAdminEndpoint admin, string databaseName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ValidateDatabaseName(databaseName);
        RefuseSystemSchema(admin, databaseName, "drop");

        return RunAsync(admin, databaseName, $"dropping database '{databaseName}'", async (connection, ct) =>
        {
            var grantPattern = await GrantPatternAsync(connection, databaseName, ct);
            var accounts = new List<string>();
            foreach (var candidate in await GranteesAsync(connection, databaseName, grantPattern, ct))
            {
                // Only the broker's own accounts of this database: an account that also reaches elsewhere keeps living
                // (its grant on the dropped database stays, as MySQL keeps grants of dropped databases).
                if (await AccountAsync(connection, candidate, databaseName, grantPattern, ct) is { Managed: true })
                {
                    accounts.Add(candidate);
                }
            }

            foreach (var account in accounts)
            {
                // Locked first, so no session comes back while the database goes away.
                await LockAndEndSessionsAsync(connection, account, ct);
            }

            var existed = await DatabaseExistsAsync(connection, databaseName, ct);
            await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Quote(databaseName)}", ct);

            foreach (var account in accounts)
            {
                await ExecuteAsync(connection, $"DROP USER IF EXISTS {Account(account)}", ct);
            }

            if (existed || accounts.Count > 0)
            {
                Log.DatabaseDropped(_logger, databaseName, accounts.Count, admin.Host, admin.Port);
            }
        }, cancellationToken);
    }

    // ---------------------------------------------------------------- catalog

    /// <summary>
    /// An account <c>'name'@'%'</c>. Managed: no global privilege and no grant on any other database or on tables of
    /// one (no grant at all is a CREATE USER whose GRANT never ran).
    /// </summary>
    private sealed record AccountInfo(bool Managed);

    private static async Task<bool> DatabaseExistsAsync(MySqlConnection connection, string databaseName, CancellationToken ct) =>
        Convert.ToInt64(await ScalarAsync(connection,
            "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = @db", ct, ("@db", databaseName))) > 0;

    private static async Task<AccountInfo?> AccountAsync(
        MySqlConnection connection, string username, string databaseName, string grantPattern, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT
              (SELECT COUNT(*) FROM mysql.user WHERE User = @user AND Host = @host),
              (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = @grantee AND PRIVILEGE_TYPE <> 'USAGE'),
              (SELECT COUNT(*) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = @grantee AND TABLE_SCHEMA NOT IN (@db, @pattern)),
              (SELECT COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = @grantee AND TABLE_SCHEMA NOT IN (@db, @pattern))
            """,
            ("@user", username), ("@host", AccountHost), ("@grantee", Grantee(username)), ("@db", databaseName), ("@pattern", grantPattern));
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        if (reader.GetInt64(0) == 0)
        {
            return null;
        }
        return new AccountInfo(Managed: reader.GetInt64(1) == 0 && reader.GetInt64(2) == 0 && reader.GetInt64(3) == 0);
    }

    /// <summary>Broker-named accounts (<c>u_…'@'%'</c>) holding a database-level grant on the database.</summary>
    private static async Task<List<string>> GranteesAsync(MySqlConnection connection, string databaseName, string grantPattern, CancellationToken ct)
    {
        await using var command = Command(connection, """
            SELECT DISTINCT User FROM mysql.db
            WHERE Host = @host AND Db IN (@db, @pattern) AND User LIKE 'u\_%' AND User <> SUBSTRING_INDEX(CURRENT_USER(), '@', 1)
            ORDER BY User
            """, ("@host", AccountHost), ("@db", databaseName), ("@pattern", grantPattern));
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            // mysql.db.User is CHAR/VARCHAR with a binary collation on some versions: read it as text either way.
            var name = reader.GetValue(0) is byte[] bytes ? Encoding.UTF8.GetString(bytes) : reader.GetString(0);
            if (PlainIdentifier().IsMatch(name) && name.Length <= MaxUsernameLength)
            {
                names.Add(name);
            }
        }
        return names;
    }

    /// <summary>
    /// The database as a database-level GRANT must name it: <c>_</c> escaped (a wildcard otherwise), unless the server
    /// takes names literally (MySQL 8 with <c>partial_revokes</c>; the variable does not exist on MariaDB).
    /// </summary>
    private static async Task<string> GrantPatternAsync(MySqlConnection connection, string databaseName, CancellationToken ct)
    {
        await using var command = Command(connection, @"SHOW GLOBAL VARIABLES LIKE 'partial\_revokes'");
        await using var reader = await command.ExecuteReaderAsync(ct);
        var literal = await reader.ReadAsync(ct) && reader.GetString(1).Equals("ON", StringComparison.OrdinalIgnoreCase);
        return literal ? databaseName : databaseName.Replace("_", @"\_", StringComparison.Ordinal);
    }

    private static async Task DropAccountAsync(MySqlConnection connection, string username, CancellationToken ct)
    {
        await LockAndEndSessionsAsync(connection, username, ct);
        await ExecuteAsync(connection, $"DROP USER IF EXISTS {Account(username)}", ct);
    }

    /// <summary>
    /// Locks the account (no new login), then ends its sessions and waits (briefly) until they are gone: DROP USER
    /// alone leaves open sessions running with the privileges they had.
    /// </summary>
    private static async Task LockAndEndSessionsAsync(MySqlConnection connection, string username, CancellationToken ct)
    {
        await ExecuteAsync(connection, $"ALTER USER {Account(username)} ACCOUNT LOCK", ct);

        var sessions = await SessionsAsync(connection, username, ct);
        if (sessions.Count == 0)
        {
            return;
        }
        foreach (var id in sessions)
        {
            try
            {
                await ExecuteAsync(connection, $"KILL CONNECTION {id}", ct); // a number read from the server
            }
            catch (MySqlException e) when (e.ErrorCode == MySqlErrorCode.NoSuchThread)
            {
                // Ended by itself meanwhile.
            }
        }

        var deadline = DateTime.UtcNow + SessionExitTimeout;
        while ((await SessionsAsync(connection, username, ct)).Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(SessionExitPoll, ct);
        }
    }

    private static async Task<List<ulong>> SessionsAsync(MySqlConnection connection, string username, CancellationToken ct)
    {
        await using var command = Command(connection,
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = @user AND ID <> CONNECTION_ID()", ("@user", username));
        var ids = new List<ulong>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(Convert.ToUInt64(reader.GetValue(0)));
        }
        return ids;
    }

    // ---------------------------------------------------------------- connections and errors

    private static async Task<MySqlConnection> OpenAsync(ClusterAdminEndpoint admin, CancellationToken ct)
    {
        var connection = new MySqlConnection(new MySqlConnectionStringBuilder
        {
            Server = admin.Host,
            Port = checked((uint)admin.Port),
            UserID = admin.Username,
            Password = admin.Password,
            Database = admin.Database,
            ConnectionTimeout = ConnectTimeoutSeconds,
            DefaultCommandTimeout = CommandTimeoutSeconds,
            Pooling = true,
            ApplicationName = ApplicationName,
            CharacterSet = "utf8mb4",
            // Account names are written 'u'@'%' (outside string literals): leave '@…' that is no parameter alone.
            AllowUserVariables = true,
            // MySQL 8's caching_sha2_password over a connection without TLS needs the server's RSA key.
            AllowPublicKeyRetrieval = true,
            // With the clusters' CA: certificate and host name verified (the deployed servers require TLS). Without:
            // TLS when the server offers it.
            SslMode = admin.CaFile is null ? MySqlSslMode.Preferred : MySqlSslMode.VerifyFull,
            SslCa = admin.CaFile ?? "",
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

    private static MySqlCommand Command(MySqlConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        var command = new MySqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return command;
    }

    private static async Task<int> ExecuteAsync(
        MySqlConnection connection, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> ScalarAsync(
        MySqlConnection connection, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteScalarAsync(ct);
    }

    private Task RunAsync(
        ClusterAdminEndpoint admin, string databaseName, string action, Func<MySqlConnection, CancellationToken, Task> body, CancellationToken ct) =>
        RunAsync(admin, databaseName, action, async (connection, token) => { await body(connection, token); return true; }, ct);

    /// <summary>
    /// Runs <paramref name="body"/> on a pooled admin connection, holding the database's named lock.
    /// </summary>
    /// <param name="secret">
    /// a password the body sends: MySqlConnector's exception is not kept as the inner exception, and the password is
    /// redacted from the server's message (a syntax error quotes the statement).
    /// </param>
    private async Task<T> RunAsync<T>(
        ClusterAdminEndpoint admin, string databaseName, string action, Func<MySqlConnection, CancellationToken, Task<T>> body,
        CancellationToken ct, string? secret = null)
    {
        try
        {
            await using var connection = await OpenAsync(admin, ct);
            var lockName = LockName(databaseName);
            var acquired = await ScalarAsync(connection, "SELECT GET_LOCK(@name, @timeout)", ct,
                ("@name", lockName), ("@timeout", LockTimeoutSeconds));
            if (acquired is null or DBNull || Convert.ToInt64(acquired) != 1)
            {
                throw new DatabaseProvisioningException(
                    $"{Where(admin)}: {action} failed: another operation on database '{databaseName}' has held its lock for over " +
                    $"{LockTimeoutSeconds} s. Will retry.", transient: true);
            }
            try
            {
                return await body(connection, ct);
            }
            finally
            {
                await UnlockAsync(connection, lockName);
            }
        }
        catch (Exception e) when (e is MySqlException or TimeoutException or SocketException or IOException)
        {
            ct.ThrowIfCancellationRequested();
            var error = Translate(admin, action, e, secret);
            Log.Failed(_logger, error.Transient, error.Message);
            throw error;
        }
        catch (DatabaseProvisioningException e)
        {
            Log.Failed(_logger, e.Transient, e.Message);
            throw;
        }
    }

    /// <summary>Releases the named lock explicitly rather than relying on the pool's session reset. Never throws.</summary>
    private static async Task UnlockAsync(MySqlConnection connection, string lockName)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            return; // broken: the pool drops it, and the session ends with its lock
        }
        try
        {
            await ExecuteAsync(connection, "DO RELEASE_LOCK(@name)", CancellationToken.None, ("@name", lockName));
        }
        catch (Exception e) when (e is MySqlException or InvalidOperationException or TimeoutException or IOException)
        {
            // Make sure this session does not go back to the pool still holding the lock (clears this pool only).
            await MySqlConnection.ClearPoolAsync(connection);
        }
    }

    private static string LockName(string databaseName) =>
        LockPrefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(databaseName)))[..40].ToLowerInvariant();

    private static DatabaseProvisioningException Translate(ClusterAdminEndpoint admin, string action, Exception e, string? secret)
    {
        bool transient;
        string reason;
        if (e is MySqlException { Number: > 0 } my && my.ErrorCode != MySqlErrorCode.UnableToConnectToHost)
        {
            var text = Redact(my.Message, secret);
            transient = TransientErrors.Contains(my.ErrorCode) || my.IsTransient;
            reason = my.ErrorCode switch
            {
                MySqlErrorCode.AccessDenied =>
                    $"the server rejected admin account '{admin.Username}' (wrong password, or the account may not connect from here)",
                MySqlErrorCode.HostNotPrivileged =>
                    $"the server does not let admin account '{admin.Username}' connect from this host ({text})",
                MySqlErrorCode.DatabaseAccessDenied or MySqlErrorCode.TableAccessDenied or MySqlErrorCode.ColumnAccessDenied
                    or MySqlErrorCode.SpecifiedAccessDeniedError or MySqlErrorCode.KillDenied or MySqlErrorCode.NoPermissionToCreateUser =>
                    $"admin account '{admin.Username}' lacks a privilege ({text}); it needs, on *.* WITH GRANT OPTION, the database-level " +
                    "privileges, SELECT, CREATE USER, PROCESS and CONNECTION_ADMIN",
                MySqlErrorCode.ConnectionCountError or MySqlErrorCode.TooManyUserConnections => "the server has no free connection slot",
                MySqlErrorCode.ServerShutdown => "the server is shutting down",
                _ => $"{text} (MySQL error {my.Number})",
            };
        }
        else
        {
            // Refused, unreachable, reset, lost, connect or command timeouts: MySqlConnector reports them as
            // UnableToConnectToHost / CommandTimeoutExpired (IsTransient), or lets socket errors through.
            transient = e is TimeoutException or SocketException or IOException
                || e is MySqlException { IsTransient: true }
                || e is MySqlException other && TransientErrors.Contains(other.ErrorCode);
            reason = ProvisioningFailures.Unreachable(e, ConnectTimeoutSeconds, CommandTimeoutSeconds,
                inner => inner is MySqlException { ErrorCode: MySqlErrorCode.CommandTimeoutExpired }, text => Redact(text, secret));
        }
        return ProvisioningFailures.Failed(Where(admin), action, reason, transient, secret is null ? e : null);
    }

    /// <summary>Removes the password (as sent, and as escaped in a literal) from a server message.</summary>
    private static string Redact(string text, string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return text;
        }
        var escaped = secret.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);
        return text.Replace(escaped, "***", StringComparison.Ordinal).Replace(secret, "***", StringComparison.Ordinal);
    }

    private static string Where(ClusterAdminEndpoint admin) => $"MySQL {admin.Host}:{admin.Port}";

    private static DatabaseProvisioningException NotManaged(ClusterAdminEndpoint admin, string what) => ProvisioningFailures.NotManaged(Where(admin), what);

    private static void RefuseSystemSchema(ClusterAdminEndpoint admin, string databaseName, string verb)
    {
        if (SystemSchemas.Contains(databaseName))
        {
            throw NotManaged(admin, $"'{databaseName}' is a system schema; refusing to {verb} it");
        }
    }

    // ---------------------------------------------------------------- names, literals, credentials

    [GeneratedRegex("^[a-z_][a-z0-9_]{0,63}$")]
    private static partial Regex PlainIdentifier();

    private static void ValidateDatabaseName(string databaseName) =>
        ValidateIdentifier(databaseName, nameof(databaseName), MaxDatabaseNameLength);

    private static void ValidateUsername(string username)
    {
        ValidateIdentifier(username, nameof(username), MaxUsernameLength);
        if (!username.StartsWith(AccountPrefix, StringComparison.Ordinal) || username.Length == AccountPrefix.Length)
        {
            throw new ArgumentException($"'{username}' does not start with '{AccountPrefix}', the prefix of the broker's accounts.", nameof(username));
        }
    }

    private static void ValidateIdentifier(string? name, string parameter, int maxLength) =>
        ProvisioningFailures.ValidateIdentifier(name, parameter, maxLength, "MySQL", PlainIdentifier());

    private static void ValidatePassword(string password) => ProvisioningFailures.ValidatePassword(password);

    /// <summary>A back-quoted identifier; names are validated first, the escaping is defence in depth.</summary>
    private static string Quote(string identifier) => "`" + identifier.Replace("`", "``", StringComparison.Ordinal) + "`";

    /// <summary><c>'name'@'%'</c>; names are validated (no quote, no backslash).</summary>
    private static string Account(string username) => $"'{username}'@'{AccountHost}'";

    /// <summary>The account as information_schema's GRANTEE columns spell it.</summary>
    private static string Grantee(string username) => $"'{username}'@'{AccountHost}'";

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
            Uri: $"mysql://{user}:{secret}@{host}:{admin.Port}/{databaseName}{(admin.CaFile is null ? "" : "?ssl-mode=VERIFY_IDENTITY")}",
            JdbcUrl: $"jdbc:mysql://{host}:{admin.Port}/{databaseName}?user={user}&password={secret}{(admin.CaFile is null ? "" : "&sslMode=VERIFY_IDENTITY")}",
            CaCertificate: admin.CaCertificate);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Created MySQL database {Database} on {Host}:{Port} (requested size {SizeMb} MB, advisory)")]
        public static partial void DatabaseCreated(ILogger logger, string database, string host, int port, int? sizeMb);

        [LoggerMessage(Level = LogLevel.Information, Message = "MySQL user {Username} of database {Database} on {Host}:{Port}: {What}")]
        public static partial void UserCreated(ILogger logger, string username, string database, string host, int port, string what);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped MySQL user {Username} of database {Database} on {Host}:{Port}")]
        public static partial void UserDropped(ILogger logger, string username, string database, string host, int port);

        [LoggerMessage(Level = LogLevel.Information, Message = "Dropped MySQL database {Database} and {Accounts} account(s) on {Host}:{Port}")]
        public static partial void DatabaseDropped(ILogger logger, string database, int accounts, string host, int port);

        [LoggerMessage(Level = LogLevel.Warning, Message = "MySQL provisioning failed (transient: {Transient}): {Reason}")]
        public static partial void Failed(ILogger logger, bool transient, string reason);
    }
}
