using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace OnDemand.Grains.Hosting;

/// <summary>
/// The answer to a failed authentication, with an OSB error body: 401 with a Basic challenge, or 429 with Retry-After
/// once the client address is over its limit of failures (<see cref="FailedAuthentications"/>).
/// </summary>
public sealed record AuthRejection(string Realm, string Description) : IResult
{
    public Task ExecuteAsync(HttpContext context)
    {
        var limiter = context.RequestServices.GetRequiredService<FailedAuthentications>();
        var address = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var retryAfter = limiter.Record(address);
        JsonObject body;
        if (retryAfter is { } wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            body = new JsonObject
            {
                ["error"] = "TooManyRequests",
                ["description"] = $"too many failed authentications from this address; try again in {seconds} s",
            };
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{Realm}\"";
            body = new JsonObject { ["error"] = "Unauthorized", ["description"] = Description };
        }
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString());
    }
}
