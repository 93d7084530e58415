using Microsoft.AspNetCore.Http.Features;

namespace OnDemand.ConcourseEmulator;

/// <summary>The request pipeline in front of the routes: request log + injected faults, then bearer auth.</summary>
internal static class EmulatorMiddleware
{
    public const string ControlPrefix = "/_emulator";

    /// <summary>
    /// Outermost: applies an armed fault (if any) and logs what the client got. The entry is written before the
    /// answer leaves (OnStarting) or before the connection is reset, so a test that just got its answer always finds
    /// its request in the log.
    /// </summary>
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
        var recorded = 0;
        void RecordOnce(int statusCode)
        {
            if (Interlocked.Exchange(ref recorded, 1) == 0)
            {
                faults.Record(method, path, statusCode, rule?.Name);
            }
        }
        context.Response.OnStarting(() =>
        {
            RecordOnce(context.Response.StatusCode);
            return Task.CompletedTask;
        });

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
                        RecordOnce(0); // nobody waits for the answer any more: no effect
                        context.Abort();
                        return;
                    }
                }
                await next(context);
                break;
            case FaultKind.LoseResponse:
                await HandleThenLoseAnswerAsync(context, next, rule.LostResponseMode, () => RecordOnce(0));
                return;
        }
        // An answer without a body starts only after this middleware returns: record it now, still before it leaves.
        RecordOnce(context.Response.StatusCode);
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

    private static async Task HandleThenLoseAnswerAsync(HttpContext context, RequestDelegate next, LostResponseMode mode, Action recordAbort)
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
            recordAbort();
            context.Abort();
            return;
        }
        context.Response.Clear();
        context.Response.StatusCode = StatusCodes.Status502BadGateway;
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync("emulated lost response: 502 Bad Gateway", context.RequestAborted);
    }
}
