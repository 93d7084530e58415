using System.Diagnostics;
using System.Security.Cryptography;
using Npgsql;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Tests.FirstRun;

/// <summary>
/// The local run's PostgreSQL as run.sh sets it up (<c>scripts/postgres.sh start</c>), standing in for every emulated
/// cluster: a cluster admin deployed by the emulator, databases and binding logins made by the real provisioner.
/// A binding login gets into its own database and nowhere else: not another binding's, not <c>postgres</c>,
/// <c>template1</c> or the broker's own <c>ondemand</c>.
/// </summary>
public sealed class LocalRunLoginIsolationTests : IAsyncLifetime
{
    private const string Config = """
        {"resources":[{"name":"deployment","type":"bosh-deployment","source":{"target":"((bosh_target))"}}],
         "jobs":[{"name":"deploy","plan":[{"put":"deployment","params":{"vars":{"admin_password":"((admin_password))"}}}]}]}
        """;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"ondemand-localpg-{Guid.NewGuid():N}"[..30]);
    private readonly string _password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
    private readonly int _port = FreePort.Next();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DataDir => Path.Combine(_root, "postgres");

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        // Reachable by the postgres account when the tests run as root: this test is about logins, not folders.
        File.SetUnixFileMode(_root, (UnixFileMode)0b111_101_101);
        await PostgresShAsync("start", DataDir, _port.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        await PostgresShAsync("stop", DataDir);
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task A_binding_login_connects_to_its_own_database_only_and_cluster_admins_old_and_new_keep_their_admin_database()
    {
        // A cluster admin from before the rule (a data folder of an older run.sh): the next start keeps its access.
        var oldAdmin = "admin_old";
        await using (var superuser = await OpenAsync("postgres", _password, "postgres"))
        {
            await using var create = new NpgsqlCommand($"CREATE ROLE {oldAdmin} LOGIN CREATEDB CREATEROLE PASSWORD 'old-pw'", superuser);
            await create.ExecuteNonQueryAsync(Ct);
        }
        await PostgresShAsync("start", DataDir, _port.ToString());

        // A cluster admin deployed now, by the emulator's deploy build, as run.sh's emulator does it.
        var newAdmin = "admin_new";
        await using (var emulator = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions { ClusterPostgres = ConnectionString("postgres", _password, "postgres") }, Ct))
        {
            using var concourse = new ConcourseClient(new ConcourseOptions { Url = emulator.Url.ToString(), Username = "admin", Password = "admin" });
            using var credHub = new CredHubCredentialStore(new CredHubOptions
            {
                Url = emulator.CredHubUrl.ToString(),
                UaaUrl = emulator.UaaUrl.ToString(),
                ClientId = "broker",
                ClientSecret = "broker-secret",
            });
            await concourse.SetPipelineConfigAsync("ondemand-local", Config, null, Ct);
            await concourse.UnpausePipelineAsync("ondemand-local", Ct);
            await credHub.SetAsync("/concourse/main/ondemand-local/admin_username", newAdmin, Ct);
            await credHub.SetAsync("/concourse/main/ondemand-local/admin_password", "new-pw", Ct);
            var build = await concourse.TriggerJobAsync("ondemand-local", "deploy", Ct);
            Assert.Equal(BuildStatus.Succeeded, (await emulator.State.WaitForFinalStatusAsync(build.Id, TimeSpan.FromSeconds(30), Ct)).Status);
        }

        // Each admin provisions a database with a binding, through the broker's provisioner.
        var logger = new ListLogger<PostgresDatabaseProvisioner>();
        var provisioner = new PostgresDatabaseProvisioner(logger);
        var bindings = new List<DatabaseCredentials>();
        foreach (var (admin, password, database) in new[] { (oldAdmin, "old-pw", "db_old"), (newAdmin, "new-pw", "db_new") })
        {
            var endpoint = new ClusterAdminEndpoint("127.0.0.1", _port, admin, password, "postgres");
            await provisioner.CreateDatabaseAsync(endpoint, database, 100, Ct);
            bindings.Add(await provisioner.CreateUserAsync(endpoint, database, "u_" + database, "pw-" + database, Ct));
        }

        foreach (var binding in bindings)
        {
            await using (await OpenAsync(binding.Username, binding.Password, binding.Name))
            {
            }
            foreach (var elsewhere in bindings.Select(b => b.Name).Where(name => name != binding.Name).Concat(["postgres", "template1", "ondemand"]))
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(binding.Username, binding.Password, elsewhere));
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            }
        }
        // Nothing open to PUBLIC is left, so the provisioner has nothing to warn about.
        Assert.DoesNotContain(logger.Messages, m => m.Contains("can also connect", StringComparison.Ordinal));
    }

    private string ConnectionString(string user, string password, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = _port,
        Username = user,
        Password = password,
        Database = database,
        Pooling = false,
    }.ConnectionString;

    private Task<NpgsqlConnection> OpenAsync(string user, string password, string database) =>
        PgSession.OpenAsync(ConnectionString(user, password, database), Ct);

    private async Task PostgresShAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryPaths.Root, "scripts", "postgres.sh"), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["PGPASSWORD"] = _password;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        Assert.True(process.ExitCode == 0, $"postgres.sh {string.Join(' ', arguments)}: exit {process.ExitCode}: {await output}{await error}");
    }
}
