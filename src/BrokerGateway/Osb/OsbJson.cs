namespace OnDemand.BrokerGateway.Osb;

/// <summary>Writes OSB JSON bodies. Every OSB answer is application/json, errors included.</summary>
public static class OsbJson
{
    private static readonly byte[] EmptyObject = "{}"u8.ToArray();
    // Descriptions are read by people: keep quotes and apostrophes readable (HTML-safety is not needed in JSON bodies).
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task Write(HttpContext context, int statusCode, JsonNode body)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        using var writer = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions);
        body.WriteTo(writer);
        writer.Flush();
        return Task.CompletedTask;
    }

    public static Task WriteEmpty(HttpContext context, int statusCode)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(EmptyObject).AsTask();
    }

    public static IResult Result(int statusCode, JsonObject body) => new JsonNodeResult(statusCode, body);

    public static IResult Empty(int statusCode) => new EmptyResult(statusCode);

    private sealed record JsonNodeResult(int StatusCode, JsonObject Body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => Write(httpContext, StatusCode, Body);
    }

    private sealed record EmptyResult(int StatusCode) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteEmpty(httpContext, StatusCode);
    }
}
