using System.Text.Json.Nodes;
using OnDemand.Grains.Cluster;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// The variables a cluster's pipeline template receives. Precedence, lowest first: the plan schema's defaults, the
/// user's parameters, the plan's sizing vars, the broker's own vars, so a user can tune but never resize, rename or redirect.
/// Tuning is then bounded by the plan's VM memory (<see cref="PipelineTuning"/>).
/// </summary>
public static class PipelineVariables
{
    public static string PipelineName(string instanceId) => $"ondemand-{instanceId}";

    public static string DeploymentName(ServiceOffering service, string instanceId) => $"{service.Name}-{instanceId}";

    public static Dictionary<string, JsonNode?> For(string instanceId, ServiceOffering service, ServicePlan plan, InstanceSpec spec, InstanceContext context)
    {
        var vars = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var (name, value) in plan.ParameterDefaults()) vars[name] = value;
        // Only parameters the plan's schema declares: an undeclared name could otherwise fill in a secret the template
        // leaves to the credential manager (e.g. bosh_target) and redirect where Concourse sends credentials.
        var declared = plan.CreateSchema?["properties"] as JsonObject;
        foreach (var (name, value) in spec.Parameters())
        {
            if (declared?.ContainsKey(name) == true) vars[name] = value?.DeepClone();
        }
        foreach (var (name, value) in plan.Vars) vars[name] = value?.DeepClone();
        vars["instance_id"] = instanceId;
        vars["deployment_name"] = DeploymentName(service, instanceId);
        vars["pipeline_name"] = PipelineName(instanceId);
        vars["service_name"] = service.Name;
        vars["plan_name"] = plan.Name;
        vars["organization_guid"] = context.OrganizationGuid;
        vars["space_guid"] = context.SpaceGuid;
        vars["template_version"] = spec.MaintenanceInfoVersion;
        PipelineTuning.Apply(vars);
        return vars;
    }
}
