using System.Text.Json.Nodes;
using Flurl.Http;

namespace OnDemand.Grains.Concourse;

public sealed partial class ConcourseClient
{
    public async Task<IReadOnlyList<string>> ListPipelinesAsync(CancellationToken cancellationToken)
    {
        var call = "list pipelines";
        var response = await SendAsync(call, HttpMethod.Get, () => _http.Request(_webRoot, "api", "v1", "teams").AppendPathSegment(_team, fullyEncode: true).AppendPathSegment("pipelines"),
            null, cancellationToken);
        EnsureSuccess(call, response);
        var pipelines = ParseJson(call, response.Body) as JsonArray ?? throw new ConcourseUnavailableException($"Concourse {call}: the answer is not a JSON array");
        return pipelines.Select(p => p?["name"]?.GetValue<string>()).OfType<string>().ToList();
    }
}
