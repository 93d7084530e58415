using System.Diagnostics;
using System.Text.Json.Nodes;
using OnDemand.Grains.Provisioning;

namespace OnDemand.Grains.InnerBroker;

/// <summary>
/// Waits inside a call for an inner broker's asynchronous operation (a 202) by polling <c>last_operation</c>, for at
/// most a budget. An operation still running after that is the caller's to retry: re-sending the same request is
/// safe, OSB makes it idempotent (202 with the same operation, then 200 once done).
/// </summary>
internal static class LastOperationPoller
{
    private static readonly TimeSpan MaxPollInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Polls until the operation ends (true) or <paramref name="budget"/> runs out (false); the first wait is
    /// <paramref name="interval"/>, doubling up to 1 s. A delete is also done when the instance is gone (410, or 404:
    /// the broker no longer knows it).
    /// </summary>
    public static async Task<bool> PollAsync(
        InnerBrokerClient client, InnerBrokerTarget target, string action, string instanceId, string? operation,
        string serviceId, string planId, bool deleting, TimeSpan budget, TimeSpan interval, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var wait = interval > TimeSpan.Zero ? interval : TimeSpan.FromMilliseconds(1);
        while (true)
        {
            var remaining = budget - Stopwatch.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero)
            {
                return false;
            }
            await Task.Delay(wait < remaining ? wait : remaining, ct);
            wait = wait * 2 < MaxPollInterval ? wait * 2 : MaxPollInterval;

            var url = InnerBrokerClient.LastOperationUrl(target, instanceId, serviceId, planId, operation);
            var reply = await client.SendAsync(target, action, HttpMethod.Get, url, null, ct);
            if (deleting && reply.Status is 410 or 404)
            {
                return true;
            }
            if (!deleting && reply.Status is 410 or 404)
            {
                // The inner broker lost the instance (restarted, or cleaned up a failed create): the retry re-sends the PUT.
                throw new DatabaseProvisioningException(
                    $"{target.Where}: {action}: the cluster's broker no longer knows the operation{InnerBrokerClient.OperationText(operation)} (HTTP {reply.Status}). Will retry.",
                    transient: true);
            }
            if (reply.Status != 200)
            {
                throw client.Failure(target, action, reply);
            }

            var state = reply.Body is JsonObject body ? OsbJson.Text(body, "state") : null;
            switch (state)
            {
                case "succeeded":
                    return true;
                case "in progress":
                    continue;
                case "failed":
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: the cluster's broker reports the operation failed{InnerBrokerClient.DescriptionText(reply, prefix: ": ")}.",
                        transient: false);
                default:
                    throw new DatabaseProvisioningException(
                        $"{target.Where}: {action} failed: last_operation answered an unknown state '{InnerBrokerClient.Truncate(state ?? "(none)")}'.", transient: false);
            }
        }
    }
}
