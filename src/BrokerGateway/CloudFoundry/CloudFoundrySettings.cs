namespace OnDemand.BrokerGateway.CloudFoundry;

/// <summary>
/// Bound from the "CloudFoundry" configuration section (CloudFoundry__ApiUrl, ...): the Cloud Foundry API the gateway
/// asks, with the broker's own UAA client, which org and space a shared cluster is in and whether the requesting user
/// holds a role there (docs/sharing.md). Without ApiUrl, sharing a cluster across spaces is off.
/// </summary>
public sealed class CloudFoundrySettings
{
    public const string Section = "CloudFoundry";

    /// <summary>Space role types the check may accept (org roles are not roles in the cluster's space).</summary>
    public static readonly string[] SpaceRoleTypes = ["space_developer", "space_manager", "space_auditor", "space_supporter"];

    /// <summary>The Cloud Foundry API, e.g. https://api.sys.example.com.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>The broker's UAA client (client_credentials grant), e.g. with authority cloud_controller.global_auditor.</summary>
    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>The UAA; default: discovered from the API root (links.login.href, else links.uaa.href), as the cf CLI does.</summary>
    public string? UaaUrl { get; set; }

    /// <summary>Accept any TLS certificate of the API and the UAA (labs with self-signed certificates only).</summary>
    public bool SkipSslValidation { get; set; }

    /// <summary>Comma-separated space role types that let a user use a cluster of that space.</summary>
    public string AllowedRoles { get; set; } = "space_developer";

    /// <summary>How long a granted check is remembered (user, space); refusals are never remembered.</summary>
    public TimeSpan GrantCacheTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Per HTTP call to the API or the UAA.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Pause before the one retry of a call that failed transiently.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The whole check of one request; Cloud Controller gives up after 60 s.</summary>
    public TimeSpan RequestBudget { get; set; } = TimeSpan.FromSeconds(40);

    public bool IsConfigured => !string.IsNullOrWhiteSpace(ApiUrl);

    public IReadOnlyList<string> Roles =>
        AllowedRoles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public Uri Api => new(ApiUrl!.TrimEnd('/') + "/");

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting (the gateway does not start).</summary>
    public void Validate()
    {
        if (!IsConfigured)
        {
            if (!string.IsNullOrWhiteSpace(UaaUrl) || !string.IsNullOrWhiteSpace(ClientId))
                throw new InvalidOperationException("CloudFoundry:ClientId or CloudFoundry:UaaUrl is set but CloudFoundry:ApiUrl is not (env CloudFoundry__ApiUrl): set the Cloud Foundry API URL, or remove the CloudFoundry settings");
            return;
        }
        CheckUrl(ApiUrl!, "ApiUrl");
        if (!string.IsNullOrWhiteSpace(UaaUrl)) CheckUrl(UaaUrl, "UaaUrl");
        if (string.IsNullOrWhiteSpace(ClientId) || string.IsNullOrEmpty(ClientSecret))
            throw new InvalidOperationException("CloudFoundry:ClientId and CloudFoundry:ClientSecret must be set with CloudFoundry:ApiUrl (env CloudFoundry__ClientId, CloudFoundry__ClientSecret): the broker's UAA client, see docs/sharing.md");
        var roles = Roles;
        if (roles.Count == 0 || roles.Any(r => !SpaceRoleTypes.Contains(r)))
            throw new InvalidOperationException($"CloudFoundry:AllowedRoles (env CloudFoundry__AllowedRoles) must be a comma-separated list of {string.Join(", ", SpaceRoleTypes)}, got '{AllowedRoles}'");
        if (GrantCacheTime < TimeSpan.Zero)
            throw new InvalidOperationException($"CloudFoundry:GrantCacheTime must not be negative, got {GrantCacheTime}");
        if (Timeout <= TimeSpan.Zero || RequestBudget <= TimeSpan.Zero || RetryDelay < TimeSpan.Zero)
            throw new InvalidOperationException("CloudFoundry:Timeout and CloudFoundry:RequestBudget must be positive, CloudFoundry:RetryDelay not negative");
    }

    private static void CheckUrl(string value, string name)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.Query.Length > 0 || url.Fragment.Length > 0)
            throw new InvalidOperationException($"CloudFoundry:{name} (env CloudFoundry__{name}) must be an absolute http(s) URL, got '{value}'");
    }
}
