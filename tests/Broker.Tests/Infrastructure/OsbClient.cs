using System.Net.Http.Json;
using System.Text;

namespace OnDemand.Tests.Infrastructure;

/// <summary>Speaks OSB to the gateway the way Cloud Controller does, for tests.</summary>
public sealed class OsbClient(HttpClient http)
{
    public const string OrgGuid = "org-0001";
    public const string SpaceGuid = "space-0001";

    public HttpClient Http => http;

    public static JsonObject ProvisionBody(string serviceId, string planId, JsonObject? parameters = null, string? instanceName = null, string spaceGuid = SpaceGuid) => new()
    {
        ["service_id"] = serviceId,
        ["plan_id"] = planId,
        ["organization_guid"] = OrgGuid,
        ["space_guid"] = spaceGuid,
        ["parameters"] = parameters ?? new JsonObject(),
        ["context"] = new JsonObject
        {
            ["platform"] = "cloudfoundry",
            ["organization_guid"] = OrgGuid,
            ["space_guid"] = spaceGuid,
            ["organization_name"] = "my-org",
            ["space_name"] = "my-space",
            ["instance_name"] = instanceName ?? "my-cluster",
        },
    };

    public Task<Answer> ProvisionAsync(string instanceId, JsonObject body, bool acceptsIncomplete = true) =>
        SendAsync(HttpMethod.Put, $"/v2/service_instances/{instanceId}{(acceptsIncomplete ? "?accepts_incomplete=true" : "")}", body);

    public Task<Answer> ProvisionClusterAsync(string instanceId, string planId = Catalog.ClusterSmall, JsonObject? parameters = null, string? instanceName = null) =>
        ProvisionAsync(instanceId, ProvisionBody(Catalog.MySql, planId, parameters, instanceName));

    public Task<Answer> UpdateAsync(string instanceId, JsonObject body, bool acceptsIncomplete = true) =>
        SendAsync(HttpMethod.Patch, $"/v2/service_instances/{instanceId}{(acceptsIncomplete ? "?accepts_incomplete=true" : "")}", body);

    public Task<Answer> DeprovisionAsync(string instanceId, string serviceId = Catalog.MySql, string planId = Catalog.ClusterSmall, bool acceptsIncomplete = true) =>
        SendAsync(HttpMethod.Delete, $"/v2/service_instances/{instanceId}?service_id={serviceId}&plan_id={planId}{(acceptsIncomplete ? "&accepts_incomplete=true" : "")}");

    public Task<Answer> FetchAsync(string instanceId) => SendAsync(HttpMethod.Get, $"/v2/service_instances/{instanceId}");

    /// <param name="serviceId">null leaves it out (OSB makes it optional; Cloud Controller sends the instance's).</param>
    public Task<Answer> LastOperationAsync(string instanceId, string? operation = null, string? serviceId = null, string? planId = null)
    {
        var query = new List<string>();
        if (serviceId is not null) query.Add("service_id=" + Uri.EscapeDataString(serviceId));
        if (planId is not null) query.Add("plan_id=" + Uri.EscapeDataString(planId));
        if (operation is not null) query.Add("operation=" + Uri.EscapeDataString(operation));
        return SendAsync(HttpMethod.Get, $"/v2/service_instances/{instanceId}/last_operation{(query.Count > 0 ? "?" + string.Join("&", query) : "")}");
    }

    public Task<Answer> BindAsync(string instanceId, string bindingId, string serviceId, string planId, string? appGuid = null)
    {
        var body = new JsonObject { ["service_id"] = serviceId, ["plan_id"] = planId };
        if (appGuid is not null) { body["app_guid"] = appGuid; body["bind_resource"] = new JsonObject { ["app_guid"] = appGuid }; }
        else body["bind_resource"] = new JsonObject();
        return SendAsync(HttpMethod.Put, $"/v2/service_instances/{instanceId}/service_bindings/{bindingId}?accepts_incomplete=true", body);
    }

    public Task<Answer> UnbindAsync(string instanceId, string bindingId, string serviceId, string planId) =>
        SendAsync(HttpMethod.Delete, $"/v2/service_instances/{instanceId}/service_bindings/{bindingId}?service_id={serviceId}&plan_id={planId}&accepts_incomplete=true");

    /// <summary>Polls last_operation like Cloud Controller (but fast) until it leaves "in progress".</summary>
    public async Task<JsonObject> WaitForOperationAsync(string instanceId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var answer = await LastOperationAsync(instanceId);
            // Like Cloud Controller, keep polling through a 503 while a silo is being replaced.
            if (answer.Status == HttpStatusCode.ServiceUnavailable && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                continue;
            }
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            if (answer.Body!["state"]!.GetValue<string>() != "in progress") return answer.Body;
            if (DateTime.UtcNow > deadline) Assert.Fail($"operation on {instanceId} still in progress after timeout: {answer.Body}");
            await Task.Delay(50);
        }
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path, JsonNode? body = null, Action<HttpRequestMessage>? configure = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        configure?.Invoke(request);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonObject? json = null;
        if (text.Length > 0 && response.Content.Headers.ContentType?.MediaType == "application/json") json = JsonNode.Parse(text) as JsonObject;
        return new Answer(response.StatusCode, json, text, response.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value)),
            response.Content.Headers.ContentType?.MediaType);
    }
}

public sealed record Answer(HttpStatusCode Status, JsonObject? Body, string Text, IReadOnlyDictionary<string, string> Headers, string? MediaType)
{
    public string? Field(string name) => Body?[name]?.GetValue<string>();
    public override string ToString() => $"{(int)Status} {Text}";
}
