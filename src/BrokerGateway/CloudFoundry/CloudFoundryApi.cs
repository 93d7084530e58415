using System.Net;
using Flurl;
using Flurl.Http;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Http;

namespace OnDemand.BrokerGateway.CloudFoundry;

/// <summary>An org or a space as the Cloud Foundry API names it.</summary>
public sealed record CloudFoundryResource(string Guid, string Name);

/// <summary>The Cloud Foundry API or its UAA did not answer usefully (down, 5xx, timeout): nothing to fix but wait.</summary>
public sealed class CloudFoundryUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The Cloud Foundry API or its UAA refused the broker's own client: the operators must fix its settings.</summary>
public sealed class CloudFoundryRefusedException(string message) : Exception(message);

/// <summary>
/// The Cloud Foundry API v3 as the broker reads it (docs/cf-api.md in the design docs): orgs and spaces by name or
/// guid, and a user's roles in a space, with the broker's own UAA client (client_credentials grant). The UAA is found
/// from the API root (links.login.href, else links.uaa.href) unless CloudFoundry__UaaUrl names it. Built on the
/// shared outbound plumbing: one bearer token for all requests, renewed shortly before it expires and once on a 401.
/// A call that fails transiently is retried once. Thread-safe; a singleton of the gateway.
/// </summary>
public sealed class CloudFoundryApi : IDisposable
{
    private const int MaxPages = 100;
    private readonly CloudFoundrySettings _settings;
    private readonly OutboundHttpClient _http;
    private readonly TimeProvider _time;
    private string? _uaaUrl;

    public CloudFoundryApi(IOptions<CloudFoundrySettings> settings, [FromKeyedServices(CloudFoundryServices.ClockKey)] TimeProvider time, ILogger<CloudFoundryApi> logger)
    {
        _settings = settings.Value;
        _time = time;
        _uaaUrl = string.IsNullOrWhiteSpace(_settings.UaaUrl) ? null : _settings.UaaUrl.TrimEnd('/');
        _http = new OutboundHttpClient(
            new OutboundHttpSettings("Cloud Foundry API", _settings.Timeout, (call, reason, inner) => new CloudFoundryUnavailableException($"{call}: {reason}", inner))
            {
                AcceptJson = true,
                Login = new UaaClientLogin(this),
                Clock = time,
                SkipCertificateValidation = _settings.SkipSslValidation,
            },
            logger);
    }

    /// <summary>The org of that name, else of that guid; null when the API knows neither.</summary>
    public async Task<CloudFoundryResource?> FindOrganizationAsync(string nameOrGuid, CancellationToken cancellationToken) =>
        await FindAsync("organizations", "names", nameOrGuid, [], cancellationToken)
        ?? (Guid.TryParse(nameOrGuid, out _) ? await FindAsync("organizations", "guids", nameOrGuid, [], cancellationToken) : null);

    /// <summary>The space of that name, else of that guid, in the org; null when the org has none.</summary>
    public async Task<CloudFoundryResource?> FindSpaceAsync(string organizationGuid, string nameOrGuid, CancellationToken cancellationToken)
    {
        (string, string)[] inOrg = [("organization_guids", organizationGuid)];
        return await FindAsync("spaces", "names", nameOrGuid, inOrg, cancellationToken)
            ?? (Guid.TryParse(nameOrGuid, out _) ? await FindAsync("spaces", "guids", nameOrGuid, inOrg, cancellationToken) : null);
    }

    /// <summary>Whether the user holds one of the role types in the space.</summary>
    public async Task<bool> HasSpaceRoleAsync(string userGuid, string spaceGuid, IReadOnlyList<string> types, CancellationToken cancellationToken)
    {
        var roles = await ListAsync("roles",
            [("user_guids", userGuid), ("space_guids", spaceGuid), ("types", string.Join(',', types))], cancellationToken, untilFound: _ => true);
        return roles.Any(role => role["relationships"]?["user"]?["data"]?["guid"]?.GetValue<string>() == userGuid
            && role["relationships"]?["space"]?["data"]?["guid"]?.GetValue<string>() == spaceGuid
            && types.Contains(role["type"]?.GetValue<string>()));
    }

    private async Task<CloudFoundryResource?> FindAsync(string collection, string filter, string value, (string, string)[] more, CancellationToken cancellationToken)
    {
        // A filter is a comma-separated list: a name holding a comma matches pieces of it, so only an exact match counts.
        var field = filter == "names" ? "name" : "guid";
        bool Exact(JsonObject resource) => resource[field]?.GetValue<string>() == value;
        var resources = await ListAsync(collection, [(filter, value), .. more], cancellationToken, untilFound: Exact);
        return resources.Where(Exact)
            .Select(r => new CloudFoundryResource(r["guid"]!.GetValue<string>(), r["name"]?.GetValue<string>() ?? value))
            .FirstOrDefault();
    }

    /// <summary>Every page of a list (following pagination.next), or the pages until one holds a resource that <paramref name="untilFound"/> accepts.</summary>
    private async Task<List<JsonObject>> ListAsync(string collection, (string Name, string Value)[] query, CancellationToken cancellationToken, Func<JsonObject, bool> untilFound)
    {
        var url = new Url(_settings.Api).AppendPathSegments("v3", collection);
        foreach (var (name, value) in query) url.SetQueryParam(name, value);
        var call = $"Cloud Foundry API GET /v3/{collection}";
        var all = new List<JsonObject>();
        for (var page = 1; page <= MaxPages; page++)
        {
            var pageUrl = url.ToString();
            var answer = await WithRetryAsync(() => _http.SendAsync(call, HttpMethod.Get, () => _http.Request(pageUrl), null, cancellationToken), cancellationToken);
            if (!answer.IsSuccess) throw Failure(call, answer);
            if (HttpJson.TryParse(answer.Body) is not JsonObject { } body || body["resources"] is not JsonArray resources)
                throw new CloudFoundryRefusedException($"{call} answered {answer.Status} without a v3 list: CloudFoundry__ApiUrl must be the Cloud Foundry API ({_settings.ApiUrl})");
            var found = resources.OfType<JsonObject>().ToList();
            all.AddRange(found);
            if (found.Any(untilFound)) break;
            if (body["pagination"]?["next"]?["href"] is not JsonValue next || !next.TryGetValue<string>(out var href)
                || !Uri.TryCreate(href, UriKind.Absolute, out var nextUrl))
                break;
            // Only the path and query of the link: the token never goes to a host other than the configured API.
            url = new Url(new Uri(_settings.Api, nextUrl.PathAndQuery));
        }
        return all;
    }

    /// <summary>A call that failed transiently (no answer, 5xx, 408, 429) is made once more.</summary>
    private async Task<HttpAnswer> WithRetryAsync(Func<Task<HttpAnswer>> call, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await call();
            if (!HttpFailures.IsTransientStatus(answer.Status)) return answer;
        }
        catch (CloudFoundryUnavailableException)
        {
        }
        if (_settings.RetryDelay > TimeSpan.Zero) await Task.Delay(_settings.RetryDelay, _time, cancellationToken);
        return await call();
    }

    private Exception Failure(string call, HttpAnswer answer)
    {
        if (_http.TransientFailure(call, answer) is { } transient) return transient;
        var detail = HttpJson.TryParse(answer.Body)?["errors"]?[0] is JsonObject error
            ? $" {error["title"]?.ToString()}: {error["detail"]?.ToString()}"
            : "";
        var answered = $"{call} answered {answer.Status}{detail}";
        return answer.Status switch
        {
            (int)HttpStatusCode.Unauthorized => new CloudFoundryRefusedException(
                $"{answered}, even with a fresh token of the broker's UAA client: CloudFoundry__UaaUrl must be the UAA of this Cloud Foundry API (or left unset)"),
            (int)HttpStatusCode.Forbidden => new CloudFoundryRefusedException(
                $"{answered}: the broker's UAA client '{_settings.ClientId}' needs the authority cloud_controller.global_auditor (or cloud_controller.admin_read_only)"),
            (int)HttpStatusCode.NotFound => new CloudFoundryRefusedException($"{answered}: CloudFoundry__ApiUrl must be the Cloud Foundry API ({_settings.ApiUrl})"),
            _ => new CloudFoundryRefusedException(answered),
        };
    }

    /// <summary>The UAA: configured, or discovered once from the API root.</summary>
    private async Task<string> UaaUrlAsync(CancellationToken cancellationToken)
    {
        if (_uaaUrl is { } known) return known;
        const string call = "Cloud Foundry API GET / (to find its UAA)";
        var answer = await WithRetryAsync(() => _http.SendOnceAsync(call, HttpMethod.Get, _http.Request(_settings.Api.ToString()), null, cancellationToken), cancellationToken);
        if (!answer.IsSuccess)
            throw _http.TransientFailure(call, answer)
                ?? new CloudFoundryRefusedException($"{call} answered {answer.Status}: CloudFoundry__ApiUrl must be the Cloud Foundry API ({_settings.ApiUrl}), or set CloudFoundry__UaaUrl");
        var links = HttpJson.TryParse(answer.Body)?["links"];
        var href = (links?["login"]?["href"] as JsonValue)?.GetValue<string>() ?? (links?["uaa"]?["href"] as JsonValue)?.GetValue<string>();
        if (href is null || !Uri.TryCreate(href, UriKind.Absolute, out var uaa) || uaa.Scheme is not ("http" or "https"))
            throw new CloudFoundryRefusedException($"{call}: the answer names no UAA (links.login.href, links.uaa.href): CloudFoundry__ApiUrl must be the Cloud Foundry API ({_settings.ApiUrl}), or set CloudFoundry__UaaUrl");
        return _uaaUrl = href.TrimEnd('/');
    }

    public void Dispose() => _http.Dispose();

    /// <summary>client_credentials at the UAA (found on first use); refused credentials are the operators' to fix.</summary>
    private sealed class UaaClientLogin(CloudFoundryApi api) : IBearerLogin
    {
        public async Task<BearerToken> LogInAsync(OutboundHttpClient http, CancellationToken cancellationToken)
        {
            var uaa = await api.UaaUrlAsync(cancellationToken);
            var clientId = api._settings.ClientId!;
            var login = new OAuthLogin($"{uaa}/oauth/token", clientId, api._settings.ClientSecret!, OAuthLogin.ClientCredentialsGrant)
            {
                Call = $"UAA {uaa} login as client '{clientId}'",
                Issuer = $"UAA {uaa}",
                Principal = $"client {clientId}",
                Refused = (call, answer) =>
                {
                    var error = HttpJson.TryParse(answer.Body);
                    var said = error?["error"] is JsonValue code ? $" ({code}: {error["error_description"]})" : "";
                    return new CloudFoundryRefusedException(
                        $"{call} was refused with {answer.Status}{said}: CloudFoundry__ClientId and CloudFoundry__ClientSecret must name a UAA client with the client_credentials grant");
                },
            };
            return await login.LogInAsync(http, cancellationToken);
        }
    }
}
