namespace OnDemand.ConcourseEmulator;

/// <summary>A read-only snapshot of a build, for assertions. Times are unix seconds like Concourse's.</summary>
public sealed record EmulatedBuildInfo(
    long Id, string Team, string Pipeline, string Job, string Name, string Status, long? StartTime, long? EndTime)
{
    public bool IsRunning => Status is BuildStatus.Pending or BuildStatus.Started;
}
