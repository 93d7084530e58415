using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// What a cluster's pipeline would do to its database server, emulated on one PostgreSQL (EmulatorOptions.ClusterPostgres,
/// a superuser connection) that stands in for every cluster. Installed as <see cref="EmulatorState.DecideOutcome"/>,
/// so a build is reported final only once its work is done:
/// <list type="bullet">
/// <item>a <c>deploy</c> build that would succeed resolves <c>((admin_username))</c> and <c>((admin_password))</c> from
/// the fake CredHub as Concourse would (<c>/concourse/TEAM/PIPELINE/VAR</c>, then <c>/concourse/TEAM/VAR</c>) and
/// creates that role <c>LOGIN CREATEDB CREATEROLE</c> (or sets its password if it exists) and grants it CONNECT on
/// the connection's database (the admin database; PUBLIC may have lost it). Missing credentials fail
/// the build, as a real deploy would; so does a database error.</item>
/// <item>a <c>delete</c> build that would succeed drops what the admin role brought: the databases owned by it or by
/// the roles related to it through a grant (granted to it, or granted by it: <c>pg_auth_members</c>), those roles,
/// then the admin role. A role the admin creates is only found if it is linked so (e.g. <c>GRANT app TO admin</c>;
/// on PostgreSQL 16+ creating a role records that by itself). Superusers, built-in roles and the connection's own
/// user and database are never touched.</item>
/// </list>
/// Passwords never reach the log.
/// </summary>
public sealed class ClusterDeploymentEmulator : IAsyncDisposable
{
    public const string AdminUsernameVar = "admin_username";
    public const string AdminPasswordVar = "admin_password";
    /// <summary>Concourse's default CredHub path prefix.</summary>
    public const string CredHubPathPrefix = "/concourse";

    private const int MaxIdentifierBytes = 63;
    private static readonly SemaphoreSlim GrantGate = new(1, 1);

    /// <summary>
    /// Deploys and deletes that work on PostgreSQL at once. The others wait their turn, as a BOSH director queues
    /// deployments beyond its workers. Without this gate, a burst of thousands of builds that take no time held every
    /// pooled connection, and the rest failed on the pool's timeout, where a real deploy would have waited.
    /// </summary>
    private readonly SemaphoreSlim _databaseWork = new(8, 8);
    private static readonly Task<string?> KeepOutcome = Task.FromResult<string?>(null);
    private static readonly Task<string?> Fail = Task.FromResult<string?>(BuildStatus.Failed);

    private readonly FakeCredHub _credHub;
    private readonly NpgsqlDataSource _postgres;
    private readonly ILogger _logger;
    private readonly string _deployJob;
    private readonly string _deleteJob;
    private readonly CancellationToken _stopping;
    private readonly EmulatorState _state;
    private readonly Func<string, IReadOnlyList<string>>? _deployCheck;
    // The admin role each pipeline's last deploy set up: a delete still finds it if CredHub was emptied first.
    private readonly ConcurrentDictionary<(string Team, string Pipeline), string> _deployedAdmins = new();

    internal ClusterDeploymentEmulator(EmulatorState state, FakeCredHub credHub, EmulatorOptions options, ILogger logger, CancellationToken stopping)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ClusterPostgres);
        _credHub = credHub;
        _logger = logger;
        _deployJob = options.ClusterDeployJob;
        _deleteJob = options.ClusterDeleteJob;
        _stopping = stopping;
        _state = state;
        _deployCheck = options.DeployCheck;
        _postgres = NpgsqlDataSource.Create(options.ClusterPostgres); // throws on a malformed connection string
        state.DecideOutcome = Decide;
    }

    /// <summary>The value Concourse would substitute for <c>((var))</c> in a build of team/pipeline, or null.</summary>
    public static string? ResolveVar(FakeCredHub credHub, string team, string pipeline, string var)
    {
        ArgumentNullException.ThrowIfNull(credHub);
        return credHub.Get($"{CredHubPathPrefix}/{team}/{pipeline}/{var}") ?? credHub.Get($"{CredHubPathPrefix}/{team}/{var}");
    }

    public ValueTask DisposeAsync() => _postgres.DisposeAsync(); // _databaseWork needs no disposal (no wait handle is used)

    /// <summary>Runs under the pipeline's gate: in-memory checks only; database work goes to the thread pool.</summary>
    private Task<string?> Decide(EmulatedBuildInfo build)
    {
        if (build.Status != BuildStatus.Succeeded)
        {
            return KeepOutcome; // a failing build does nothing here
        }
        if (build.Job == _deployJob)
        {
            if (_deployCheck is not null && _state.ReadConfig(build.Team, build.Pipeline) is { } config
                && _deployCheck(config.ConfigJson) is { Count: > 0 } problems)
            {
                _logger.LogWarning("Emulated deploy {Team}/{Pipeline} build {BuildId} fails: BOSH or Concourse would refuse the pipeline: {Problems}",
                    build.Team, build.Pipeline, build.Id, string.Join("; ", problems));
                return Fail;
            }
            var username = ResolveVar(_credHub, build.Team, build.Pipeline, AdminUsernameVar);
            var password = ResolveVar(_credHub, build.Team, build.Pipeline, AdminPasswordVar);
            if (username is null || password is null)
            {
                var missing = string.Join(", ", new[] { (AdminUsernameVar, username), (AdminPasswordVar, password) }
                    .Where(pair => pair.Item2 is null).Select(pair => $"(({pair.Item1}))"));
                _logger.LogWarning(
                    "Emulated deploy {Team}/{Pipeline} build {BuildId} fails: {Missing} not found in CredHub under {Prefix}/{Team}/{Pipeline}/ nor {Prefix}/{Team}/",
                    build.Team, build.Pipeline, build.Id, missing, CredHubPathPrefix, build.Team, build.Pipeline, CredHubPathPrefix, build.Team);
                return Fail;
            }
            return Task.Run(() => GatedAsync(() => DeployAsync(build, username, password)), _stopping);
        }
        if (build.Job == _deleteJob)
        {
            var username = ResolveVar(_credHub, build.Team, build.Pipeline, AdminUsernameVar)
                ?? _deployedAdmins.GetValueOrDefault((build.Team, build.Pipeline));
            if (username is null)
            {
                _logger.LogInformation(
                    "Emulated delete {Team}/{Pipeline} build {BuildId}: no admin role known (no (({Var})) in CredHub), nothing to drop",
                    build.Team, build.Pipeline, build.Id, AdminUsernameVar);
                return KeepOutcome;
            }
            return Task.Run(() => GatedAsync(() => DeleteAsync(build, username)), _stopping);
        }
        return KeepOutcome;
    }

    private async Task<string?> GatedAsync(Func<Task<string?>> work)
    {
        await _databaseWork.WaitAsync(_stopping);
        try
        {
            return await work();
        }
        finally
        {
            _databaseWork.Release();
        }
    }

    private async Task<string?> DeployAsync(EmulatedBuildInfo build, string role, string password)
    {
        if (RoleNameProblem(role) is { } problem)
        {
            _logger.LogWarning("Emulated deploy {Team}/{Pipeline} build {BuildId} fails: admin username '{Role}' {Problem}",
                build.Team, build.Pipeline, build.Id, role, problem);
            return BuildStatus.Failed;
        }
        if (password.Length == 0 || password.Contains('\0', StringComparison.Ordinal))
        {
            _logger.LogWarning("Emulated deploy {Team}/{Pipeline} build {BuildId} fails: the admin password is empty or holds a NUL character",
                build.Team, build.Pipeline, build.Id);
            return BuildStatus.Failed;
        }
        try
        {
            await using var connection = await _postgres.OpenConnectionAsync(_stopping);
            var exists = false;
            for (var attempt = 0; ; attempt++)
            {
                var superuser = await ScalarAsync<bool?>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", role);
                if (superuser == true)
                {
                    _logger.LogWarning("Emulated deploy {Team}/{Pipeline} build {BuildId} fails: '{Role}' is a superuser, refusing to change it",
                        build.Team, build.Pipeline, build.Id, role);
                    return BuildStatus.Failed;
                }
                exists = superuser is not null;
                // The server quotes (format %I, %L): safe whatever the name and password hold.
                var ddl = await ScalarAsync<string>(
                    connection,
                    exists
                        ? "SELECT format('ALTER ROLE %I WITH LOGIN CREATEDB CREATEROLE PASSWORD %L', $1::text, $2::text)"
                        : "SELECT format('CREATE ROLE %I WITH LOGIN CREATEDB CREATEROLE PASSWORD %L', $1::text, $2::text)",
                    role, password);
                try
                {
                    await using var command = new NpgsqlCommand(ddl, connection);
                    await command.ExecuteNonQueryAsync(_stopping);
                    break;
                }
                catch (PostgresException ex) when (attempt == 0 && ex.SqlState is PostgresErrorCodes.DuplicateObject or PostgresErrorCodes.UndefinedObject)
                {
                    // Created or dropped by someone else meanwhile: look again.
                }
            }
            // The admin works from the maintenance database (the catalog's admin_database), which PUBLIC may not be
            // allowed to connect to (scripts/postgres.sh revokes it, so binding logins stay in their own databases):
            // then grant it by name, as a real deployment's setup would. One grant at a time: concurrent GRANTs on one
            // database fail with "tuple concurrently updated".
            await GrantGate.WaitAsync(_stopping);
            try
            {
                var grant = await ScalarAsync<string>(connection, """
                    SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text)
                    WHERE NOT has_database_privilege($1::text, current_database(), 'CONNECT')
                    """, role);
                if (grant is not null)
                {
                    await using var command = new NpgsqlCommand(grant, connection);
                    await command.ExecuteNonQueryAsync(_stopping);
                }
            }
            finally
            {
                GrantGate.Release();
            }
            _deployedAdmins[(build.Team, build.Pipeline)] = role;
            _logger.LogInformation("Emulated deploy {Team}/{Pipeline} build {BuildId}: admin role '{Role}' {Action} (LOGIN CREATEDB CREATEROLE)",
                build.Team, build.Pipeline, build.Id, role, exists ? "updated" : "created");
            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // Only the message: a DDL statement carrying the password must not land in the log through an exception dump.
            _logger.LogWarning("Emulated deploy {Team}/{Pipeline} build {BuildId} fails: PostgreSQL: {Error}",
                build.Team, build.Pipeline, build.Id, Describe(ex));
            return BuildStatus.Failed;
        }
    }

    private async Task<string?> DeleteAsync(EmulatedBuildInfo build, string admin)
    {
        try
        {
            await using var connection = await _postgres.OpenConnectionAsync(_stopping);
            var superuser = await ScalarAsync<bool?>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = $1", admin);
            if (superuser is null)
            {
                _logger.LogInformation("Emulated delete {Team}/{Pipeline} build {BuildId}: admin role '{Role}' does not exist, nothing to drop",
                    build.Team, build.Pipeline, build.Id, admin);
                _deployedAdmins.TryRemove((build.Team, build.Pipeline), out _);
                return null;
            }
            if (superuser == true || admin == connection.UserName)
            {
                _logger.LogWarning("Emulated delete {Team}/{Pipeline} build {BuildId} fails: '{Role}' is a superuser, refusing to drop it",
                    build.Team, build.Pipeline, build.Id, admin);
                return BuildStatus.Failed;
            }

            var roles = new List<string>();
            var databases = new List<string>();
            await using (var find = new NpgsqlCommand(
                """
                WITH admin AS (SELECT oid FROM pg_roles WHERE rolname = $1),
                related AS (
                    SELECT r.oid, r.rolname FROM pg_roles r, admin a
                    WHERE r.oid <> a.oid AND r.oid >= 16384 AND NOT r.rolsuper AND r.rolname <> current_user
                      AND EXISTS (SELECT 1 FROM pg_auth_members m
                                  WHERE (m.member = a.oid AND m.roleid = r.oid)
                                     OR (m.grantor = a.oid AND r.oid IN (m.roleid, m.member))))
                SELECT 'role', rolname FROM related
                UNION ALL
                SELECT 'database', datname FROM pg_database
                WHERE datdba IN (SELECT oid FROM related UNION ALL SELECT oid FROM admin)
                  AND NOT datistemplate AND datname <> current_database()
                """,
                connection)
            { Parameters = { new() { Value = admin } } })
            await using (var reader = await find.ExecuteReaderAsync(_stopping))
            {
                while (await reader.ReadAsync(_stopping))
                {
                    (reader.GetString(0) == "role" ? roles : databases).Add(reader.GetString(1));
                }
            }

            foreach (var database in databases)
            {
                await ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {QuoteIdentifier(database)} WITH (FORCE)");
            }
            var all = string.Join(", ", roles.Append(admin).Select(QuoteIdentifier));
            // Their grants and objects in the maintenance database would keep the roles alive. DROP OWNED revokes the
            // admin's CONNECT there, a change of the same pg_database row another deploy's GRANT changes: one at a time
            // (else "tuple concurrently updated"; every emulated cluster shares this one server, real ones do not).
            await GrantGate.WaitAsync(_stopping);
            try
            {
                await ExecuteAsync(connection, $"DROP OWNED BY {all}");
                await ExecuteAsync(connection, $"DROP ROLE IF EXISTS {all}");
            }
            finally
            {
                GrantGate.Release();
            }
            _deployedAdmins.TryRemove((build.Team, build.Pipeline), out _);
            _logger.LogInformation(
                "Emulated delete {Team}/{Pipeline} build {BuildId}: dropped databases [{Databases}], roles [{Roles}] and admin role '{Role}'",
                build.Team, build.Pipeline, build.Id, string.Join(", ", databases), string.Join(", ", roles), admin);
            return null;
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            _logger.LogWarning("Emulated delete {Team}/{Pipeline} build {BuildId} fails: PostgreSQL: {Error}",
                build.Team, build.Pipeline, build.Id, Describe(ex));
            return BuildStatus.Failed;
        }
    }

    private async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql, params string[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        var result = await command.ExecuteScalarAsync(_stopping);
        return result is null or DBNull ? default : (T)result;
    }

    private async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(_stopping);
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string? RoleNameProblem(string role)
    {
        if (role.Length == 0 || role.Contains('\0', StringComparison.Ordinal))
        {
            return "is empty or holds a NUL character";
        }
        if (Encoding.UTF8.GetByteCount(role) > MaxIdentifierBytes)
        {
            return $"is longer than {MaxIdentifierBytes} bytes (PostgreSQL would truncate it)";
        }
        return role.StartsWith("pg_", StringComparison.OrdinalIgnoreCase) ? "is reserved (pg_ prefix)" : null;
    }

    private static string Describe(Exception ex) => ex is PostgresException pg ? $"{pg.SqlState} {pg.MessageText}" : ex.Message;
}
