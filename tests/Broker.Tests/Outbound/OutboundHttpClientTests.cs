using System.Net.Sockets;
using Flurl.Http;
using OnDemand.Grains.Http;

namespace OnDemand.Tests.Outbound;

/// <summary>
/// The one outbound HTTP plumbing of the grains (<see cref="OutboundHttpClient"/>, <see cref="OAuthLogin"/>,
/// <see cref="SharedBearerToken"/>, <see cref="HttpFailures"/>) over real HTTP against <see cref="FakeOAuthApi"/>.
/// </summary>
public sealed class OutboundHttpClientTests : IAsyncLifetime
{
    private FakeOAuthApi _api = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _api = await FakeOAuthApi.StartAsync();

    public async ValueTask DisposeAsync() => await _api.DisposeAsync();

    // ---------------------------------------------------------------- bearer token

    [Fact]
    public async Task Concurrent_callers_share_one_login()
    {
        using var http = Client();
        _api.HoldLogins();

        var calls = Enumerable.Range(0, 10).Select(_ => GetThingAsync(http)).ToList();
        await _api.LoginArrived.Task.WaitAsync(Ct);
        Assert.Equal(1, _api.Logins); // every caller has started: all but one wait for that login
        _api.ReleaseLogins();
        var answers = await Task.WhenAll(calls);

        Assert.All(answers, answer => Assert.Equal(200, answer.Status));
        Assert.Equal(1, _api.Logins);
        Assert.Equal(10, _api.ApiCalls);
        Assert.Equal(0, _api.Rejected);
    }

    [Fact]
    public async Task A_revoked_token_is_renewed_exactly_once_for_all_concurrent_callers()
    {
        using var http = Client();
        await GetThingAsync(http);
        _api.RevokeTokens();

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => GetThingAsync(http)));

        Assert.All(answers, answer => Assert.Equal(200, answer.Status));
        Assert.Equal(2, _api.Logins);
        Assert.InRange(_api.Rejected, 1, 8); // calls that start after the shared re-login carry the new token
        Assert.Equal(1 + 8 + _api.Rejected, _api.ApiCalls);
    }

    [Fact]
    public async Task A_401_right_after_a_fresh_login_is_handed_back_without_a_third_try()
    {
        using var http = Client();
        _api.RejectEveryToken = true;

        var answer = await GetThingAsync(http);

        Assert.Equal(401, answer.Status);
        Assert.Equal(2, _api.Logins);
        Assert.Equal(2, _api.ApiCalls);
    }

    [Fact]
    public async Task The_token_is_renewed_a_tenth_of_its_lifetime_before_it_expires()
    {
        var clock = new ManualClock();
        using var http = Client(clock: clock);
        _api.ExpiresIn = 100; // renewed after 90 s

        await GetThingAsync(http);
        clock.Advance(TimeSpan.FromSeconds(89));
        await GetThingAsync(http);
        Assert.Equal(1, _api.Logins);
        clock.Advance(TimeSpan.FromSeconds(2));
        await GetThingAsync(http);

        Assert.Equal(2, _api.Logins);
        Assert.Equal(0, _api.Rejected);
    }

    [Fact]
    public void The_renewal_margin_is_at_most_a_minute()
    {
        var issued = DateTimeOffset.UnixEpoch;

        Assert.Equal(issued + TimeSpan.FromHours(12) - TimeSpan.FromMinutes(1), BearerToken.Issued("t", TimeSpan.FromHours(12), issued).RenewAt);
        Assert.Equal(issued + TimeSpan.FromSeconds(90), BearerToken.Issued("t", TimeSpan.FromSeconds(100), issued).RenewAt);
        Assert.DoesNotContain("secret-token", BearerToken.Issued("secret-token", TimeSpan.FromHours(1), issued).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_login_posts_its_grant_with_the_clients_basic_auth()
    {
        using var http = Client();

        await GetThingAsync(http);

        Assert.Equal(
            new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "alice", ["password"] = "alice-pw", ["scope"] = "openid" },
            _api.LastGrant);
    }

    [Fact]
    public async Task A_refused_login_is_the_clients_refusal_and_a_failing_token_endpoint_is_unavailable()
    {
        using var wrongSecret = Client(secret: "wrong");
        var refused = await Assert.ThrowsAsync<RefusedException>(() => GetThingAsync(wrongSecret));
        Assert.Equal("Plumbing login as 'alice' refused (401)", refused.Message);

        using var http = Client();
        _api.LoginStatus = 503;
        var down = await Assert.ThrowsAsync<UnavailableException>(() => GetThingAsync(http));
        Assert.Equal("Plumbing login as 'alice': answered 503 ServiceUnavailable", down.Message);
        Assert.Equal(0, _api.ApiCalls);
    }

    [Fact]
    public async Task Without_a_login_no_token_is_sent()
    {
        using var http = Client(login: false);

        var answer = await GetThingAsync(http);

        Assert.Equal(401, answer.Status);
        Assert.Equal(0, _api.Logins);
        Assert.Equal(1, _api.ApiCalls);
    }

    // ---------------------------------------------------------------- failures

    [Theory]
    [InlineData(500, "InternalServerError")]
    [InlineData(502, "BadGateway")]
    [InlineData(503, "ServiceUnavailable")]
    [InlineData(408, "RequestTimeout")]
    [InlineData(429, "TooManyRequests")]
    public async Task Transient_statuses_are_the_callers_unavailable_exception_in_one_wording(int status, string phrase)
    {
        using var http = Client(login: false);
        var answer = await SendAsync(http, $"status/{status}");

        var failure = http.TransientFailure("GET status", answer);

        Assert.Equal(status, answer.Status);
        Assert.Equal("emulated status", answer.Body);
        Assert.Equal($"Plumbing GET status: answered {status} {phrase}", Assert.IsType<UnavailableException>(failure).Message);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(403)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(422)]
    public async Task Other_statuses_are_left_to_the_caller(int status)
    {
        using var http = Client(login: false);

        var answer = await SendAsync(http, $"status/{status}");

        Assert.Null(http.TransientFailure("GET status", answer));
    }

    [Fact]
    public async Task No_answer_within_the_timeout_is_unavailable()
    {
        using var http = Client(login: false, timeout: TimeSpan.FromMilliseconds(300));

        var failure = await Assert.ThrowsAsync<UnavailableException>(() => SendAsync(http, "hang"));

        Assert.Equal("Plumbing GET hang: no answer within 0.3 s", failure.Message);
        Assert.IsType<FlurlHttpTimeoutException>(failure.InnerException);
    }

    [Fact]
    public async Task A_requests_own_timeout_is_the_one_reported()
    {
        using var http = Client(login: false);

        var failure = await Assert.ThrowsAsync<UnavailableException>(() =>
            http.SendOnceAsync("GET hang", HttpMethod.Get, http.Request(_api.Url.ToString(), "hang").WithTimeout(TimeSpan.FromMilliseconds(200)), null, Ct));

        Assert.Equal("Plumbing GET hang: no answer within 0.2 s", failure.Message);
    }

    [Fact]
    public async Task Connection_refused_is_unavailable()
    {
        using var http = Client(login: false);
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
        }

        var failure = await Assert.ThrowsAsync<UnavailableException>(() =>
            http.SendOnceAsync("GET thing", HttpMethod.Get, http.Request($"http://127.0.0.1:{port}", "thing"), null, Ct));

        Assert.Equal("Plumbing GET thing: connection refused", failure.Message);
    }

    [Fact]
    public async Task The_callers_cancellation_stays_a_cancellation()
    {
        using var http = Client(login: false);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var call = SendAsync(http, "hang", cancel.Token);
        await _api.HangArrived.Task.WaitAsync(Ct);
        await cancel.CancelAsync();

        var failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cancel.Token, failure.CancellationToken);
    }

    // ---------------------------------------------------------------- JSON

    [Fact]
    public async Task Json_content_is_utf8_with_the_bare_media_type()
    {
        using var http = Client(login: false);

        var answer = await http.SendOnceAsync(
            "POST echo", HttpMethod.Post, http.Request(_api.Url.ToString(), "echo"), HttpJson.Content(new JsonObject { ["name"] = "é" }), Ct);

        Assert.Equal("application/json", answer.Body);
        Assert.Null(HttpJson.TryParse("<html>proxy error</html>"));
        Assert.Null(HttpJson.TryParse(" "));
        Assert.Equal("é", HttpJson.TryParse("""{"name":"é"}""")?["name"]?.GetValue<string>());
    }

    // ---------------------------------------------------------------- helpers

    private OutboundHttpClient Client(bool login = true, string secret = FakeOAuthApi.ClientSecret, TimeSpan? timeout = null, TimeProvider? clock = null) =>
        new(new OutboundHttpSettings("Plumbing", timeout ?? TimeSpan.FromSeconds(10), (call, reason, inner) => new UnavailableException($"Plumbing {call}: {reason}", inner))
        {
            AcceptJson = true,
            Clock = clock,
            Login = login
                ? new OAuthLogin(_api.TokenUrl, FakeOAuthApi.ClientId, secret, OAuthLogin.PasswordGrant("alice", "alice-pw", "openid"))
                {
                    Call = "login as 'alice'",
                    Refused = (call, answer) => new RefusedException($"Plumbing {call} refused ({answer.Status})"),
                }
                : null,
        });

    private Task<HttpAnswer> GetThingAsync(OutboundHttpClient http) =>
        http.SendAsync("GET thing", HttpMethod.Get, () => http.Request(_api.Url.ToString(), "api", "thing"), null, Ct);

    private Task<HttpAnswer> SendAsync(OutboundHttpClient http, string path, CancellationToken? cancellationToken = null) =>
        http.SendAsync($"GET {path.Split('/')[0]}", HttpMethod.Get, () => http.Request(_api.Url.ToString(), path), null, cancellationToken ?? Ct);

    private sealed class UnavailableException(string message, Exception? inner) : Exception(message, inner);

    private sealed class RefusedException(string message) : Exception(message);
}
