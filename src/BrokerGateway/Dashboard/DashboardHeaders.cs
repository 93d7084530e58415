namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>
/// The security headers of every dashboard answer (docs/security.md, "Dashboard links"): the page loads nothing from
/// anywhere (its only style is inline), cannot be framed, sends no Referer carrying its token to the pipeline links
/// it shows, is never cached, and is never content-sniffed.
/// </summary>
public static class DashboardHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static ValueTask<object?> Add(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var headers = invocation.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        headers.XContentTypeOptions = "nosniff";
        return next(invocation);
    }
}
