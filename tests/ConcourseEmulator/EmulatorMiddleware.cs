using Microsoft.AspNetCore.Http.Features;

namespace OnDemand.ConcourseEmulator;

/// <summary>The request pipeline in front of the routes: request log + injected faults, then bearer auth.</summary>
internal static class EmulatorMiddleware
{
    public const string ControlPrefix = "/_emulator";

    /// <summary>Outermost: applies an armed fault (if any) and logs what the client finally got.</summary>
    public static async Task FaultsAndLog(HttpContext context, RequestDelegate next, FaultInjector faults)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path.StartsWith(ControlPrefix, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var method = context.Request.Method;
        var rule = faults.TakeMatching(method, path);
        switch (rule?.Kind)
        {
            case null:
                await next(context);
                break;
            case FaultKind.Fail:
                context.Response.StatusCode = rule.StatusCode;
                context.Response.ContentType = "text/plain";
                await context.Response.WriteAsync($"emulated fault: HTTP {rule.StatusCode}", context.RequestAborted);
                break;
            case FaultKind.Hang:
                // A hang ends early when the client gives up or the emulator stops (disposal must not wait for it).
                var stopping = context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
                using (var hang = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping))
                {
                    try
                    {
                        await Task.Delay(rule.Delay, hang.Token);
                    }
                    catch (OperationCanceledException)
                    {
                        faults.Record(method, path, 0, rule.Name); // nobody waits for the answer any more: no effect
                        context.Abort();
                        return;
                    }
                }
                await next(context);
                break;
            case FaultKind.LoseResponse:
                if (!await HandleThenLoseAnswerAsync(context, next, rule.LostResponseMode))
                {
                    faults.Record(method, path, 0, rule.Name);
                    return;
                }
                break;
        }
        faults.Record(method, path, context.Response.StatusCode, rule?.Name);
    }

    /// <summary>Only the routes under /api/ need a live bearer token; /api/v1/info is public as in Concourse.</summary>
    public static Task RequireBearerToken(HttpContext context, RequestDelegate next, TokenStore tokens)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.Ordinal) || path.Equals("/api/v1/info", StringComparison.Ordinal))
        {
            return next(context);
        }
        var header = context.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && tokens.IsValid(header[scheme.Length..].Trim()))
        {
            return next(context);
        }
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync("not authorized", context.RequestAborted);
    }

    /// <returns>false when the connection was aborted (the client gets no status at all).</returns>
    private static async Task<bool> HandleThenLoseAnswerAsync(HttpContext context, RequestDelegate next, LostResponseMode mode)
    {
        // Let the route write into a sink so nothing reaches the client, then decide what the client sees.
        var realBody = context.Features.Get<IHttpResponseBodyFeature>()!;
        using (var sink = new MemoryStream())
        {
            context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(sink));
            try
            {
                await next(context);
            }
            finally
            {
                context.Features.Set(realBody);
            }
        }

        if (mode == LostResponseMode.AbortConnection)
        {
            context.Abort();
            return false;
        }
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status502BadGateway;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("emulated lost response: 502 Bad Gateway", context.RequestAborted);
        return true;
    }
}
