using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flurl.Http;

namespace OnDemand.Grains.Http;

/// <summary>
/// A bearer token from an OAuth2 token endpoint (UAA, Concourse's sky/issuer): the client authenticates with Basic
/// auth and posts a grant form; the answer's <c>access_token</c> is kept until shortly before its <c>expires_in</c>.
/// Neither the secrets nor the token ever reach a log line or an exception message.
/// </summary>
/// <example>
/// The Cloud Foundry API through its UAA:
/// <code>
/// Login = new OAuthLogin($"{uaaUrl}/oauth/token", "cf", "", OAuthLogin.PasswordGrant(username, password)) { Call = $"UAA login as '{username}'" }
/// </code>
/// </example>
/// <param name="tokenUrl">absolute URL of the token endpoint.</param>
/// <param name="grant">the form: <see cref="PasswordGrant"/> or <see cref="ClientCredentialsGrant"/>.</param>
public sealed partial class OAuthLogin(string tokenUrl, string clientId, string clientSecret, IReadOnlyDictionary<string, string> grant) : IBearerLogin
{
    /// <summary>Names the login in exceptions and log lines, e.g. "login as 'admin'".</summary>
    public string Call { get; init; } = "login";

    /// <summary>Names who issues the token in the log, e.g. "UAA https://uaa.example.com".</summary>
    public string Issuer { get; init; } = "the token endpoint";

    /// <summary>Names who logs in, in the log, e.g. "client broker".</summary>
    public string Principal { get; init; } = "the client";

    /// <summary>Lifetime assumed when the answer has no <c>expires_in</c>.</summary>
    public TimeSpan FallbackLifetime { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The exception for a token endpoint that refuses (a status that is not transient: 400, 401, 403...); by default
    /// the client's transient one, so that fixing the secret lets pending work go on.
    /// </summary>
    public Func<string, HttpAnswer, Exception>? Refused { get; init; }

    public static IReadOnlyDictionary<string, string> PasswordGrant(string username, string password, string? scope = null)
    {
        var grant = new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = username, ["password"] = password };
        if (scope is not null)
        {
            grant["scope"] = scope;
        }
        return grant;
    }

    public static IReadOnlyDictionary<string, string> ClientCredentialsGrant { get; } =
        new Dictionary<string, string> { ["grant_type"] = "client_credentials" };

    public async Task<BearerToken> LogInAsync(OutboundHttpClient http, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        var request = http.Request(tokenUrl).WithBasicAuth(clientId, clientSecret);
        var answer = await http.SendOnceAsync(Call, HttpMethod.Post, request, new FormUrlEncodedContent(grant), cancellationToken);
        if (answer.Status != (int)HttpStatusCode.OK)
        {
            throw http.TransientFailure(Call, answer)
                ?? Refused?.Invoke(Call, answer)
                ?? http.Unavailable(Call, $"refused ({answer.Status} {HttpFailures.ReasonPhrase(answer.Status)})");
        }

        string? accessToken;
        long? expiresIn;
        try
        {
            var json = JsonNode.Parse(answer.Body);
            accessToken = json?["access_token"]?.GetValue<string>();
            expiresIn = json?["expires_in"] is JsonValue seconds && seconds.TryGetValue<long>(out var s) ? s : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // Never quote the body nor chain the parser's exception: both may hold the token.
            throw http.Unavailable(Call, "unreadable token answer");
        }
        if (string.IsNullOrEmpty(accessToken))
        {
            throw http.Unavailable(Call, "token answer without access_token");
        }

        var lifetime = expiresIn is > 0 ? TimeSpan.FromSeconds(expiresIn.Value) : FallbackLifetime;
        Log.LoggedIn(http.Logger, Issuer, Principal, http.Service, lifetime);
        return BearerToken.Issued(accessToken, lifetime, http.Clock.GetUtcNow());
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Logged in to {Issuer} as {Principal} for {Service}; token valid for {Lifetime}")]
        public static partial void LoggedIn(ILogger logger, string issuer, string principal, string service, TimeSpan lifetime);
    }
}
