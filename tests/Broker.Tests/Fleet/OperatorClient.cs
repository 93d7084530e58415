using System.Net.Http.Headers;
using System.Text;

namespace OnDemand.Tests.Fleet;

/// <summary>Speaks to the operator API (/operator/...) with operator Basic auth, for tests.</summary>
public sealed class OperatorClient(HttpClient http)
{
    public static readonly AuthenticationHeaderValue Auth =
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"operator:{BrokerStack.OperatorPassword}")));

    private readonly OsbClient _raw = new(http);

    public Task<Answer> SendAsync(HttpMethod method, string path, JsonNode? body = null) =>
        _raw.SendAsync(method, path, body, r => r.Headers.Authorization = Auth);

    public Task<Answer> MaintenanceAsync(bool on, string? reason = null, int? minutes = null)
    {
        var body = new JsonObject { ["on"] = on };
        if (reason is not null) body["reason"] = reason;
        if (minutes is not null) body["minutes"] = minutes;
        return SendAsync(HttpMethod.Put, "/operator/maintenance", body);
    }

    public Task<Answer> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<Answer> PostAsync(string path, JsonObject? body = null) => SendAsync(HttpMethod.Post, path, body);

    /// <summary>The provision body of a cluster in the given org.</summary>
    public static JsonObject ClusterIn(string org, string planId = Catalog.ClusterSmall, string? name = null)
    {
        var body = OsbClient.ProvisionBody(Catalog.MySql, planId, instanceName: name ?? "c-" + Guid.NewGuid().ToString("N")[..8]);
        body["organization_guid"] = org;
        body["context"]!["organization_guid"] = org;
        body["context"]!["organization_name"] = org + "-name";
        return body;
    }
}
