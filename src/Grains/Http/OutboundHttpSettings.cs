namespace OnDemand.Grains.Http;

/// <summary>Turns a call that got no usable answer into the client's own "transient / unavailable" exception.</summary>
/// <param name="call">what the client was doing, e.g. "GET config of pipeline 'x'".</param>
/// <param name="reason">worded by <see cref="HttpFailures"/>: "no answer within 10 s", "connection refused", "answered 503 ServiceUnavailable".</param>
public delegate Exception UnavailableFailure(string call, string reason, Exception? inner);

/// <param name="Service">names the other side in log lines, e.g. "Concourse".</param>
/// <param name="Timeout">limit of one HTTP call, connect included; a request may set its own with Flurl's WithTimeout.</param>
/// <param name="Unavailable">the client's transient exception, for timeouts, transport failures and transient statuses.</param>
public sealed record OutboundHttpSettings(string Service, TimeSpan Timeout, UnavailableFailure Unavailable)
{
    /// <summary>Sends "Accept: application/json" with every request.</summary>
    public bool AcceptJson { get; init; }

    /// <summary>When set, every call through <see cref="OutboundHttpClient.SendAsync"/> carries a bearer token from it.</summary>
    public IBearerLogin? Login { get; init; }

    /// <summary>Accepts any TLS certificate (an operator's explicit choice for labs with self-signed certificates).</summary>
    public bool SkipCertificateValidation { get; init; }

    /// <summary>For token expiry and call durations; the system clock when null.</summary>
    public TimeProvider? Clock { get; init; }
}

/// <summary>Obtains a bearer token; called by <see cref="SharedBearerToken"/>, once for all concurrent callers.</summary>
public interface IBearerLogin
{
    Task<BearerToken> LogInAsync(OutboundHttpClient http, CancellationToken cancellationToken);
}
