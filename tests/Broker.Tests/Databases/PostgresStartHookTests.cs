using System.Diagnostics;
using Npgsql;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Pipelines.Verification;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.Databases;

/// <summary>
/// The post-start hook of the PostgreSQL cluster manifest (templates/bosh/postgresql.yml), run as postgres-release
/// runs it (bash, with PACKAGE_DIR, PORT and DATA_DIR; psql as the superuser vcap over the local socket) against a
/// private server set up as a cluster deployment is: the broker's admin with CREATEDB CREATEROLE, databases and
/// logins made by the broker's own provisioner. A private server, because the hook changes the maintenance databases.
/// </summary>
public sealed class PostgresStartHookTests : IAsyncLifetime
{
    private const string Admin = "ondemand_admin";
    private PostgresServer _server = null!;
    private readonly string _adminPassword = Passwords.Generate();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.StartAsync(Ct);
        await SuperuserAsync("CREATE ROLE vcap SUPERUSER LOGIN"); // the release's initdb user
    }

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task After_the_hook_a_binding_login_reaches_only_its_own_database_and_the_admin_still_provisions()
    {
        var admin = await CreateAdminAsync();
        var provisioner = new PostgresDatabaseProvisioner();
        await provisioner.CreateDatabaseAsync(admin, "orders", null, Ct);
        var login = await provisioner.CreateUserAsync(admin, "orders", "u_orders", "binding-pw-1", Ct);
        // The default PostgreSQL grants: the binding's login can open the maintenance databases (this proves the test can fail).
        await ConnectAsync("postgres", "u_orders", "binding-pw-1");

        var output = await RunHookAsync();

        foreach (var database in new[] { "postgres", "template1" })
        {
            var refused = await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync(database, "u_orders", "binding-pw-1"));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        }
        await ConnectAsync("orders", "u_orders", "binding-pw-1");
        Assert.Contains("orders", login.Uri);

        // The admin still works from `postgres`: a second database and its login, as the broker makes them after the hook.
        await provisioner.CreateDatabaseAsync(admin, "invoices", null, Ct);
        await provisioner.CreateUserAsync(admin, "invoices", "u_invoices", "binding-pw-2", Ct);
        await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync("postgres", "u_invoices", "binding-pw-2"));
        await Assert.ThrowsAsync<PostgresException>(() => ConnectAsync("orders", "u_invoices", "binding-pw-2"));

        // Every start runs it again: it is idempotent.
        Assert.DoesNotContain("ERROR", output);
        Assert.DoesNotContain("ERROR", await RunHookAsync());
        await ConnectAsync("postgres", Admin, _adminPassword);
    }

    [Fact]
    public async Task The_hook_waits_for_the_admin_role_that_the_janitor_creates_concurrently()
    {
        // postgres-release's pg_janitor creates the roles while the hook runs: the role appears a few seconds later.
        var hook = RunHookAsync();
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.False(hook.IsCompleted, "the hook must wait for the admin role");
        await CreateAdminAsync();
        var output = await hook.WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Contains($"waiting for role {Admin}", output);
        await ConnectAsync("postgres", Admin, _adminPassword);
        Assert.Equal(false, await SuperuserAsync("SELECT has_database_privilege('public', 'postgres', 'CONNECT')"));
        Assert.Equal(false, await SuperuserAsync("SELECT has_database_privilege('public', 'template1', 'CONNECT')"));
    }

    private async Task<ClusterAdminEndpoint> CreateAdminAsync()
    {
        await SuperuserAsync($"CREATE ROLE {Admin} LOGIN CREATEDB CREATEROLE PASSWORD '{_adminPassword}'");
        return new ClusterAdminEndpoint("127.0.0.1", _server.Port, Admin, _adminPassword, "postgres");
    }

    /// <summary>The manifest's hook with ((admin_username)) interpolated, run the way the release's call-hooks.sh does.</summary>
    private async Task<string> RunHookAsync()
    {
        var manifest = YamlTree.Parse(await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "templates/bosh/postgresql.yml"), Ct), "postgresql.yml")!;
        var script = manifest["instance_groups"]![0]!["jobs"]![0]!["properties"]!["databases"]!["hooks"]!["post_start"]!.GetValue<string>()
            .Replace("((admin_username))", Admin, StringComparison.Ordinal);
        // PACKAGE_DIR: a stand-in for /var/vcap/packages/postgres-N, its bin/psql this machine's psql.
        var package = Directory.CreateTempSubdirectory("post-start-").FullName;
        var path = Path.Combine(package, "post-start.sh");
        await File.WriteAllTextAsync(path, script, Ct);
        Directory.CreateDirectory(Path.Combine(package, "bin"));
        File.CreateSymbolicLink(Path.Combine(package, "bin", "psql"), _server.PsqlPath);
        try
        {
            var start = new ProcessStartInfo("bash", [path]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.Environment.Clear();
            start.Environment["PATH"] = "/usr/bin:/bin";
            start.Environment["PACKAGE_DIR"] = package;
            start.Environment["PORT"] = _server.Port.ToString();
            start.Environment["DATA_DIR"] = "/nonexistent";
            start.Environment["PGHOST"] = _server.SocketDirectory; // the release's psql finds its socket by default
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync(Ct);
            var error = process.StandardError.ReadToEndAsync(Ct);
            await process.WaitForExitAsync(Ct);
            var all = await output + await error;
            Assert.True(process.ExitCode == 0, $"the hook exited with {process.ExitCode}: {all}");
            return all;
        }
        finally
        {
            Directory.Delete(package, recursive: true);
        }
    }

    private async Task ConnectAsync(string database, string user, string password)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = _server.Port,
            Database = database,
            Username = user,
            Password = password,
            Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync(Ct);
    }

    private async Task<object?> SuperuserAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server.AdminConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }
}
