using System.Diagnostics;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// One structured line per OSB request: method, path (never the query: dashboard tokens live there), instance id,
/// status and time. Changes and refusals are logged at Information; successful reads (catalog, last_operation,
/// fetch, which Cloud Controller polls) at Debug, so polling at tens of thousands of requests a second does not
/// turn into log volume. No body is ever logged: bodies carry credentials.
/// </summary>
public sealed partial class OsbRequestLog(RequestDelegate next, ILogger<OsbRequestLog> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        await next(context);
        var status = context.Response.StatusCode;
        var read = HttpMethods.IsGet(context.Request.Method) && status < 400;
        var level = read ? LogLevel.Debug : LogLevel.Information;
        if (!logger.IsEnabled(level)) return;
        var instance = context.Request.RouteValues.TryGetValue("instanceId", out var id) ? id as string : null;
        Log(logger, level, context.Request.Method, context.Request.Path.Value ?? "", instance, status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    [LoggerMessage(Message = "OSB {Method} {Path} instance {InstanceId} -> {Status} in {ElapsedMs:0.0} ms")]
    private static partial void Log(ILogger logger, LogLevel level, string method, string path, string? instanceId, int status, double elapsedMs);
}
