using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace OnDemand.Tests.CloudFoundry;

/// <summary>
/// The Cloud Foundry API v3 and its UAA as far as the broker uses them (docs/cf-api.md of the design docs), on Kestrel
/// (random port), at the HTTP boundary: <c>GET /</c> with links (login and uaa), <c>POST /uaa/oauth/token</c>
/// (client_credentials, HTTP Basic client authentication with form-url-encoded id and secret, 401 "Bad credentials"),
/// <c>GET /v3/organizations</c>, <c>/v3/spaces</c>, <c>/v3/roles</c> with their filters (comma-separated lists),
/// <c>page</c>/<c>per_page</c> and <c>pagination.next</c>, errors as <c>{"errors":[{"code","title","detail"}]}</c>,
/// 401 CF-NotAuthenticated without a token, 401 CF-InvalidAuthToken for an expired or unknown one, 403
/// CF-NotAuthorized for a client without a read authority. Tokens expire by <see cref="Clock"/> (the broker's clock in
/// tests), like a real UAA's on the real clock. Name filters compare case-insensitively, as on a Cloud Controller
/// backed by MySQL (whose collation is case-insensitive): a name differing only in case from another matches too.
/// </summary>
internal sealed class FakeCloudFoundryApi : IAsyncDisposable
{
    public const string ClientId = "broker-cf-reader";

    private readonly WebApplication _app;
    private readonly List<Resource> _orgs = [];
    private readonly List<Resource> _spaces = [];
    private readonly List<Role> _roles = [];
    private readonly ConcurrentDictionary<string, (DateTimeOffset Expires, bool Reader)> _tokens = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private int _logins;
    private int _invalidTokenAnswers;
    private int _failNext;

    private FakeCloudFoundryApi(WebApplication app, TimeProvider clock)
    {
        _app = app;
        Clock = clock;
    }

    public Uri Url { get; private set; } = null!;
    public string ApiUrl => Url.ToString().TrimEnd('/');
    public TimeProvider Clock { get; }

    /// <summary>The secret the UAA expects of <see cref="ClientId"/>; change it to emulate a rotated or wrong one.</summary>
    public string ClientSecret { get; set; } = "reader-secret";

    /// <summary>Whether the client holds cloud_controller.global_auditor (else the API answers 403 to its reads).</summary>
    public bool ClientIsGlobalAuditor { get; set; } = true;

    public long ExpiresIn { get; set; } = 43199;

    /// <summary>Resources per page when the request does not say (the real API: 50).</summary>
    public int PerPage { get; set; } = 50;

    /// <summary>The root's links name the UAA as login.href (as Cloud Foundry does); false: only uaa.href.</summary>
    public bool LinksLogin { get; set; } = true;

    /// <summary>Every request (API and UAA) has its connection dropped: the API is down.</summary>
    public bool Down { get; set; }

    /// <summary>When set, every /v3 request answers this status with a v3 error (e.g. 503 while CC's database is down).</summary>
    public int? ApiStatus { get; set; }

    /// <summary>Every token is refused by the API, even a fresh one (a UAA that is not this API's).</summary>
    public bool RejectEveryToken { get; set; }

    public int Logins => Volatile.Read(ref _logins);
    public int InvalidTokenAnswers => Volatile.Read(ref _invalidTokenAnswers);

    /// <summary>Requests per "METHOD path" (and "GET /v3/spaces page 2" for later pages).</summary>
    public int Calls(string key) => _calls.GetValueOrDefault(key);

    /// <summary>The next <paramref name="count"/> /v3 requests answer 503.</summary>
    public void FailNext(int count) => Volatile.Write(ref _failNext, count);

    /// <summary>Every token issued so far dies (a UAA key rotation): the next API call with one gets 401 CF-InvalidAuthToken.</summary>
    public void ExpireTokens() => _tokens.Clear();

    public string AddOrg(string name)
    {
        lock (_orgs)
        {
            var guid = Guid.NewGuid().ToString();
            _orgs.Add(new Resource(guid, name, null));
            return guid;
        }
    }

    public string AddSpace(string orgGuid, string name)
    {
        lock (_orgs)
        {
            var guid = Guid.NewGuid().ToString();
            _spaces.Add(new Resource(guid, name, orgGuid));
            return guid;
        }
    }

    /// <summary>Gives a user a space role (space_developer, ...) or, with an org guid, an org role (organization_user, ...).</summary>
    public void Grant(string userGuid, string type, string? spaceGuid = null, string? orgGuid = null)
    {
        lock (_orgs) _roles.Add(new Role(Guid.NewGuid().ToString(), type, userGuid, spaceGuid, orgGuid));
    }

    public void Revoke(string userGuid, string spaceGuid)
    {
        lock (_orgs) _roles.RemoveAll(r => r.User == userGuid && r.Space == spaceGuid);
    }

    public static async Task<FakeCloudFoundryApi> StartAsync(TimeProvider clock)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var api = new FakeCloudFoundryApi(app, clock);
        app.Run(api.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        api.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return api;
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }

    private sealed record Resource(string Guid, string Name, string? Org);

    private sealed record Role(string Guid, string Type, string User, string? Space, string? Org);

    private async Task HandleAsync(HttpContext context)
    {
        if (Down)
        {
            context.Abort();
            return;
        }
        var path = context.Request.Path.Value ?? "";
        var page = int.TryParse(context.Request.Query["page"], CultureInfo.InvariantCulture, out var p) && p > 0 ? p : 1;
        _calls.AddOrUpdate($"{context.Request.Method} {path}" + (page > 1 ? $" page {page}" : ""), 1, (_, n) => n + 1);
        switch (context.Request.Method, path)
        {
            case ("GET", "/"):
                var links = new JsonObject
                {
                    ["self"] = new JsonObject { ["href"] = ApiUrl },
                    ["cloud_controller_v3"] = new JsonObject { ["href"] = $"{ApiUrl}/v3", ["meta"] = new JsonObject { ["version"] = "3.180.0" } },
                    ["uaa"] = new JsonObject { ["href"] = $"{ApiUrl}/uaa" },
                };
                if (LinksLogin) links["login"] = new JsonObject { ["href"] = $"{ApiUrl}/uaa" };
                await Write(context, 200, new JsonObject { ["links"] = links });
                return;
            case ("POST", "/uaa/oauth/token"):
                await TokenAsync(context);
                return;
        }
        if (!path.StartsWith("/v3/", StringComparison.Ordinal))
        {
            await Error(context, 404, 10000, "CF-NotFound", "Unknown request");
            return;
        }
        if (ApiStatus is { } status)
        {
            await Error(context, status, 10001, "CF-ServiceUnavailable", "Cloud Controller is unavailable");
            return;
        }
        if (Interlocked.Decrement(ref _failNext) >= 0)
        {
            await Error(context, 503, 10001, "CF-ServiceUnavailable", "Cloud Controller is unavailable");
            return;
        }
        Interlocked.Exchange(ref _failNext, 0);
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("bearer ", StringComparison.OrdinalIgnoreCase))
        {
            await Error(context, 401, 1002, "CF-NotAuthenticated", "Authentication error");
            return;
        }
        if (RejectEveryToken || !_tokens.TryGetValue(authorization[7..], out var token) || token.Expires <= Clock.GetUtcNow())
        {
            Interlocked.Increment(ref _invalidTokenAnswers);
            await Error(context, 401, 1000, "CF-InvalidAuthToken", "Invalid Auth Token");
            return;
        }
        if (!token.Reader)
        {
            await Error(context, 403, 10003, "CF-NotAuthorized", "You are not authorized to perform the requested action");
            return;
        }
        List<JsonObject> resources;
        lock (_orgs)
        {
            resources = path switch
            {
                "/v3/organizations" => Filter(_orgs, context.Request.Query, withOrg: false).Select(o => Json(o, "organizations")).ToList(),
                "/v3/spaces" => Filter(_spaces, context.Request.Query, withOrg: true).Select(s => Json(s, "spaces")).ToList(),
                "/v3/roles" => Roles(context.Request.Query).ToList(),
                _ => null!,
            };
        }
        if (resources is null)
        {
            await Error(context, 404, 10000, "CF-NotFound", "Unknown request");
            return;
        }
        await Write(context, 200, Page(context.Request, resources, page));
    }

    private static string[]? List(IQueryCollection query, string name) =>
        query.TryGetValue(name, out var value) ? value.ToString().Split(',') : null;

    private static IEnumerable<Resource> Filter(List<Resource> all, IQueryCollection query, bool withOrg)
    {
        var names = List(query, "names");
        var guids = List(query, "guids");
        var orgs = withOrg ? List(query, "organization_guids") : null;
        return all.Where(r => (names is null || names.Any(n => string.Equals(n, r.Name, StringComparison.OrdinalIgnoreCase)))
            && (guids is null || guids.Contains(r.Guid)) && (orgs is null || orgs.Contains(r.Org)));
    }

    private IEnumerable<JsonObject> Roles(IQueryCollection query)
    {
        var users = List(query, "user_guids");
        var spaces = List(query, "space_guids");
        var orgs = List(query, "organization_guids");
        var types = List(query, "types");
        return _roles
            .Where(r => (users is null || users.Contains(r.User)) && (spaces is null || (r.Space is not null && spaces.Contains(r.Space)))
                && (orgs is null || (r.Org is not null && orgs.Contains(r.Org))) && (types is null || types.Contains(r.Type)))
            .Select(r => new JsonObject
            {
                ["guid"] = r.Guid,
                ["type"] = r.Type,
                ["relationships"] = new JsonObject
                {
                    ["user"] = new JsonObject { ["data"] = new JsonObject { ["guid"] = r.User } },
                    ["space"] = new JsonObject { ["data"] = r.Space is null ? null : new JsonObject { ["guid"] = r.Space } },
                    ["organization"] = new JsonObject { ["data"] = r.Org is null ? null : new JsonObject { ["guid"] = r.Org } },
                },
            });
    }

    private JsonObject Json(Resource r, string collection)
    {
        var json = new JsonObject
        {
            ["guid"] = r.Guid,
            ["name"] = r.Name,
            ["created_at"] = "2026-01-01T00:00:00Z",
            ["links"] = new JsonObject { ["self"] = new JsonObject { ["href"] = $"{ApiUrl}/v3/{collection}/{r.Guid}" } },
        };
        if (r.Org is null) json["suspended"] = false;
        else json["relationships"] = new JsonObject { ["organization"] = new JsonObject { ["data"] = new JsonObject { ["guid"] = r.Org } } };
        return json;
    }

    private JsonObject Page(HttpRequest request, List<JsonObject> all, int page)
    {
        var perPage = int.TryParse(request.Query["per_page"], CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 5000 ? n : PerPage;
        var pages = Math.Max(1, (all.Count + perPage - 1) / perPage);
        string Href(int number)
        {
            var query = request.Query.Where(q => q.Key is not ("page" or "per_page"))
                .Select(q => $"{q.Key}={Uri.EscapeDataString(q.Value.ToString())}")
                .Append($"page={number}").Append($"per_page={perPage}");
            return $"{ApiUrl}{request.Path}?{string.Join('&', query)}";
        }
        return new JsonObject
        {
            ["pagination"] = new JsonObject
            {
                ["total_results"] = all.Count,
                ["total_pages"] = pages,
                ["first"] = new JsonObject { ["href"] = Href(1) },
                ["last"] = new JsonObject { ["href"] = Href(pages) },
                ["next"] = page < pages ? new JsonObject { ["href"] = Href(page + 1) } : null,
                ["previous"] = page > 1 ? new JsonObject { ["href"] = Href(page - 1) } : null,
            },
            ["resources"] = new JsonArray(all.Skip((page - 1) * perPage).Take(perPage).Select(r => (JsonNode)r.DeepClone()).ToArray()),
        };
    }

    private async Task TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _logins);
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var expected = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(ClientId)}:{Uri.EscapeDataString(ClientSecret)}"));
        if (context.Request.Headers.Authorization.ToString() != new AuthenticationHeaderValue("Basic", expected).ToString())
        {
            await Write(context, 401, new JsonObject { ["error"] = "unauthorized", ["error_description"] = "Bad credentials" });
            return;
        }
        if (form["grant_type"] != "client_credentials")
        {
            await Write(context, 400, new JsonObject { ["error"] = "unsupported_grant_type", ["error_description"] = $"Unsupported grant type: {form["grant_type"]}" });
            return;
        }
        var token = "cf-token-" + Guid.NewGuid().ToString("N");
        _tokens[token] = (Clock.GetUtcNow() + TimeSpan.FromSeconds(ExpiresIn), ClientIsGlobalAuditor);
        await Write(context, 200, new JsonObject
        {
            ["access_token"] = token,
            ["token_type"] = "bearer",
            ["expires_in"] = ExpiresIn,
            ["scope"] = ClientIsGlobalAuditor ? "cloud_controller.global_auditor" : "uaa.none",
            ["jti"] = Guid.NewGuid().ToString("N"),
        });
    }

    private static Task Error(HttpContext context, int status, int code, string title, string detail) =>
        Write(context, status, new JsonObject { ["errors"] = new JsonArray(new JsonObject { ["code"] = code, ["title"] = title, ["detail"] = detail }) });

    private static async Task Write(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
