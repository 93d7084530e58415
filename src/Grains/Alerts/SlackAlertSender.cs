using Flurl.Http;
using Microsoft.Extensions.Options;

namespace OnDemand.Grains.Alerts;

/// <summary>Posts to a Slack incoming webhook. Retries belong to the caller, which keeps the alert in grain state.</summary>
public sealed class SlackAlertSender(IOptions<SlackOptions> options) : IAlertSender
{
    private readonly SlackOptions _options = options.Value;

    public bool Enabled => !string.IsNullOrWhiteSpace(_options.WebhookUrl);

    public async Task SendAsync(string text, CancellationToken cancellationToken)
    {
        if (!Enabled) return;
        var payload = _options.Channel is null ? (object)new { text } : new { text, channel = _options.Channel };
        await _options.WebhookUrl!
            .WithTimeout(_options.Timeout)
            .PostJsonAsync(payload, cancellationToken: cancellationToken);
    }
}
