using System.Collections.Concurrent;
using System.Diagnostics;

namespace OnDemand.Tests.Fleet;

/// <summary>docs/fleet.md, "Metrics and traces": one trace from the gateway's request through the grain to Concourse.</summary>
public sealed class TracingTests(StackFixture fixture) : IClassFixture<StackFixture>
{
    [Fact]
    public async Task A_create_is_one_trace_from_the_request_to_the_concourse_calls_of_its_steps()
    {
        var recorded = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is "OnDemand.Broker" or "Microsoft.AspNetCore" or "System.Net.Http" || s.Name.StartsWith("Microsoft.Orleans", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = recorded.Add,
        };
        ActivitySource.AddActivityListener(listener);

        var traceId = ActivityTraceId.CreateRandom();
        var id = Guid.NewGuid().ToString();
        var answer = await fixture.Osb.SendAsync(HttpMethod.Put, $"/v2/service_instances/{id}?accepts_incomplete=true",
            OsbClient.ProvisionBody(Catalog.MySql, Catalog.ClusterSmall, instanceName: "trace-" + id[..8]),
            r => r.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01"));
        Assert.Equal(HttpStatusCode.Accepted, answer.Status);
        Assert.Equal("succeeded", (await fixture.Osb.WaitForOperationAsync(id))["state"]!.GetValue<string>());

        var trace = recorded.Where(a => a.TraceId == traceId).ToList();
        Assert.Contains(trace, a => a.Source.Name == "Microsoft.AspNetCore");
        var steps = trace.Where(a => a.Source.Name == "OnDemand.Broker").ToList();
        Assert.Contains(steps, a => a.DisplayName.StartsWith("cluster create ", StringComparison.Ordinal) && (string?)a.GetTagItem("ondemand.instance_id") == id);
        // the Concourse calls of the steps are children in the same trace
        Assert.Contains(trace, a => a.Source.Name == "System.Net.Http" && steps.Any(s => s.SpanId == a.ParentSpanId));
    }
}
