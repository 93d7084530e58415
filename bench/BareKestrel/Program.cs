// Baseline for bench/run.sh: the least an ASP.NET Core app can do to answer GET /v2/catalog - Kestrel, minimal-API
// routing and a fixed byte array - with none of the gateway's middleware (exception handler, OSB header checks,
// Basic auth, Serilog, Orleans client). The bytes are the gateway's own catalog, fetched once by the bench script.
//
//   dotnet OnDemand.BareKestrel.dll --file catalog.json --port 18082 [--route /v2/catalog] [--content-type application/json]
using System.Globalization;

string? file = null;
var port = 18082;
var route = "/v2/catalog";
var contentType = "application/json";
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--file": file = Value(); break;
        case "--port": port = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--route": route = Value(); break;
        case "--content-type": contentType = Value(); break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'");
            Console.Error.WriteLine("usage: --file PATH [--port 18082] [--route /v2/catalog] [--content-type application/json]");
            return 2;
    }
}
if (file is null)
{
    Console.Error.WriteLine("--file PATH is required (the bytes to serve)");
    return 2;
}

var body = File.ReadAllBytes(file);
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
var app = builder.Build();
app.MapGet(route, (HttpContext context) =>
{
    context.Response.ContentType = contentType;
    context.Response.ContentLength = body.Length;
    return context.Response.Body.WriteAsync(body).AsTask();
});
app.MapGet("/health/live", () => Results.Text("ok"));
await app.RunAsync();
return 0;
