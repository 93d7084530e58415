using System.ComponentModel;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace OnDemand.OperatorCli;

/// <summary>Where the broker is and the operator's credentials (options or environment variables).</summary>
public class ApiSettings : CommandSettings
{
    [CommandOption("--url <URL>"), Description("The broker's gateway (env ONDEMAND_BROKER_URL; default http://localhost:8080).")]
    public string? Url { get; init; }

    [CommandOption("--user <NAME>"), Description("Operator user (env ONDEMAND_OPERATOR_USER; default operator).")]
    public string? User { get; init; }

    [CommandOption("--password <PASSWORD>"), Description("Operator password (env ONDEMAND_OPERATOR_PASSWORD).")]
    public string? Password { get; init; }
}

/// <summary>An answer of the operator API: its status and JSON body.</summary>
public sealed record ApiAnswer(int Status, JsonObject Body)
{
    public bool Ok => Status is >= 200 and < 300;
    public string? Field(string name) => Body[name]?.GetValue<string>();
}

/// <summary>Calls the operator API with Basic auth; an error answer is shown as the broker worded it.</summary>
public sealed class OperatorApi : IDisposable
{
    private readonly HttpClient _http;

    public OperatorApi(ApiSettings settings)
    {
        var url = settings.Url ?? Environment.GetEnvironmentVariable("ONDEMAND_BROKER_URL") ?? "http://localhost:8080";
        var user = settings.User ?? Environment.GetEnvironmentVariable("ONDEMAND_OPERATOR_USER") ?? "operator";
        var password = settings.Password ?? Environment.GetEnvironmentVariable("ONDEMAND_OPERATOR_PASSWORD") ?? "";
        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
    }

    public async Task<ApiAnswer> SendAsync(HttpMethod method, string path, JsonObject? body = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }
        using var response = await _http.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonObject json;
        try
        {
            json = JsonNode.Parse(text.Length == 0 ? "{}" : text) as JsonObject ?? [];
        }
        catch (System.Text.Json.JsonException)
        {
            json = new JsonObject { ["description"] = text };
        }
        return new ApiAnswer((int)response.StatusCode, json);
    }

    /// <summary>Prints the broker's error and returns the exit code 1.</summary>
    public static int Fail(IAnsiConsole console, ApiAnswer answer)
    {
        console.MarkupLineInterpolated($"[red]error {answer.Status}[/] {answer.Field("error") ?? ""}: {answer.Field("description") ?? "(no description)"}");
        return 1;
    }

    public void Dispose() => _http.Dispose();
}
