using Npgsql;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;

namespace OnDemand.Tests.Concourse;

/// <summary>
/// The emulator's deploy/delete builds acting on a real PostgreSQL (the assembly's <see cref="PostgresFixture"/>) with the
/// admin account read from the fake CredHub, driven over HTTP by the real Concourse client and CredHub store; and the
/// standalone emulator's state file.
/// </summary>
public sealed class ClusterDeploymentEmulatorTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string Config = """
        {"resources":[{"name":"deployment","type":"bosh-deployment","source":{"target":"((bosh_target))"}}],
         "jobs":[{"name":"deploy","plan":[{"put":"deployment","params":{"vars":{"admin_password":"((admin_password))"}}}]},
                 {"name":"delete","plan":[{"put":"deployment","params":{"delete":{"enabled":true}}}]}]}
        """;

    private readonly string _suffix = Guid.NewGuid().ToString("N")[..10];
    private ConcourseEmulatorServer _emulator = null!;
    private ConcourseClient _concourse = null!;
    private CredHubCredentialStore _credHub = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Pipeline => $"ondemand-{_suffix}";

    private string Admin => $"admin_{_suffix}";

    public async ValueTask InitializeAsync()
    {
        _emulator = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions { ClusterPostgres = postgres.Server.AdminConnectionString }, Ct);
        _concourse = NewConcourseClient(_emulator);
        _credHub = NewCredHubStore(_emulator);
    }

    public async ValueTask DisposeAsync()
    {
        _credHub.Dispose();
        _concourse.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task Deploy_CreatesTheAdminRoleFromCredHub_ThatCanLogIn_AndARedeploySetsItsNewPassword()
    {
        await SetUpPipelineAsync();
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_username", Admin, Ct);
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_password", "first-'pw\"\\", Ct);

        var deployed = await RunAsync("deploy");

        Assert.Equal(BuildStatus.Succeeded, deployed.Status);
        await using (var asAdmin = await OpenAsync(Admin, "first-'pw\"\\"))
        {
            await using var read = new NpgsqlCommand("SELECT rolcanlogin, rolcreatedb, rolcreaterole, rolsuper FROM pg_roles WHERE rolname = current_user", asAdmin);
            await using var reader = await read.ExecuteReaderAsync(Ct);
            Assert.True(await reader.ReadAsync(Ct));
            Assert.Equal((true, true, true, false), (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3)));
        }

        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_password", "second-pw", Ct);
        Assert.Equal(BuildStatus.Succeeded, (await RunAsync("deploy")).Status);

        await using (await OpenAsync(Admin, "second-pw"))
        {
        }
        var refused = await Assert.ThrowsAsync<PostgresException>(() => OpenAsync(Admin, "first-'pw\"\\"));
        Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
        await DropAsync();
    }

    [Fact]
    public async Task Deploy_ResolvesTeamLevelCredentials_LikeConcourse()
    {
        await SetUpPipelineAsync();
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_username", Admin, Ct);
        await _credHub.SetAsync("/concourse/main/admin_password", "team-wide-pw", Ct);

        Assert.Equal(BuildStatus.Succeeded, (await RunAsync("deploy")).Status);
        await using (await OpenAsync(Admin, "team-wide-pw"))
        {
        }
        await DropAsync();
    }

    [Fact]
    public async Task Deploy_WithoutCredentialsInCredHub_Fails()
    {
        await SetUpPipelineAsync();
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_username", Admin, Ct); // no password

        var deployed = await RunAsync("deploy");

        Assert.Equal(BuildStatus.Failed, deployed.Status);
        Assert.False(await RoleExistsAsync(Admin));
        // Other jobs are not concerned.
        Assert.Equal(BuildStatus.Succeeded, (await RunAsync("delete")).Status);
    }

    [Fact]
    public async Task Deploy_OfASuperuserName_FailsAndChangesNothing()
    {
        await SetUpPipelineAsync();
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_username", "postgres", Ct);
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_password", "hijack", Ct);

        Assert.Equal(BuildStatus.Failed, (await RunAsync("deploy")).Status);
        // A fresh (unpooled) login with the superuser's own password still works.
        await using (await OpenAsync("postgres", new NpgsqlConnectionStringBuilder(postgres.Server.AdminConnectionString).Password!))
        {
        }
    }

    [Fact]
    public async Task Delete_DropsTheAdminRole_TheRolesItBrought_AndTheirDatabases_ButNothingElse()
    {
        await SetUpPipelineAsync();
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_username", Admin, Ct);
        await _credHub.SetAsync($"/concourse/main/{Pipeline}/admin_password", "admin-pw", Ct);
        Assert.Equal(BuildStatus.Succeeded, (await RunAsync("deploy")).Status);

        // What a provisioner does with the admin account: a database of its own, and an owner role for another one.
        var child = $"owner_{_suffix}";
        await using (var asAdmin = await OpenAsync(Admin, "admin-pw"))
        {
            await ExecuteAsync(asAdmin, $"CREATE DATABASE admindb_{_suffix}");
            await ExecuteAsync(asAdmin, $"CREATE ROLE {child} LOGIN CREATEDB PASSWORD 'child-pw'");
            await ExecuteAsync(asAdmin, $"GRANT {child} TO {Admin}");
        }
        await using (var asChild = await OpenAsync(child, "child-pw"))
        {
            await ExecuteAsync(asChild, $"CREATE DATABASE childdb_{_suffix}");
        }
        // Someone else's role and database, and a session left open in the admin's database.
        await using (var superuser = await OpenSuperuserAsync())
        {
            await ExecuteAsync(superuser, $"CREATE ROLE other_{_suffix} LOGIN CREATEDB");
            await ExecuteAsync(superuser, $"CREATE DATABASE otherdb_{_suffix} OWNER other_{_suffix}");
        }
        await using var leftOpen = await OpenAsync(Admin, "admin-pw", $"admindb_{_suffix}");

        var deleted = await RunAsync("delete");

        Assert.Equal(BuildStatus.Succeeded, deleted.Status);
        Assert.False(await RoleExistsAsync(Admin));
        Assert.False(await RoleExistsAsync(child));
        Assert.False(await DatabaseExistsAsync($"admindb_{_suffix}"));
        Assert.False(await DatabaseExistsAsync($"childdb_{_suffix}"));
        Assert.True(await RoleExistsAsync($"other_{_suffix}"));
        Assert.True(await DatabaseExistsAsync($"otherdb_{_suffix}"));
        await using (var superuser = await OpenSuperuserAsync())
        {
            await ExecuteAsync(superuser, $"DROP DATABASE otherdb_{_suffix}");
            await ExecuteAsync(superuser, $"DROP ROLE other_{_suffix}");
        }

        // Deleting again (a retried delete) finds nothing and succeeds.
        Assert.Equal(BuildStatus.Succeeded, (await RunAsync("delete")).Status);
    }

    [Fact]
    public async Task StateFile_KeepsPipelinesBuildsAndCredentials_AcrossARestart_AndIdsGoOnIncreasing()
    {
        var directory = Directory.CreateTempSubdirectory("ondemand-emulator-state-");
        try
        {
            var file = Path.Combine(directory.FullName, "concourse-emulator.json");
            var clock = new ManualClock();
            EmulatorOptions Options() => new() { StateFile = file, Clock = clock };

            IReadOnlyList<EmulatedPipelineInfo> pipelinesBefore;
            IReadOnlyList<EmulatedBuildInfo> buildsBefore;
            EmulatedBuildInfo running;
            await using (var first = await ConcourseEmulatorServer.StartAsync(Options(), Ct))
            {
                using var concourse = NewConcourseClient(first);
                using var credHub = NewCredHubStore(first);
                await concourse.SetPipelineConfigAsync("p1", Config, null, Ct);
                await concourse.UnpausePipelineAsync("p1", Ct);
                await concourse.TriggerJobAsync("p1", "deploy", Ct); // succeeds at once
                first.State.BuildDuration = TimeSpan.FromMinutes(1);
                var started = await concourse.TriggerJobAsync("p1", "deploy", Ct);
                await concourse.SetPipelineConfigAsync("p2", Config, null, Ct); // stays paused
                await concourse.TriggerJobAsync("p2", "delete", Ct); // pending
                await credHub.SetAsync("/concourse/main/p1/admin_password", "kept-pw", Ct);

                pipelinesBefore = first.State.GetPipelines();
                buildsBefore = [.. first.State.GetBuilds("p1", "deploy"), .. first.State.GetBuilds("p2", "delete")];
                running = first.State.GetBuild(started.Id)!;
                Assert.Equal(BuildStatus.Started, running.Status);
                // Saved on its own shortly after the changes, not only at shutdown.
                await WaitUntilAsync(() => File.Exists(file) && File.ReadAllText(file).Contains("kept-pw", StringComparison.Ordinal));
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

            await using var second = await ConcourseEmulatorServer.StartAsync(Options(), Ct);
            using var client = NewConcourseClient(second);

            Assert.Equal(pipelinesBefore, second.State.GetPipelines(), PipelineComparer.Instance);
            Assert.Equal(buildsBefore, second.State.GetBuilds("p1", "deploy").Concat(second.State.GetBuilds("p2", "delete")).ToList());
            Assert.Equal("kept-pw", second.CredHub.Get("/concourse/main/p1/admin_password"));
            Assert.Equal(3, (await client.GetJobBuildsAsync("p1", "deploy", 10, Ct)).Count + (await client.GetJobBuildsAsync("p2", "delete", 10, Ct)).Count);

            // The build that was running goes on and ends when it was due.
            clock.Advance(TimeSpan.FromMinutes(2));
            var ended = await second.State.WaitForFinalStatusAsync(running.Id, TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(BuildStatus.Succeeded, ended.Status);
            Assert.Equal(running.StartTime + 60, ended.EndTime);

            // Ids, build names and config versions go on from where they were.
            var next = await client.TriggerJobAsync("p1", "deploy", Ct);
            Assert.True(next.Id > buildsBefore.Max(build => build.Id));
            Assert.Equal("3", next.Name);
            await client.SetPipelineConfigAsync("p3", Config, null, Ct);
            var p3 = second.State.GetPipeline("p3")!;
            Assert.True(p3.Id > pipelinesBefore.Max(pipeline => pipeline.Id));
            Assert.True(p3.ConfigVersion > pipelinesBefore.Max(pipeline => pipeline.ConfigVersion));
            // The paused pipeline's pending build starts when it is unpaused.
            await client.UnpausePipelineAsync("p2", Ct);
            var pending = buildsBefore.Single(build => build.Pipeline == "p2");
            Assert.Equal(BuildStatus.Succeeded, (await second.State.WaitForFinalStatusAsync(pending.Id, TimeSpan.FromSeconds(10), Ct)).Status);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private async Task SetUpPipelineAsync()
    {
        await _concourse.SetPipelineConfigAsync(Pipeline, Config, null, Ct);
        await _concourse.UnpausePipelineAsync(Pipeline, Ct);
    }

    private async Task<EmulatedBuildInfo> RunAsync(string job)
    {
        var build = await _concourse.TriggerJobAsync(Pipeline, job, Ct);
        return await _emulator.State.WaitForFinalStatusAsync(build.Id, TimeSpan.FromSeconds(30), Ct);
    }

    private Task<NpgsqlConnection> OpenAsync(string user, string password, string database = "postgres") =>
        PgSession.OpenAsync(new NpgsqlConnectionStringBuilder(postgres.Server.AdminConnectionString)
        {
            Username = user,
            Password = password,
            Database = database,
            Pooling = false,
        }.ConnectionString, Ct);

    private async Task<NpgsqlConnection> OpenSuperuserAsync()
    {
        var connection = new NpgsqlConnection(postgres.Server.AdminConnectionString);
        await connection.OpenAsync(Ct);
        return connection;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }

    private async Task<bool> RoleExistsAsync(string role) => await ExistsAsync("SELECT 1 FROM pg_roles WHERE rolname = $1", role);

    private async Task<bool> DatabaseExistsAsync(string database) => await ExistsAsync("SELECT 1 FROM pg_database WHERE datname = $1", database);

    private async Task<bool> ExistsAsync(string sql, string name)
    {
        await using var connection = await OpenSuperuserAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new() { Value = name } } };
        return await command.ExecuteScalarAsync(Ct) is not null;
    }

    /// <summary>Cleans up what a test that ends without a delete build left on the shared server.</summary>
    private async Task DropAsync()
    {
        await using var superuser = await OpenSuperuserAsync();
        await ExecuteAsync(superuser, $"DROP ROLE IF EXISTS {Admin}");
    }

    private static Task WaitUntilAsync(Func<bool> condition, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(condition))] string what = "") =>
        Eventually.TrueAsync(() => Task.FromResult(condition()), what, TimeSpan.FromSeconds(10));

    private static ConcourseClient NewConcourseClient(ConcourseEmulatorServer emulator) =>
        new(new ConcourseOptions { Url = emulator.Url.ToString(), Username = "admin", Password = "admin" });

    private static CredHubCredentialStore NewCredHubStore(ConcourseEmulatorServer emulator) =>
        new(new CredHubOptions
        {
            Url = emulator.CredHubUrl.ToString(),
            UaaUrl = emulator.UaaUrl.ToString(),
            ClientId = "broker",
            ClientSecret = "broker-secret",
        });

    /// <summary>Pipelines compared field by field (the record's job list compares by reference).</summary>
    private sealed class PipelineComparer : IEqualityComparer<EmulatedPipelineInfo>
    {
        public static readonly PipelineComparer Instance = new();
        private static readonly IReadOnlyList<string> NoJobs = [];

        public bool Equals(EmulatedPipelineInfo? x, EmulatedPipelineInfo? y) =>
            x is not null && y is not null && x with { Jobs = NoJobs } == y with { Jobs = NoJobs } && x.Jobs.Order().SequenceEqual(y.Jobs.Order());

        public int GetHashCode(EmulatedPipelineInfo obj) => obj.Id.GetHashCode();
    }
}
