namespace OnDemand.BrokerGateway.Osb;

/// <summary>The OSB catalog, rendered once from the broker's configuration and served as the same bytes each time.</summary>
public sealed class CatalogDocument(BrokerCatalog catalog)
{
    public byte[] Utf8Json { get; } = JsonSerializer.SerializeToUtf8Bytes(Render(catalog));

    public static JsonObject Render(BrokerCatalog catalog) => new()
    {
        ["services"] = new JsonArray(catalog.Services.Select(RenderService).ToArray<JsonNode?>()),
    };

    private static JsonObject RenderService(ServiceOffering service)
    {
        var node = new JsonObject
        {
            ["id"] = service.Id,
            ["name"] = service.Name,
            ["description"] = service.Description,
            ["bindable"] = service.Bindable,
            ["instances_retrievable"] = service.InstancesRetrievable,
            ["bindings_retrievable"] = service.BindingsRetrievable,
            ["allow_context_updates"] = service.AllowContextUpdates,
            ["plan_updateable"] = service.PlanUpdateable,
        };
        if (service.Tags.Count > 0) node["tags"] = new JsonArray(service.Tags.Select(t => (JsonNode?)t).ToArray());
        if (service.Metadata is not null) node["metadata"] = service.Metadata.DeepClone();
        node["plans"] = new JsonArray(service.Plans.Select(RenderPlan).ToArray<JsonNode?>());
        return node;
    }

    private static JsonObject RenderPlan(ServicePlan plan)
    {
        var node = new JsonObject
        {
            ["id"] = plan.Id,
            ["name"] = plan.Name,
            ["description"] = plan.Description,
            ["free"] = plan.Free,
            ["bindable"] = plan.Bindable,
            ["plan_updateable"] = plan.PlanUpdateable,
            ["maximum_polling_duration"] = plan.MaximumPollingDuration,
        };
        var maintenance = new JsonObject { ["version"] = plan.MaintenanceInfoVersion };
        if (plan.MaintenanceInfoDescription is not null) maintenance["description"] = plan.MaintenanceInfoDescription;
        node["maintenance_info"] = maintenance;
        if (plan.Metadata is not null) node["metadata"] = plan.Metadata.DeepClone();

        var instance = new JsonObject();
        if (plan.CreateSchema is not null) instance["create"] = new JsonObject { ["parameters"] = plan.CreateSchema.DeepClone() };
        if (plan.UpdateSchema is not null) instance["update"] = new JsonObject { ["parameters"] = plan.UpdateSchema.DeepClone() };
        if (instance.Count > 0) node["schemas"] = new JsonObject { ["service_instance"] = instance };
        return node;
    }
}
