using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.LoadGenerator;

/// <summary>One instance to create: its OSB id, the instance_name its context carries, plan, parameters and space.</summary>
internal sealed record Target(string Id, string InstanceName, string ServiceId, string PlanId, JsonObject? Parameters, string Org, string Space)
{
    public byte[] Body { get; } = Encoding.UTF8.GetBytes(new JsonObject
    {
        ["service_id"] = ServiceId,
        ["plan_id"] = PlanId,
        ["organization_guid"] = Org,
        ["space_guid"] = Space,
        ["parameters"] = Parameters?.DeepClone(),
        ["context"] = new JsonObject
        {
            ["platform"] = "cloudfoundry",
            ["organization_guid"] = Org,
            ["space_guid"] = Space,
            ["instance_name"] = InstanceName,
        },
    }.ToJsonString());
}

/// <summary>The few OSB calls the scenarios make, over one pooled HttpClient shared by every task.</summary>
internal sealed class OsbClient : IDisposable
{
    private readonly HttpClient _http;

    public OsbClient(Options options, int maxConnections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        _http = new HttpClient(handler) { BaseAddress = options.Url, Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Username}:{options.Password}")));
        _http.DefaultRequestHeaders.Add("X-Broker-API-Version", "2.15");
    }

    /// <returns>the HTTP status (0 when the request failed) and the body.</returns>
    public async Task<(int Status, string Body)> ProvisionAsync(Target target, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(target.Body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        try
        {
            using var response = await _http.PutAsync($"v2/service_instances/{target.Id}?accepts_incomplete=true", content, cancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            return (0, e.Message);
        }
    }

    /// <returns>"succeeded", "failed", "in progress", or null when the call failed or the instance is not known (yet).</returns>
    public async Task<string?> LastOperationAsync(Target target, CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _http.GetAsync($"v2/service_instances/{target.Id}/last_operation?service_id={target.ServiceId}&plan_id={target.PlanId}", cancellationToken);
            if (response.StatusCode != HttpStatusCode.OK) return null;
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var document = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            return document.RootElement.TryGetProperty("state", out var state) ? state.GetString() : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
