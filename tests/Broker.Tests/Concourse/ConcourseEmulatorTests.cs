using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using OnDemand.ConcourseEmulator;

namespace OnDemand.Tests.Concourse;

/// <summary>The emulator's own contract, over raw HTTP: routes, status codes and quirks of docs/concourse-api.md.</summary>
public sealed class ConcourseEmulatorTests : IAsyncLifetime
{
    private const string PipelinePath = "api/v1/teams/main/pipelines/p1";

    private static readonly string ValidConfig = """
        {"resources":[{"name":"deployment","type":"bosh-deployment"}],
         "jobs":[{"name":"deploy","plan":[{"put":"deployment"}]},
                 {"name":"delete","disable_manual_trigger":true,"plan":[{"put":"deployment"}]}]}
        """;

    private readonly LogCollector _logs = new();
    private ConcourseEmulatorServer _concourse = null!;
    private HttpClient _http = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _concourse = await ConcourseEmulatorServer.StartAsync(
            new EmulatorOptions { ConfigureLogging = logging => logging.AddProvider(_logs) }, Ct);
        _http = new HttpClient { BaseAddress = _concourse.Url, Timeout = TimeSpan.FromSeconds(10) };
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _concourse.DisposeAsync();
    }

    [Fact]
    public async Task Start_ListensOnLoopback_AndSaysItIsAnEmulator()
    {
        using var info = await _http.GetAsync("api/v1/info", Ct); // public, as in Concourse

        Assert.Equal("127.0.0.1", _concourse.Url.Host);
        Assert.NotEqual(0, _concourse.Url.Port);
        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal("emulator", (await ReadJsonAsync(info))!["cluster_name"]?.GetValue<string>());
        Assert.Contains(_logs.Messages, message => message.Contains("Concourse API EMULATOR - not a real Concourse", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TokenEndpoint_ChecksFlysClientAndTheUsersCredentials()
    {
        using var wrongClient = await RequestTokenAsync("someone:else", "admin", "admin");
        using var wrongPassword = await RequestTokenAsync("fly:Zmx5", "admin", "nope");
        using var good = await RequestTokenAsync("fly:Zmx5", "admin", "admin");

        Assert.Equal(HttpStatusCode.Unauthorized, wrongClient.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        var token = (await ReadJsonAsync(good))!;
        Assert.Equal("bearer", token["token_type"]?.GetValue<string>());
        Assert.Equal(86400, token["expires_in"]?.GetValue<long>());
        Assert.True(token["access_token"]?.GetValue<string>().Length >= 32);
    }

    [Fact]
    public async Task ApiCalls_NeedALiveBearerToken()
    {
        using var anonymous = await _http.GetAsync("api/v1/teams/main/pipelines", Ct);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "made-up");
        using var forged = await _http.GetAsync("api/v1/teams/main/pipelines", Ct);
        await LogInAsync();
        using var authorized = await _http.GetAsync("api/v1/teams/main/pipelines", Ct);
        _concourse.Faults.ExpireAllTokens();
        using var expired = await _http.GetAsync("api/v1/teams/main/pipelines", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("not authorized", await anonymous.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, authorized.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/json; charset=utf-8")] // Concourse compares the header exactly
    public async Task SaveConfig_OtherContentTypes_Are415(string contentType)
    {
        await LogInAsync();

        using var response = await PutConfigAsync(ValidConfig, contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Null(_concourse.State.GetPipeline("p1"));
    }

    [Fact]
    public async Task SaveConfig_Yaml_IsStoredAsTypedJson_WithoutUnknownTopLevelKeys()
    {
        await LogInAsync();
        const string yaml = """
            meta:
              source: &source {target: ((bosh_target)), port: 25555, skip_check: yes, ratio: 0.5, quoted: "25555", empty: ~}
            resources:
            - name: deployment
              type: bosh-deployment
              source:
                <<: *source
                extra: true
            jobs:
            - name: deploy
              plan:
              - put: deployment
            """;

        using var created = await PutConfigAsync(yaml, "application/x-yaml");
        using var read = await _http.GetAsync($"{PipelinePath}/config", Ct);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("{}", await created.Content.ReadAsStringAsync(Ct));
        var config = (await ReadJsonAsync(read))!["config"]!.AsObject();
        Assert.False(config.ContainsKey("meta"));
        var expectedSource = JsonNode.Parse("""
            {"target":"((bosh_target))","port":25555,"skip_check":true,"ratio":0.5,"quoted":"25555","empty":null,"extra":true}
            """);
        Assert.True(JsonNode.DeepEquals(expectedSource, config["resources"]![0]!["source"]), config.ToJsonString());
        Assert.Equal(_concourse.State.GetPipeline("p1")!.ConfigVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            Assert.Single(read.Headers.GetValues("X-Concourse-Config-Version")));
    }

    [Fact]
    public async Task SaveConfig_GeneratorMistakes_Are400WithConcoursesWording()
    {
        await LogInAsync();
        const string config = """
            {"groups":[{"name":"main","jobs":["deploy"]}],
             "resources":[{"name":"deployment","type":"bosh-deployment"},{"name":"notype"},{"name":"unused","type":"git"},{"name":"deployment","type":"git"}],
             "jobs":[{"name":"deploy","plan":[{"put":"deployment"},{"get":"nowhere"}]},
                     {"name":"deploy","plan":[{"get":"notype"}]},
                     {"plan":[{"get":"deployment"}]},
                     {"name":"ungrouped","plan":[{"task":"x","file":"x.yml"}]},
                     {"name":"planless"}]}
            """;

        using var response = await PutConfigAsync(config, "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = string.Join("\n", (await ReadJsonAsync(response))!["errors"]!.AsArray().Select(error => error!.GetValue<string>()));
        string[] expected =
        [
            "invalid groups:\n",
            "\tjob 'ungrouped' belongs to no group",
            "invalid resources:\n",
            "\tresources.notype has no type",
            "\tresources[0] and resources[3] have the same name ('deployment')",
            "\tresource 'unused' is not used",
            "invalid jobs:\n",
            "\tjobs[0] and jobs[1] have the same name ('deploy')",
            "\tjobs[2] has no name",
            "\tjobs.planless has no plan",
            "\tjobs.deploy.plan.do[1].get(nowhere): unknown resource 'nowhere'",
        ];
        Assert.All(expected, fragment => Assert.Contains(fragment, errors, StringComparison.Ordinal));
        Assert.Null(_concourse.State.GetPipeline("p1"));
    }

    [Fact]
    public async Task SaveConfig_UnknownNestedKey_IsAMalformedConfig()
    {
        await LogInAsync();

        using var response = await PutConfigAsync("""{"jobs":[{"name":"deploy","plan":[],"serail":true}]}""", "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("malformed config", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        Assert.Contains("unknown field \\\"serail\\\"", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveConfig_UnknownStepField_IsRejectedAsConcourseDoes()
    {
        await LogInAsync();

        using var response = await PutConfigAsync(
            """{"resources":[{"name":"r","type":"git","source":{}}],"jobs":[{"name":"deploy","plan":[{"get":"r","no_get":true}]}]}""",
            "application/json");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = string.Join("\n", (await ReadJsonAsync(response))!["errors"]!.AsArray().Select(error => error!.GetValue<string>()));
        Assert.Contains("\tjobs.deploy.plan.do[0]: unknown fields [\"no_get\"]", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveConfig_UpdatesOnlyWithTheCurrentVersion()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        var version = _concourse.State.GetPipeline("p1")!.ConfigVersion;

        using var missing = await PutConfigAsync(ValidConfig, "application/json");
        using var stale = await PutConfigAsync(ValidConfig, "application/json", version + 1);
        using var malformed = await PutConfigAsync(ValidConfig, "application/json", versionHeader: "seven");
        using var updated = await PutConfigAsync(ValidConfig, "application/json", version);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Equal("failed to save config: comparison with existing config failed during save", await missing.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.InternalServerError, stale.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.True(_concourse.State.GetPipeline("p1")!.ConfigVersion > version);
    }

    [Fact]
    public async Task SaveConfig_UnknownTeam_Is404()
    {
        await LogInAsync();

        using var response = await SendAsync(HttpMethod.Put, "api/v1/teams/other/pipelines/p1/config", ValidConfig, "application/json");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Archive_ClearsTheConfig_BlocksPauseUnpauseAndTrigger_AndSettingItAgainUnarchives()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var unpaused = await SendAsync(HttpMethod.Put, $"{PipelinePath}/unpause");

        using var archived = await SendAsync(HttpMethod.Put, $"{PipelinePath}/archive");
        using var config = await _http.GetAsync($"{PipelinePath}/config", Ct);
        using var pipeline = await _http.GetAsync(PipelinePath, Ct);
        using var unpause = await SendAsync(HttpMethod.Put, $"{PipelinePath}/unpause");
        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        using var reset = await PutConfigAsync(ValidConfig, "application/json"); // archived = version 0 = no header

        Assert.Equal(HttpStatusCode.OK, archived.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, config.StatusCode);
        var json = (await ReadJsonAsync(pipeline))!;
        Assert.True(json["archived"]!.GetValue<bool>());
        Assert.True(json["paused"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.Conflict, unpause.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, trigger.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var after = _concourse.State.GetPipeline("p1")!;
        Assert.False(after.Archived);
        Assert.True(after.Paused);
    }

    [Fact]
    public async Task Builds_HaveGlobalIncreasingIds_PerJobNames_AndConcoursesShape()
    {
        await LogInAsync();
        foreach (var pipeline in new[] { "p1", "p2" })
        {
            using var _ = await SendAsync(HttpMethod.Put, $"api/v1/teams/main/pipelines/{pipeline}/config", ValidConfig, "application/json");
        }

        var builds = new List<JsonNode>();
        foreach (var pipeline in new[] { "p1", "p2", "p1" })
        {
            using var response = await SendAsync(HttpMethod.Post, $"api/v1/teams/main/pipelines/{pipeline}/jobs/deploy/builds");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            builds.Add((await ReadJsonAsync(response))!);
        }

        Assert.Equal([1L, 2L, 3L], builds.Select(build => build["id"]!.GetValue<long>()));
        Assert.Equal(["1", "1", "2"], builds.Select(build => build["name"]!.GetValue<string>()));
        var last = builds[2];
        Assert.Equal(("pending", "/api/v1/builds/3", "deploy", "p1", "main"), (
            last["status"]!.GetValue<string>(), last["api_url"]!.GetValue<string>(), last["job_name"]!.GetValue<string>(),
            last["pipeline_name"]!.GetValue<string>(), last["team_name"]!.GetValue<string>()));
        Assert.Null(last["start_time"]); // omitted until it starts, as Concourse does
    }

    [Fact]
    public async Task BuildList_IsNewestFirst_WithLimit_And404ForAnUnknownJob()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        for (var i = 0; i < 4; i++)
        {
            using var _ = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        }

        using var list = await _http.GetAsync($"{PipelinePath}/jobs/deploy/builds?limit=2", Ct);
        using var unknown = await _http.GetAsync($"{PipelinePath}/jobs/nope/builds", Ct);

        Assert.Equal(["4", "3"], (await ReadJsonAsync(list))!.AsArray().Select(build => build!["name"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task HeldBuilds_StayStartedUntilReleased_AndBuildFinishedFiresExactlyOnce()
    {
        var finished = new ConcurrentQueue<BuildFinished>();
        _concourse.State.BuildFinished += finished.Enqueue;
        _concourse.State.HoldBuilds("deploy");
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var unpaused = await SendAsync(HttpMethod.Put, $"{PipelinePath}/unpause");
        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        var id = (await ReadJsonAsync(trigger))!["id"]!.GetValue<long>();

        await Task.Delay(100, Ct); // several finisher passes
        var held = _concourse.State.GetBuild(id);
        _concourse.State.ReleaseBuilds("deploy");
        var released = _concourse.State.GetBuild(id);
        await Task.Delay(60, Ct);
        _concourse.State.GetBuild(id);

        Assert.Equal("started", held?.Status);
        Assert.Equal("succeeded", released?.Status);
        var evt = Assert.Single(finished);
        Assert.Equal((id, "p1", "deploy", "succeeded"), (evt.BuildId, evt.Pipeline, evt.Job, evt.Status));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(ValidConfig), JsonNode.Parse(evt.PipelineConfigJson!)));
    }

    [Fact]
    public async Task BuildFinished_FiresOnTime_EvenWhenNobodyReadsTheBuild()
    {
        _concourse.State.BuildDuration = TimeSpan.FromMilliseconds(150);
        var finished = new TaskCompletionSource<BuildFinished>(TaskCreationOptions.RunContinuationsAsynchronously);
        _concourse.State.BuildFinished += evt => finished.TrySetResult(evt);
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var unpaused = await SendAsync(HttpMethod.Put, $"{PipelinePath}/unpause");
        var clock = Stopwatch.StartNew();

        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        var evt = await finished.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        Assert.Equal("started", (await ReadJsonAsync(trigger))!["status"]!.GetValue<string>());
        Assert.Equal("succeeded", evt.Status);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(140), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Delete_Is204_RemovesTheBuilds_AndThen404()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        var id = (await ReadJsonAsync(trigger))!["id"]!.GetValue<long>();

        using var deleted = await SendAsync(HttpMethod.Delete, PipelinePath);
        using var build = await _http.GetAsync($"api/v1/builds/{id}", Ct);
        using var again = await SendAsync(HttpMethod.Delete, PipelinePath);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, build.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(0, _concourse.State.BuildCount);
    }

    [Fact]
    public async Task Abort_Is204_AndDisabledManualTriggerIs409()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        var id = (await ReadJsonAsync(trigger))!["id"]!.GetValue<long>();

        using var abort = await SendAsync(HttpMethod.Put, $"api/v1/builds/{id}/abort");
        using var disabled = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/delete/builds");

        Assert.Equal(HttpStatusCode.NoContent, abort.StatusCode);
        Assert.Equal("aborted", _concourse.State.GetBuild(id)?.Status);
        Assert.Equal(HttpStatusCode.Conflict, disabled.StatusCode);
    }

    [Fact]
    public async Task ControlRoutes_SteerTheEmulator_WithoutAuth()
    {
        using var duration = await _http.PutAsync("_emulator/build-duration?seconds=0.25", null, Ct);
        using var script = await _http.PostAsync("_emulator/script?job=deploy&status=errored", null, Ct);
        using var fail = await _http.PostAsync("_emulator/faults/fail?status=503&path=/api/v1/info", null, Ct);
        using var badInput = await _http.PostAsync("_emulator/script?job=deploy&status=exploded", null, Ct);
        using var info = await _http.GetAsync("api/v1/info", Ct);
        using var stats = await _http.GetAsync("_emulator/stats", Ct);

        Assert.Equal(HttpStatusCode.NoContent, duration.StatusCode);
        Assert.Equal(TimeSpan.FromMilliseconds(250), _concourse.State.BuildDuration);
        Assert.Equal(HttpStatusCode.NoContent, script.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, fail.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badInput.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, info.StatusCode);
        Assert.True((await ReadJsonAsync(stats))!["emulator"]!.GetValue<bool>());

        _concourse.State.BuildDuration = TimeSpan.Zero;
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        using var unpaused = await SendAsync(HttpMethod.Put, $"{PipelinePath}/unpause");
        using var trigger = await SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds");
        Assert.Equal("errored", (await ReadJsonAsync(trigger))!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task LostResponse_PerformsTheEffect_ThenResetsTheConnection()
    {
        await LogInAsync();
        using var created = await PutConfigAsync(ValidConfig, "application/json");
        _concourse.Faults.LoseResponseNext(1, "/jobs/deploy/builds", "POST", LostResponseMode.AbortConnection);

        await Assert.ThrowsAsync<HttpRequestException>(() => SendAsync(HttpMethod.Post, $"{PipelinePath}/jobs/deploy/builds"));

        Assert.Single(_concourse.State.GetBuilds("p1", "deploy"));
        var logged = Assert.Single(_concourse.Faults.RequestLog, entry => entry.Path.EndsWith("/builds", StringComparison.Ordinal));
        Assert.Equal((0, "lost-response"), (logged.StatusCode, logged.Fault));
    }

    [Fact]
    public async Task ManyConcurrentTriggers_AcrossPipelines_GetUniqueIdsAndPerJobNames()
    {
        await LogInAsync();
        var pipelines = Enumerable.Range(0, 20).Select(i => $"bench-{i}").ToList();
        await Task.WhenAll(pipelines.Select(async pipeline =>
        {
            using var _ = await SendAsync(HttpMethod.Put, $"api/v1/teams/main/pipelines/{pipeline}/config", ValidConfig, "application/json");
            using var __ = await SendAsync(HttpMethod.Put, $"api/v1/teams/main/pipelines/{pipeline}/unpause");
        }));

        var ids = await Task.WhenAll(pipelines.SelectMany(pipeline => Enumerable.Repeat(pipeline, 10)).Select(async pipeline =>
        {
            using var response = await SendAsync(HttpMethod.Post, $"api/v1/teams/main/pipelines/{pipeline}/jobs/deploy/builds");
            return (await ReadJsonAsync(response))!["id"]!.GetValue<long>();
        }));

        Assert.Equal(200, ids.Distinct().Count());
        Assert.All(pipelines, pipeline => Assert.Equal(
            Enumerable.Range(1, 10).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            _concourse.State.GetBuilds(pipeline, "deploy").Select(build => build.Name).Reverse()));
        Assert.Equal(200, _concourse.State.CountBuildsByStatus()["succeeded"]);
    }

    private async Task LogInAsync()
    {
        using var response = await RequestTokenAsync("fly:Zmx5", "admin", "admin");
        response.EnsureSuccessStatusCode();
        var token = (await ReadJsonAsync(response))!["access_token"]!.GetValue<string>();
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    private async Task<HttpResponseMessage> RequestTokenAsync(string client, string username, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "sky/issuer/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = username,
                ["password"] = password,
                ["scope"] = "openid profile email federated:id groups",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes(client)));
        return await _http.SendAsync(request, Ct);
    }

    private Task<HttpResponseMessage> PutConfigAsync(string body, string contentType, long? version = null, string? versionHeader = null) =>
        SendAsync(HttpMethod.Put, $"{PipelinePath}/config", body, contentType,
            versionHeader ?? version?.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, string path, string? body = null, string? contentType = null, string? configVersion = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            // Set verbatim: the emulator, like Concourse, compares this header exactly.
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        if (configVersion is not null)
        {
            request.Headers.Add("X-Concourse-Config-Version", configVersion);
        }
        return await _http.SendAsync(request, Ct);
    }

    private static async Task<JsonNode?> ReadJsonAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

    /// <summary>Collects the emulator's log lines (to check the banner).</summary>
    private sealed class LogCollector : ILoggerProvider, ILogger
    {
        private readonly ConcurrentQueue<string> _messages = new();

        public IReadOnlyList<string> Messages => _messages.ToArray();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _messages.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }
}
