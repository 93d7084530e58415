using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Concourse;

namespace OnDemand.Tests.FirstRun;

/// <summary>
/// The standalone emulator (as run.sh starts it) takes its secrets from its environment, so none has to be on its
/// command line; and the route README's quickstart names lists the pipelines.
/// </summary>
public sealed class EmulatorSecretsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_standalone_emulator_reads_its_password_and_cluster_connection_from_the_environment()
    {
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var port = FreePort.Next();
        using var emulator = StartEmulator(port, new() { ["CONCOURSE_EMULATOR_PASSWORD"] = password });
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Eventually.TrueAsync(async () =>
            {
                if (emulator.HasExited) Assert.Fail("the emulator ended: " + await emulator.StandardError.ReadToEndAsync(Ct));
                return (await http.GetAsync($"http://127.0.0.1:{port}/_emulator/stats", Ct)).IsSuccessStatusCode;
            }, "the emulator answers", TimeSpan.FromSeconds(60));

            Assert.Equal(HttpStatusCode.OK, await TokenAsync(http, port, password));
            Assert.Equal(HttpStatusCode.Unauthorized, await TokenAsync(http, port, "admin"));
            Assert.DoesNotContain(password, string.Join(' ', emulator.StartInfo.ArgumentList));
        }
        finally
        {
            emulator.Kill(entireProcessTree: true);
            await emulator.WaitForExitAsync(Ct);
        }

        // The cluster connection too: a malformed one from the environment stops it with a plain message.
        using var malformed = StartEmulator(FreePort.Next(), new() { ["CONCOURSE_EMULATOR_CLUSTER_POSTGRES"] = "Host=127.0.0.1;NoSuchKeyword=1" });
        var stderr = await malformed.StandardError.ReadToEndAsync(Ct);
        await malformed.WaitForExitAsync(Ct);
        Assert.Equal(1, malformed.ExitCode);
        Assert.Contains("The emulator cannot start", stderr);
    }

    [Fact]
    public async Task Emulator_pipelines_lists_each_pipeline_with_its_jobs_last_build()
    {
        await using var server = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions(), Ct);
        using var http = new HttpClient();
        Assert.Equal("[]", (await http.GetStringAsync(new Uri(server.Url, "_emulator/pipelines"), Ct)).Trim());

        using var concourse = new ConcourseClient(new ConcourseOptions { Url = server.Url.ToString(), Username = "admin", Password = "admin" });
        await concourse.SetPipelineConfigAsync("ondemand-x", """
            {"jobs":[{"name":"deploy","plan":[{"task":"t","config":{"platform":"linux","run":{"path":"true"}}}]}]}
            """, null, Ct);
        await concourse.UnpausePipelineAsync("ondemand-x", Ct);
        var build = await concourse.TriggerJobAsync("ondemand-x", "deploy", Ct);

        var listed = JsonNode.Parse(await http.GetStringAsync(new Uri(server.Url, "_emulator/pipelines"), Ct))!.AsArray();
        var pipeline = Assert.Single(listed)!;
        Assert.Equal("main", (string?)pipeline["team"]);
        Assert.Equal("ondemand-x", (string?)pipeline["name"]);
        Assert.False((bool)pipeline["paused"]!);
        var job = Assert.Single(pipeline["jobs"]!.AsArray())!;
        Assert.Equal("deploy", (string?)job["name"]);
        Assert.Equal(build.Id, (long)job["last_build"]!["id"]!);
    }

    private static Process StartEmulator(int port, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [LocalRun.Built("tests/ConcourseEmulator", "OnDemand.ConcourseEmulator.dll"), "--port", port.ToString(), "--quiet"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync(); // keep the pipe drained
        return process;
    }

    private static async Task<HttpStatusCode> TokenAsync(HttpClient http, int port, string password)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/sky/issuer/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = "admin",
                ["password"] = password,
                ["scope"] = "openid profile email federated:id groups",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("fly:Zmx5")));
        return (await http.SendAsync(request, Ct)).StatusCode;
    }
}
