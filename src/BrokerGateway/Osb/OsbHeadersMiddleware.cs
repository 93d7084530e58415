using Microsoft.Extensions.Options;
using OnDemand.Grains.Hosting;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// What every OSB endpoint checks, in Cloud Controller's order: Basic auth (401), then the API version header
/// (412, 2.13 to 2.x accepted), and echoes X-Broker-API-Request-Identity.
/// </summary>
public sealed class OsbHeadersMiddleware(RequestDelegate next, IOptions<GatewaySettings> settings)
{
    public const string VersionHeader = "X-Broker-API-Version";
    public const string RequestIdentityHeader = "X-Broker-API-Request-Identity";
    private const int MinimumMinorVersion = 13;

    private readonly BasicCredentials _credentials = new(settings.Value.Username, settings.Value.Password);

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Headers.TryGetValue(RequestIdentityHeader, out var identity))
            context.Response.Headers[RequestIdentityHeader] = identity;

        if (!_credentials.Match(request.Headers.Authorization))
        {
            // 401, or 429 once this address failed too often (docs/security.md): only failures count.
            return new AuthRejection("OnDemand.Orleans broker", "wrong or missing broker credentials").ExecuteAsync(context);
        }

        var version = request.Headers[VersionHeader].ToString();
        if (!IsSupported(version))
        {
            return new OsbError(StatusCodes.Status412PreconditionFailed, "PreconditionFailed",
                $"{VersionHeader} must be 2.{MinimumMinorVersion} or a later 2.x version; got '{version}'").ExecuteAsync(context);
        }
        return next(context);
    }

    private static bool IsSupported(string version)
    {
        var parts = version.Split('.');
        return parts.Length == 2 && parts[0] == "2" && int.TryParse(parts[1], System.Globalization.NumberStyles.None, null, out var minor) && minor >= MinimumMinorVersion;
    }
}
