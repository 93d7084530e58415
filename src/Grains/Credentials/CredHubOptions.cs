namespace OnDemand.Grains.Credentials;

/// <summary>Bound from the "CredHub" configuration section (CredHub__Url, CredHub__UaaUrl, CredHub__ClientId, CredHub__ClientSecret).</summary>
public sealed class CredHubOptions
{
    public const string Section = "CredHub";
    /// <summary>CredHub API, e.g. https://credhub.service.cf.internal:8844; empty disables the store.</summary>
    public string Url { get; set; } = "";
    /// <summary>UAA issuing CredHub tokens (client credentials grant).</summary>
    public string UaaUrl { get; set; } = "";
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
