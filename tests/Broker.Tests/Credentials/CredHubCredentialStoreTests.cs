using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.Logging;
using OnDemand.ConcourseEmulator;
using OnDemand.Grains.Credentials;

namespace OnDemand.Tests.Credentials;

/// <summary>The real <see cref="CredHubCredentialStore"/> over HTTP against the emulator's fake CredHub and UAA.</summary>
public sealed class CredHubCredentialStoreTests : IAsyncLifetime
{
    private const string Name = "/concourse/main/ondemand-5e1f/admin_password";
    private const string Secret = "s3cr3t-'quoted\"-value";

    private readonly ListLogger<CredHubCredentialStore> _log = new();
    private ConcourseEmulatorServer _emulator = null!;
    private CredHubCredentialStore _store = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _emulator = await ConcourseEmulatorServer.StartAsync(new EmulatorOptions(), Ct);
        _store = NewStore();
    }

    public async ValueTask DisposeAsync()
    {
        _store.Dispose();
        await _emulator.DisposeAsync();
    }

    [Fact]
    public async Task Set_Get_Overwrite_Delete_RoundTripThroughCredHub()
    {
        await _store.SetAsync(Name, Secret, Ct);
        Assert.Equal(Secret, await _store.GetAsync(Name, Ct));
        Assert.Equal(Secret, _emulator.CredHub.Get(Name));

        await _store.SetAsync(Name, "second", Ct);
        Assert.Equal("second", await _store.GetAsync(Name, Ct));
        Assert.Equal(new Dictionary<string, string> { [Name] = "second" }, _emulator.CredHub.All);

        await _store.DeleteAsync(Name, Ct);
        Assert.Null(await _store.GetAsync(Name, Ct));
        Assert.Empty(_emulator.CredHub.All);
    }

    [Fact]
    public async Task Missing_GetsNull_AndDeletingItIsFine()
    {
        Assert.Null(await _store.GetAsync("/concourse/main/nothing/here", Ct));
        await _store.DeleteAsync("/concourse/main/nothing/here", Ct);
    }

    [Fact]
    public async Task Names_MustBeAbsolute()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _store.SetAsync("concourse/main/p/x", "v", Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _store.GetAsync("x", Ct));
        Assert.Equal(0, _emulator.CredHub.TokensIssued);
    }

    [Fact]
    public async Task OneLogin_ServesManyCalls_EvenConcurrentOnes()
    {
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => _store.SetAsync($"/concourse/main/p{i}/admin_password", $"v{i}", Ct)));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"v{i}", await _store.GetAsync($"/concourse/main/p{i}/admin_password", Ct));
        }

        Assert.Equal(1, _emulator.CredHub.TokensIssued);
        Assert.Equal(0, _emulator.CredHub.RejectedRequests);
    }

    [Fact]
    public async Task RevokedToken_LogsInAgainOnce_AndRetries()
    {
        await _store.SetAsync(Name, Secret, Ct);
        _emulator.CredHub.ExpireTokens();

        var values = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => _store.GetAsync(Name, Ct)));

        Assert.All(values, value => Assert.Equal(Secret, value));
        Assert.Equal(2, _emulator.CredHub.TokensIssued);
        // Calls that start after the shared re-login already carry the new token: 1 to 5 are rejected first.
        Assert.InRange(_emulator.CredHub.RejectedRequests, 1, 5);
    }

    [Fact]
    public async Task TokenAboutToExpire_IsRenewedBeforeUse()
    {
        var clock = new ManualClock();
        using var store = NewStore(clock: clock);
        await store.SetAsync(Name, Secret, Ct);
        clock.Advance(TimeSpan.FromHours(12) - TimeSpan.FromSeconds(30)); // UAA's 12 h, minus less than the renewal margin

        Assert.Equal(Secret, await store.GetAsync(Name, Ct));
        Assert.Equal(2, _emulator.CredHub.TokensIssued);
        Assert.Equal(0, _emulator.CredHub.RejectedRequests);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(503)]
    public async Task ServerErrors_AreTransient(int status)
    {
        await _store.SetAsync(Name, Secret, Ct); // logged in: the fault hits the data call
        _emulator.CredHub.FailNext(1, status, "/api/v1/data");

        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => _store.GetAsync(Name, Ct));

        Assert.True(failure.Transient);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), failure.Message, StringComparison.Ordinal);
        Assert.Equal(Secret, await _store.GetAsync(Name, Ct)); // and the next call works
    }

    [Fact]
    public async Task UaaDown_IsTransient()
    {
        _emulator.CredHub.FailNext(1, 502, "/oauth/token");

        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => _store.SetAsync(Name, Secret, Ct));

        Assert.True(failure.Transient);
        await _store.SetAsync(Name, Secret, Ct);
    }

    [Fact]
    public async Task NoAnswerInTime_IsTransient()
    {
        // Generous enough that the login before the hang never times out on a loaded 2-core machine.
        using var store = NewStore(timeout: TimeSpan.FromSeconds(2));
        await store.SetAsync(Name, Secret, Ct);
        _emulator.CredHub.HangNext(1, TimeSpan.FromSeconds(10), "/api/v1/data");

        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => store.GetAsync(Name, Ct));

        Assert.True(failure.Transient);
        Assert.Contains("no answer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionRefused_IsTransient()
    {
        var closed = $"http://127.0.0.1:{FreePort.Next()}";
        using var store = new CredHubCredentialStore(new CredHubOptions
        {
            Url = closed + "/credhub",
            UaaUrl = closed + "/uaa",
            ClientId = "broker",
            ClientSecret = "broker-secret",
        });

        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => store.GetAsync(Name, Ct));

        Assert.True(failure.Transient);
        Assert.Contains("connection refused", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongClientSecret_IsNotTransient_AndLeaksNothing()
    {
        using var store = NewStore(secret: "wrong-secret");

        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => store.SetAsync(Name, Secret, Ct));

        Assert.False(failure.Transient);
        Assert.Contains("401", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadRequest_IsNotTransient()
    {
        // The fake, like CredHub, refuses an empty value.
        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => _store.SetAsync(Name, "", Ct));

        Assert.False(failure.Transient);
        Assert.Contains("non-empty value", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_NeverHoldValuesOrSecrets()
    {
        await _store.SetAsync(Name, Secret, Ct);
        _emulator.CredHub.ExpireTokens();
        Assert.Equal(Secret, await _store.GetAsync(Name, Ct));
        _emulator.CredHub.FailNext(1, 500, "/api/v1/data");
        await Assert.ThrowsAsync<CredentialStoreException>(() => _store.SetAsync(Name, Secret, Ct));

        Assert.Contains(_log.Messages, message => message.Contains("Logged in to UAA", StringComparison.Ordinal));
        Assert.Contains(_log.Messages, message => message.Contains("rejected the bearer token", StringComparison.Ordinal));
        Assert.Contains(_log.Messages, message => message.Contains(Name, StringComparison.Ordinal)); // names are fine
        Assert.All(_log.Messages, message =>
        {
            Assert.DoesNotContain(Secret, message, StringComparison.Ordinal);
            Assert.DoesNotContain("broker-secret", message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task WithoutUrl_IsDisabled()
    {
        using var store = new CredHubCredentialStore(new CredHubOptions());

        Assert.False(store.Enabled);
        Assert.True(_store.Enabled);
        var failure = await Assert.ThrowsAsync<CredentialStoreException>(() => store.GetAsync(Name, Ct));
        Assert.False(failure.Transient);
    }

    [Fact]
    public async Task FakeCredHub_AnswersLikeCredHub()
    {
        using var http = new HttpClient { BaseAddress = _emulator.Url };
        using var anonymous = await http.GetAsync($"credhub/api/v1/data?name={Name}", Ct);
        await _store.SetAsync(Name, Secret, Ct);
        _emulator.CredHub.ExpireTokens();
        await _store.GetAsync(Name, Ct); // logs in again: the token below is the live one
        using var login = new HttpRequestMessage(HttpMethod.Post, "uaa/oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials" }),
        };
        login.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.ASCII.GetBytes("broker:broker-secret")));
        using var token = await http.SendAsync(login, Ct);
        var tokenJson = JsonNode.Parse(await token.Content.ReadAsStringAsync(Ct))!;
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokenJson["access_token"]!.GetValue<string>());
        using var found = await http.GetAsync($"credhub/api/v1/data?name={Uri.EscapeDataString(Name)}&current=true", Ct);
        using var missing = await http.DeleteAsync("credhub/api/v1/data?name=/nope", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        Assert.Equal("bearer", tokenJson["token_type"]!.GetValue<string>());
        Assert.Equal(43200, tokenJson["expires_in"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var credential = JsonNode.Parse(await found.Content.ReadAsStringAsync(Ct))!["data"]![0]!;
        Assert.Equal(Name, credential["name"]!.GetValue<string>());
        Assert.Equal("value", credential["type"]!.GetValue<string>());
        Assert.Equal(Secret, credential["value"]!.GetValue<string>());
        Assert.True(Guid.TryParse(credential["id"]!.GetValue<string>(), out _));
        Assert.EndsWith("Z", credential["version_created_at"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(_emulator.Faults.RequestLog); // CredHub is not Concourse: not in its request log
    }

    private CredHubCredentialStore NewStore(string secret = "broker-secret", TimeSpan? timeout = null, TimeProvider? clock = null) =>
        new(
            new CredHubOptions
            {
                Url = _emulator.CredHubUrl.ToString(),
                UaaUrl = _emulator.UaaUrl.ToString(),
                ClientId = "broker",
                ClientSecret = secret,
                RequestTimeout = timeout ?? TimeSpan.FromSeconds(10),
            },
            _log,
            clock);
}
