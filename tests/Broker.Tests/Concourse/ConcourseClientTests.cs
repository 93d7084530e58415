using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Concourse;

namespace OnDemand.Tests.Concourse;

/// <summary>The real <see cref="ConcourseClient"/> over HTTP against the Concourse API emulator (one per test).</summary>
public sealed class ConcourseClientTests : IAsyncLifetime
{
    private const string Pipeline = "ondemand-0f6c1f52";
    private const string Password = "emulated-secret-pw";

    private static readonly string ValidConfig = """
        {"resources":[{"name":"deployment","type":"bosh-deployment","source":{"target":"((bosh_target))","port":25555}}],
         "jobs":[{"name":"deploy","plan":[{"put":"deployment","params":{"manifest":"manifest.yml"}}]},
                 {"name":"smoke-tests","plan":[{"get":"deployment"}]},
                 {"name":"delete","disable_manual_trigger":true,"plan":[{"put":"deployment","params":{"delete":{"enabled":true}}}]}]}
        """;

    private readonly ListLogger<ConcourseClient> _log = new();
    private ConcourseEmulatorServer _concourse = null!;
    private ConcourseClient _client = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _concourse = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions { Password = Password }, Ct);
        _client = NewClient();
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _concourse.DisposeAsync();
    }

    [Fact]
    public async Task Login_OneTokenRequestServesManyCalls_EvenConcurrentOnes()
    {
        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => _client.GetPipelineConfigAsync(Pipeline, Ct)));
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(await _client.GetPipelineConfigAsync(Pipeline, Ct));
        }

        Assert.All(concurrent, Assert.Null);
        Assert.Equal(1, _concourse.Faults.CountRequests("POST", "/sky/issuer/token"));
        Assert.Equal(25, _concourse.Faults.CountRequests("GET", "/config"));
    }

    [Fact]
    public async Task ExpiredToken_LogsInAgainExactlyOnce_AndRetriesTheCalls()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        _concourse.Faults.ExpireAllTokens();

        var snapshots = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _client.GetPipelineConfigAsync(Pipeline, Ct)));

        Assert.All(snapshots, snapshot => Assert.NotNull(snapshot));
        Assert.Equal(2, _concourse.Faults.LoginCount);
        Assert.Contains(_concourse.Faults.RequestLog, entry => entry.StatusCode == 401 && entry.Path.EndsWith("/config", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WrongPassword_IsUnavailable_AndNeitherPasswordNorTokenIsLogged()
    {
        using var wrong = NewClient(options => options.Password = "wrong-" + Password);

        var error = await Assert.ThrowsAsync<ConcourseUnavailableException>(() => wrong.UnpausePipelineAsync(Pipeline, Ct));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, error.Message, StringComparison.Ordinal);
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct); // a good login, whose token must not be logged either
        Assert.Contains(_log.Messages, message => message.Contains("Logged in", StringComparison.Ordinal));
        Assert.DoesNotContain(_log.Messages, message => message.Contains(Password, StringComparison.Ordinal));
        // The emulator's tokens are 43 random base64url characters: no such run may appear in the log.
        Assert.DoesNotContain(_log.Messages, message => Regex.IsMatch(message, "[A-Za-z0-9_-]{40,}"));
    }

    [Fact]
    public async Task SetPipelineConfig_NewPipeline_IsCreatedPaused_AndReadsBackWithItsVersion()
    {
        var outcome = await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);

        Assert.Equal(SetPipelineOutcome.Created, outcome);
        var pipeline = _concourse.State.GetPipeline(Pipeline);
        Assert.NotNull(pipeline);
        Assert.True(pipeline.Paused);
        var snapshot = await _client.GetPipelineConfigAsync(Pipeline, Ct);
        Assert.NotNull(snapshot);
        Assert.Equal(pipeline.ConfigVersion, snapshot.Version);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ValidConfig), JsonNode.Parse(snapshot.ConfigJson)));
        Assert.DoesNotContain('\n', snapshot.ConfigJson);
    }

    [Fact]
    public async Task The_config_version_is_read_from_the_header_alone_and_failures_still_explain_themselves()
    {
        Assert.Null(await _client.GetPipelineConfigVersionAsync(Pipeline, Ct));
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        var version = _concourse.State.GetPipeline(Pipeline)!.ConfigVersion;

        // The config itself is left unread: one connection after another must still come back usable.
        for (var i = 0; i < 30; i++)
        {
            Assert.Equal(version, await _client.GetPipelineConfigVersionAsync(Pipeline, Ct));
        }
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig.Replace("deploy", "deploy-2", StringComparison.Ordinal), version, Ct);
        Assert.Equal(_concourse.State.GetPipeline(Pipeline)!.ConfigVersion, await _client.GetPipelineConfigVersionAsync(Pipeline, Ct));
        Assert.NotEqual(version, await _client.GetPipelineConfigVersionAsync(Pipeline, Ct));

        // A failure's body is read: its status and words reach the error.
        _concourse.Faults.FailNext(1, 403, pathContains: "/config", method: "GET");
        var refused = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.GetPipelineConfigVersionAsync(Pipeline, Ct));
        Assert.Equal(403, refused.StatusCode);
        _concourse.Faults.FailNext(1, 503, pathContains: "/config", method: "GET");
        await Assert.ThrowsAsync<ConcourseUnavailableException>(() => _client.GetPipelineConfigVersionAsync(Pipeline, Ct));
    }

    [Fact]
    public async Task Trigger_OnPausedPipeline_StaysPending()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);

        var build = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);

        Assert.Equal("pending", build.Status);
        Assert.True(build.IsRunning);
        Assert.Equal("pending", (await _client.GetBuildAsync(build.Id, Ct))?.Status);
        Assert.Equal("pending", Assert.Single(await _client.GetJobBuildsAsync(Pipeline, "deploy", 10, Ct)).Status);
    }

    [Fact]
    public async Task Unpause_StartsThePendingBuild_WhichThenSucceeds()
    {
        _concourse.State.BuildDuration = TimeSpan.FromMilliseconds(200);
        _concourse.State.HoldBuilds("deploy"); // so that "started" is observable however slow the machine is
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        var pending = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);

        await _client.UnpausePipelineAsync(Pipeline, Ct);

        var running = await _client.GetBuildAsync(pending.Id, Ct);
        Assert.Equal("started", running?.Status);
        Assert.NotNull(running?.StartTime);
        Assert.Null(running?.EndTime);
        _concourse.State.ReleaseBuilds("deploy");
        var finished = await PollAsync(() => _client.GetBuildAsync(pending.Id, Ct), build => build is { IsRunning: false });
        Assert.True(finished!.Succeeded);
        Assert.NotNull(finished.EndTime);
        Assert.True(finished.EndTime >= finished.StartTime);
        Assert.False(_concourse.State.GetPipeline(Pipeline)!.Paused);
    }

    [Fact]
    public async Task Update_WithTheCurrentVersion_IsUpdated_WithAStaleOrMissingOne_IsAConflict()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        var first = await _client.GetPipelineConfigAsync(Pipeline, Ct);
        var changed = ValidConfig.Replace("manifest.yml", "manifest-v2.yml", StringComparison.Ordinal);

        var outcome = await _client.SetPipelineConfigAsync(Pipeline, changed, first!.Version, Ct);
        var second = await _client.GetPipelineConfigAsync(Pipeline, Ct);

        Assert.Equal(SetPipelineOutcome.Updated, outcome);
        Assert.True(second!.Version > first.Version);
        Assert.Contains("manifest-v2.yml", second.ConfigJson, StringComparison.Ordinal);
        var stale = await Assert.ThrowsAsync<ConcourseConfigConflictException>(() => _client.SetPipelineConfigAsync(Pipeline, ValidConfig, first.Version, Ct));
        Assert.Contains("comparison with existing config failed", stale.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ConcourseConfigConflictException>(() => _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct));
        Assert.Contains("manifest-v2.yml", _concourse.State.GetPipeline(Pipeline)!.ConfigJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigWarnings_AreLogged_AndDoNotFailTheSave()
    {
        var config = ValidConfig.Replace("\"smoke-tests\"", "\"Smoke_Tests\"", StringComparison.Ordinal);

        var outcome = await _client.SetPipelineConfigAsync(Pipeline, config, null, Ct);

        Assert.Equal(SetPipelineOutcome.Created, outcome);
        Assert.Contains(_log.Messages, message => message.Contains("invalid_identifier", StringComparison.Ordinal)
            && message.Contains("'Smoke_Tests' is not a valid identifier", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidConfig_IsRejectedWith400_CarryingConcoursesOwnWords()
    {
        const string config = """
            {"resources":[{"name":"deployment","type":"bosh-deployment"},{"name":"unused","type":"git"}],
             "jobs":[{"name":"deploy","plan":[{"put":"deployment"},{"get":"missing"}]}]}
            """;

        var error = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.SetPipelineConfigAsync(Pipeline, config, null, Ct));

        Assert.Equal(400, error.StatusCode);
        Assert.Contains("invalid resources: resource 'unused' is not used", error.Message, StringComparison.Ordinal);
        Assert.Contains("jobs.deploy.plan.do[1].get(missing): unknown resource 'missing'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        Assert.Null(_concourse.State.GetPipeline(Pipeline));
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    public async Task ServerErrors_AreUnavailable_NamingTheCallAndTheStatus(int status)
    {
        _concourse.Faults.FailNext(1, status, "/config", "PUT");

        var error = await Assert.ThrowsAsync<ConcourseUnavailableException>(() => _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct));

        Assert.Contains($"PUT config of pipeline '{Pipeline}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
        Assert.Null(_concourse.State.GetPipeline(Pipeline));
        Assert.Equal(SetPipelineOutcome.Created, await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct));
    }

    [Fact]
    public async Task Forbidden_IsRejected()
    {
        _concourse.Faults.FailNext(1, 403, "/unpause");

        var error = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.UnpausePipelineAsync(Pipeline, Ct));

        Assert.Equal(403, error.StatusCode);
    }

    [Fact]
    public async Task HangBeyondTheRequestTimeout_IsUnavailable_WithinAboutTheTimeout()
    {
        await _client.GetPipelineConfigAsync(Pipeline, Ct); // warm the emulator up: a cold first request is slow on a busy machine
        using var impatient = NewClient(options => options.RequestTimeout = TimeSpan.FromMilliseconds(500));
        await impatient.GetPipelineConfigAsync(Pipeline, Ct); // log in first: only the hung call should be timed
        _concourse.Faults.HangNext(1, TimeSpan.FromSeconds(30), "/config");
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ConcourseUnavailableException>(() => impatient.GetPipelineConfigAsync(Pipeline, Ct));

        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        Assert.Contains("no answer within 0.5 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CallerCancellation_IsNotReportedAsAnOutage()
    {
        await _client.GetPipelineConfigAsync(Pipeline, Ct);
        _concourse.Faults.HangNext(1, TimeSpan.FromSeconds(30), "/config");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _client.GetPipelineConfigAsync(Pipeline, cancel.Token));
    }

    [Fact]
    public async Task ConnectionRefused_IsUnavailable()
    {
        using var closed = NewClient(options => options.Url = $"http://127.0.0.1:{ClosedPort()}");

        var error = await Assert.ThrowsAsync<ConcourseUnavailableException>(() => closed.GetPipelineConfigAsync(Pipeline, Ct));

        Assert.Contains("connection refused", error.Message, StringComparison.Ordinal);
        Assert.Contains("login", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownHost_IsUnavailable()
    {
        // .invalid never resolves (RFC 2606); where DNS itself is unreachable the call times out: unavailable too.
        using var nowhere = NewClient(options =>
        {
            options.Url = "http://concourse.invalid:8080";
            options.RequestTimeout = TimeSpan.FromSeconds(3);
        });

        await Assert.ThrowsAsync<ConcourseUnavailableException>(() => nowhere.GetPipelineConfigAsync(Pipeline, Ct));
    }

    [Fact]
    public async Task DeletePipeline_TrueAndBuildsGone_FalseWhenAlreadyGone()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        var build = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);

        Assert.True(await _client.DeletePipelineAsync(Pipeline, Ct));

        Assert.Null(_concourse.State.GetPipeline(Pipeline));
        Assert.Null(await _client.GetBuildAsync(build.Id, Ct));
        Assert.Null(await _client.GetPipelineConfigAsync(Pipeline, Ct));
        Assert.False(await _client.DeletePipelineAsync(Pipeline, Ct));
    }

    [Fact]
    public async Task GetJobBuilds_NewestFirstWithinTheLimit_EmptyForAMissingJobOrPipeline()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        await _client.UnpausePipelineAsync(Pipeline, Ct);
        var triggered = new List<ConcourseBuild>();
        for (var i = 0; i < 5; i++)
        {
            triggered.Add(await _client.TriggerJobAsync(Pipeline, "deploy", Ct));
        }

        var builds = await _client.GetJobBuildsAsync(Pipeline, "deploy", 3, Ct);

        Assert.Equal(["5", "4", "3"], builds.Select(build => build.Name));
        Assert.Equal(triggered.Select(build => build.Id).Reverse().Take(3), builds.Select(build => build.Id));
        Assert.All(builds, build => Assert.Equal(("deploy", Pipeline, "succeeded"), (build.JobName, build.PipelineName, build.Status)));
        Assert.Empty(await _client.GetJobBuildsAsync(Pipeline, "no-such-job", 3, Ct));
        Assert.Empty(await _client.GetJobBuildsAsync("no-such-pipeline", "deploy", 3, Ct));
    }

    [Fact]
    public async Task AbortBuild_MarksARunningBuildAborted()
    {
        _concourse.State.HoldBuilds("deploy");
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        await _client.UnpausePipelineAsync(Pipeline, Ct);
        var build = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);
        Assert.Equal("started", build.Status);

        await _client.AbortBuildAsync(build.Id, Ct);

        var aborted = await _client.GetBuildAsync(build.Id, Ct);
        Assert.Equal("aborted", aborted?.Status);
        Assert.False(aborted!.IsRunning);
        Assert.NotNull(aborted.EndTime);
        var missing = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.AbortBuildAsync(build.Id + 1000, Ct));
        Assert.Equal(404, missing.StatusCode);
    }

    [Theory]
    [InlineData(LostResponseMode.BadGateway)]
    [InlineData(LostResponseMode.AbortConnection)]
    public async Task LostResponseOnTrigger_TheBuildExists_ThoughTheClientSawAnError(LostResponseMode mode)
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        await _client.UnpausePipelineAsync(Pipeline, Ct);
        _concourse.Faults.LoseResponseNext(1, "/jobs/deploy/builds", "POST", mode);

        await Assert.ThrowsAsync<ConcourseUnavailableException>(() => _client.TriggerJobAsync(Pipeline, "deploy", Ct));

        // What a grain does before re-triggering: look at the latest build.
        var latest = Assert.Single(await _client.GetJobBuildsAsync(Pipeline, "deploy", 1, Ct));
        Assert.True(latest.Succeeded);
        Assert.Equal(1, _concourse.Faults.CountRequests("POST", "/jobs/deploy/builds"));
    }

    [Fact]
    public async Task UnknownTeam_IsRejectedWith404()
    {
        using var otherTeam = NewClient(options => options.Team = "no-such-team");

        var error = await Assert.ThrowsAsync<ConcourseRejectedException>(() => otherTeam.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct));

        Assert.Equal(404, error.StatusCode);
    }

    [Fact]
    public async Task Trigger_UnknownJobIs404_DisabledManualTriggerIs409()
    {
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);

        var unknown = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.TriggerJobAsync(Pipeline, "no-such-job", Ct));
        var disabled = await Assert.ThrowsAsync<ConcourseRejectedException>(() => _client.TriggerJobAsync(Pipeline, "delete", Ct));

        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal(409, disabled.StatusCode);
        Assert.Contains("manual triggering is disabled", disabled.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScriptedOutcome_IsWhatTheClientSees()
    {
        _concourse.State.ScriptNextBuilds(Pipeline, "deploy", "failed");
        await _client.SetPipelineConfigAsync(Pipeline, ValidConfig, null, Ct);
        await _client.UnpausePipelineAsync(Pipeline, Ct);

        var failed = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);
        var next = await _client.TriggerJobAsync(Pipeline, "deploy", Ct);

        Assert.Equal("failed", failed.Status);
        Assert.False(failed.Succeeded);
        Assert.True(next.Succeeded);
    }

    [Fact]
    public async Task PipelineName_IsEscapedAsOnePathSegment()
    {
        const string oddName = "ondemand pipe?x#y";

        Assert.Equal(SetPipelineOutcome.Created, await _client.SetPipelineConfigAsync(oddName, ValidConfig, null, Ct));

        Assert.NotNull(_concourse.State.GetPipeline(oddName));
        Assert.NotNull(await _client.GetPipelineConfigAsync(oddName, Ct));
        Assert.Equal(
            $"{_concourse.Url.ToString().TrimEnd('/')}/teams/main/pipelines/ondemand%20pipe%3Fx%23y",
            _client.PipelineWebUrl(oddName));
    }

    [Fact]
    public void WebUrls_FollowConcoursesLayout()
    {
        var build = new ConcourseBuild(42, "3", "succeeded", "smoke-tests", Pipeline, 1, 2);

        Assert.Equal(
            $"{_concourse.Url.ToString().TrimEnd('/')}/teams/main/pipelines/{Pipeline}/jobs/smoke-tests/builds/3",
            _client.BuildWebUrl(build));
    }

    private ConcourseClient NewClient(Action<ConcourseOptions>? configure = null)
    {
        var options = new ConcourseOptions
        {
            Url = _concourse.Url.ToString(),
            Team = "main",
            Username = "admin",
            Password = Password,
            RequestTimeout = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return new ConcourseClient(options, _log);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), $"Still not done after 10 s: {value}");
            await Task.Delay(20, Ct);
        }
    }
}
