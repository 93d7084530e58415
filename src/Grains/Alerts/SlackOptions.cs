namespace OnDemand.Grains.Alerts;

/// <summary>Bound from the "Slack" configuration section (Slack__WebhookUrl).</summary>
public sealed class SlackOptions
{
    public const string Section = "Slack";
    public string? WebhookUrl { get; set; }
    public string? Channel { get; set; }
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}
