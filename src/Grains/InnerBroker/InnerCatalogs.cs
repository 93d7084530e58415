using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Grains.InnerBroker;

/// <summary>The service of an inner catalog the broker uses (its first one) and that service's plans.</summary>
internal sealed record InnerOffering(string ServiceId, string ServiceName, bool InstancesRetrievable, IReadOnlyList<InnerPlan> Plans)
{
    public InnerPlan PlanFor(int? sizeMb) => InnerPlanPolicy.PlanFor(Plans, sizeMb);
}

/// <summary>
/// The inner catalogs, read once per inner broker URL and cached (successes only). A 400, which may mean the catalog
/// changed, drops the cached copy (<see cref="Forget"/>). The first service is used.
/// </summary>
internal sealed partial class InnerCatalogs(ILogger logger)
{
    private readonly ConcurrentDictionary<string, InnerOffering> _catalogs = new(StringComparer.Ordinal);

    public async Task<InnerOffering> GetAsync(InnerBrokerClient client, InnerBrokerTarget target, CancellationToken ct)
    {
        if (_catalogs.TryGetValue(target.BaseUrl, out var cached))
        {
            return cached;
        }

        const string action = "reading the catalog";
        var reply = await client.SendAsync(target, action, HttpMethod.Get, InnerBrokerClient.CatalogUrl(target), null, ct);
        if (reply.Status != 200)
        {
            throw client.Failure(target, action, reply);
        }
        var offering = Parse(reply.Body)
            ?? throw new DatabaseProvisioningException(
                $"{target.Where}: {action} failed: the catalog has no service with an id and at least one plan with an id.", transient: false);
        Log.CatalogRead(logger, target.BaseUrl, offering.ServiceName, string.Join(", ", offering.Plans.Select(plan => plan.Name)));
        return _catalogs.GetOrAdd(target.BaseUrl, offering);
    }

    public void Forget(string baseUrl) => _catalogs.TryRemove(baseUrl, out _);

    private static InnerOffering? Parse(JsonNode? catalog)
    {
        if (catalog?["services"] is not JsonArray { Count: > 0 } services || services[0] is not JsonObject service
            || OsbJson.Text(service, "id") is not { } serviceId || service["plans"] is not JsonArray plans)
        {
            return null;
        }

        var parsed = new List<InnerPlan>();
        foreach (var node in plans)
        {
            if (node is not JsonObject plan || OsbJson.Text(plan, "id") is not { } planId)
            {
                continue;
            }
            var name = OsbJson.Text(plan, "name") ?? planId;
            parsed.Add(new InnerPlan(planId, name, InnerPlanPolicy.SizeOf(name, plan["metadata"] as JsonObject)));
        }
        if (parsed.Count == 0)
        {
            return null;
        }
        var retrievable = service["instances_retrievable"] is JsonValue flag && flag.TryGetValue<bool>(out var value) && value;
        return new InnerOffering(serviceId, OsbJson.Text(service, "name") ?? serviceId, retrievable, parsed);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Inner broker {Url}: service {Service}, plans {Plans}")]
        public static partial void CatalogRead(ILogger logger, string url, string service, string plans);
    }
}
