using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace OnDemand.Tests.Infrastructure;

/// <summary>A local stand-in for a Slack incoming webhook: records what it is sent, can refuse the first N posts.</summary>
public sealed class SlackReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _failuresLeft;

    public ConcurrentQueue<JsonObject> Messages { get; } = new();
    public int Attempts;
    public string Url { get; }

    private SlackReceiver(WebApplication app, string url) { _app = app; Url = url; }

    public static async Task<SlackReceiver> StartAsync(int failFirst = 0)
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new SlackReceiver(app, url + "/services/T000/B000/XXXX") { _failuresLeft = failFirst };
        app.MapPost("/services/T000/B000/XXXX", async (HttpRequest request) =>
        {
            Interlocked.Increment(ref receiver.Attempts);
            if (Interlocked.Decrement(ref receiver._failuresLeft) >= 0) return Results.StatusCode(500);
            receiver.Messages.Enqueue((JsonNode.Parse(await new StreamReader(request.Body).ReadToEndAsync()) as JsonObject)!);
            return Results.Text("ok");
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
