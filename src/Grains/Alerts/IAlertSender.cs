namespace OnDemand.Grains.Alerts;

/// <summary>Where operators are told about failed cluster operations (Slack).</summary>
public interface IAlertSender
{
    /// <summary>False when no destination is configured: nothing is sent.</summary>
    bool Enabled { get; }

    /// <summary>Sends one message; throws when it could not be delivered (the caller retries).</summary>
    Task SendAsync(string text, CancellationToken cancellationToken);
}
