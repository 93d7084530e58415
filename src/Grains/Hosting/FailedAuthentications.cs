using System.Threading.RateLimiting;
using Microsoft.Extensions.Configuration;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// Counts failed authentications per client address (docs/security.md, "Failed authentications"): at most
/// AuthFailureLimit:PermitLimit failures (default 10) per AuthFailureLimit:Window (default one minute) are answered
/// 401; beyond that 429 until the window ends. Only failures take a permit, so a client with the right credentials is
/// never limited. Built on System.Threading.RateLimiting, the limiters of ASP.NET Core rate limiting.
/// </summary>
public sealed class FailedAuthentications : IDisposable
{
    public const string Section = "AuthFailureLimit";

    private readonly PartitionedRateLimiter<string> _limiter;

    public FailedAuthentications(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        PermitLimit = section.GetValue("PermitLimit", 10);
        Window = section.GetValue("Window", TimeSpan.FromMinutes(1));
        if (PermitLimit < 1) throw new ArgumentException($"{Section}:PermitLimit must be at least 1.");
        if (Window < TimeSpan.FromSeconds(1)) throw new ArgumentException($"{Section}:Window must be at least one second.");
        _limiter = PartitionedRateLimiter.Create<string, string>(address => RateLimitPartition.GetFixedWindowLimiter(address,
            _ => new FixedWindowRateLimiterOptions { PermitLimit = PermitLimit, Window = Window, QueueLimit = 0, AutoReplenishment = true }));
    }

    public int PermitLimit { get; }
    public TimeSpan Window { get; }

    /// <summary>Records one failure of <paramref name="address"/>: null while under the limit, else how long to wait.</summary>
    public TimeSpan? Record(string address)
    {
        using var lease = _limiter.AttemptAcquire(address);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : Window;
    }

    public void Dispose() => _limiter.Dispose();
}
