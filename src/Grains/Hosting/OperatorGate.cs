using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// Operator-only routes (the silo's Orleans Dashboard, /metrics on silos and gateways): Basic auth with the operator
/// credentials, failures rate-limited per client address (docs/security.md).
/// </summary>
public static class OperatorGate
{
    public const string Realm = "OnDemand.Orleans operators";

    /// <summary>
    /// Requires <paramref name="operators"/> on every request whose path starts with one of <paramref name="prefixes"/>;
    /// with no operator credentials configured (null), every such request is refused.
    /// </summary>
    public static IApplicationBuilder UseOperatorGate(this IApplicationBuilder app, BasicCredentials? operators, params string[] prefixes) =>
        app.UseWhen(context => prefixes.Any(prefix => context.Request.Path.StartsWithSegments(prefix)), gated => gated.Use((context, next) =>
            operators is not null && operators.Match(context.Request.Headers.Authorization)
                ? next(context)
                : new AuthRejection(Realm, "operator credentials are required").ExecuteAsync(context)));
}
